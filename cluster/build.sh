#!/usr/bin/env bash
# Builds the local cluster's Go binaries from their upstream Go modules and caches them.
#   Kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl)
#   from k8s.io/kubernetes through a shim module whose `replace` list is generated from upstream's
#   go.mod at the pinned tag; etcd from go.etcd.io/etcd/server/v3; CoreDNS from its module.
# Rebuilds only when the pinned versions (or this script) change. Prints the bin directory last.
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.5.35}
COREDNS_VERSION=${COREDNS_VERSION:-v1.14.7}
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
here=$(cd "$(dirname "$0")" && pwd)
key=$(printf '%s\n' "$K8S_VERSION" "$ETCD_VERSION" "$COREDNS_VERSION" "$(cat "$here/build.sh" "$here/k8s-shim.sh" | sha256sum)" | sha256sum | cut -c1-12)
BIN=$CACHE/bin-$key
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
log() { printf '[build %s] %s\n' "$(date +%T)" "$*" >&2; }
# shellcheck source=k8s-shim.sh
. "$here/k8s-shim.sh"
command -v go >/dev/null || { echo "build: Go is not installed (need go >= 1.24 on PATH)" >&2; exit 3; }

want=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl etcd coredns)
have_all=1; for b in "${want[@]}"; do [ -x "$BIN/$b" ] || have_all=0; done
if [ $have_all = 1 ]; then log "cached: $BIN"; echo "$BIN"; exit 0; fi
mkdir -p "$BIN.tmp" "$CACHE/src"
start=$(date +%s)

# --- Kubernetes -------------------------------------------------------------------------------
shim=$CACHE/src/k8s-$K8S_VERSION
if [ ! -x "$BIN.tmp/kubectl" ]; then
  k8s_shim "$shim" "$K8S_VERSION" local.invalid/k8sbuild
  cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
  pkgs=(); for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
  go get -tool "${pkgs[@]}" >/dev/null 2>&1 || go get -tool "${pkgs[@]}"
  ld=$(k8s_ldflags "$K8S_VERSION")
  log "compiling kubernetes (cold: ~20-30 min on 2 cores)"
  GOBIN="$BIN.tmp" go install -trimpath -tags grpcnotrace -ldflags "$ld" tool
fi

# --- etcd ---------------------------------------------------------------------------------------
if [ ! -x "$BIN.tmp/etcd" ]; then
  shim=$CACHE/src/etcd-$ETCD_VERSION; rm -rf "$shim"; mkdir -p "$shim"; cd "$shim"
  go mod init local.invalid/etcdbuild >/dev/null 2>&1
  go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 || go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  log "compiling etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$BIN.tmp/etcd" go.etcd.io/etcd/server/v3
fi

# --- CoreDNS ------------------------------------------------------------------------------------
if [ ! -x "$BIN.tmp/coredns" ]; then
  log "compiling coredns $COREDNS_VERSION"
  GOBIN="$BIN.tmp" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
fi

rm -rf "$BIN"; mv "$BIN.tmp" "$BIN"
log "built in $(( $(date +%s) - start ))s: $BIN"
echo "$BIN"
