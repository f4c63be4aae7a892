/**
 * A strategic merge patch, as the API server applies one (k8s.io/apimachinery/pkg/util/strategicpatch
 * StrategicMergePatch), for the fields a pod template has: maps merge key by key, `null` deletes a key, lists
 * tagged `patchStrategy:"merge"` in k8s.io/api core/v1 merge element-wise by their `patchMergeKey` (PodSpec
 * containers, initContainers, ephemeralContainers and volumes by `name`; Container env by `name`, ports by
 * `containerPort`, volumeMounts by `mountPath`), every other list is replaced, and the `$patch: replace|delete`
 * directive replaces or deletes the map (or list element) it sits in. Used by the tests to apply Killtrace's patches.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

const isMap = (v: Json | undefined): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `original` with `patch` applied (neither is modified). */
export function strategicMerge(original: Json, patch: Json): Json {
  if (!isMap(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return null;
  const base: { [key: string]: Json } = isMap(original) ? { ...original } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys') continue;
    if (value === null) {
      delete base[key];
      continue;
    }
    const mergeKey = MERGE_KEYS[key];
    const current = base[key];
    if (Array.isArray(value) && mergeKey !== undefined) base[key] = mergeList(Array.isArray(current) ? current : [], value, mergeKey);
    else if (isMap(value)) base[key] = strategicMerge(current ?? null, value);
    else base[key] = value;
  }
  return base;
}

function mergeList(original: Json[], patch: Json[], mergeKey: string): Json[] {
  const out = [...original];
  for (const item of patch) {
    if (!isMap(item) || item[mergeKey] === undefined) throw new Error(`strategic merge: a list element without its merge key ${mergeKey}`);
    const index = out.findIndex((o) => isMap(o) && o[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = strategicMerge(out[index] ?? null, item);
    else out.push(strategicMerge(null, item));
  }
  return out;
}
