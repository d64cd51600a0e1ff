#!/usr/bin/env bash
# A Docker engine for kind that touches nothing of the host's networking: dockerd (Debian's docker.io
# 20.10, unpacked from its .deb into the cache when not installed) and its own containerd run inside the
# network namespace `sctp-kind`, with data under /var/lib/sctp-kind and sockets under /run/sctp-kind.
# Where the host's capability bounding set lacks a capability Docker asks for with --privileged (these
# machines: CAP_SYS_RESOURCE), runc is wrapped (kind-config/engine/runc-capbnd) and made the default runtime.
#
#   bash kind-config/engine.sh up      start (idempotent); prints the DOCKER_HOST line last
#   bash kind-config/engine.sh down    stop by PID, remove netns, data root, and /lib/modules if up created it
#   bash kind-config/engine.sh status
#   bash kind-config/engine.sh import IMAGE TARBALL   docker import a node rootfs tarball (no-op if present)
# Clients (docker, kind, kubectl, the suite) must run in the namespace to reach what Docker publishes:
#   ip netns exec sctp-kind env DOCKER_HOST=unix:///run/sctp-kind/docker.sock kind get nodes
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
NS=sctp-kind
DATA=/var/lib/sctp-kind
RUN=/run/sctp-kind
SOCK=$RUN/docker.sock
export DOCKER_HOST=unix://$SOCK
log() { printf '[engine %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "engine.sh: $*" >&2; exit 7; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }
docker_cli() { if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi; }

dockerd_bin() { # Debian's dockerd, installed or unpacked from the cached .deb
  if [ -x /usr/sbin/dockerd ]; then echo /usr/sbin; return; fi
  local d=$CACHE/kind-docker deb
  if [ ! -x "$d/root/usr/sbin/dockerd" ]; then
    mkdir -p "$d/debs"
    deb=$(ls "$d"/debs/docker.io_*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
      log "fetching Debian's docker.io package (apt-get download; not installed)"
      # a fresh machine may have no package lists yet (nothing to install, so install-deps never ran apt-get update)
      (cd "$d/debs" && apt-get download docker.io >/dev/null 2>&1) || { apt-get update -qq >/dev/null 2>&1; (cd "$d/debs" && apt-get download docker.io >/dev/null 2>&1); } ||
        die "no dockerd: install docker.io, or let 'apt-get download docker.io' work"
      deb=$(ls "$d"/debs/docker.io_*.deb | head -n1)
    fi
    rm -rf "$d/root.tmp"; dpkg-deb -x "$deb" "$d/root.tmp"; rm -rf "$d/root"; mv "$d/root.tmp" "$d/root"
  fi
  echo "$d/root/usr/sbin"
}

need_wrapper() { # bit 24 = CAP_SYS_RESOURCE; any missing capability below 41 means Docker's --privileged fails
  local bnd; bnd=$(awk '/^CapBnd:/{print $2}' /proc/self/status)
  (( (0x$bnd & 0x1ffffffffff) != 0x1ffffffffff ))
}

do_up() {
  if alive "$(pid_of dockerd)" && "$(docker_cli)" info >/dev/null 2>&1; then log "already up"; echo "DOCKER_HOST=$DOCKER_HOST"; return; fi
  [ "$(id -u)" = 0 ] || die "needs root (network namespace, dockerd)"
  command -v containerd >/dev/null || die "containerd is not installed (apt-get install containerd)"
  command -v runc >/dev/null || die "runc is not installed"
  local sbin; sbin=$(dockerd_bin)
  mkdir -p "$RUN" "$DATA"
  # What exists before we start decides what `down` may remove.
  if [ ! -e /lib/modules ]; then touch "$RUN/libmodules-created"; fi
  if [ ! -e /run/containerd/runc/moby ]; then touch "$RUN/runc-moby-created"; fi
  if ! ip netns list | grep -qw "^$NS"; then ip netns add "$NS"; fi
  ip -n "$NS" link set lo up
  cat >"$RUN/containerd.toml" <<CONF
version = 2
root = "$DATA/containerd"
state = "$RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$RUN/containerd/containerd.sock"
[ttrpc]
  address = "$RUN/containerd/containerd.sock.ttrpc"
CONF
  log "containerd in netns $NS"
  nsenter --net=/run/netns/$NS setsid containerd --config "$RUN/containerd.toml" >>"$RUN/containerd.log" 2>&1 </dev/null &
  echo $! >"$RUN/containerd.pid"
  for _ in $(seq 1 50); do [ -S "$RUN/containerd/containerd.sock" ] && break; sleep 0.2; done
  [ -S "$RUN/containerd/containerd.sock" ] || die "containerd did not start (see $RUN/containerd.log)"
  local args=(--data-root "$DATA/docker" --exec-root "$RUN/docker" --pidfile "$RUN/docker-self.pid" -H "unix://$SOCK"
    --containerd "$RUN/containerd/containerd.sock" --exec-opt native.cgroupdriver=cgroupfs --storage-driver overlay2
    --log-level warn)
  if need_wrapper; then
    command -v jq >/dev/null || die "the runc wrapper needs jq (apt-get install jq): this host's CapBnd lacks capabilities Docker's --privileged asks for"
    log "CapBnd $(awk '/^CapBnd:/{print $2}' /proc/self/status) lacks capabilities --privileged asks for: default runtime = runc-capbnd wrapper"
    args+=(--add-runtime "sctp-kind-runc=$here/engine/runc-capbnd" --default-runtime sctp-kind-runc)
  fi
  log "dockerd ($sbin/dockerd) in netns $NS, data root $DATA/docker"
  PATH=$sbin:$PATH nsenter --net=/run/netns/$NS setsid "$sbin/dockerd" "${args[@]}" >>"$RUN/dockerd.log" 2>&1 </dev/null &
  echo $! >"$RUN/dockerd.pid"
  for _ in $(seq 1 100); do "$(docker_cli)" info >/dev/null 2>&1 && break; alive "$(pid_of dockerd)" || break; sleep 0.3; done
  "$(docker_cli)" info >/dev/null 2>&1 || { tail -n 20 "$RUN/dockerd.log" >&2; die "dockerd did not come up (log above, $RUN/dockerd.log)"; }
  log "up: $("$(docker_cli)" version --format '{{.Server.Version}}') (DOCKER_HOST=$DOCKER_HOST)"
  echo "DOCKER_HOST=$DOCKER_HOST"
}

stop_pid() { # $1 name: SIGTERM, wait up to $2 s, then SIGKILL
  local pid; pid=$(pid_of "$1")
  alive "$pid" || { rm -f "$RUN/$1.pid"; return 0; }
  log "stopping $1 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $(( $2 * 5 ))); do alive "$pid" || break; sleep 0.2; done
  if alive "$pid"; then log "$1 did not stop in $2 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$RUN/$1.pid"
}

do_down() {
  if alive "$(pid_of dockerd)"; then
    local ids; ids=$("$(docker_cli)" ps -aq 2>/dev/null || true)
    if [ -n "$ids" ]; then log "removing leftover containers: $(echo $ids)"; "$(docker_cli)" rm -fv $ids >/dev/null 2>&1 || true; fi
  fi
  stop_pid dockerd 30
  # shims of containers dockerd did not stop (they belong to our containerd: their -address names our socket)
  local p
  for p in $(pgrep -f "containerd-shim.*-address $RUN/containerd/containerd.sock" || true); do log "stopping shim $p"; kill -KILL "$p" 2>/dev/null || true; done
  stop_pid containerd 15
  # mounts left under our roots (overlays, netns bind mounts)
  local m
  for m in $(awk -v a="$DATA" -v b="$RUN" '$2 ~ "^"a || $2 ~ "^"b {print $2}' /proc/self/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  if ip netns list | grep -qw "^$NS"; then ip netns del "$NS"; log "netns $NS removed"; fi
  if [ -f "$RUN/libmodules-created" ] && [ -d /lib/modules ] && [ -z "$(ls -A /lib/modules)" ]; then rmdir /lib/modules; log "removed /lib/modules (created by Docker for kind's volume)"; fi
  if [ -f "$RUN/runc-moby-created" ] && [ -d /run/containerd/runc/moby ]; then rmdir /run/containerd/runc/moby 2>/dev/null || true; fi
  rm -rf "$DATA"
  mkdir -p "$RUN"; [ -f "$RUN/dockerd.log" ] && [ -n "${ARTIFACTS_DIR:-}" ] && cp "$RUN/dockerd.log" "$ARTIFACTS_DIR/" 2>/dev/null || true
  rm -rf "$RUN"
  log "down"
}

do_status() {
  echo "dockerd: $(alive "$(pid_of dockerd)" && echo "running (pid $(pid_of dockerd))" || echo stopped)"
  echo "containerd: $(alive "$(pid_of containerd)" && echo "running (pid $(pid_of containerd))" || echo stopped)"
  echo "netns $NS: $(ip netns list | grep -qw "^$NS" && echo present || echo absent)"
}

do_import() {
  local name=$1 tarball=$2
  if "$(docker_cli)" image inspect "$name" >/dev/null 2>&1; then log "image $name present"; return; fi
  log "docker import $tarball as $name"
  "$(docker_cli)" import \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    --change 'ENV container=docker' \
    "$tarball" "$name" >/dev/null
}

case "${1:-}" in
  up) do_up ;;
  down) do_down ;;
  status) do_status ;;
  import) [ $# -eq 3 ] || die "usage: engine.sh import IMAGE TARBALL"; do_import "$2" "$3" ;;
  *) echo "usage: bash kind-config/engine.sh up|down|status|import IMAGE TARBALL" >&2; exit 2 ;;
esac
