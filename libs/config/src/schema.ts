import { z } from 'zod';

/** What the loader, the redactor and the reference table need to know about one setting. */
export interface SettingMeta {
  /** Environment variable that sets it (overrides the file). */
  env: string;
  description: string;
  /** Never logged or printed: `redactedConfig()` and the logger's redaction paths hide it. */
  secret?: boolean;
}

/** Registry of leaf settings: walking the schema and reading this registry yields every documented setting. */
export const settingsRegistry = z.registry<SettingMeta>();

function setting<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
  settingsRegistry.add(schema, meta);
  return schema;
}

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');
const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name ([a-zA-Z0-9._-], 1-249 characters)');

const kafkaTopicsSchema = z
  .strictObject({
    signals: setting(topicName.default('killtrace.signals'), {
      env: 'KILLTRACE_KAFKA_TOPIC_SIGNALS',
      description: 'Topic of normalized signals (pods, events, kubelet lines) keyed by pod uid.',
    }),
    logs: setting(topicName.default('killtrace.logs'), {
      env: 'KILLTRACE_KAFKA_TOPIC_LOGS',
      description: 'Topic of application log lines keyed by pod uid.',
    }),
    records: setting(topicName.default('killtrace.records'), {
      env: 'KILLTRACE_KAFKA_TOPIC_RECORDS',
      description: 'Enriched topic of restart records.',
    }),
    deadLetter: setting(topicName.default('killtrace.dead-letter'), {
      env: 'KILLTRACE_KAFKA_TOPIC_DEAD_LETTER',
      description: 'Where messages that fail validation or processing are kept, with the reason.',
    }),
    context: setting(topicName.default('killtrace.context'), {
      env: 'KILLTRACE_KAFKA_TOPIC_CONTEXT',
      description:
        'Compacted topic of cluster-wide context every correlator reads whole: per-pod init observations (from the correlator) and node class labels (from the cluster watcher), so recommendations do not depend on partitioning.',
    }),
    snapshots: setting(topicName.default('killtrace.correlator-snapshots'), {
      env: 'KILLTRACE_KAFKA_TOPIC_SNAPSHOTS',
      description: 'Compacted topic of the correlator\'s per-partition state snapshots (fast recovery after a crash).',
    }),
  })
  .prefault({});

const kafkaSchema = z
  .strictObject({
    brokers: setting(z.array(hostPort).min(1, 'expected at least one broker').default(['127.0.0.1:9092']), {
      env: 'KAFKA_BROKERS',
      description: 'Bootstrap brokers, comma-separated `host:port`.',
    }),
    clientId: setting(z.string().min(1).default('killtrace'), {
      env: 'KILLTRACE_KAFKA_CLIENT_ID',
      description: 'Kafka client id (appears in broker logs and quotas).',
    }),
    compression: setting(z.enum(['none', 'gzip']).default('none'), {
      env: 'KILLTRACE_KAFKA_COMPRESSION',
      description: 'Compression of produced batches. `gzip` cut the node agent\'s bytes on the broker 7x and cost it about 30 % more CPU per line (README, performance); `none` keeps the CPU on every node low.',
    }),
    tls: z
      .strictObject({
        enabled: setting(z.boolean().default(false), {
          env: 'KILLTRACE_KAFKA_TLS',
          description: 'Connect to the brokers over TLS.',
        }),
        caFile: setting(z.string().min(1).optional(), {
          env: 'KILLTRACE_KAFKA_TLS_CA_FILE',
          description: 'PEM file of the CA that signed the brokers\' certificates (implies TLS).',
        }),
        rejectUnauthorized: setting(z.boolean().default(true), {
          env: 'KILLTRACE_KAFKA_TLS_REJECT_UNAUTHORIZED',
          description: 'Verify the brokers\' certificates; turn off only for throwaway test clusters.',
        }),
      })
      .prefault({}),
    sasl: z
      .strictObject({
        mechanism: setting(z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'), {
          env: 'KILLTRACE_KAFKA_SASL_MECHANISM',
          description: 'SASL mechanism; username and password are required unless `none`.',
        }),
        username: setting(z.string().min(1).optional(), {
          env: 'KILLTRACE_KAFKA_SASL_USERNAME',
          description: 'SASL username.',
        }),
        password: setting(z.string().min(1).optional(), {
          env: 'KILLTRACE_KAFKA_SASL_PASSWORD',
          description: 'SASL password.',
          secret: true,
        }),
      })
      .prefault({}),
    topics: kafkaTopicsSchema,
    partitions: setting(z.int().min(1).max(10_000).default(6), {
      env: 'KILLTRACE_KAFKA_PARTITIONS',
      description: 'Partitions of the topics Killtrace creates (keyed by pod uid, so one pod stays on one partition).',
    }),
    replicationFactor: setting(z.int().min(1).max(32).default(1), {
      env: 'KILLTRACE_KAFKA_REPLICATION_FACTOR',
      description: 'Replication factor of the topics Killtrace creates; use 3 on production clusters.',
    }),
  })
  .prefault({});

const elasticsearchSchema = z
  .strictObject({
    url: setting(z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:9200'), {
      env: 'ELASTICSEARCH_URL',
      description: 'Elasticsearch node URL (`http://` or `https://`).',
    }),
    apiKey: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_ELASTICSEARCH_API_KEY',
      description: 'API key (base64 `id:key`); exclusive with username/password.',
      secret: true,
    }),
    username: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_ELASTICSEARCH_USERNAME',
      description: 'Basic-auth username; needs a password.',
    }),
    password: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_ELASTICSEARCH_PASSWORD',
      description: 'Basic-auth password.',
      secret: true,
    }),
    caFile: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_ELASTICSEARCH_CA_FILE',
      description: 'PEM file of the CA that signed the node\'s certificate.',
    }),
    indexPrefix: setting(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a lowercase index name prefix ([a-z0-9._-], not starting with . _ or -)')
        .default('killtrace-restarts'),
      {
        env: 'KILLTRACE_ELASTICSEARCH_INDEX_PREFIX',
        description: 'Name of the write alias for restart records; the index template and the first index (`<prefix>-000001`) derive from it.',
      },
    ),
  })
  .prefault({});

const loggingSchema = z
  .strictObject({
    level: setting(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'), {
      env: 'KILLTRACE_LOG_LEVEL',
      description: 'Minimum level written.',
    }),
    format: setting(z.enum(['auto', 'json', 'pretty']).default('auto'), {
      env: 'KILLTRACE_LOG_FORMAT',
      description: '`auto` is pretty when stdout is a terminal and JSON otherwise.',
    }),
  })
  .prefault({});

const httpSchema = z
  .strictObject({
    port: setting(z.int().min(0).max(65_535).default(9464), {
      env: 'KILLTRACE_HTTP_PORT',
      description: 'Port of the health and metrics endpoints (`0` picks a free port).',
    }),
  })
  .prefault({});

const correlatorSchema = z
  .strictObject({
    allowedLatenessMs: setting(z.int().min(0).default(30_000), {
      env: 'KILLTRACE_CORRELATOR_ALLOWED_LATENESS_MS',
      description: 'How long after a termination late evidence may still change its record before it is final.',
    }),
    groupId: setting(z.string().trim().min(1).optional(), {
      env: 'KILLTRACE_CORRELATOR_GROUP_ID',
      description: 'Kafka consumer group of all correlator instances of one cluster; when unset, `<kafka.clientId>.correlator`.',
    }),
    stateWindowMs: setting(z.int().min(1).max(90 * 86_400_000).default(24 * 3_600_000), {
      env: 'KILLTRACE_CORRELATOR_STATE_WINDOW_MS',
      description:
        'Event time kept in memory behind the partition watermark: older evidence is evicted, and a restarted or rebalanced correlator replays this far back (the topics must retain at least this much).',
    }),
    flushIntervalMs: setting(z.int().min(1).max(60_000).default(200), {
      env: 'KILLTRACE_CORRELATOR_FLUSH_INTERVAL_MS',
      description: 'How often changed records are written to Elasticsearch and the records topic, and offsets committed after both acknowledge.',
    }),
    maxUnflushedMessages: setting(z.int().min(1).default(50_000), {
      env: 'KILLTRACE_CORRELATOR_MAX_UNFLUSHED',
      description: 'Ingested messages not yet covered by a successful flush; above this the consumer waits (back-pressure).',
    }),
    readyMaxLag: setting(z.int().min(0).default(10_000), {
      env: 'KILLTRACE_CORRELATOR_READY_MAX_LAG',
      description: '`/readyz` fails while the consumer lag (messages, over all assigned partitions) is above this.',
    }),
    retryInitialMs: setting(z.int().min(1).max(600_000).default(250), {
      env: 'KILLTRACE_CORRELATOR_RETRY_INITIAL_MS',
      description: 'First back-off before retrying a failed write to Elasticsearch or the records topic (doubling, with jitter).',
    }),
    retryMaxMs: setting(z.int().min(1).max(600_000).default(15_000), {
      env: 'KILLTRACE_CORRELATOR_RETRY_MAX_MS',
      description: 'Longest back-off between retries of a failed write; at least `correlator.retryInitialMs`.',
    }),
    shutdownGraceMs: setting(z.int().min(0).max(600_000).default(25_000), {
      env: 'KILLTRACE_CORRELATOR_SHUTDOWN_GRACE_MS',
      description: 'On SIGTERM, how long the in-flight batch may take to be written and committed before the correlator gives up on it (it is replayed by the next owner).',
    }),
    idleTimeoutMs: setting(z.int().min(100).max(3_600_000).default(30_000), {
      env: 'KILLTRACE_CORRELATOR_IDLE_TIMEOUT_MS',
      description:
        'After this much wall-clock time without input, a partition\'s event time follows the clock (newest event time + time idle), so records of a partition that went quiet turn final.',
    }),
    maxEventTimeAheadMs: setting(z.int().min(0).max(7 * 86_400_000).default(300_000), {
      env: 'KILLTRACE_CORRELATOR_MAX_EVENT_TIME_AHEAD_MS',
      description:
        'How far a message\'s event time may be ahead of the correlator\'s clock (clock skew allowance); a message dated later is dead-lettered, not ingested, and cannot advance the watermark.',
    }),
    sessionTimeoutMs: setting(z.int().min(6_000).max(300_000).default(15_000), {
      env: 'KILLTRACE_CORRELATOR_SESSION_TIMEOUT_MS',
      description:
        'Consumer group session timeout: after a crash (kill -9), the restarted correlator gets its partitions only once the dead member\'s session expired, so this bounds recovery time; too low and a busy correlator is dropped from the group.',
    }),
    recordProducers: setting(z.int().min(1).max(16).default(1), {
      env: 'KILLTRACE_CORRELATOR_RECORD_PRODUCERS',
      description:
        'Idempotent producers writing the records topic in parallel, partition p through producer p mod this (one kafkajs idempotent producer has one request in flight per broker); per-partition order holds. Raising it was measured neutral with the broker on loopback (decision 0024).',
    }),
    snapshotsEnabled: setting(z.boolean().default(true), {
      env: 'KILLTRACE_CORRELATOR_SNAPSHOTS',
      description:
        'Write per-partition state snapshots to `kafka.topics.snapshots` and start from the latest one after a restart, replaying only what follows it; off: every assignment replays the whole state window.',
    }),
    snapshotIntervalMs: setting(z.int().min(1_000).max(86_400_000).default(60_000), {
      env: 'KILLTRACE_CORRELATOR_SNAPSHOT_INTERVAL_MS',
      description: 'Wall-clock time between two snapshots of a partition that read something meanwhile (a restart replays at most about this much).',
    }),
    snapshotEveryMessages: setting(z.int().min(1).default(200_000), {
      env: 'KILLTRACE_CORRELATOR_SNAPSHOT_EVERY_MESSAGES',
      description: 'Also snapshot a partition after this many messages read since its last snapshot, whichever of the two comes first.',
    }),
  })
  .prefault({});

/** How evidence is interpreted, the same for `killtrace analyze` and the correlator service. */
const correlationSchema = z
  .strictObject({
    profiles: setting(z.array(z.string().trim().min(1, 'expected a file path')).default([]), {
      env: 'KILLTRACE_CORRELATION_PROFILES',
      description:
        'Step-profile files (YAML or JSON, the format of `killtrace analyze --profile`), comma-separated; they override the built-in profiles by name. Checked at start; the correlator re-reads them on SIGHUP.',
    }),
    nodeClassLabels: setting(
      z
        .array(z.string().trim().min(1, 'expected a label key'))
        .min(1, 'expected at least one label key')
        .default(['node.kubernetes.io/instance-type', 'nvidia.com/gpu.present', 'nvidia.com/gpu.product', 'feature.node.kubernetes.io/pci-10de.present']),
      {
        env: 'KILLTRACE_CORRELATION_NODE_CLASS_LABELS',
        description:
          'Node labels whose values make a node class (init durations and startupProbe budgets per class), comma-separated; the cluster watcher publishes only these labels of each Node.',
      },
    ),
  })
  .prefault({});

const nodeAgentSchema = z
  .strictObject({
    nodeName: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_NODE_NAME',
      description: 'Node the agent runs on (from the downward API `spec.nodeName`); defaults to the host name.',
    }),
    logRoot: setting(z.string().min(1).default('/var/log/pods'), {
      env: 'KILLTRACE_NODE_AGENT_LOG_ROOT',
      description: 'Root of the kubelet\'s container logs (`<ns>_<pod>_<uid>/<container>/<N>.log`).',
    }),
    pollIntervalMs: setting(z.int().min(10).max(60_000).default(1_000), {
      env: 'KILLTRACE_NODE_AGENT_POLL_INTERVAL_MS',
      description: 'How often the log tree and the followed files are polled (fs.watch is unreliable across rotations).',
    }),
    rotateWaitMs: setting(z.int().min(0).max(600_000).default(5_000), {
      env: 'KILLTRACE_NODE_AGENT_ROTATE_WAIT_MS',
      description: 'How long a rotated (renamed) log file is still read after rotation, for lines the runtime wrote before reopening.',
    }),
    checkpointDir: setting(z.string().min(1).default('/var/lib/killtrace/node-agent'), {
      env: 'KILLTRACE_NODE_AGENT_CHECKPOINT_DIR',
      description: 'Directory of the durable file offsets and journal cursor (a hostPath, so a restarted agent resumes).',
    }),
    checkpointIntervalMs: setting(z.int().min(0).max(600_000).default(1_000), {
      env: 'KILLTRACE_NODE_AGENT_CHECKPOINT_INTERVAL_MS',
      description: 'Least time between two checkpoint writes (offsets only ever cover acknowledged lines).',
    }),
    journalMode: setting(z.enum(['journalctl', 'file', 'off']).default('journalctl'), {
      env: 'KILLTRACE_NODE_AGENT_JOURNAL_MODE',
      description: 'Kubelet log source: `journalctl -u kubelet -f -o json`, a plain log `file` (tailed with rotation), or `off`.',
    }),
    journalPath: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_NODE_AGENT_JOURNAL_PATH',
      description: 'With `journalctl`: the journal directory (`-D`, e.g. `/var/log/journal`); with `file`: the kubelet log file.',
    }),
    journalctlCommand: setting(z.string().min(1).default('journalctl'), {
      env: 'KILLTRACE_NODE_AGENT_JOURNALCTL_COMMAND',
      description: 'journalctl executable (any program printing `journalctl -o json` lines).',
    }),
    journalUnit: setting(z.string().min(1).default('kubelet'), {
      env: 'KILLTRACE_NODE_AGENT_JOURNAL_UNIT',
      description: 'Systemd unit whose journal is followed.',
    }),
    kernelJournal: setting(z.boolean().default(true), {
      env: 'KILLTRACE_NODE_AGENT_KERNEL_JOURNAL',
      description: 'Also follow the kernel\'s messages (`journalctl -k -f -o json`, with `journalctlCommand` and, in `journalctl` mode, `journalPath`) and publish its OOM kills.',
    }),
    redactPatterns: setting(z.array(z.string().min(1)).default([]), {
      env: 'KILLTRACE_NODE_AGENT_REDACT_PATTERNS',
      description: 'Extra JavaScript regexes (comma-separated in the environment) whose matches are masked in log text before it leaves the node; a capture group masks only that group.',
    }),
    redactDefaults: setting(z.boolean().default(true), {
      env: 'KILLTRACE_NODE_AGENT_REDACT_DEFAULTS',
      description: 'Also mask `password=`, `token=`, `Authorization: Bearer`, and AWS-style access keys.',
    }),
    logMessageVersion: setting(z.int().min(1).max(2).default(2), {
      env: 'KILLTRACE_NODE_AGENT_LOG_MESSAGE_VERSION',
      description: '`logs` topic message version the agent produces: 2 (several lines of one container per message; correlators since this version read it) or 1 (one line per message, for correlators not yet upgraded).',
    }),
    readChunkBytes: setting(z.int().min(4_096).max(8 * 1024 * 1024).default(32 * 1024), {
      env: 'KILLTRACE_NODE_AGENT_READ_CHUNK_BYTES',
      description: 'Bytes read from one log file at a time; each chunk is parsed, published and acknowledged before the next one of that file is read.',
    }),
    maxBytesInFlight: setting(z.int().min(4_096).max(64 * 1024 * 1024).default(64 * 1024), {
      env: 'KILLTRACE_NODE_AGENT_MAX_BYTES_IN_FLIGHT',
      description: 'Most log bytes read but not yet acknowledged by Kafka, over all files (files are published `maxBytesInFlight / readChunkBytes` at a time, at least one): bounds the agent\'s memory.',
    }),
    maxBytesPerPoll: setting(z.int().min(4_096).max(1024 * 1024 * 1024).default(8 * 1024 * 1024), {
      env: 'KILLTRACE_NODE_AGENT_MAX_BYTES_PER_POLL',
      description: 'Bytes read from one file before the agent moves on to the next (fairness during a catch-up; a checkpoint may be written in between).',
    }),
    v8HeapDefaults: setting(z.boolean().default(true), {
      env: 'KILLTRACE_NODE_AGENT_V8_HEAP_DEFAULTS',
      description: 'Start the agent with its V8 heap flags (`--max-semi-space-size=2 --max-old-space-size=64`, which bound its memory; README, performance) unless NODE_OPTIONS or the command line set a heap size: `killtrace-collector node-agent` restarts itself with them (Node 22.15+; the DaemonSets set NODE_OPTIONS).',
    }),
  })
  .prefault({});

const collectorSchema = z
  .strictObject({
    mode: setting(z.enum(['cluster-watcher', 'node-agent']).optional(), {
      env: 'KILLTRACE_COLLECTOR_MODE',
      description: 'What `killtrace-collector` runs when no mode argument is given: `cluster-watcher` or `node-agent`.',
    }),
  })
  .prefault({});

const clusterWatcherSchema = z
  .strictObject({
    namespaces: setting(z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a namespace name')).default([]), {
      env: 'KILLTRACE_CLUSTER_WATCHER_NAMESPACES',
      description: 'Namespaces whose pods and events are watched (comma-separated in the environment); empty watches all namespaces.',
    }),
    labelSelector: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LABEL_SELECTOR',
      description: 'Label selector of the watched pods (e.g. `app.kubernetes.io/part-of=shop`); events are not filtered.',
    }),
    kubeconfig: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_CLUSTER_WATCHER_KUBECONFIG',
      description: 'Kubeconfig file; when unset: `$KUBECONFIG`, `~/.kube/config`, then the in-cluster service account.',
    }),
    retryMaxMs: setting(z.int().min(100).max(600_000).default(30_000), {
      env: 'KILLTRACE_CLUSTER_WATCHER_RETRY_MAX_MS',
      description: 'Longest back-off between attempts to re-establish a failed list or watch (doubling from 500 ms).',
    }),
    maxBacklog: setting(z.int().min(1).max(10_000_000).default(100_000), {
      env: 'KILLTRACE_CLUSTER_WATCHER_MAX_BACKLOG',
      description:
        'Most pod snapshots, events and dead letters held for publishing. Once a publish fails or half of it is reached, waiting versions are coalesced by object (the newest of each); nothing is dropped: at the bound the informers pause (resuming from their resourceVersion) and `/readyz` fails until half of it is published.',
    }),
    publishRetryMaxMs: setting(z.int().min(100).max(600_000).default(30_000), {
      env: 'KILLTRACE_CLUSTER_WATCHER_PUBLISH_RETRY_MAX_MS',
      description: 'Longest back-off between attempts to publish a backlog Kafka refuses (doubling from 500 ms, retried until accepted; `/readyz` fails meanwhile).',
    }),
    leaderElection: setting(z.boolean().default(false), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LEADER_ELECTION',
      description: 'Run as one of several replicas: only the holder of the `coordination.k8s.io` Lease watches and publishes; the others stand by and take over when it stops renewing.',
    }),
    leaseName: setting(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Lease name').default('killtrace-cluster-watcher'), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LEASE_NAME',
      description: 'Name of the Lease (the RBAC Role in deploy/kubernetes lets the watcher get and update only this one).',
    }),
    leaseNamespace: setting(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a namespace name').optional(), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LEASE_NAMESPACE',
      description: "Namespace of the Lease; when unset: `$POD_NAMESPACE`, the in-cluster service account's namespace, then `killtrace`.",
    }),
    leaseIdentity: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LEASE_IDENTITY',
      description: 'This replica\'s holder identity in the Lease; when unset: `$POD_NAME`, then the host name.',
    }),
    leaseDurationMs: setting(z.int().min(1_000).max(600_000).default(15_000), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LEASE_DURATION_MS',
      description: 'How long a standby waits, after it last saw the Lease renewed, before taking it over.',
    }),
    leaseRenewDeadlineMs: setting(z.int().min(500).max(600_000).default(10_000), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LEASE_RENEW_DEADLINE_MS',
      description: 'The leader stops watching when it could not renew the Lease for this long (shorter than the lease duration).',
    }),
    leaseRetryPeriodMs: setting(z.int().min(100).max(60_000).default(2_000), {
      env: 'KILLTRACE_CLUSTER_WATCHER_LEASE_RETRY_PERIOD_MS',
      description: 'How often the leader renews and a standby tries to acquire the Lease.',
    }),
  })
  .prefault({});

const kibanaSchema = z
  .strictObject({
    url: setting(z.url({ protocol: /^https?$/ }).optional(), {
      env: 'KIBANA_URL',
      description: 'Kibana base URL (`http://` or `https://`, with its `server.basePath` if any); when set, `killtrace setup` imports the saved objects there.',
    }),
    space: setting(
      z
        .string()
        .regex(/^[a-z0-9_-]+$/, 'expected a Kibana space id ([a-z0-9_-])')
        .optional(),
      {
        env: 'KILLTRACE_KIBANA_SPACE',
        description: 'Kibana space the saved objects are imported into (`/s/<space>`); when unset, the default space.',
      },
    ),
    apiKey: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_KIBANA_API_KEY',
      description: 'Kibana API key (base64 `id:key`); exclusive with username/password.',
      secret: true,
    }),
    username: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_KIBANA_USERNAME',
      description: 'Kibana basic-auth username; needs a password.',
    }),
    password: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_KIBANA_PASSWORD',
      description: 'Kibana basic-auth password.',
      secret: true,
    }),
    caFile: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_KIBANA_CA_FILE',
      description: 'PEM file of the CA that signed Kibana\'s certificate.',
    }),
  })
  .prefault({});

const apiSchema = z
  .strictObject({
    host: setting(z.string().min(1).default('127.0.0.1'), {
      env: 'KILLTRACE_API_HOST',
      description: 'Address the read-only API and web page listen on; loopback by default, set `0.0.0.0` only behind TLS termination.',
    }),
    port: setting(z.int().min(0).max(65_535).default(9480), {
      env: 'KILLTRACE_API_PORT',
      description: 'Port of the API and web page (`0` picks a free port).',
    }),
    tokens: setting(z.array(z.string().min(16, 'API tokens must be at least 16 characters')).default([]), {
      env: 'KILLTRACE_API_TOKENS',
      description: 'Bearer tokens accepted by the API (comma-separated in the environment), at least 16 characters each. Secret: never logged.',
      secret: true,
    }),
    tokensFile: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_API_TOKENS_FILE',
      description: 'File of accepted bearer tokens, one per line (`#` comments); read at start. The API refuses to start with no token at all.',
    }),
    rateLimitPerMinute: setting(z.int().min(1).max(100_000).default(60), {
      env: 'KILLTRACE_API_RATE_LIMIT_PER_MINUTE',
      description: 'Requests per minute and token to the expensive routes (timeline export, workload recommendation); more get `429` with `Retry-After`.',
    }),
    maxPageSize: setting(z.int().min(1).max(10_000).default(200), {
      env: 'KILLTRACE_API_MAX_PAGE_SIZE',
      description: 'Largest `limit` of a page of records.',
    }),
  })
  .prefault({});

const httpUrlSetting = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

const alerterSchema = z
  .strictObject({
    rulesFile: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_ALERTER_RULES_FILE',
      description: 'Alert rules and receivers (YAML or JSON, see the README section on alerting); when unset, the built-in rules alone.',
    }),
    alertmanagerUrl: setting(httpUrlSetting.optional(), {
      env: 'KILLTRACE_ALERTER_ALERTMANAGER_URL',
      description: 'Alertmanager base URL, added as the receiver `alertmanager` of every rule, so the built-in rules need no rules file.',
    }),
    groupId: setting(z.string().trim().min(1).optional(), {
      env: 'KILLTRACE_ALERTER_GROUP_ID',
      description: 'Kafka consumer group of the alerter on the records topic; when unset, `<kafka.clientId>.alerter`.',
    }),
    stateDir: setting(z.string().min(1).default('/var/lib/killtrace/alerter'), {
      env: 'KILLTRACE_ALERTER_STATE_DIR',
      description: 'Directory of the durable alert state and the queue of notifications not yet delivered (a persistent volume; decision 0008).',
    }),
    maxKillAgeMs: setting(z.int().min(1).default(3_600_000), {
      env: 'KILLTRACE_ALERTER_MAX_KILL_AGE_MS',
      description: 'Records whose kill is older than this (wall clock) are not alerted on: a new consumer group reads the records topic from the beginning without paging for old history.',
    }),
    tickIntervalMs: setting(z.int().min(10).max(60_000).default(1_000), {
      env: 'KILLTRACE_ALERTER_TICK_INTERVAL_MS',
      description: 'How often quiet periods (resolve) and repeat intervals are checked.',
    }),
    retryInitialMs: setting(z.int().min(1).max(600_000).default(500), {
      env: 'KILLTRACE_ALERTER_RETRY_INITIAL_MS',
      description: 'First back-off before retrying a failed delivery to a receiver (doubling, with jitter).',
    }),
    retryMaxMs: setting(z.int().min(1).max(3_600_000).default(60_000), {
      env: 'KILLTRACE_ALERTER_RETRY_MAX_MS',
      description: 'Longest back-off between delivery retries; deliveries are retried until they succeed or the receiver refuses them for good (4xx).',
    }),
    deliveryTimeoutMs: setting(z.int().min(100).max(120_000).default(10_000), {
      env: 'KILLTRACE_ALERTER_DELIVERY_TIMEOUT_MS',
      description: 'Timeout of one HTTP delivery to a receiver.',
    }),
    maxQueued: setting(z.int().min(1).default(10_000), {
      env: 'KILLTRACE_ALERTER_MAX_QUEUED',
      description: 'Notifications waiting for delivery (all receivers); above this the consumer waits and `/readyz` fails.',
    }),
    timelineUrl: setting(httpUrlSetting.optional(), {
      env: 'KILLTRACE_ALERTER_TIMELINE_URL',
      description: 'Link to the postmortem timeline of a restart; `{id}` is replaced by the record id (e.g. `https://killtrace.example.com/api/v1/timeline?id={id}`).',
    }),
    kibanaUrl: setting(httpUrlSetting.optional(), {
      env: 'KILLTRACE_ALERTER_KIBANA_URL',
      description: 'Kibana base URL; alerts link to Discover filtered on the workload and container around the kills.',
    }),
    kibanaDataView: setting(z.string().min(1).optional(), {
      env: 'KILLTRACE_ALERTER_KIBANA_DATA_VIEW',
      description: 'Kibana data view id of the restart records for the Discover link; when unset, Kibana\'s default data view.',
    }),
  })
  .prefault({});

const field = (tree: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), tree);

/**
 * The rules no single setting can check. They read the tree loosely so the loader can also run them when other
 * settings are invalid (zod skips an object's refinements then), and every bad key is named in one error.
 */
export function crossFieldIssues(tree: unknown): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const mechanism = field(tree, 'kafka', 'sasl', 'mechanism');
  if (typeof mechanism === 'string' && mechanism !== 'none') {
    for (const key of ['username', 'password']) {
      if (field(tree, 'kafka', 'sasl', key) === undefined) {
        issues.push({ path: ['kafka', 'sasl', key], message: `required when kafka.sasl.mechanism is ${mechanism}` });
      }
    }
  }
  const apiKey = field(tree, 'elasticsearch', 'apiKey');
  const username = field(tree, 'elasticsearch', 'username');
  const password = field(tree, 'elasticsearch', 'password');
  if (apiKey !== undefined && (username !== undefined || password !== undefined)) {
    issues.push({ path: ['elasticsearch', 'apiKey'], message: 'give either an API key or a username/password, not both' });
  }
  if ((username === undefined) !== (password === undefined)) {
    issues.push({
      path: ['elasticsearch', username === undefined ? 'username' : 'password'],
      message: 'username and password must be given together',
    });
  }
  const kibanaApiKey = field(tree, 'kibana', 'apiKey');
  const kibanaUsername = field(tree, 'kibana', 'username');
  const kibanaPassword = field(tree, 'kibana', 'password');
  if (kibanaApiKey !== undefined && (kibanaUsername !== undefined || kibanaPassword !== undefined)) {
    issues.push({ path: ['kibana', 'apiKey'], message: 'give either an API key or a username/password, not both' });
  }
  if ((kibanaUsername === undefined) !== (kibanaPassword === undefined)) {
    issues.push({ path: ['kibana', kibanaUsername === undefined ? 'username' : 'password'], message: 'username and password must be given together' });
  }
  const retryInitialMs = field(tree, 'correlator', 'retryInitialMs');
  const retryMaxMs = field(tree, 'correlator', 'retryMaxMs');
  if (typeof retryInitialMs === 'number' && typeof retryMaxMs === 'number' && retryMaxMs < retryInitialMs) {
    issues.push({ path: ['correlator', 'retryMaxMs'], message: `must be at least correlator.retryInitialMs (${retryInitialMs})` });
  }
  const alerterInitialMs = field(tree, 'alerter', 'retryInitialMs');
  const alerterMaxMs = field(tree, 'alerter', 'retryMaxMs');
  if (typeof alerterInitialMs === 'number' && typeof alerterMaxMs === 'number' && alerterMaxMs < alerterInitialMs) {
    issues.push({ path: ['alerter', 'retryMaxMs'], message: `must be at least alerter.retryInitialMs (${alerterInitialMs})` });
  }
  return issues;
}

/** Every Killtrace setting, with the cross-field rules no single setting can check. */
export const configSchema = z
  .strictObject({
    clusterName: setting(z.string().min(1, 'expected a non-empty cluster name'), {
      env: 'KILLTRACE_CLUSTER_NAME',
      description: 'Name of the Kubernetes cluster, written to `orchestrator.cluster.name` of every record.',
    }),
    kafka: kafkaSchema,
    elasticsearch: elasticsearchSchema,
    logging: loggingSchema,
    http: httpSchema,
    correlator: correlatorSchema,
    correlation: correlationSchema,
    nodeAgent: nodeAgentSchema,
    collector: collectorSchema,
    clusterWatcher: clusterWatcherSchema,
    kibana: kibanaSchema,
    api: apiSchema,
    alerter: alerterSchema,
  })
  .superRefine((config, ctx) => {
    for (const issue of crossFieldIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
  });

/** The validated configuration every service receives. */
export type Config = z.output<typeof configSchema>;
/** What a configuration file or override may contain (everything but the cluster name has a default). */
export type ConfigInput = z.input<typeof configSchema>;
