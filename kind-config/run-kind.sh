#!/usr/bin/env bash
# run-kind.sh: create a kind cluster for the SCTP suite, load the agnhost-sctp image, run the suite
# with JUnit output, delete the cluster. `periodic` is the periodic CI job's entry point.
#
# usage: bash kind-config/run-kind.sh create   [--config F] [--name N] [--image NODE_IMAGE] [--archive TAR] [--cni-install CMD]
#        bash kind-config/run-kind.sh test     [--config F] [--name N] [--archive TAR] [-- suite args...]
#        bash kind-config/run-kind.sh delete   [--config F] [--name N]
#        bash kind-config/run-kind.sh periodic  --config F  [--name N] [--image NODE_IMAGE] [--archive TAR] [--cni-install CMD] [-- suite args...]
#
# Configs (one per cluster variant, each commented):
#   kind-config/iptables.yaml            kube-proxy iptables (default)
#   kind-config/nftables.yaml            kube-proxy nftables
#   kind-config/ipvs.yaml                kube-proxy ipvs
#   kind-config/bring-your-own-cni.yaml  no default CNI; pass --cni-install 'CMD' (e.g. 'cilium install --wait')
#   kind-config/dual-stack.yaml          IPv4+IPv6, kube-proxy iptables
#
# The cluster name defaults to sctp-kind-<config name> (sctp-kind-iptables), so create/test/delete
# with the same --config address the same cluster. The test image is --archive TAR
# ($AGNHOST_SCTP_ARCHIVE), else the newest agnhost-sctp/out/*.tar, else built by agnhost-sctp/build.sh;
# it is loaded into the nodes (kind load image-archive) and into Docker (the suite's outside container),
# and the suite is told its name (manifest.json RepoTags[0]) with --image. The suite chooses
# --node-access docker by itself (kind providerIDs + a docker container per node; lib/node/select.ts).
# JUnit: $ARTIFACTS/junit-kind-<config>.xml when ARTIFACTS is set, else artifacts/junit-kind-<config>.xml.
#
# Offline by default: kind is built from sigs.k8s.io/kind@v0.33.0 (kind-config/build-bins.sh), the node
# image from Debian + the project's Kubernetes build (kind-config/node-image/build.sh, default CNI: ptp +
# host-local + portmap; see files/kind/manifests/default-cni.yaml), both cached under ~/.cache/sctp-e2e/kind-*.
# --image NODE_IMAGE uses another node image (e.g. kindest/node:v1.34.x where a registry is reachable).
# Engine: a Docker engine that answers is used; otherwise kind-config/engine.sh starts dockerd in the netns
# sctp-kind and kind, kubectl and the suite run inside it (ip netns exec). `periodic` removes the cluster
# and (if it started it) the engine, its netns and data root on exit, failure or Ctrl-C.
# Exit codes: the suite's own for `test`/`periodic`; 2 usage; 7 a prerequisite is missing
# (kind, docker, image build); 8 the cluster could not be created.
set -euo pipefail
# Note: `set -e` is off inside functions called from `||` lists (periodic does that), so every
# step below that can fail checks its status explicitly.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# Node 24 and the suite's tools live in node_modules/.bin.
export PATH="$repo/node_modules/.bin:$PATH"

die() { local code="$1"; shift; echo "run-kind.sh: $*" >&2; exit "$code"; }
log() { echo "run-kind.sh: $*" >&2; }

usage() { sed -n '5,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd="${1:-}"; [ -n "$cmd" ] || usage; shift
config="$here/iptables.yaml"; config_given=0; name=""; node_image=""; archive_opt="${AGNHOST_SCTP_ARCHIVE:-}"; cni_install="${KIND_CNI_INSTALL:-}"; suite_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) [ $# -ge 2 ] || die 2 "--config needs a file"; config="$2"; config_given=1; shift 2 ;;
    --name) [ $# -ge 2 ] || die 2 "--name needs a cluster name"; name="$2"; shift 2 ;;
    --archive) [ $# -ge 2 ] || die 2 "--archive needs an image archive"; archive_opt="$2"; shift 2 ;;
    --image) [ $# -ge 2 ] || die 2 "--image needs a kind node image"; node_image="$2"; shift 2 ;;
    --cni-install) [ $# -ge 2 ] || die 2 "--cni-install needs a command"; cni_install="$2"; shift 2 ;;
    --) shift; suite_args=("$@"); break ;;
    -h|--help) usage ;;
    *) die 2 "unknown argument '$1' (see: bash kind-config/run-kind.sh --help)" ;;
  esac
done
# A bare name means one of ours: nftables -> kind-config/nftables.yaml.
if [ ! -f "$config" ] && [ -f "$here/$config.yaml" ]; then config="$here/$config.yaml"; fi
[ -f "$config" ] || die 2 "config file '$config' does not exist (one of: $(cd "$here" && ls *.yaml | tr '\n' ' '))"
config_name="$(basename "$config" .yaml)"
name="${name:-${KIND_CLUSTER_NAME:-sctp-kind-$config_name}}"

# --- engine, tools, node image --------------------------------------------------------------------
# Docker: an engine that already answers (DOCKER_HOST or the default socket) is used as it is. Otherwise
# kind-config/engine.sh starts dockerd in the network namespace sctp-kind, and every client below (kind,
# kubectl, the suite) runs in that namespace, where the API server's published port is reachable.
# kind comes from its Go module and kubectl from the project's build (kind-config/build-bins.sh, cluster/build.sh).
NS_EXEC=()
engine_ours=0
SCTP_KIND_SOCK=/run/sctp-kind/docker.sock
ensure_engine() {
  if [ -S "$SCTP_KIND_SOCK" ] && DOCKER_HOST=unix://$SCTP_KIND_SOCK docker info >/dev/null 2>&1; then
    NS_EXEC=(ip netns exec sctp-kind env DOCKER_HOST=unix://$SCTP_KIND_SOCK); engine_ours=1; return 0
  fi
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then log "using the Docker engine that answers (${DOCKER_HOST:-default socket})"; return 0; fi
  [ "${SCTP_KIND_NO_ENGINE:-}" = 1 ] && die 7 "no Docker engine answers and SCTP_KIND_NO_ENGINE=1 forbids starting one."
  log "no Docker engine answers: starting dockerd in netns sctp-kind (kind-config/engine.sh up)"
  bash "$here/engine.sh" up >/dev/null || die 7 "could not start a Docker engine (kind-config/engine.sh up failed, output above)."
  NS_EXEC=(ip netns exec sctp-kind env DOCKER_HOST=unix://$SCTP_KIND_SOCK); engine_ours=1; engine_started_here=1
}
engine_started_here=0
in_ns() { "${NS_EXEC[@]}" "$@"; }

need_tools() {
  command -v docker >/dev/null 2>&1 || die 7 "the docker CLI is not installed; kind runs its nodes as Docker containers and the suite reaches them with docker exec."
  local kb b
  kb="$(bash "$here/build-bins.sh" | tail -n1)" || die 7 "building kind/kubeadm/crictl from their Go modules failed (kind-config/build-bins.sh, output above)."
  b="$(bash "$repo/cluster/build.sh" | tail -n1)" || die 7 "building kubectl (cluster/build.sh) failed."
  export PATH="$kb:$PATH:$b"
  ensure_engine
}

# Our node image (kind-config/node-image/build.sh, cached), imported into the engine unless --image was given.
ours_image=0
ensure_node_image() {
  if [ -n "$node_image" ]; then return 0; fi
  local out tarball
  out="$(bash "$here/node-image/build.sh" | tail -n1)" || die 7 "building the kind node image failed (kind-config/node-image/build.sh, output above)."
  node_image="${out%% *}"; tarball="${out#* }"
  if ! in_ns docker image inspect "$node_image" >/dev/null 2>&1; then
    log "docker import $tarball as $node_image"
    in_ns docker import --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'ENV container=docker' "$tarball" "$node_image" >/dev/null ||
      die 7 "docker import of the node image failed."
  fi
  ours_image=1
}

# kind config given to kind: with our node image, the kubeadm patches that select its etcd and CoreDNS tags
# (our builds: etcd 3.5.x, CoreDNS 1.14; kubeadm v1.34 defaults to 3.6.x / 1.12 and picks etcd flags by tag).
effective_config() {
  if [ "$ours_image" != 1 ]; then echo "$config"; return 0; fi
  grep -q '^kubeadmConfigPatches:' "$config" && die 2 "$config has its own kubeadmConfigPatches; merge ours (kind-config/node-image/kubeadm-patches.yaml) into it."
  local f="${TMPDIR:-/tmp}/sctp-kind-config-$name.yaml"
  cat "$config" "$here/node-image/kubeadm-patches.yaml" >"$f"
  echo "$f"
}

# kind nodes share the host kernel: say what the [Feature:SCTP] module checks will see.
report_host_sctp() {
  if grep -qE '^sctp ' /proc/modules 2>/dev/null; then
    log "host kernel: sctp module is LOADED; the [Feature:SCTP] 'must not load sctp.ko' checks will be inconclusive (modprobe -r sctp first to make them meaningful)"
  elif [ -d /sys/module/sctp ]; then
    log "host kernel: sctp is built in (/sys/module/sctp without a /proc/modules entry); module-load checks will be inconclusive"
  elif zcat /proc/config.gz 2>/dev/null | grep '^# CONFIG_IP_SCTP is not set' >/dev/null; then
    log "host kernel: no SCTP (CONFIG_IP_SCTP is not set): connectivity tests use agnhost-sctp's userspace SCTP over raw IP; module checks skip"
  elif modprobe -n sctp >/dev/null 2>&1; then
    log "host kernel: sctp is not loaded and can be loaded (good: module checks are meaningful, connectivity tests can run)"
  else
    log "host kernel: sctp is not loaded and 'modprobe -n sctp' fails (blacklisted or missing module); kernel-SCTP tests will skip or fail"
  fi
}

cluster_exists() { in_ns kind get clusters 2>/dev/null | grep -qx "$name"; }
ART="${ARTIFACTS:-$repo/artifacts}"

# The newest agnhost-sctp archive; built with agnhost-sctp/build.sh (last output line = path) if none.
find_archive() {
  local a
  if [ -n "$archive_opt" ]; then
    [ -f "$archive_opt" ] || die 7 "image archive '$archive_opt' (--archive / AGNHOST_SCTP_ARCHIVE) does not exist."
    echo "$archive_opt"; return 0
  fi
  a="$(ls -t "$repo"/agnhost-sctp/out/*.tar 2>/dev/null | head -n1 || true)"
  if [ -z "$a" ]; then
    [ -f "$repo/agnhost-sctp/build.sh" ] || die 7 "no image archive in agnhost-sctp/out/ and agnhost-sctp/build.sh is missing; cannot load the test image."
    log "no image archive in agnhost-sctp/out/: building it (bash agnhost-sctp/build.sh)"
    a="$(cd "$repo" && bash agnhost-sctp/build.sh | tail -n1)" || die 7 "bash agnhost-sctp/build.sh failed (see its output above)."
    [ -f "$a" ] || a="$repo/$a"
    [ -f "$a" ] || die 7 "agnhost-sctp/build.sh did not print an existing archive path on its last line (got '$a')."
  fi
  echo "$a"
}

# The image name the archive carries (docker-archive manifest.json RepoTags[0]).
archive_image_name() {
  tar -xOf "$1" manifest.json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{process.stdout.write(JSON.parse(s)[0].RepoTags[0])}catch{}})'
}

do_create() {
  # kube-proxy ipvs needs the host kernel's IPVS (nodes share it); without it kube-proxy exits with
  # "can't use the IPVS proxier: Ipvs not supported" and the cluster never gets Services. Say so up front.
  if grep -qE '^\s*kubeProxyMode:\s*ipvs' "$config" && zcat /proc/config.gz 2>/dev/null | grep '^# CONFIG_IP_VS is not set' >/dev/null; then
    die 7 "$config asks for kube-proxy ipvs but the host kernel has no IPVS (CONFIG_IP_VS is not set in /proc/config.gz); kind nodes share the host kernel, so this config needs a host with ip_vs."
  fi
  need_tools
  report_host_sctp
  if cluster_exists; then die 8 "kind cluster '$name' already exists; delete it first (bash kind-config/run-kind.sh delete --name $name)."; fi
  ensure_node_image
  local cfg; cfg="$(effective_config)" || exit $?
  # --kubeconfig: kind must not write ~/.kube/config (the suite and other lanes would pick that up); the
  # kubeconfig the suite uses comes from `kind get kubeconfig` (kubeconfig_file)
  local args=(create cluster --name "$name" --config "$cfg" --image "$node_image" --kubeconfig "$(kind_own_kubeconfig)")
  local byo=0
  grep -qE '^\s*disableDefaultCNI:\s*true' "$config" && byo=1
  # Without a CNI the control plane never becomes Ready, so --wait would only time out.
  if [ "$byo" != 1 ]; then args+=(--wait 3m); fi
  log "kind ${args[*]}"
  in_ns kind "${args[@]}" || die 8 "kind create cluster failed for '$name' ($config); see kind's output above."
  if [ "$byo" = 1 ]; then
    if [ -n "$cni_install" ]; then
      log "installing the CNI: $cni_install"
      local kc
      kc="$(kubeconfig_file)" || exit $?
      in_ns env KUBECONFIG="$kc" PATH="$PATH" bash -c "$cni_install" || die 8 "the CNI install command failed: $cni_install"
      in_ns kubectl --kubeconfig "$kc" wait --for=condition=Ready nodes --all --timeout=5m ||
        die 8 "nodes did not become Ready within 5m after installing the CNI."
    else
      log "no default CNI: nodes stay NotReady until you install one (re-run with --cni-install 'CMD' or install it now)"
    fi
  fi
  if [ "$byo" != 1 ] || [ -n "$cni_install" ]; then
    # kind --wait covers the control-plane node only: wait for every node and kube-system pod (CoreDNS:
    # the suite's dns capability) so that the first tests do not race the cluster's own start-up.
    local kcw; kcw="$(kubeconfig_file)" || exit $?
    in_ns kubectl --kubeconfig "$kcw" wait --for=condition=Ready nodes --all --timeout=3m >/dev/null ||
      die 8 "nodes did not become Ready within 3m."
    # Two schedulable nodes for the cross-node tests without a third node container on small hosts:
    # the control plane takes test pods too (kind keeps its NoSchedule taint in multi-node clusters).
    if [ "${SCTP_KIND_KEEP_TAINT:-}" != 1 ]; then
      in_ns kubectl --kubeconfig "$kcw" taint nodes -l node-role.kubernetes.io/control-plane node-role.kubernetes.io/control-plane:NoSchedule- >/dev/null 2>&1 || true
    fi
    in_ns kubectl --kubeconfig "$kcw" -n kube-system wait --for=condition=Ready pods --all --timeout=3m >/dev/null ||
      die 8 "kube-system pods did not become Ready within 3m: $(in_ns kubectl --kubeconfig "$kcw" -n kube-system get pods --no-headers 2>&1 | tr '\n' ';')"
  fi
  local archive image
  archive="$(find_archive)" || exit $?
  image="$(archive_image_name "$archive" || true)"
  log "kind load image-archive $archive${image:+ ($image)}"
  in_ns kind load image-archive "$archive" --name "$name" || die 8 "kind load image-archive failed for $archive."
  # the suite's "outside" vantage point is a container of the same image on the Docker network kind
  in_ns docker load -i "$archive" >/dev/null || die 8 "docker load of $archive failed."
  log "kind get nodes --name $name: $(in_ns kind get nodes --name "$name" | tr '\n' ' ')"
}

# The kubeconfig kind itself writes on create and edits on delete (never ~/.kube/config).
kind_own_kubeconfig() { echo "${TMPDIR:-/tmp}/sctp-kind-own-kubeconfig-$name"; }

kubeconfig_file() {
  local f="${TMPDIR:-/tmp}/kubeconfig-$name"
  in_ns kind get kubeconfig --name "$name" >"$f" || die 8 "kind get kubeconfig failed: is cluster '$name' running? (kind get clusters)"
  chmod 600 "$f"
  echo "$f"
}

# The suite picks --node-access docker by itself (lib/node/select.ts: kind providerIDs + docker containers).
do_test() {
  [ "${#NS_EXEC[@]}" -gt 0 ] || need_tools
  cluster_exists || die 8 "kind cluster '$name' does not exist; create it (bash kind-config/run-kind.sh create --config $config)."
  local kc image archive
  kc="$(kubeconfig_file)" || return $?
  mkdir -p "$ART"
  local args=(--kubeconfig "$kc" --no-cluster-up --junit "$ART/junit-kind-$config_name.xml" --artifacts "$ART/kind-$config_name")
  archive="${archive_opt:-$(ls -t "$repo"/agnhost-sctp/out/*.tar 2>/dev/null | head -n1 || true)}"
  if [ -n "$archive" ]; then image="$(archive_image_name "$archive" || true)"; if [ -n "$image" ]; then args+=(--image "$image"); fi; fi
  if [ "${#suite_args[@]}" -eq 0 ]; then
    # kind has no LoadBalancer implementation; the default CNI enforces no NetworkPolicy (each such test
    # would spend a minute proving that before skipping). With --config bring-your-own-cni both run.
    suite_args=(--skip-tag LoadBalancer)
    grep -qE '^\s*disableDefaultCNI:\s*true' "$config" || suite_args+=(--skip-tag NetworkPolicy)
  fi
  log "npm run e2e -- ${args[*]} ${suite_args[*]}"
  local rc=0
  (cd "$repo" && in_ns env PATH="$PATH" npm run e2e -- "${args[@]}" "${suite_args[@]}") || rc=$?
  return "$rc"
}

do_delete() {
  [ "${#NS_EXEC[@]}" -gt 0 ] || { need_tools >/dev/null 2>&1 || true; }
  if cluster_exists; then in_ns kind delete cluster --name "$name" --kubeconfig "$(kind_own_kubeconfig)"; rm -f "$(kind_own_kubeconfig)"; else log "kind cluster '$name' does not exist (nothing to delete)"; fi
  rm -f "${TMPDIR:-/tmp}/kubeconfig-$name" "${TMPDIR:-/tmp}/sctp-kind-config-$name.yaml"
  # our engine goes when its last cluster does (periodic: also when it did not start it)
  if [ "$engine_ours" = 1 ] && [ -z "$(in_ns kind get clusters 2>/dev/null)" ]; then bash "$here/engine.sh" down; fi
}

do_periodic() {
  [ "$config_given" = 1 ] || die 2 "periodic needs --config F (one of: $(cd "$here" && ls *.yaml | tr '\n' ' '))"
  rc=0
  cleanup() {
    local code=$?
    trap - EXIT INT TERM
    if [ "$rc" != 0 ] && cluster_exists; then
      # Node logs (kubelet, containerd, kube-proxy) of the failed run, before the cluster is deleted.
      in_ns kind export logs "$ART/kind-logs-$config_name" --name "$name" >/dev/null 2>&1 || true
      log "kind logs in $ART/kind-logs-$config_name"
    fi
    (do_delete) || true
    if [ "$engine_ours" = 1 ] && [ -S "$SCTP_KIND_SOCK" ]; then bash "$here/engine.sh" down || true; fi
    exit "$code"
  }
  trap cleanup EXIT
  trap 'log "interrupted"; rc=130; exit 130' INT TERM
  local t0; t0=$(date +%s)
  need_tools
  (do_create) || { rc=$?; log "cluster creation failed (exit $rc)"; exit "$rc"; }
  log "cluster ready in $(( $(date +%s) - t0 ))s"
  do_test || rc=$?
  log "suite exit $rc ($(( $(date +%s) - t0 ))s since start)"
  exit "$rc"
}

case "$cmd" in
  create) do_create ;;
  test) do_test ;;
  delete) do_delete ;;
  periodic) do_periodic ;;
  -h|--help|help) usage ;;
  *) die 2 "unknown command '$cmd' (create, test, delete, periodic)" ;;
esac
