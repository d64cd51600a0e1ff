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
# The cluster name defaults to sctp-e2e-<config name> (sctp-e2e-iptables), so create/test/delete
# with the same --config address the same cluster. The test image is --archive TAR
# ($AGNHOST_SCTP_ARCHIVE), else the newest agnhost-sctp/out/*.tar, else built by agnhost-sctp/build.sh;
# the suite is told its name (manifest.json RepoTags[0]) with --image. JUnit goes to artifacts/junit-kind-<config>.xml.
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
name="${name:-${KIND_CLUSTER_NAME:-sctp-e2e-$config_name}}"

need_tools() {
  command -v kind >/dev/null 2>&1 || die 7 "kind is not installed (https://kind.sigs.k8s.io/docs/user/quick-start/#installation); it is needed to create the test cluster."
  command -v docker >/dev/null 2>&1 || die 7 "docker is not installed; kind runs its nodes as Docker containers and the suite reaches them with docker exec."
  docker info >/dev/null 2>&1 || die 7 "docker is installed but the daemon is not reachable (docker info failed); start it or fix DOCKER_HOST."
}

# kind nodes share the host kernel: say what the [Feature:SCTP] module checks will see.
report_host_sctp() {
  if grep -qE '^sctp ' /proc/modules 2>/dev/null; then
    log "host kernel: sctp module is LOADED; the [Feature:SCTP] 'must not load sctp.ko' checks will be inconclusive (modprobe -r sctp first to make them meaningful)"
  elif [ -d /sys/module/sctp ]; then
    log "host kernel: sctp is built in (/sys/module/sctp without a /proc/modules entry); module-load checks will be inconclusive"
  elif modprobe -n sctp >/dev/null 2>&1; then
    log "host kernel: sctp is not loaded and can be loaded (good: module checks are meaningful, connectivity tests can run)"
  else
    log "host kernel: sctp is not loaded and 'modprobe -n sctp' fails; [Feature:SCTPConnectivity] tests will fail (blacklisted or missing module)"
  fi
}

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$name"; }

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
  need_tools
  report_host_sctp
  if cluster_exists; then die 8 "kind cluster '$name' already exists; delete it first (bash kind-config/run-kind.sh delete --name $name)."; fi
  local args=(create cluster --name "$name" --config "$config")
  if [ -n "$node_image" ]; then args+=(--image "$node_image"); fi
  local byo=0
  grep -qE '^\s*disableDefaultCNI:\s*true' "$config" && byo=1
  # Without a CNI the control plane never becomes Ready, so --wait would only time out.
  if [ "$byo" != 1 ]; then args+=(--wait 2m); fi
  log "kind ${args[*]}"
  kind "${args[@]}" || die 8 "kind create cluster failed for '$name' ($config); see kind's output above."
  if [ "$byo" = 1 ]; then
    if [ -n "$cni_install" ]; then
      log "installing the CNI: $cni_install"
      local kc
      kc="$(kubeconfig_file)" || exit $?
      KUBECONFIG="$kc" bash -c "$cni_install" || die 8 "the CNI install command failed: $cni_install"
      if command -v kubectl >/dev/null 2>&1; then
        KUBECONFIG="$kc" kubectl wait --for=condition=Ready nodes --all --timeout=5m ||
          die 8 "nodes did not become Ready within 5m after installing the CNI."
      fi
    else
      log "no default CNI: nodes stay NotReady until you install one (re-run with --cni-install 'CMD' or install it now)"
    fi
  fi
  local archive image
  archive="$(find_archive)" || exit $?
  image="$(archive_image_name "$archive" || true)"
  log "kind load image-archive $archive${image:+ ($image)}"
  kind load image-archive "$archive" --name "$name" || die 8 "kind load image-archive failed for $archive."
}

kubeconfig_file() {
  local f="${TMPDIR:-/tmp}/kubeconfig-$name"
  kind get kubeconfig --name "$name" >"$f" || die 8 "kind get kubeconfig failed: is cluster '$name' running? (kind get clusters)"
  chmod 600 "$f"
  echo "$f"
}

do_test() {
  need_tools
  cluster_exists || die 8 "kind cluster '$name' does not exist; create it (bash kind-config/run-kind.sh create --config $config)."
  local kc image archive
  kc="$(kubeconfig_file)" || return $?
  local args=(--kubeconfig "$kc" --node-access docker --no-cluster-up --junit "artifacts/junit-kind-$config_name.xml")
  archive="${archive_opt:-$(ls -t "$repo"/agnhost-sctp/out/*.tar 2>/dev/null | head -n1 || true)}"
  if [ -n "$archive" ]; then image="$(archive_image_name "$archive" || true)"; if [ -n "$image" ]; then args+=(--image "$image"); fi; fi
  mkdir -p "$repo/artifacts"
  log "npm run e2e -- ${args[*]} ${suite_args[*]}"
  local rc=0
  (cd "$repo" && npm run e2e -- "${args[@]}" "${suite_args[@]}") || rc=$?
  return "$rc"
}

do_delete() {
  command -v kind >/dev/null 2>&1 || die 7 "kind is not installed; nothing can be deleted with it."
  if cluster_exists; then kind delete cluster --name "$name"; else log "kind cluster '$name' does not exist (nothing to delete)"; fi
  rm -f "${TMPDIR:-/tmp}/kubeconfig-$name"
}

do_periodic() {
  [ "$config_given" = 1 ] || die 2 "periodic needs --config F (one of: $(cd "$here" && ls *.yaml | tr '\n' ' '))"
  local rc=0
  trap '(do_delete) || true' EXIT
  (do_create) || { rc=$?; log "cluster creation failed (exit $rc)"; exit "$rc"; }
  do_test || rc=$?
  if [ "$rc" != 0 ]; then
    # Node logs (kubelet, containerd, kube-proxy) for the failed run, before the cluster is deleted.
    kind export logs "$repo/artifacts/kind-logs-$config_name" --name "$name" >/dev/null 2>&1 || true
    log "suite exit $rc; kind logs in artifacts/kind-logs-$config_name"
  fi
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
