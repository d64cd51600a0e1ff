#!/usr/bin/env bash
# Builds hydrophone (sigs.k8s.io/hydrophone, the SIG Testing conformance-image runner) from the Go module
# proxy into the build cache and prints the binary's path last. Never talks to a cluster.
#   usage: suite-image/hydrophone.sh            (HYDROPHONE_VERSION overrides v0.8.0)
# Cached under ~/.cache/sctp-e2e/hydrophone-<version>/ (SCTP_E2E_CACHE / XDG_CACHE_HOME move it); the module
# source stays in Go's module cache ($(go env GOMODCACHE)/sigs.k8s.io/hydrophone@<version>), see README.md.
set -euo pipefail
HYDROPHONE_VERSION=${HYDROPHONE_VERSION:-v0.8.0}
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
BIN=$CACHE/hydrophone-$HYDROPHONE_VERSION
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
log() { printf '[hydrophone-build %s] %s\n' "$(date +%T)" "$*" >&2; }
command -v go >/dev/null || { echo "hydrophone build: Go is not installed (expected /usr/local/go/bin/go)" >&2; exit 3; }
if [ -x "$BIN/hydrophone" ]; then log "cached: $BIN/hydrophone"; echo "$BIN/hydrophone"; exit 0; fi
start=$(date +%s)
rm -rf "$BIN.tmp"; mkdir -p "$BIN.tmp"
GOBIN="$BIN.tmp" go install -trimpath "sigs.k8s.io/hydrophone@$HYDROPHONE_VERSION"
rm -rf "$BIN"; mv "$BIN.tmp" "$BIN"
log "built sigs.k8s.io/hydrophone@$HYDROPHONE_VERSION in $(( $(date +%s) - start ))s (source: $(go env GOMODCACHE)/sigs.k8s.io/hydrophone@$HYDROPHONE_VERSION)"
echo "$BIN/hydrophone"
