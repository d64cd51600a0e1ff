#!/usr/bin/env bash
# Installs every Debian package the suite, the local cluster, agnhost-sctp and the kernel lane need.
# Idempotent: a machine that already has them only pays for `dpkg -s`.
set -euo pipefail
PKGS=(
  # local cluster: runtime, networking, certificates
  containerd runc containernetworking-plugins iptables nftables ipset conntrack iproute2 openssl
  openssh-server openssh-client socat procps psmisc util-linux kmod ca-certificates curl
  # agnhost-sctp build (static usrsctp) and image tooling
  build-essential libusrsctp-dev busybox-static skopeo
  # NetworkPolicy implementation (cluster/netpol: cilium-agent compiles its BPF datapath at start)
  clang llvm bpftool
  # debugging / evidence
  tcpdump dnsutils
  # the report card's browser test (test/integration/report-browser.test.ts): headless Chromium via playwright-core
  chromium
  # kernel lane; kind lane (mmdebstrap for the node image, jq for the runc wrapper on hosts whose CapBnd lacks capabilities)
  qemu-system-x86 qemu-utils mmdebstrap e2fsprogs jq
)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's containerd package starts a daemon in postinst on systemd machines only; we run our own.
echo "install-deps: ok (${#missing[@]} installed)"
