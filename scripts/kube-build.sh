#!/usr/bin/env bash
# Builds (once per version) the real etcd and kube-apiserver the integration tests run against, from their Go
# modules through the wrapper modules in tools/etcd and tools/kube-apiserver. Binaries, the module cache and the
# build cache live under ~/.cache/killtrace/kube (never in the repository); a binary is reused while its version
# and wrapper sources are unchanged. See docs/decisions/0011-real-kube-apiserver-for-tests.md.
#
#   bash scripts/kube-build.sh            builds what is missing and prints the two binary paths
#   sourced by scripts/stack.sh           provides kube_build_all, KUBE_APISERVER_BIN, ETCD_BIN
set -euo pipefail

KUBE_TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)"
KUBE_CACHE="${KILLTRACE_KUBE_CACHE:-$HOME/.cache/killtrace/kube}"

kb_log() { printf '[kube-build] %s\n' "$*" >&2; }

# The version is the one the wrapper's go.mod requires: that file is the only place it is pinned.
kube_module_version() {
  local dir="$1" module="$2"
  awk -v m="$module" '$1 == "require" && $2 == m { print $3 } $1 == m && NF == 2 { print $2 }' "$KUBE_TOOLS_DIR/$dir/go.mod" | head -n 1
}

# A short digest of the wrapper sources, so that editing go.mod (a replace, a bump) rebuilds instead of reusing.
kube_sources_digest() {
  local dir="$KUBE_TOOLS_DIR/$1"
  cat "$dir/go.mod" "$dir/go.sum" "$dir/main.go" | sha256sum | cut -c1-12
}

kube_binary_path() {
  local name="$1" dir="$2" module="$3"
  printf '%s/bin/%s-%s-%s' "$KUBE_CACHE" "$name" "$(kube_module_version "$dir" "$module")" "$(kube_sources_digest "$dir")"
}

# Builds one binary unless it is cached; the build log is kept next to it so a failure explains itself.
kube_build_one() {
  local name="$1" dir="$2" module="$3" ldflags="$4" out version started
  out="$(kube_binary_path "$name" "$dir" "$module")"
  version="$(kube_module_version "$dir" "$module")"
  [[ -n "$version" ]] || { kb_log "ERROR: no version of $module found in tools/$dir/go.mod"; return 1; }
  if [[ -x "$out" ]]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || { kb_log "ERROR: 'go' is required to build $name $version (not found on PATH)"; return 1; }
  mkdir -p "$KUBE_CACHE/bin" "$KUBE_CACHE/gomod" "$KUBE_CACHE/gobuild" "$KUBE_CACHE/logs"
  local logfile="$KUBE_CACHE/logs/build-$name-$version.log"
  kb_log "building $name $version from its Go module (first time only; log: $logfile)"
  started=$SECONDS
  # CGO off: a static binary, as upstream releases them, and no C toolchain needed. GOTOOLCHAIN=local: never
  # download another Go behind the user's back; the wrapper's go directive is satisfied by the machine's Go.
  if ! (cd "$KUBE_TOOLS_DIR/$dir" &&
    env GOMODCACHE="$KUBE_CACHE/gomod" GOCACHE="$KUBE_CACHE/gobuild" GOFLAGS="-modcacherw -mod=readonly" \
      GOTOOLCHAIN=local CGO_ENABLED=0 \
      go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" . ) >"$logfile" 2>&1; then
    kb_log "ERROR: building $name $version failed; last lines of $logfile:"
    tail -n 30 "$logfile" >&2 || true
    rm -f "$out.tmp"
    return 1
  fi
  mv "$out.tmp" "$out"
  kb_log "built $name $version in $((SECONDS - started))s: $out"
}

kube_build_all() {
  local kv minor cv="k8s.io/component-base/version" gv="k8s.io/client-go/pkg/version" flags=""
  kv="$(kube_module_version kube-apiserver k8s.io/kubernetes)"
  minor="$(printf '%s' "$kv" | cut -d. -f2)"
  # Without these, /version reports v0.0.0-master and clients' version checks misjudge the server.
  for p in "$cv" "$gv"; do
    flags+=" -X $p.gitVersion=$kv -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  # One build at a time per cache (CI builds in the background while a test may run kube-up); the two binaries
  # build side by side, so that one's module downloads and link overlap the other's compiling.
  mkdir -p "$KUBE_CACHE"
  local lock etcd_pid rc=0
  exec {lock}>"$KUBE_CACHE/.build.lock"
  flock "$lock"
  kube_build_one etcd etcd go.etcd.io/etcd/server/v3 \
    "-X go.etcd.io/etcd/api/v3/version.GitSHA=$(kube_module_version etcd go.etcd.io/etcd/server/v3)" &
  etcd_pid=$!
  kube_build_one kube-apiserver kube-apiserver k8s.io/kubernetes "$flags" || rc=$?
  wait "$etcd_pid" || rc=$?
  exec {lock}>&-
  ((rc == 0)) || return "$rc"
  ETCD_BIN="$(kube_binary_path etcd etcd go.etcd.io/etcd/server/v3)"
  KUBE_APISERVER_BIN="$(kube_binary_path kube-apiserver kube-apiserver k8s.io/kubernetes)"
  export ETCD_BIN KUBE_APISERVER_BIN
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  kube_build_all
  printf '%s\n%s\n' "$ETCD_BIN" "$KUBE_APISERVER_BIN"
fi
