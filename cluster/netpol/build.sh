#!/usr/bin/env bash
# Builds the NetworkPolicy implementation for the local cluster (Cilium, see README.md) from its Go
# module through a shim module (cilium's go.mod has `replace` directives, so `go install pkg@v` refuses it;
# the shim copies them). Cached under ~/.cache/sctp-e2e/netpol-<version>; prints the bin directory last.
set -euo pipefail
CILIUM_VERSION=${CILIUM_VERSION:-v1.15.19}
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
here=$(cd "$(dirname "$0")" && pwd)
# Local patches (go build -overlay), see README.md: the cache key includes them.
patchkey=$(cat "$here"/patches/*.go | sha256sum | cut -c1-8)
BIN=$CACHE/netpol-cilium-$CILIUM_VERSION-$patchkey
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
log() { printf '[netpol-build %s] %s\n' "$(date +%T)" "$*" >&2; }
command -v go >/dev/null || { echo "netpol build: Go is not installed" >&2; exit 3; }
want=(cilium-agent cilium-cni cilium-dbg)
have_all=1; for b in "${want[@]}"; do [ -x "$BIN/$b" ] || have_all=0; done
if [ $have_all = 1 ]; then log "cached: $BIN"; echo "$BIN"; exit 0; fi
start=$(date +%s)
shim=$CACHE/src/cilium-$CILIUM_VERSION
rm -rf "$shim" "$BIN.tmp"; mkdir -p "$shim" "$BIN.tmp"; cd "$shim"
go mod init local.invalid/ciliumbuild >/dev/null 2>&1
gomod=$(go mod download -json "github.com/cilium/cilium@$CILIUM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
[ -f "$gomod" ] || { echo "netpol build: could not download github.com/cilium/cilium@$CILIUM_VERSION" >&2; exit 3; }
go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$gomod")"
# Copy upstream's replace directives (single-line and block form).
args=()
while read -r from to ver; do args+=("-replace=$from=$to@$ver"); done < <(
  awk '/^replace \(/{b=1;next} b&&/^\)/{b=0} b&&$2=="=>"{print $1,$3,$4} /^replace [^(]/&&$3=="=>"{print $2,$4,$5}' "$gomod")
[ ${#args[@]} -gt 0 ] && go mod edit "${args[@]}"
log "cilium $CILIUM_VERSION: ${#args[@]} replace(s) copied from upstream go.mod"

go get "github.com/cilium/cilium@$CILIUM_VERSION" >/dev/null 2>&1 || go get "github.com/cilium/cilium@$CILIUM_VERSION"
# go build -overlay may not replace files in GOMODCACHE: build from a copy of the module (68 MB) with the
# patched files in place (a directory `replace`; only cilium's own packages recompile).
src=$(go list -m -f '{{.Dir}}' "github.com/cilium/cilium")
cp -r "$src" "$shim/cilium"; chmod -R u+w "$shim/cilium"
for f in "$here"/patches/*.go; do
  dest=$(sed -n 's|^// Patched copy of github.com/cilium/cilium@[^ ]* \([^ ,]*\).*|\1|p' "$f" | head -1)
  [ -n "$dest" ] && [ -f "$shim/cilium/$dest" ] || { echo "netpol build: patch $f names no file of the module" >&2; exit 3; }
  rm "$shim/cilium/$dest"; cp "$f" "$shim/cilium/$dest"
done
go mod edit -replace=github.com/cilium/cilium=./cilium
ld="-s -w -X github.com/cilium/cilium/pkg/version.ciliumVersion=${CILIUM_VERSION#v}"
log "compiling cilium-agent, cilium-cni, cilium-dbg (cold: tens of minutes on 2 cores)"
go build -trimpath -ldflags "$ld" -o "$BIN.tmp/cilium-agent" github.com/cilium/cilium/daemon
go build -trimpath -ldflags "$ld" -o "$BIN.tmp/cilium-cni" github.com/cilium/cilium/plugins/cilium-cni
go build -trimpath -ldflags "$ld" -o "$BIN.tmp/cilium-dbg" github.com/cilium/cilium/cilium-dbg
# The agent compiles its BPF datapath at run time from these sources (needs clang + llc).
mkdir -p "$BIN.tmp/lib"; cp -r "$src/bpf" "$BIN.tmp/lib/bpf"; chmod -R u+w "$BIN.tmp/lib"
cp -r "$src/pkg/k8s/apis/cilium.io/client/crds" "$BIN.tmp/crds"; chmod -R u+w "$BIN.tmp/crds"
rm -rf "$BIN"; mv "$BIN.tmp" "$BIN"
log "built in $(( $(date +%s) - start ))s: $BIN"
echo "$BIN"
