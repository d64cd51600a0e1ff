#!/usr/bin/env bash
# Builds kube-network-policies (sigs.k8s.io/kube-network-policies, the binary its DaemonSet runs as /bin/netpol:
# package ./cmd, as upstream's Dockerfile builds it) from its Go module, statically (CGO_ENABLED=0), for the
# kernel-lane VM. Cached under ~/.cache/sctp-e2e/knp-<version>-<hash> (hash: this script); prints the binary's
# path last. KNP_VERSION overrides the version (default v0.8.0).
set -euo pipefail
KNP_VERSION=${KNP_VERSION:-v0.8.0}
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
here=$(cd "$(dirname "$0")" && pwd)
key=$(sha256sum "$here/build.sh" | cut -c1-8)
OUT=$CACHE/knp-$KNP_VERSION-$key
BIN=$OUT/kube-network-policies
log() { printf '[knp-build %s] %s\n' "$(date +%T)" "$*" >&2; }
command -v go >/dev/null || { echo "knp build: Go is not installed (expected /usr/local/go/bin/go)" >&2; exit 3; }
if [ -x "$BIN" ]; then log "cached: $BIN"; echo "$BIN"; exit 0; fi
export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
start=$(date +%s)
dir=$(go mod download -json "sigs.k8s.io/kube-network-policies@$KNP_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
[ -d "$dir" ] || { echo "knp build: could not download sigs.k8s.io/kube-network-policies@$KNP_VERSION" >&2; exit 3; }
need=$(awk '$1=="go"{print $2; exit}' "$dir/go.mod")
have=$(go env GOVERSION | sed 's/^go//')
# the module's go line (1.23.0 for v0.8.0) is older than the installed Go: the local toolchain builds it
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}; log "go.mod wants go $need > $have: GOTOOLCHAIN=$GOTOOLCHAIN"
else
  export GOTOOLCHAIN=local
fi
rm -rf "$OUT.tmp"; mkdir -p "$OUT.tmp"
log "kube-network-policies $KNP_VERSION (go.mod: go $need; building with $(go env GOVERSION)) from $dir"
(cd "$dir" && go build -trimpath -ldflags '-s -w' -o "$OUT.tmp/kube-network-policies" ./cmd)
"$OUT.tmp/kube-network-policies" --help >/dev/null 2>&1 || [ $? -le 2 ] || { echo "knp build: the built binary does not run" >&2; exit 3; }
printf 'sigs.k8s.io/kube-network-policies %s\nbuilt %s with %s\n' "$KNP_VERSION" "$(date -u +%FT%TZ)" "$(go env GOVERSION)" > "$OUT.tmp/VERSION"
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
log "built in $(( $(date +%s) - start ))s: $BIN"
echo "$BIN"
