#!/usr/bin/env bash
# Builds flannel for the local cluster (see README.md) from Go modules, cached under
# ~/.cache/sctp-e2e/flannel-<version>-<hash>; prints the bin directory last.
#   flanneld       github.com/flannel-io/flannel@FLANNEL_VERSION (no `replace` in its go.mod: plain `go build`
#                  in a shim module; CGO and static linking on amd64 as upstream's Makefile does; the tencentvpc
#                  backend is left out, see below)
#   flannel        the CNI plugin. github.com/flannel-io/cni-plugin is refused by the module proxy (403 "This
#                  module version is not available"), so it is built from its ancestor, the same plugin before it
#                  moved out: github.com/containernetworking/plugins@CNI_PLUGINS_VERSION plugins/meta/flannel
#                  (removed there in v1.0.0; v0.9.1 is the last release that has it).
# The hash covers this script (versions, flags), so any change to how it builds is a new cache entry.
set -euo pipefail
FLANNEL_VERSION=${FLANNEL_VERSION:-v0.28.10}
CNI_PLUGINS_VERSION=${CNI_PLUGINS_VERSION:-v0.9.1}
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
here=$(cd "$(dirname "$0")" && pwd)
key=$( { cat "$here/build.sh"; echo "$FLANNEL_VERSION $CNI_PLUGINS_VERSION"; } | sha256sum | cut -c1-8)
BIN=$CACHE/flannel-$FLANNEL_VERSION-$key
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
log() { printf '[flannel-build %s] %s\n' "$(date +%T)" "$*" >&2; }
command -v go >/dev/null || { echo "flannel build: Go is not installed" >&2; exit 3; }
if [ -x "$BIN/flanneld" ] && [ -x "$BIN/flannel" ]; then log "cached: $BIN"; echo "$BIN"; exit 0; fi
start=$(date +%s)
rm -rf "$BIN.tmp"; mkdir -p "$BIN.tmp"

# flanneld: a shim module requiring flannel at the pinned version (its go.mod has no replace directives).
shim=$CACHE/src/flannel-$FLANNEL_VERSION
rm -rf "$shim"; mkdir -p "$shim"; cd "$shim"
go mod init local.invalid/flannelbuild >/dev/null 2>&1
gomod=$(go mod download -json "github.com/flannel-io/flannel@$FLANNEL_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
[ -f "$gomod" ] || { echo "flannel build: could not download github.com/flannel-io/flannel@$FLANNEL_VERSION" >&2; exit 3; }
if grep -q '^replace' "$gomod"; then echo "flannel build: $FLANNEL_VERSION's go.mod has replace directives; copy them like cluster/netpol/build.sh" >&2; exit 3; fi
go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$gomod")"
# One local change: flanneld's main.go registers every backend by a blank import, and the tencentvpc backend's
# SDK (github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc@v1.3.188) is refused by the module proxy (403
# "This module version is not available"). The shim's main package is upstream's main.go (package main, the only
# non-test file of the module root) with that one import line removed; every other backend, vxlan included, and
# every flag stay upstream's.
go mod edit -require="github.com/flannel-io/flannel@$FLANNEL_VERSION"
src=$(go mod download -json "github.com/flannel-io/flannel@$FLANNEL_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
grep -v '"github.com/flannel-io/flannel/pkg/backend/tencentvpc"' "$src/main.go" > main.go
[ "$(diff "$src/main.go" main.go | grep -c '^<')" = 1 ] || { echo "flannel build: main.go of $FLANNEL_VERSION does not import tencentvpc exactly once; review the patch" >&2; exit 3; }
go mod tidy >/dev/null 2>&1 || go mod tidy
log "compiling flanneld $FLANNEL_VERSION without the tencentvpc backend (cold: minutes on 2 cores)"
# Upstream's Makefile builds amd64 with CGO on (the udp backend's C proxy) and links statically; so do we there.
cgo=0; [ "$(go env GOARCH)" = amd64 ] && cgo=1
CGO_ENABLED=$cgo go build -trimpath -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION -extldflags -static" \
  -o "$BIN.tmp/flanneld" .

# The flannel CNI plugin (meta plugin: reads /run/flannel/subnet.env, delegates to bridge + host-local).
shim2=$CACHE/src/flannel-cni-$CNI_PLUGINS_VERSION
rm -rf "$shim2"; mkdir -p "$shim2"; cd "$shim2"
go mod init local.invalid/flannelcnibuild >/dev/null 2>&1
go get "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION" >/dev/null 2>&1 || go get "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION"
log "compiling the flannel CNI plugin (containernetworking/plugins $CNI_PLUGINS_VERSION plugins/meta/flannel)"
go build -trimpath -ldflags "-s -w" -o "$BIN.tmp/flannel" github.com/containernetworking/plugins/plugins/meta/flannel
printf 'flanneld github.com/flannel-io/flannel@%s\nflannel (CNI) github.com/containernetworking/plugins@%s plugins/meta/flannel\n' \
  "$FLANNEL_VERSION" "$CNI_PLUGINS_VERSION" > "$BIN.tmp/VERSIONS"
rm -rf "$BIN"; mv "$BIN.tmp" "$BIN"
log "built in $(( $(date +%s) - start ))s: $BIN"
echo "$BIN"
