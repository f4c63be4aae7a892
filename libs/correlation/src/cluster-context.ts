import { contextKey, type ContextFact, type NodeContext, type PodContext } from '@killtrace/schemas';

/**
 * Cluster-wide context shared by every correlation core of a process (docs/decisions/0017-cluster-context-topic.md):
 * per-pod init observations and placements, and node labels, from the whole cluster rather than one partition. Pure
 * and synchronous: the service feeds it what it reads from the context topic; each core reads it when it builds
 * records. `version` grows with every change, so a core knows when its records may have changed.
 */
export class ClusterContext {
  private readonly pods = new Map<string, PodContext>();
  private readonly nodes = new Map<string, NodeContext>();
  /** Canonical JSON per key, so re-reading an identical fact (own publication, compaction) changes nothing. */
  private readonly texts = new Map<string, string>();
  private changes = 0;

  /** Bumped by every fact that changed what the context holds. */
  get version(): number {
    return this.changes;
  }

  /** Applies a fact under its key, or removes the key (`fact` null: a tombstone). Returns whether anything changed. */
  apply(key: string, fact: ContextFact | null): boolean {
    if (fact === null) {
      if (!this.texts.delete(key)) return false;
      this.pods.delete(key);
      this.nodes.delete(key);
      this.changes += 1;
      return true;
    }
    const text = JSON.stringify(fact);
    if (this.texts.get(key) === text) return false;
    // A fact under another key than its own would make two keys describe one pod: keyed by the fact itself.
    if (contextKey(fact) !== key) return false;
    this.texts.set(key, text);
    if (fact.kind === 'pod') this.pods.set(key, fact);
    else this.nodes.set(key, fact);
    this.changes += 1;
    return true;
  }

  /** The canonical JSON held under `key` (the publisher compares against it). */
  textOf(key: string): string | undefined {
    return this.texts.get(key);
  }

  /** Every pod fact. */
  podFacts(): IterableIterator<PodContext> {
    return this.pods.values();
  }

  /** Labels of a node, when the context has its Node. */
  nodeLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.nodes.get(`node/${name}`)?.labels;
  }

  get podCount(): number {
    return this.pods.size;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Keys of every fact held. */
  keys(): IterableIterator<string> {
    return this.texts.keys();
  }
}
