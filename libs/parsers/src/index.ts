/** @killtrace/parsers: pure parsers from the bundle's input formats to Signals and Diagnostics (no I/O, no clock). */

/** Diagnostic code catalogue (code -> meaning) for everything the input layer reports. */
export { INPUT_DIAGNOSTIC_CODES, makeDiagnostic, DiagnosticLimiter } from './diagnostic-codes.js';
export type { InputDiagnosticCode, DiagnosticLocation } from './diagnostic-codes.js';

/** RFC 3339 (any fraction length, Z or offset) and year-less (klog/journal) timestamps -> epoch ms. */
export { parseRfc3339, parseK8sTime, monthFromAbbreviation, yearlessInYear, yearlessNearest, yearAnchor, utcYear } from './k8s-time.js';
export type { YearlessTime } from './k8s-time.js';

/** Schema check at the parser edge; the common `{ signals, diagnostics }` result shape. */
export { validateSignal } from './validate.js';
export type { ParseOutput } from './validate.js';

/** One core/v1 or events.k8s.io/v1 Event -> EventSignal. */
export { parseEvent, containerFromFieldPath } from './event-parser.js';
export type { ObjectContext } from './event-parser.js';

/** One Pod -> PodSignal (probe defaults applied). */
export { parsePod, stripContainerIdScheme, PROBE_DEFAULTS } from './pod-parser.js';

/** Any parsed Kubernetes JSON value (List, Event, Pod, watch wrapper) -> Event/Pod signals. */
export { parseKubernetesDocument, classifyKubernetesValue } from './kubernetes-document.js';
export type { KubernetesValueKind } from './kubernetes-document.js';

/** Incremental splitter for concatenated (watch) or single JSON values, with resynchronisation. */
export { JsonStreamSplitter } from './json-stream-splitter.js';
export type { JsonStreamValue, JsonStreamOutput, JsonStreamSplitterOptions } from './json-stream-splitter.js';

/** CRI container log lines: single-line parse, P/F joining, and AppLogSignal building per incarnation. */
export { parseCriLine, CriLineJoiner, CriLogParser, truncationMarker } from './cri-log-parser.js';
export type { CriLine, JoinedCriLine, CriLineJoinerOptions, CriLogContext } from './cri-log-parser.js';

/** `<ns>_<pod>_<uid>/<container>/<N>.log[.<date>][.gz]` paths. */
export { parsePodLogPath, comparePodLogPaths } from './pod-log-path.js';
export type { PodLogPath } from './pod-log-path.js';

/** klog header and structured key/value reading. */
export { parseKlogHeader, parseKlogPairs, unquoteGo, looksLikeKlog } from './klog.js';
export type { KlogHeader, KlogPairs } from './klog.js';

/** Incremental `journalctl -u kubelet` parser (short, short-iso, short-precise, cat, json) -> KubeletSignals. */
export { KubeletJournalParser } from './kubelet-journal-parser.js';
export type { KubeletJournalParserOptions, KubeletJournalStats } from './kubelet-journal-parser.js';

/** Kernel OOM-killer lines (`journalctl -k`, `dmesg -T`) -> KernelOomSignals; kubepods cgroup paths -> pod uid + container id. */
export { KernelOomParser, parseKubepodsCgroup } from './kernel-oom-parser.js';
export type { KernelOomParserOptions, KernelOomParserStats, CgroupIdentity } from './kernel-oom-parser.js';

/** The bundle's own time span (outlier bounds), the journal's offset from the events, CRI time guarding. */
export { evidenceSpan, isOutlier, estimateJournalSkew, CriTimeGuard } from './evidence-clock.js';
export type { EvidenceSpan, SharedMoment, SkewEstimate, GuardedTime } from './evidence-clock.js';

/** `/var/log/containers/<pod>_<ns>_<container>-<id>.log` names; which incarnation a container id or `kubectl logs [--previous]` is. */
export { parseContainerLogName, parseKubectlLogName, incarnationOfContainerId, incarnationOfKubectlLogs } from './container-log-name.js';
export type { ContainerLogName, KubectlLogName } from './container-log-name.js';
