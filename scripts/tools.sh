#!/usr/bin/env bash
# Builds (once) or restores the Go command-line tools the deploy tests and CI need, from the Go module proxy,
# into ~/.cache/killtrace/tools/<name>-<version>/. Nothing is built into or committed to the repository.
# See docs/decisions/0012-install-on-kubernetes.md.
#
#   bash scripts/tools.sh ensure [helm|kustomize|compose-check ...]   build what is missing (all by default)
#   bash scripts/tools.sh path NAME                                    print the binary's path (fails if not built)
set -euo pipefail

# --- Pinned versions: the only place they are named. Both build with the machine's Go (1.26) and no toolchain
# change; kustomize v5.8.1 is the release on sigs.k8s.io/kustomize/api v0.21.1.
HELM_MODULE="helm.sh/helm/v3"
HELM_VERSION="${KILLTRACE_HELM_VERSION:-v3.22.0}"
KUSTOMIZE_MODULE="sigs.k8s.io/kustomize/kustomize/v5"
KUSTOMIZE_VERSION="${KILLTRACE_KUSTOMIZE_VERSION:-v5.8.1}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${KILLTRACE_CACHE:-$HOME/.cache/killtrace}"
TOOLS="$CACHE/tools"
# The tools' own module cache (their k8s.io modules are other versions than the API server's). The build cache is
# the API server's (scripts/kube-build.sh): content-addressed, safe to share between concurrent builds and to clear,
# and with the same flags (-trimpath, CGO off) the standard library and common modules compile once on a fresh machine.
export GOMODCACHE="${KILLTRACE_TOOLS_GOMODCACHE:-$TOOLS/go/mod}"
export GOCACHE="${KILLTRACE_TOOLS_GOCACHE:-${KILLTRACE_KUBE_CACHE:-$CACHE/kube}/gobuild}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED=0

log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

# Our own compose-check is keyed by the hash of its sources, so an edit rebuilds it and nothing else does.
compose_check_key() {
  (cd "$ROOT/tools/compose-check" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)
}

dir_of() {
  case "$1" in
    helm) echo "$TOOLS/helm-$HELM_VERSION" ;;
    kustomize) echo "$TOOLS/kustomize-$KUSTOMIZE_VERSION" ;;
    compose-check) echo "$TOOLS/compose-check-$(compose_check_key)" ;;
    *) die "unknown tool '$1' (helm, kustomize, compose-check)" ;;
  esac
}

build() {
  local name="$1" dir bin started
  dir="$(dir_of "$name")"
  bin="$dir/bin/$name"
  if [[ -x "$bin" ]]; then
    log "$name: cached at $bin"
    return 0
  fi
  command -v go >/dev/null || die "Go is needed to build $name (the machine's Go 1.26 works)"
  started=$(date +%s)
  log "$name: building into $dir (first time only)"
  mkdir -p "$dir.tmp/bin"
  case "$name" in
    helm)
      # helm reports its version from ldflags; without them `helm version` says v3.x-unreleased-ish values.
      GOBIN="$dir.tmp/bin" go install -trimpath \
        -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
        "$HELM_MODULE/cmd/helm@$HELM_VERSION" ;;
    kustomize)
      GOBIN="$dir.tmp/bin" go install -trimpath -ldflags "-s -w" "$KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION" ;;
    compose-check)
      (cd "$ROOT/tools/compose-check" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$dir.tmp/bin/compose-check" .) ;;
  esac
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  # Builds of older compose-check sources are never used again.
  if [[ "$name" == compose-check ]]; then
    find "$TOOLS" -maxdepth 1 -name 'compose-check-*' ! -path "$dir" -exec rm -rf {} +
  fi
  log "$name: built in $(( $(date +%s) - started )) s"
}

cmd="${1:-ensure}"
shift || true
case "$cmd" in
  ensure)
    if [[ $# -eq 0 ]]; then set -- helm kustomize compose-check; fi
    # One build at a time (test files may ask for tools concurrently on a fresh machine).
    mkdir -p "$TOOLS"
    exec 9>"$TOOLS/.lock"
    flock 9
    for t in "$@"; do build "$t"; done ;;
  path)
    [[ $# -eq 1 ]] || die "usage: tools.sh path NAME"
    bin="$(dir_of "$1")/bin/$1"
    [[ -x "$bin" ]] || die "$1 is not built yet: run 'bash scripts/tools.sh ensure $1' (builds into $TOOLS)"
    echo "$bin" ;;
  *) die "usage: tools.sh ensure [NAME...] | path NAME" ;;
esac
