import { z } from 'zod';
import { restartRecordSchema } from './restart-record.js';

/**
 * The restart record's field reference (docs/record.md), generated from the zod schema in restart-record.ts, so
 * the documentation cannot drift from what the correlator writes and the records topic carries. `npm run
 * docs:record` writes it; libs/schemas/src/record-reference.test.ts fails when the file is out of date.
 */

/** What a field means, where its name does not say it; keyed by dotted path (`[]` for array items). */
const notes: Record<string, string> = {
  '@timestamp': 'When the container was killed (the kill decision), else when it ended, else when it started.',
  message: 'One sentence: what killed which step.',
  'kubernetes.labels': 'The pod\'s labels, dots in keys replaced by `_` (Elasticsearch object paths).',
  'kubernetes.node.name': 'Node the pod ran on, when known.',
  'container.id': 'Runtime id of the killed container, when known.',
  'killtrace.status': '`provisional` while late evidence may still change the record, `final` once the watermark passed its end by the allowed lateness.',
  'killtrace.restart.count': 'Which incarnation ended: the kubelet\'s restartCount of the container at the time (0 = first). With the pod uid and container name it forms the document id (`<uid>:<container>:<count>`).',
  'killtrace.restart.count_source': 'How the count was established, most reliable first (see restart-record.ts `countSourceSchema`).',
  'killtrace.container.kind': '`main` (spec.containers), `init`, or `sidecar` (an init container with restartPolicy Always).',
  'killtrace.kill_event': 'The aggregated Event that states this kill, when it counts several.',
  'killtrace.prestop_outlived_grace': 'The kubelet journal says the preStop hook had not completed when the grace period ran out.',
  'killtrace.cause': 'What ended the container.',
  'killtrace.decided_by': 'Who decided: the kubelet (probes, eviction), the kernel (OOM), the application (its own exit), the API (deletion).',
  'killtrace.confidence': 'How sure the cause is (README "How sure is it?").',
  'killtrace.probe_induced': 'A probe failure caused the kill.',
  'killtrace.during_init': 'The kill came before the container had finished initialising.',
  'killtrace.uptime_seconds': 'From the container start to the kill.',
  'killtrace.probe.budget_seconds': 'How long the probe lets a container stay unhealthy before the kill (`failure_threshold` x `period_seconds`).',
  'killtrace.init.step': 'The step (of the matching step profile) in progress at the kill.',
  'killtrace.init.expected_seconds': 'How long init takes for this workload elsewhere (its init history).',
  'killtrace.init.profile': 'The step profile that matched this container, if any.',
  'killtrace.log.last_line': 'The application\'s last log line before the kill.',
  'killtrace.log.silence_seconds': 'From that line to the kill.',
  'killtrace.recommendation.startup_probe': 'A startupProbe that would let init finish, when init outlasts the liveness budget.',
  'killtrace.recommendation.what_if': 'What the recommended probe would have changed over the restarts observed.',
  'killtrace.timeline': 'The evidence in time order, each entry with its source.',
};

interface JsonSchema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
}

function typeOf(schema: JsonSchema): { label: string; nullable: boolean } {
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== 'null');
    const labels = types.map((type) => typeOf({ ...schema, type }).label);
    return { label: labels.join(' or '), nullable: types.length < schema.type.length };
  }
  if (schema.anyOf !== undefined) {
    const others = schema.anyOf.filter((s) => s.type !== 'null');
    const labels = others.map((s) => typeOf(s).label);
    return { label: labels.join(' or '), nullable: others.length < schema.anyOf.length };
  }
  if (schema.const !== undefined) return { label: `\`${JSON.stringify(schema.const)}\``, nullable: false };
  if (schema.enum !== undefined) return { label: schema.enum.map((v) => `\`${String(v)}\``).join(', '), nullable: false };
  if (schema.type === 'string' && schema.format === 'date-time') return { label: 'date (ISO 8601, ms)', nullable: false };
  if (schema.type === 'array' && schema.prefixItems !== undefined) {
    return { label: `[${schema.prefixItems.map((s) => typeOf(s).label).join(', ')}]`, nullable: false };
  }
  if (schema.type === 'array') return { label: `array of ${schema.items ? typeOf(schema.items).label : 'nothing'}`, nullable: false };
  if (schema.type === 'object' && schema.properties === undefined && typeof schema.additionalProperties === 'object') {
    return { label: `map of ${typeOf(schema.additionalProperties).label}`, nullable: false };
  }
  return { label: typeof schema.type === 'string' ? schema.type : 'any', nullable: false };
}

function walk(schema: JsonSchema, prefix: string, required: boolean, rows: Row[]): void {
  const nonNull = schema.anyOf?.find((s) => s.type !== 'null') ?? (Array.isArray(schema.type) ? { ...schema, type: schema.type.find((t) => t !== 'null') } : schema);
  const { label, nullable } = typeOf(schema);
  const objectLike = nonNull.type === 'object' && nonNull.properties !== undefined;
  const arrayOfObjects = nonNull.type === 'array' && typeof nonNull.items === 'object' && nonNull.items.properties !== undefined;
  if (prefix !== '') rows.push({ path: prefix, type: objectLike ? `object${nullable ? ' or null' : ''}` : arrayOfObjects ? `array of objects` : `${label}${nullable ? ' or null' : ''}`, required });
  if (objectLike) {
    for (const [key, child] of Object.entries(nonNull.properties ?? {})) walk(child, prefix === '' ? key : `${prefix}.${key}`, (nonNull.required ?? []).includes(key), rows);
  }
  if (arrayOfObjects && typeof nonNull.items === 'object') {
    for (const [key, child] of Object.entries(nonNull.items.properties ?? {})) walk(child, `${prefix}[].${key}`, (nonNull.items.required ?? []).includes(key), rows);
  }
}

/** The dotted paths of every field of the restart record, in schema order. */
export function recordFieldPaths(): string[] {
  const rows: Row[] = [];
  walk(z.toJSONSchema(restartRecordSchema) as JsonSchema, '', true, rows);
  return rows.map((r) => r.path);
}

/** docs/record.md, from the schema. */
export function renderRecordReference(): string {
  const rows: Row[] = [];
  walk(z.toJSONSchema(restartRecordSchema) as JsonSchema, '', true, rows);
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  return [
    '# The restart record',
    '',
    '<!-- Generated from libs/schemas/src/restart-record.ts by `npm run docs:record`; do not edit by hand. -->',
    '',
    'One record per container termination, the same from `killtrace analyze` (`-o json`/`ndjson`), in Elasticsearch',
    '(document id `<pod uid>:<container>:<restart count>`, index alias `killtrace-restarts`) and on the records topic',
    '(`{"v": 1, "id": ..., "record": ...}`). Field names follow ECS; Killtrace\'s own fields live under `killtrace`.',
    'A field marked *optional* may be absent; `or null` means present but unknown.',
    '',
    '| Field | Type | Meaning |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| \`${r.path}\` | ${cell(r.type)}${r.required ? '' : ' (*optional*)'} | ${cell(notes[r.path] ?? '')} |`),
    '',
  ].join('\n');
}
