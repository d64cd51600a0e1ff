#!/usr/bin/env bash
# Captures real command output from the kernel-lane VM into vm/fixtures/ (for lib/node's parsers and tests).
#   usage: bash vm/capture-fixtures.sh        (needs `npm run vm:up` first; reads $SCTP_E2E_VM_DIR/vm.json)
# Creates IPVS services and nft tables inside the VM, dumps them, and removes them again (also on failure).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vmdir=${SCTP_E2E_VM_DIR:-/var/lib/sctp-e2e/vm}
[ -r "$vmdir/vm.json" ] || { echo "capture-fixtures: $vmdir/vm.json not found; run npm run vm:up first." >&2; exit 2; }
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ssh"]["port"])' "$vmdir/vm.json")
vm() { ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$vmdir/ssh/known_hosts" \
  -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$vmdir/ssh/id_ed25519" -p "$port" root@127.0.0.1 "$@"; }
out="$here/fixtures"; mkdir -p "$out/ipvs" "$out/nft" "$out/sctp-module" "$out/iptables"
kernel=$(vm uname -r)
stamp="$(date -u +%Y-%m-%d) in the kernel-lane VM (Debian bookworm, kernel $kernel, QEMU TCG)"
cleanup() { vm 'ipvsadm -C 2>/dev/null; nft delete table ip kube-proxy 2>/dev/null; nft delete table inet sctp-e2e-filter 2>/dev/null;
  iptables -t nat -F SCTPE2E 2>/dev/null; iptables -t nat -D OUTPUT -j SCTPE2E 2>/dev/null; iptables -t nat -X SCTPE2E 2>/dev/null; true' || true; }
trap cleanup EXIT

# --- sctp module probe, before and after a socket opens (the probe script is lib/node's, unchanged)
probe=$(cd "$here/.." && PATH=$PWD/node_modules/.bin:$PATH tsx -e 'import("./lib/node/sctp-module.ts").then(m => process.stdout.write(m.SCTP_MODULE_PROBE_SCRIPT))')
# sctp.ko cannot be unloaded on this kernel (its per-netns control sockets pin it), so reboot if it is loaded.
if vm 'test -d /sys/module/sctp'; then (cd "$here/.." && PATH=$PWD/node_modules/.bin:$PATH tsx vm/cli.ts reboot); fi
vm "$probe" > "$out/sctp-module/vm-debian-6.1-not-loaded.txt"
vm "python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132).close()'"
vm "$probe" > "$out/sctp-module/vm-debian-6.1-loaded.txt"
vm 'echo "refcnt $(cat /sys/module/sctp/refcnt) with no SCTP sockets open"; modprobe -r sctp 2>&1; true' > "$out/sctp-module/vm-debian-6.1-modprobe-r.txt"

# --- IPVS: SCTP, TCP and UDP virtual services the way kube-proxy's ipvs mode programs them
vm 'set -e; modprobe ip_vs; ipvsadm -C
  ipvsadm -A --sctp-service 10.96.0.11:5060 -s rr
  ipvsadm -a --sctp-service 10.96.0.11:5060 -r 10.244.1.2:5061 -m -w 1
  ipvsadm -a --sctp-service 10.96.0.11:5060 -r 10.244.2.2:5061 -m -w 1
  ipvsadm -A --sctp-service 10.0.2.15:30060 -s rr
  ipvsadm -a --sctp-service 10.0.2.15:30060 -r 10.244.1.2:5061 -m -w 1
  ipvsadm -A -t 10.96.0.12:80 -s rr
  ipvsadm -a -t 10.96.0.12:80 -r 10.244.1.3:8080 -m -w 1
  ipvsadm -A -u 10.96.0.10:53 -s rr
  ipvsadm -a -u 10.96.0.10:53 -r 10.244.1.4:53 -m -w 1
  ipvsadm -A --sctp-service 10.96.0.14:3868 -s sh -p 10800'
vm 'ipvsadm -Ln' > "$out/ipvs/ipvsadm-Ln.txt"
vm 'ipvsadm -Ln --stats' > "$out/ipvs/ipvsadm-Ln-stats.txt"
vm 'ipvsadm -Sn' > "$out/ipvs/ipvsadm-Sn.txt"
vm 'ipvsadm -C; ipvsadm -Ln' > "$out/ipvs/ipvsadm-Ln-empty.txt"

# --- nftables: kube-proxy-shaped table plus plain sctp rules
vm 'nft -f -' < "$here/kube-proxy-like.nft"
vm 'nft -j list ruleset' > "$out/nft/nft-j-list-ruleset.json"
vm 'nft list ruleset' > "$out/nft/nft-list-ruleset.txt"
vm 'nft delete table ip kube-proxy; nft delete table inet sctp-e2e-filter; nft -j list ruleset' > "$out/nft/nft-j-list-ruleset-empty.json"

# --- iptables (nf_tables backend in the VM): sctp DNAT the way kube-proxy's iptables mode writes it
vm 'set -e; iptables -t nat -N SCTPE2E; iptables -t nat -A OUTPUT -j SCTPE2E
  iptables -t nat -A SCTPE2E -d 10.96.0.11/32 -p sctp -m comment --comment "default/sctp-svc:sctp cluster IP" -m sctp --dport 5060 -j DNAT --to-destination 10.244.1.2:5061'
vm 'iptables-save -t nat' > "$out/iptables/iptables-save-nat.txt"

cat > "$out/README.md" <<MD
# vm/fixtures: CAPTURED output from the kernel-lane VM

All files except this README were written by \`bash vm/capture-fixtures.sh\` on $stamp.
The rules that produced them are in vm/capture-fixtures.sh (ipvsadm, iptables) and vm/kube-proxy-like.nft (nft).
lib/node's unit tests (sctp-module.test.ts, netfilter/netfilter.test.ts) read the sctp-module, ipvs and nft files here: the only copy.

- sctp-module/vm-debian-6.1-not-loaded.txt: lib/node's SCTP_MODULE_PROBE_SCRIPT on a freshly booted VM.
- sctp-module/vm-debian-6.1-loaded.txt: the same after \`socket(AF_INET, SOCK_STREAM, 132)\` loaded sctp.ko.
- sctp-module/vm-debian-6.1-modprobe-r.txt: why the lane reboots instead of unloading (sctp.ko stays pinned).
- ipvs/ipvsadm-Ln.txt, -Ln-stats.txt, -Sn.txt: SCTP services 10.96.0.11:5060 (2 real servers, masq),
  10.0.2.15:30060 (NodePort-like), 10.96.0.14:3868 (sh, persistent, no real server); TCP 10.96.0.12:80; UDP 10.96.0.10:53.
  ipvsadm-Ln-empty.txt: after ipvsadm -C.
- nft/nft-j-list-ruleset.json, nft-list-ruleset.txt: the ruleset of vm/kube-proxy-like.nft as the kernel returns it
  (table ip kube-proxy with the service-ips verdict map, \`meta l4proto sctp dnat\`, \`sctp dport\` rules in inet
  sctp-e2e-filter). nft-j-list-ruleset-empty.json: after deleting both tables.
- iptables/iptables-save-nat.txt: an SCTP DNAT rule in kube-proxy iptables-mode form (iptables-nft in the VM).
MD
echo "capture-fixtures: wrote $(find "$out" -type f | wc -l) files under $out (kernel $kernel)"
