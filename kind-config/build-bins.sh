#!/usr/bin/env bash
# Builds the Go tools the kind lane needs, from their Go modules, and caches them under their own key
# (cluster/build.sh's cache stays as it is):
#   kind     sigs.k8s.io/kind@$KIND_VERSION
#   crictl   sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION
#   kubeadm  k8s.io/kubernetes/cmd/kubeadm@$K8S_VERSION through cluster/k8s-shim.sh (same shim and ldflags
#            as cluster/build.sh, so it reports the same version as the kubelet it deploys)
# Prints the bin directory last. Rebuilds only when a version or this script changes.
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-v1.34.4}
KIND_VERSION=${KIND_VERSION:-v0.33.0}
CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export PATH=$PATH:/usr/local/go/bin
key=$(printf '%s\n' "$K8S_VERSION" "$KIND_VERSION" "$CRICTL_VERSION" "$(cat "$here/build-bins.sh" "$repo/cluster/k8s-shim.sh" | sha256sum)" | sha256sum | cut -c1-12)
BIN=$CACHE/kind-bin-$key
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
log() { printf '[kind-bins %s] %s\n' "$(date +%T)" "$*" >&2; }
# shellcheck source=../cluster/k8s-shim.sh
. "$repo/cluster/k8s-shim.sh"
command -v go >/dev/null || { echo "build-bins: Go is not installed (need go >= 1.24)" >&2; exit 3; }
have_all=1; for b in kind crictl kubeadm; do [ -x "$BIN/$b" ] || have_all=0; done
if [ $have_all = 1 ]; then log "cached: $BIN"; echo "$BIN"; exit 0; fi
mkdir -p "$BIN.tmp" "$CACHE/src"; start=$(date +%s)
if [ ! -x "$BIN.tmp/kind" ]; then
  log "compiling kind $KIND_VERSION"
  GOBIN="$BIN.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
fi
if [ ! -x "$BIN.tmp/crictl" ]; then
  log "compiling crictl $CRICTL_VERSION"
  GOBIN="$BIN.tmp" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
fi
if [ ! -x "$BIN.tmp/kubeadm" ]; then
  k8s_shim "$CACHE/src/kubeadm-$K8S_VERSION" "$K8S_VERSION" local.invalid/kubeadmbuild
  go get -tool "k8s.io/kubernetes/cmd/kubeadm@$K8S_VERSION" >/dev/null 2>&1 || go get -tool "k8s.io/kubernetes/cmd/kubeadm@$K8S_VERSION"
  log "compiling kubeadm $K8S_VERSION"
  GOBIN="$BIN.tmp" go install -trimpath -tags grpcnotrace -ldflags "$(k8s_ldflags "$K8S_VERSION")" tool
fi
rm -rf "$BIN"; mv "$BIN.tmp" "$BIN"
log "built in $(( $(date +%s) - start ))s: $BIN"
echo "$BIN"
