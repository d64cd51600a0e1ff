#!/usr/bin/env bash
# Kernel-lane benchmark: image build (cold or cached), boot to ssh, QEMU RSS, guest memory, down.
#   usage: bash bench/vm-bench.sh [--cold]
#     --cold   build into a throwaway cache (the real ~/.cache/sctp-e2e image is left alone) and time it
# Uses its own temporary SCTP_E2E_VM_DIR, so a VM already running from /var/lib/sctp-e2e/vm is untouched
# (but shares the 2 cores: numbers are then pessimistic). Removes everything it created, also on failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$repo/node_modules/.bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "vm-bench: must run as root (the VM tool needs it); rerun with sudo." >&2; exit 2; }
cold=0; [ "${1:-}" = "--cold" ] && cold=1
work=$(mktemp -d /tmp/vm-bench.XXXXXX)
export SCTP_E2E_VM_DIR="$work/state"
[ $cold = 1 ] && export SCTP_E2E_CACHE_DIR="$work/cache"
cli() { node --import tsx "$repo/vm/cli.ts" "$@"; }
cleanup() { cli down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
if [ "$(uptime | awk -F'load average: ' '{print $2}' | cut -d, -f1 | cut -d. -f1)" -ge 2 ]; then
  echo "vm-bench: note: load average is $(uptime | awk -F'load average: ' '{print $2}') on $(nproc) cores; TCG timings will be slower"
fi

cached=$(cd "$repo" && node --import tsx -e 'import("./vm/vm.ts").then(m => { const i = m.imageInputs(); console.log(m.imageComplete(i.dir) ? i.dir : "") })')
t0=$(now); cli build >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }; t1=$(now)
if [ -n "$cached" ] && [ $cold = 0 ]; then build="cached ($cached)"; else build="$(secs "$t0" "$t1") s cold"; fi

t0=$(now); cli up 2>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }; t1=$(now)
boot=$(secs "$t0" "$t1")
pid=$(cat "$SCTP_E2E_VM_DIR/qemu.pid")
port=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).ssh.port)' "$SCTP_E2E_VM_DIR/vm.json")
ssh_vm() { ssh -o BatchMode=yes -o UserKnownHostsFile="$SCTP_E2E_VM_DIR/ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null \
  -o LogLevel=ERROR -i "$SCTP_E2E_VM_DIR/ssh/id_ed25519" -p "$port" root@127.0.0.1 "$@"; }
rss_boot=$(( $(ps -o rss= -p "$pid") / 1024 ))
guest=$(ssh_vm "free -m | awk '/^Mem:/ {print \$3\" MiB used of \"\$2}'")
kernel=$(ssh_vm uname -r)
analyze=$(ssh_vm 'systemd-analyze 2>/dev/null | head -1' || true)
# a little SCTP work, then RSS again (TCG's translation cache grows with the code that ran)
ssh_vm "python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132); s.bind((\"127.0.0.1\", 0)); s.listen(); c=socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132); c.connect(s.getsockname()); a,_=s.accept(); c.send(b\"x\"*1000); a.recv(2000)'"
rss_work=$(( $(ps -o rss= -p "$pid") / 1024 ))

t0=$(now); cli down 2>"$work/down.log"; t1=$(now)
down=$(secs "$t0" "$t1"); how=$(grep -o '(poweroff)\|(killed)' "$work/down.log" || echo '?')
cat <<OUT
vm-bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, load $(uptime | awk -F'load average: ' '{print $2}')
  image build        $build
  up (boot to ssh)   $boot s   (kernel $kernel; $analyze)
  QEMU RSS           $rss_boot MiB after boot, $rss_work MiB after an SCTP exchange
  guest memory       $guest
  down               $down s $how
OUT
