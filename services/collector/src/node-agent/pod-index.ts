/**
 * namespace/name -> pod uid, from the `/var/log/pods/<ns>_<pod>_<uid>` directories the tailer sees. Kubelet kill
 * decisions name the pod but not its uid; this resolves them so they land in the pod's partition (decision 0003).
 * A pod whose directory disappeared is remembered for `retainMs` (its last kubelet lines arrive around deletion).
 * When a name has had several uids (a StatefulSet pod recreated), the most recently created directory wins. Pure.
 */
export class PodUidIndex {
  private readonly byName = new Map<string, Map<string, { firstSeen: number; goneAt: number | undefined }>>();

  constructor(private readonly retainMs = 10 * 60_000) {}

  /** Records the pod directories of one discovery pass (everything else is marked gone). */
  update(pods: readonly { namespace: string; name: string; uid: string }[], now: number): void {
    const seen = new Set<string>();
    for (const p of pods) {
      const key = `${p.namespace}/${p.name}`;
      let uids = this.byName.get(key);
      if (uids === undefined) this.byName.set(key, (uids = new Map()));
      const entry = uids.get(p.uid);
      if (entry === undefined) uids.set(p.uid, { firstSeen: now, goneAt: undefined });
      else entry.goneAt = undefined;
      seen.add(`${key}\u0000${p.uid}`);
    }
    for (const [key, uids] of this.byName) {
      for (const [uid, entry] of uids) {
        if (seen.has(`${key}\u0000${uid}`)) continue;
        entry.goneAt ??= now;
        if (now - entry.goneAt > this.retainMs) uids.delete(uid);
      }
      if (uids.size === 0) this.byName.delete(key);
    }
  }

  resolve(namespace: string, name: string): string | undefined {
    const uids = this.byName.get(`${namespace}/${name}`);
    if (uids === undefined) return undefined;
    let best: { uid: string; present: boolean; firstSeen: number } | undefined;
    for (const [uid, e] of uids) {
      const present = e.goneAt === undefined;
      if (best === undefined || (present && !best.present) || (present === best.present && e.firstSeen >= best.firstSeen)) best = { uid, present, firstSeen: e.firstSeen };
    }
    return best?.uid;
  }

  get size(): number {
    return this.byName.size;
  }
}
