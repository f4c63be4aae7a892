/**
 * The node agent's V8 heap defaults. Left to itself V8 sizes its heap for throughput on a big machine (a 16 MiB young
 * generation semi-space on Node 20, 64 MiB on Node 24, and an old generation that grows far before its first full
 * collection): the agent then peaked at 150-260 MB RSS while its live heap stays near 20 MB. Two flags bound it; they
 * cannot be changed once the process runs, so the agent starts with them (the DaemonSets set NODE_OPTIONS; otherwise
 * `main` re-executes itself with them where Node has `process.execve`). Measured in bench/agent.bench.ts (README,
 * performance); decision: docs/decisions/0021-node-agent-memory-bounds.md.
 */

/** What the agent runs with unless NODE_OPTIONS or the command line already set a heap size. */
export const NODE_AGENT_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--max-old-space-size=64'];

/** The same flags as one NODE_OPTIONS value (what the Helm chart and the kustomize base set). */
export const NODE_AGENT_NODE_OPTIONS = NODE_AGENT_V8_FLAGS.join(' ');

const HEAP_FLAG = /(^|\s)--max[-_](old|semi)[-_]space[-_]size(=|\s|$)/;

/** True when the operator already chose a heap size (command line or NODE_OPTIONS): it is left alone. */
export function heapFlagsGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((a) => HEAP_FLAG.test(a)) || HEAP_FLAG.test(nodeOptions ?? '');
}

export type HeapPlan =
  | { action: 'exec'; file: string; args: string[]; env: Record<string, string> }
  | { action: 'keep'; reason: 'given' | 'disabled' | 'unsupported' };

export interface HeapPlanInput {
  enabled: boolean;
  execPath: string;
  execArgv: readonly string[];
  /** process.argv: the node binary, the script, then the arguments. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  canExec: boolean;
}

/** Pure: whether (and how) to start again with NODE_AGENT_V8_FLAGS; the flags go into NODE_OPTIONS, so no loop. */
export function planNodeAgentHeap(input: HeapPlanInput): HeapPlan {
  if (!input.enabled) return { action: 'keep', reason: 'disabled' };
  if (heapFlagsGiven(input.execArgv, input.env.NODE_OPTIONS)) return { action: 'keep', reason: 'given' };
  if (!input.canExec) return { action: 'keep', reason: 'unsupported' };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.env)) if (v !== undefined) env[k] = v;
  env.NODE_OPTIONS = [input.env.NODE_OPTIONS, NODE_AGENT_NODE_OPTIONS].filter((s) => s !== undefined && s.trim() !== '').join(' ');
  return { action: 'exec', file: input.execPath, args: [input.execPath, ...input.execArgv, ...input.argv.slice(1)], env };
}

type Execve = (file: string, args: string[], env: Record<string, string>) => never;

/**
 * Applies the plan for this process: replaces it (same pid, nothing started yet) when the flags are missing and Node
 * can (`process.execve`, Node 22.15+/23.11+, the images' Node 24); else returns why it kept running as it is.
 */
export function ensureNodeAgentHeap(enabled: boolean): 'given' | 'disabled' | 'unsupported' {
  const execve = (process as unknown as { execve?: Execve }).execve;
  const plan = planNodeAgentHeap({ enabled, execPath: process.execPath, execArgv: process.execArgv, argv: process.argv, env: process.env, canExec: typeof execve === 'function' });
  if (plan.action === 'keep') return plan.reason;
  return (execve as Execve).call(process, plan.file, plan.args, plan.env);
}
