import { causeSchema } from '@killtrace/schemas';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';

/**
 * The alert rules file (YAML or JSON): receivers by name, and rules that match restart records. Built-in rules
 * apply unless `builtinRules: false`; a file rule with a built-in's name is merged over it (so changing only the
 * receivers or the severity of a built-in takes one line).
 */

const pattern = z.string().refine(
  (source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid JavaScript regular expression' },
);

/** Record fields a rule can group by; `workload` is the owning Deployment/StatefulSet/DaemonSet/Job (never a pod name unless the pod is bare). */
export const groupFieldSchema = z.enum(['cluster', 'namespace', 'workload', 'container', 'cause', 'step', 'node', 'pod']);
export type GroupField = z.infer<typeof groupFieldSchema>;

export const DEFAULT_GROUP_BY: readonly GroupField[] = ['cluster', 'namespace', 'workload', 'container', 'cause', 'step'];

export const matchSchema = z.strictObject({
  /** Regexes (JavaScript syntax) the field must match; all given keys must match. */
  namespace: pattern.optional(),
  workload: pattern.optional(),
  container: pattern.optional(),
  step: pattern.optional(),
  /** Any of these causes. */
  cause: z.array(causeSchema).min(1).optional(),
  probeInduced: z.boolean().optional(),
  duringInit: z.boolean().optional(),
});

export const severitySchema = z.enum(['critical', 'warning', 'info']);

export const ruleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and dashes (a DNS label)'),
  /** Alertmanager's `alertname` label; default: `Killtrace` + the name in CamelCase. */
  alertname: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a Prometheus label value like KilltraceProbeKill').optional(),
  description: z.string().optional(),
  match: matchSchema.prefault({}),
  severity: severitySchema,
  groupBy: z.array(groupFieldSchema).min(1).default([...DEFAULT_GROUP_BY]),
  /** Fire once `count` kills of one group fall within `windowSeconds` (event time). */
  threshold: z
    .strictObject({
      count: z.int().min(1).default(1),
      windowSeconds: z.int().min(1).default(600),
    })
    .prefault({}),
  /** A firing alert is sent again (chat receivers, Alertmanager) this long after its last notification. */
  repeatIntervalSeconds: z.int().min(1).default(4 * 3600),
  /** Resolved once no new kill of the group arrived for this long. */
  resolveAfterSeconds: z.number().positive().default(900),
  /** Receiver names; default: the file's `defaultReceivers`. */
  receivers: z.array(z.string().min(1)).optional(),
  runbookUrl: z.url().optional(),
});
export type Rule = z.output<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;

const receiverName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'expected letters, digits, dot, dash or underscore');
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

export const receiverSchema = z.discriminatedUnion('type', [
  z.strictObject({
    name: receiverName,
    type: z.literal('alertmanager'),
    /** Base URL of Alertmanager; alerts go to `<url>/api/v2/alerts`. */
    url: httpUrl,
  }),
  z.strictObject({
    name: receiverName,
    type: z.literal('webhook'),
    url: httpUrl,
    /** Environment variable holding the HMAC-SHA256 key; when set, every request carries `X-Killtrace-Signature: sha256=<hex>`. */
    secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    /** Also send an update for every new kill of a firing alert (default: only firing, repeat and resolved). */
    sendUpdates: z.boolean().default(false),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  z.strictObject({
    name: receiverName,
    type: z.literal('slack'),
    /** The incoming-webhook URL (treat as a secret), or `urlEnv` naming the variable that holds it. */
    url: httpUrl.optional(),
    urlEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
  }),
]);
export type Receiver = z.output<typeof receiverSchema>;

export const rulesFileSchema = z.strictObject({
  receivers: z.array(receiverSchema).default([]),
  /** Receivers of rules that name none; default: every receiver. */
  defaultReceivers: z.array(z.string().min(1)).optional(),
  builtinRules: z.boolean().default(true),
  rules: z.array(z.looseObject({})).default([]),
});

/** The built-in rules (issue 9): what most clusters want without writing a rules file. */
export const BUILTIN_RULES: readonly RuleInput[] = [
  {
    name: 'probe-kill-during-init',
    alertname: 'KilltraceProbeKillDuringInit',
    description: 'A liveness or startup probe killed a container before it finished initializing.',
    match: { probeInduced: true, duringInit: true },
    severity: 'critical',
  },
  {
    name: 'probe-kill-running',
    alertname: 'KilltraceProbeKillRunning',
    description: 'A liveness probe killed a container that had finished initializing.',
    match: { probeInduced: true, duringInit: false },
    severity: 'warning',
  },
  {
    name: 'probe-crash-loop',
    alertname: 'KilltraceProbeCrashLoop',
    description: 'Probes keep killing the same workload: a crash loop caused by probes.',
    match: { probeInduced: true },
    severity: 'critical',
    groupBy: ['cluster', 'namespace', 'workload', 'container'],
    threshold: { count: 3, windowSeconds: 1800 },
  },
  {
    name: 'oom-kill-during-init',
    alertname: 'KilltraceOomKillDuringInit',
    description: 'The kernel OOM-killed a container during its initialization.',
    match: { cause: ['oom_killed'], duringInit: true },
    severity: 'warning',
  },
];

/** A rule with its receivers resolved and its patterns compiled. */
export interface CompiledRule extends Rule {
  alertname: string;
  receivers: string[];
  regex: { namespace?: RegExp; workload?: RegExp; container?: RegExp; step?: RegExp };
}

export interface RuleSet {
  receivers: Receiver[];
  rules: CompiledRule[];
}

/** One problem of a rules file: where (rule, field, line) and what. */
export interface RulesIssue {
  rule?: string;
  field: string;
  line?: number;
  message: string;
}

/** A rules file that cannot be used; `issues` name each rule, field and line. */
export class RulesError extends Error {
  override readonly name = 'RulesError';
  readonly code = 'KT_ERR_ALERTER_RULES_INVALID';

  constructor(
    readonly file: string,
    readonly issues: readonly RulesIssue[],
  ) {
    super(`KT_ERR_ALERTER_RULES_INVALID: rules file ${file} is invalid:\n${issues.map((i) => `  - ${describeIssue(i)}`).join('\n')}`);
  }
}

function describeIssue(issue: RulesIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line})`;
  const rule = issue.rule === undefined ? '' : `rule "${issue.rule}" `;
  return `${rule}field ${issue.field}${where}: ${issue.message}`;
}

function camel(name: string): string {
  return `Killtrace${name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
}

type Located = (path: readonly (string | number)[]) => number | undefined;

/** Parses and validates a rules file's text. Throws RulesError naming every bad rule and field. */
export function parseRules(text: string, file: string): RuleSet {
  const counter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new RulesError(
      file,
      doc.errors.map((e) => ({ field: '(file)', line: e.linePos?.[0].line, message: `not valid YAML or JSON: ${e.message.split('\n')[0] ?? ''}` })),
    );
  }
  const lineOf: Located = (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = doc.getIn(path.slice(0, n), true);
      if ((isMap(node) || isSeq(node) || (typeof node === 'object' && node !== null && 'range' in node)) && node !== null) {
        const range = (node as { range?: [number, number, number] }).range;
        if (range) return counter.linePos(range[0]).line;
      }
    }
    return undefined;
  };
  return compileRules(doc.toJS() ?? {}, file, lineOf);
}

/** Validates an already-parsed rules tree (e.g. from JSON, or `{}` for the built-ins alone). */
export function compileRules(tree: unknown, file: string, lineOf: Located = () => undefined): RuleSet {
  const top = rulesFileSchema.safeParse(tree);
  if (!top.success) {
    throw new RulesError(
      file,
      top.error.issues.map((issue) => {
        const [first, index] = issue.path;
        const ruleName = first === 'rules' && typeof index === 'number' ? nameAt(tree, index) : undefined;
        return { rule: ruleName, field: fieldName(issue.path), line: lineOf(issue.path as (string | number)[]), message: issue.message };
      }),
    );
  }
  const { receivers, builtinRules } = top.data;
  const issues: RulesIssue[] = [];
  const receiverNames = new Set<string>();
  top.data.receivers.forEach((r, i) => {
    if (receiverNames.has(r.name)) issues.push({ field: `receivers[${i}].name`, line: lineOf(['receivers', i, 'name']), message: `receiver name "${r.name}" is used twice` });
    receiverNames.add(r.name);
    if (r.type === 'slack' && (r.url === undefined) === (r.urlEnv === undefined)) {
      issues.push({ field: `receivers[${i}]`, line: lineOf(['receivers', i]), message: `slack receiver "${r.name}" needs exactly one of url and urlEnv` });
    }
  });
  const defaultReceivers = top.data.defaultReceivers ?? receivers.map((r) => r.name);
  top.data.defaultReceivers?.forEach((name, i) => {
    if (!receiverNames.has(name)) issues.push({ field: `defaultReceivers[${i}]`, line: lineOf(['defaultReceivers', i]), message: `no receiver named "${name}"` });
  });

  const merged = new Map<string, { raw: Record<string, unknown>; index?: number }>();
  if (builtinRules) for (const rule of BUILTIN_RULES) merged.set(rule.name, { raw: { ...rule } });
  top.data.rules.forEach((raw, index) => {
    const name = typeof raw.name === 'string' ? raw.name : `#${index}`;
    const base = merged.get(name);
    if (base?.index !== undefined) {
      issues.push({ rule: name, field: `rules[${index}].name`, line: lineOf(['rules', index, 'name']), message: `rule name "${name}" is used twice (also rules[${base.index}])` });
    }
    merged.set(name, { raw: base === undefined ? raw : { ...base.raw, ...raw }, index });
  });

  const rules: CompiledRule[] = [];
  for (const [name, { raw, index }] of merged) {
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = index === undefined ? issue.path : ['rules', index, ...issue.path];
        issues.push({ rule: name, field: fieldName(issue.path), line: index === undefined ? undefined : lineOf(path as (string | number)[]), message: issue.message });
      }
      continue;
    }
    const rule = parsed.data;
    const routed = rule.receivers ?? defaultReceivers;
    rule.receivers?.forEach((receiver, i) => {
      if (!receiverNames.has(receiver)) {
        issues.push({ rule: name, field: `receivers[${i}]`, line: index === undefined ? undefined : lineOf(['rules', index, 'receivers', i]), message: `no receiver named "${receiver}"` });
      }
    });
    const m = rule.match;
    rules.push({
      ...rule,
      alertname: rule.alertname ?? camel(rule.name),
      receivers: [...routed],
      regex: {
        ...(m.namespace === undefined ? {} : { namespace: new RegExp(m.namespace) }),
        ...(m.workload === undefined ? {} : { workload: new RegExp(m.workload) }),
        ...(m.container === undefined ? {} : { container: new RegExp(m.container) }),
        ...(m.step === undefined ? {} : { step: new RegExp(m.step) }),
      },
    });
  }
  if (issues.length > 0) throw new RulesError(file, issues);
  return { receivers, rules };
}

function nameAt(tree: unknown, index: number): string | undefined {
  const rules = typeof tree === 'object' && tree !== null ? (tree as { rules?: unknown }).rules : undefined;
  const rule: unknown = Array.isArray(rules) ? rules[index] : undefined;
  const name = typeof rule === 'object' && rule !== null ? (rule as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : `#${index}`;
}

function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`), '');
}
