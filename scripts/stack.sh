#!/usr/bin/env bash
# Starts the real servers Killtrace's integration tests and local runs need (Kafka in KRaft mode and
# Elasticsearch), without Docker: artifacts come from Maven Central through Maven, run under the local Java.
# See docs/stack.md and docs/decisions/0001-servers-without-docker.md.
#
#   bash scripts/stack.sh up|down|status|logs [kafka|elasticsearch|etcd|kube-apiserver]|es-pause|es-resume
#   fetch only resolves the Kafka and Elasticsearch artifacts (Maven) into the cache, starting nothing.
#   kube-up starts only etcd and kube-apiserver, kube-down stops only them; kube-env prints where they are (for the tests).
#   kube-apiserver-stop [hard] / kube-apiserver-start restart only the API server (the watcher's resumption tests).
#   es-pause/es-resume freeze and thaw the Elasticsearch process (SIGSTOP/SIGCONT) to simulate an outage without
#   losing its data or paying a restart; used by the correlator's outage test.
set -euo pipefail

# --- Pinned versions: the only place they are named. kafkajs 2.2.4 speaks the classic protocol (Kafka 3.x);
# Elasticsearch 8.17 is the last 8.x line that runs on Java 17 and matches @elastic/elasticsearch 8.17.1.
# If a pinned version is not served by the configured Maven repository, neighbouring patch versions are tried.
KAFKA_VERSION="${KILLTRACE_KAFKA_VERSION:-3.9.1}"
KAFKA_SCALA_VERSION="2.13"
KAFKA_FALLBACK_VERSIONS="3.9.0"
SLF4J_VERSION="1.7.36"
ES_VERSION="${KILLTRACE_ES_VERSION:-8.17.10}"
ES_FALLBACK_VERSIONS="8.17.9 8.17.8"

KAFKA_HOST="127.0.0.1"
KAFKA_PORT="${KILLTRACE_STACK_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KILLTRACE_STACK_KAFKA_CONTROLLER_PORT:-9093}"
ES_HOST="127.0.0.1"
ES_PORT="${KILLTRACE_STACK_ES_PORT:-9200}"
ES_HEAP="${KILLTRACE_STACK_ES_HEAP:-512m}"
KAFKA_HEAP="${KILLTRACE_STACK_KAFKA_HEAP:-512m}"
ES_USER="${KILLTRACE_STACK_ES_USER:-killtrace-es}"
START_TIMEOUT_S="${KILLTRACE_STACK_TIMEOUT:-180}"

STACK_HOME="${KILLTRACE_STACK_HOME:-$HOME/.cache/killtrace/stack}"
DOWNLOADS="$STACK_HOME/downloads"
RUN_DIR="$STACK_HOME/run"
KAFKA_RUN="$RUN_DIR/kafka"
KAFKA_LOG="$KAFKA_RUN/logs/server.log"
KAFKA_STDOUT="$KAFKA_RUN/logs/stdout.log"
KAFKA_PID="$KAFKA_RUN/kafka.pid"

# Elasticsearch refuses to run as root, so as root it runs as a dedicated user; that user cannot traverse a
# root-only home directory (/root is 0700), so its installation then lives in a world-traversable place.
if [[ $(id -u) -eq 0 ]]; then
  ES_RUN_BASE="${KILLTRACE_STACK_ES_DIR:-/var/lib/killtrace-stack}"
else
  ES_RUN_BASE="${KILLTRACE_STACK_ES_DIR:-$RUN_DIR}"
fi

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Prints the last lines of a server's log so a failure explains itself without another command.
tail_log() {
  local name="$1" file="$2"
  if [[ -f "$file" ]]; then
    printf '[stack] --- last 40 lines of %s log (%s) ---\n' "$name" "$file" >&2
    tail -n 40 "$file" >&2 || true
    printf '[stack] --- end of %s log ---\n' "$name" >&2
  else
    printf '[stack] (%s log %s does not exist yet)\n' "$name" "$file" >&2
  fi
}

fail_server() {
  local name="$1" why="$2" file="$3"
  printf '[stack] ERROR: %s: %s (log: %s)\n' "$name" "$why" "$file" >&2
  tail_log "$name" "$file"
  exit 1
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required ($2) but was not found on PATH"
}

pid_alive() {
  local pidfile="$1"
  [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# True when the process in the pid file is stopped (SIGSTOP, e.g. `es-pause`): it will never become healthy.
pid_paused() {
  local pidfile="$1" state
  pid_alive "$pidfile" || return 1
  state="$(awk '{print $3}' "/proc/$(cat "$pidfile")/stat" 2>/dev/null || true)"
  [[ "$state" == "T" ]]
}

tcp_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

es_url() { printf 'http://%s:%s' "$ES_HOST" "$ES_PORT"; }

es_healthy() {
  curl -fsS --max-time 5 "$(es_url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null |
    grep -Eq '"status":"(green|yellow)"'
}

es_running_version() {
  curl -fsS --max-time 5 "$(es_url)/_nodes/_local?filter_path=nodes.*.version" 2>/dev/null |
    sed -n 's/.*"version":"\([^"]*\)".*/\1/p'
}

kafka_classpath() { printf '%s/*' "$(kafka_home)/libs"; }
kafka_home() { printf '%s/kafka_%s-%s' "$DOWNLOADS" "$KAFKA_SCALA_VERSION" "$KAFKA_VERSION"; }

# Kafka counts as healthy when it answers an ApiVersions request on its client listener, not merely when the
# port is open: the socket accepts connections before the broker has caught up with its metadata.
kafka_healthy() {
  tcp_open "$KAFKA_HOST" "$KAFKA_PORT" || return 1
  [[ -d "$(kafka_home)/libs" ]] || return 0
  timeout 30 java -Xmx128m -cp "$(kafka_classpath)" -Dlog4j.configuration="file:$(kafka_home)/config/tools-log4j.properties" \
    kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" >/dev/null 2>&1
}

kafka_running_version() {
  if [[ -f "$KAFKA_LOG" ]]; then
    grep -o 'Kafka version: [0-9][^ ]*' "$KAFKA_LOG" 2>/dev/null | tail -n 1 | sed 's/Kafka version: //'
  fi
}

# --- Resolution through Maven (the repository is whatever Maven is configured to use; no host is named here).

write_pom() {
  local file="$1" deps="$2"
  cat >"$file" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by killtrace scripts/stack.sh: only used to let Maven resolve server artifacts. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.killtrace.stack</groupId>
  <artifactId>stack-resolver</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$deps
  </dependencies>
</project>
EOF
}

# Resolves Kafka's broker jar with its runtime dependencies and a logging binding into a lib directory.
resolve_kafka() {
  local home version
  for version in "$KAFKA_VERSION" $KAFKA_FALLBACK_VERSIONS; do
    home="$DOWNLOADS/kafka_${KAFKA_SCALA_VERSION}-${version}"
    if [[ -f "$home/.complete" ]]; then
      KAFKA_VERSION="$version"
      return 0
    fi
    log "resolving Kafka $version (kafka_$KAFKA_SCALA_VERSION and runtime dependencies) with Maven"
    mkdir -p "$home/libs" "$home/config"
    write_pom "$home/pom.xml" "    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${KAFKA_SCALA_VERSION}</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>${SLF4J_VERSION}</version></dependency>"
    if mvn -B -q -f "$home/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$home/libs" >"$home/maven.log" 2>&1; then
      KAFKA_VERSION="$version"
      touch "$home/.complete"
      log "Kafka $version resolved into $home/libs ($(find "$home/libs" -name '*.jar' | wc -l) jars)"
      return 0
    fi
    log "Kafka $version could not be resolved (see $home/maven.log); trying the next candidate"
    tail -n 15 "$home/maven.log" >&2 || true
  done
  die "kafka: no candidate version ($KAFKA_VERSION $KAFKA_FALLBACK_VERSIONS) could be resolved with Maven; see $DOWNLOADS/kafka_*/maven.log"
}

write_kafka_log4j() {
  local home="$1"
  cat >"$home/config/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, kafkaAppender
# Rolling, so a broker left running for weeks on a laptop does not fill the disk.
log4j.appender.kafkaAppender=org.apache.log4j.RollingFileAppender
log4j.appender.kafkaAppender.File=${kafka.logs.dir}/server.log
log4j.appender.kafkaAppender.MaxFileSize=50MB
log4j.appender.kafkaAppender.MaxBackupIndex=2
log4j.appender.kafkaAppender.layout=org.apache.log4j.PatternLayout
log4j.appender.kafkaAppender.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
  cat >"$home/config/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stderr.Target=System.err
EOF
}

# Resolves the Elasticsearch integ-test-zip distribution and unpacks it.
resolve_elasticsearch() {
  local dir version zip
  for version in "$ES_VERSION" $ES_FALLBACK_VERSIONS; do
    dir="$DOWNLOADS/elasticsearch-${version}"
    if [[ -f "$dir/.complete" ]]; then
      ES_VERSION="$version"
      return 0
    fi
    log "resolving Elasticsearch $version (integ-test-zip) with Maven"
    mkdir -p "$dir/zip"
    write_pom "$dir/pom.xml" "    <dependency><groupId>org.elasticsearch.distribution.integ-test-zip</groupId><artifactId>elasticsearch</artifactId><version>${version}</version><type>zip</type></dependency>"
    if mvn -B -q -f "$dir/pom.xml" dependency:copy-dependencies -DexcludeTransitive=true \
      -DoutputDirectory="$dir/zip" >"$dir/maven.log" 2>&1; then
      zip="$(find "$dir/zip" -name 'elasticsearch-*.zip' -print -quit)"
      [[ -n "$zip" ]] || die "elasticsearch: Maven succeeded but no zip was copied into $dir/zip"
      rm -rf "$dir/dist"
      mkdir -p "$dir/dist"
      unzip_to "$zip" "$dir/dist"
      ES_VERSION="$version"
      touch "$dir/.complete"
      log "Elasticsearch $version resolved and unpacked into $dir/dist"
      return 0
    fi
    log "Elasticsearch $version could not be resolved (see $dir/maven.log); trying the next candidate"
    tail -n 15 "$dir/maven.log" >&2 || true
  done
  die "elasticsearch: no candidate version ($ES_VERSION $ES_FALLBACK_VERSIONS) could be resolved with Maven; see $DOWNLOADS/elasticsearch-*/maven.log"
}

# unzip is not always installed; the JDK's jar tool and Python are common fallbacks.
unzip_to() {
  local zip="$1" dest="$2"
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$zip" -d "$dest"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$dest"
    # zipfile drops the executable bits the launch scripts need.
    find "$dest" -path '*/bin/*' -type f -exec chmod +x {} +
  else
    (cd "$dest" && jar xf "$zip")
    find "$dest" -path '*/bin/*' -type f -exec chmod +x {} +
  fi
}

es_dist_home() {
  find "$DOWNLOADS/elasticsearch-$ES_VERSION/dist" -mindepth 1 -maxdepth 1 -type d -name 'elasticsearch-*' -print -quit
}

es_run() { printf '%s/elasticsearch-%s' "$ES_RUN_BASE" "$ES_VERSION"; }
es_log() { printf '%s/logs/killtrace-stack.log' "$(es_run)"; }
es_stdout() { printf '%s/logs/stdout.log' "$(es_run)"; }
es_pidfile() { printf '%s/es.pid' "$(es_run)"; }

# --- Kafka

start_kafka() {
  if pid_alive "$KAFKA_PID" && kafka_healthy; then
    log "Kafka already running (pid $(cat "$KAFKA_PID")), reusing it"
    return 0
  fi
  if ! pid_alive "$KAFKA_PID" && tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if kafka_healthy; then
      log "a Kafka broker not started by this script answers on $KAFKA_HOST:$KAFKA_PORT, reusing it"
      return 0
    fi
    fail_server kafka "port $KAFKA_PORT is taken by another process that does not answer as a Kafka broker (find it with: ss -ltnp 'sport = :$KAFKA_PORT')" "$KAFKA_LOG"
  fi
  if pid_alive "$KAFKA_PID"; then
    log "Kafka process $(cat "$KAFKA_PID") exists but is not healthy yet; waiting for it"
    wait_kafka
    return 0
  fi
  resolve_kafka
  local home config cluster_id
  home="$(kafka_home)"
  write_kafka_log4j "$home"
  mkdir -p "$KAFKA_RUN/data" "$KAFKA_RUN/logs"
  config="$KAFKA_RUN/server.properties"
  cat >"$config" <<EOF
# Generated by killtrace scripts/stack.sh: a single combined broker+controller for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_RUN/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join and leave consumer groups constantly; the default 3 s delay would slow every one of them.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# No time-based retention: the tests and killtrace replay publish bundles with their event times as Kafka
# timestamps (months old, Node objects at 0), and a 24 h retention deleted them at the broker's next 5-minute
# retention check, under a correlator about to re-read them after a restart (the snapshot crash test's intermittent
# failure). Disk stays bounded by size per partition instead.
log.retention.ms=-1
log.retention.bytes=1073741824
log.segment.bytes=16777216
EOF
  if [[ ! -f "$KAFKA_RUN/data/meta.properties" ]]; then
    cluster_id="$(java -cp "$(kafka_classpath)" -Dlog4j.configuration="file:$home/config/tools-log4j.properties" \
      kafka.tools.StorageTool random-uuid 2>>"$KAFKA_STDOUT")" ||
      fail_server kafka "could not generate a cluster id with kafka.tools.StorageTool" "$KAFKA_STDOUT"
    log "formatting Kafka KRaft storage (cluster id $cluster_id)"
    java -cp "$(kafka_classpath)" -Dlog4j.configuration="file:$home/config/tools-log4j.properties" \
      kafka.tools.StorageTool format --ignore-formatted -t "$cluster_id" -c "$config" >>"$KAFKA_STDOUT" 2>&1 ||
      fail_server kafka "formatting the KRaft storage in $KAFKA_RUN/data failed" "$KAFKA_STDOUT"
  fi
  log "starting Kafka $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  # setsid: the broker must outlive this script and the CI step that ran it.
  setsid nohup java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_RUN/logs" -Dlog4j.configuration="file:$home/config/log4j.properties" \
    -cp "$(kafka_classpath)" kafka.Kafka "$config" >>"$KAFKA_STDOUT" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
}

wait_kafka() {
  local deadline=$((SECONDS + START_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if ! pid_alive "$KAFKA_PID" && ! tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      tail_log kafka "$KAFKA_STDOUT"
      fail_server kafka "the broker process exited during startup" "$KAFKA_LOG"
    fi
    if pid_paused "$KAFKA_PID"; then
      fail_server kafka "process $(cat "$KAFKA_PID") is paused (SIGSTOP); resume it with: kill -CONT $(cat "$KAFKA_PID")" "$KAFKA_LOG"
    fi
    if kafka_healthy; then
      return 0
    fi
    sleep 1
  done
  tail_log kafka "$KAFKA_STDOUT"
  fail_server kafka "not healthy after ${START_TIMEOUT_S}s" "$KAFKA_LOG"
}

# --- Elasticsearch

ensure_es_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  if ! id -u "$ES_USER" >/dev/null 2>&1; then
    log "creating system user $ES_USER (Elasticsearch refuses to run as root)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER" ||
      die "elasticsearch: could not create user $ES_USER with useradd"
  fi
}

# Runs a command as the Elasticsearch user (or as ourselves when not root).
as_es_user() {
  if [[ $(id -u) -eq 0 ]]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u "$ES_USER" -- "$@"
    else
      su -s /bin/bash "$ES_USER" -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

# Copies the unpacked distribution into the run directory once and writes its configuration each start.
prepare_es_home() {
  local run dist
  run="$(es_run)"
  dist="$(es_dist_home)"
  [[ -n "$dist" ]] || die "elasticsearch: no unpacked distribution under $DOWNLOADS/elasticsearch-$ES_VERSION/dist"
  if [[ ! -f "$run/.installed" ]]; then
    mkdir -p "$run"
    cp -a "$dist/." "$run/"
    touch "$run/.installed"
  fi
  mkdir -p "$run/data" "$run/logs" "$run/config/jvm.options.d" "$run/tmp"
  local security=""
  # The integ-test-zip has no x-pack modules; naming an x-pack setting there is a startup error, so security
  # is only switched off when the distribution has the module that would enable it.
  if compgen -G "$run/modules/x-pack-security*" >/dev/null; then
    security="xpack.security.enabled: false"
  fi
  cat >"$run/config/elasticsearch.yml" <<EOF
# Generated by killtrace scripts/stack.sh: single-node development server.
cluster.name: killtrace-stack
node.name: killtrace-stack-1
path.data: $run/data
path.logs: $run/logs
network.host: $ES_HOST
http.port: $ES_PORT
transport.port: 9300-9399
discovery.type: single-node
# Developer machines and CI runners are often nearly full; the defaults would turn indices read-only.
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
$security
EOF
  cat >"$run/config/jvm.options.d/killtrace-heap.options" <<EOF
-Xms$ES_HEAP
-Xmx$ES_HEAP
EOF
  if [[ $(id -u) -eq 0 ]]; then
    chown -R "$ES_USER:$ES_USER" "$run"
    chmod 755 "$ES_RUN_BASE"
  fi
}

start_elasticsearch() {
  if es_healthy; then
    if [[ -f "$(es_pidfile)" ]] && pid_alive "$(es_pidfile)"; then
      log "Elasticsearch already running (pid $(cat "$(es_pidfile)")), reusing it"
    else
      log "an Elasticsearch not started by this script answers on $(es_url), reusing it"
    fi
    return 0
  fi
  if tcp_open "$ES_HOST" "$ES_PORT"; then
    if [[ -f "$(es_pidfile)" ]] && pid_alive "$(es_pidfile)"; then
      log "Elasticsearch process $(cat "$(es_pidfile)") exists but is not healthy yet; waiting for it"
      return 0
    fi
    fail_server elasticsearch "port $ES_PORT is taken by a process that does not answer as a healthy Elasticsearch (find it with: ss -ltnp 'sport = :$ES_PORT')" "$(es_log)"
  fi
  resolve_elasticsearch
  ensure_es_user
  mkdir -p "$ES_RUN_BASE"
  prepare_es_home
  local run
  run="$(es_run)"
  rm -f "$(es_pidfile)"
  log "starting Elasticsearch $ES_VERSION on $(es_url) (heap $ES_HEAP, user $(if [[ $(id -u) -eq 0 ]]; then echo "$ES_USER"; else id -un; fi))"
  # The distribution has no bundled JDK: it uses the machine's Java through ES_JAVA_HOME.
  local java_home
  java_home="${ES_JAVA_HOME:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}"
  as_es_user env ES_JAVA_HOME="$java_home" ES_PATH_CONF="$run/config" ES_TMPDIR="$run/tmp" \
    "$run/bin/elasticsearch" -d -p "$(es_pidfile)" >"$(es_stdout)" 2>&1 </dev/null ||
    fail_server elasticsearch "the launcher failed (exit status $?)" "$(es_stdout)"
}

wait_elasticsearch() {
  local deadline=$((SECONDS + START_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if es_healthy; then
      return 0
    fi
    if [[ -f "$(es_pidfile)" ]] && ! pid_alive "$(es_pidfile)"; then
      tail_log elasticsearch "$(es_stdout)"
      fail_server elasticsearch "the server process exited during startup" "$(es_log)"
    fi
    if pid_paused "$(es_pidfile)"; then
      fail_server elasticsearch "process $(cat "$(es_pidfile)") is paused (SIGSTOP); resume it with: bash scripts/stack.sh es-resume" "$(es_log)"
    fi
    sleep 1
  done
  tail_log elasticsearch "$(es_stdout)"
  fail_server elasticsearch "not healthy (yellow or green) after ${START_TIMEOUT_S}s" "$(es_log)"
}

# --- etcd and kube-apiserver (scripts/stack-kube.sh)

# shellcheck source=scripts/stack-kube.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-kube.sh"

# --- Commands

cmd_up() {
  require java "Kafka and Elasticsearch run on the JVM"
  require mvn "server artifacts are resolved from Maven Central with Maven"
  require curl "health checks"
  mkdir -p "$DOWNLOADS" "$RUN_DIR"
  local started=$SECONDS
  start_kafka
  start_elasticsearch
  # Built (first time only) and started while the JVMs boot.
  cmd_kube_up
  wait_kafka
  wait_elasticsearch
  log "ready in $((SECONDS - started))s"
  print_versions
}

# Resolves the Kafka and Elasticsearch artifacts without starting anything: network-bound, so CI runs it in the
# background while it builds (.ci/run). Idempotent: what is resolved already is kept.
cmd_fetch() {
  require java "Kafka and Elasticsearch run on the JVM"
  require mvn "server artifacts are resolved from Maven Central with Maven"
  mkdir -p "$DOWNLOADS"
  resolve_kafka
  resolve_elasticsearch
}

print_versions() {
  local kv ev
  kv="$(kafka_running_version)"
  ev="$(es_running_version)"
  printf 'Kafka %s at %s:%s (pinned %s)\n' "${kv:-unknown}" "$KAFKA_HOST" "$KAFKA_PORT" "$KAFKA_VERSION"
  printf 'Elasticsearch %s at %s (pinned %s)\n' "${ev:-unknown}" "$(es_url)" "$ES_VERSION"
  kube_print_versions
  printf 'export KAFKA_BROKERS=%s:%s ELASTICSEARCH_URL=%s\n' "$KAFKA_HOST" "$KAFKA_PORT" "$(es_url)"
}

# SIGTERM, wait for a clean shutdown, then SIGKILL.
stop_pid() {
  local name="$1" pidfile="$2" grace="${3:-30}"
  if ! pid_alive "$pidfile"; then
    log "$name is not running (no live pid in $pidfile)"
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  # A paused (SIGSTOP) process would not act on SIGTERM until resumed.
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop within ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd_down() {
  stop_pid kafka "$KAFKA_PID" 30
  stop_pid elasticsearch "$(es_pidfile)" 30
  kube_down
}

cmd_status() {
  local rc=0
  if kafka_healthy; then
    printf 'kafka: healthy, version %s, %s:%s, pid %s, log %s\n' "$(kafka_running_version || true)" "$KAFKA_HOST" "$KAFKA_PORT" \
      "$(cat "$KAFKA_PID" 2>/dev/null || echo 'not started here')" "$KAFKA_LOG"
  else
    printf 'kafka: not running or unhealthy on %s:%s (pinned %s), log %s\n' "$KAFKA_HOST" "$KAFKA_PORT" "$KAFKA_VERSION" "$KAFKA_LOG"
    rc=1
  fi
  if es_healthy; then
    printf 'elasticsearch: healthy, version %s, %s, pid %s, log %s\n' "$(es_running_version)" "$(es_url)" \
      "$(cat "$(es_pidfile)" 2>/dev/null || echo 'not started here')" "$(es_log)"
  else
    printf 'elasticsearch: not running or unhealthy on %s (pinned %s), log %s\n' "$(es_url)" "$ES_VERSION" "$(es_log)"
    rc=1
  fi
  kube_status || rc=1
  return $rc
}

cmd_logs() {
  local which="${1:-all}"
  case "$which" in
    kafka) tail_log kafka "$KAFKA_LOG"; tail_log "kafka stdout" "$KAFKA_STDOUT" ;;
    elasticsearch | es) tail_log elasticsearch "$(es_log)"; tail_log "elasticsearch stdout" "$(es_stdout)" ;;
    etcd) tail_log etcd "$ETCD_LOG" ;;
    kube-apiserver | kube) tail_log kube-apiserver "$KUBE_APISERVER_LOG" ;;
    all) cmd_logs kafka; cmd_logs elasticsearch; cmd_logs etcd; cmd_logs kube-apiserver ;;
    *) die "unknown server '$which' (expected kafka, elasticsearch, etcd or kube-apiserver)" ;;
  esac
}

cmd_es_signal() {
  local sig="$1" pidfile
  pidfile="$(es_pidfile)"
  pid_alive "$pidfile" || die "no Elasticsearch started by this script is running (pid file $pidfile)"
  kill "-$sig" "$(cat "$pidfile")"
  log "sent SIG$sig to Elasticsearch (pid $(cat "$pidfile"))"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    fetch) cmd_fetch ;;
    down) cmd_down ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    es-pause) cmd_es_signal STOP ;;
    es-resume) cmd_es_signal CONT ;;
    kube-up) cmd_kube_up ;;
    kube-down) kube_down ;;
    kube-env) cmd_kube_env ;;
    kube-apiserver-stop) cmd_kube_apiserver_stop "$@" ;;
    kube-apiserver-start) cmd_kube_apiserver_start ;;
    *)
      echo "usage: bash scripts/stack.sh up|fetch|down|status|logs [kafka|elasticsearch|etcd|kube-apiserver]|es-pause|es-resume|kube-up|kube-down|kube-env|kube-apiserver-stop [hard]|kube-apiserver-start" >&2
      exit 2
      ;;
  esac
}

main "$@"
