#!/usr/bin/env bash
# Builds the sctp-e2e kind node image offline, as a root filesystem tarball for `docker import`
# (kind-config/engine.sh imports it; kind runs it with `kind create cluster --image`):
#   Debian bookworm from mmdebstrap (systemd, containerd 1.6, runc, iptables/nftables, CNI plugins; cached)
#   + kubelet/kubectl (cluster/build.sh) + kubeadm/crictl (kind-config/build-bins.sh)
#   + images preloaded from /kind/images by sctp-kind-preload.service before the kubelet
#     (kind-config/node-image/images.ts: control plane, kube-proxy, etcd, CoreDNS, pause, busybox)
#   + kind's /kind/version and /kind/manifests/{default-cni,default-storage}.yaml
#   + kind-config/node-image/files (our entrypoint, containerd config with restrict_oom_score_adj, units)
#   + systemd-sysctl, systemd-modules-load, binfmt & co masked (a privileged node must not tune the host).
# Cached under $SCTP_E2E_CACHE/kind-node-<key>/ (key: every input). Last line: "<image name> <tarball>".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
K8S_VERSION=${K8S_VERSION:-v1.34.4}
MIRROR=${SCTP_KIND_MIRROR:-http://deb.debian.org/debian}
SECURITY=${SCTP_KIND_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
export PATH=$repo/node_modules/.bin:$PATH:/usr/local/go/bin
log() { printf '[node-image %s] %s\n' "$(date +%T)" "$*" >&2; }
PACKAGES=systemd,systemd-sysv,dbus,containerd,runc,iptables,nftables,iproute2,containernetworking-plugins,conntrack,ethtool,socat,util-linux,mount,ca-certificates,kmod,procps,ipset,ipvsadm,libseccomp2,hostname,findutils,bash,ebtables,jq,less,tcpdump,curl,gzip

# --- Debian root filesystem (mmdebstrap; the slowest network step, cached on its own) ----------------
rkey=$(printf '%s\n' "$PACKAGES" "$MIRROR" "$SECURITY" bookworm | sha256sum | cut -c1-12)
ROOTFS=$CACHE/kind-rootfs-$rkey
if [ ! -d "$ROOTFS/rootfs" ]; then
  command -v mmdebstrap >/dev/null || { echo "node-image: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 7; }
  curl -fsS -m 20 -o /dev/null "$MIRROR/dists/bookworm/InRelease" || { echo "node-image: the Debian mirror $MIRROR is not reachable (set SCTP_KIND_MIRROR)" >&2; exit 7; }
  log "mmdebstrap bookworm ($MIRROR)"
  rm -rf "$ROOTFS.tmp"; mkdir -p "$ROOTFS.tmp"
  mmdebstrap --variant=minbase --include="$PACKAGES" --aptopt='Acquire::Retries "3"' bookworm "$ROOTFS.tmp/rootfs" \
    "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECURITY bookworm-security main" >&2
  rm -rf "$ROOTFS"; mv "$ROOTFS.tmp" "$ROOTFS"
fi

# --- binaries ------------------------------------------------------------------------------------
BIN=$(bash "$repo/cluster/build.sh" | tail -n1)
KBIN=$(bash "$repo/kind-config/build-bins.sh" | tail -n1)
pause_src=$repo/cluster/images/pause.c
PAUSE=$CACHE/images/pause-$(sha256sum "$pause_src" | cut -c1-12)
if [ ! -x "$PAUSE" ]; then mkdir -p "$CACHE/images"; gcc -Os -static -o "$PAUSE.tmp" "$pause_src"; mv "$PAUSE.tmp" "$PAUSE"; fi

key=$( { echo "$rkey $BIN $KBIN $K8S_VERSION"; sha256sum "$PAUSE" "$here/build.sh" "$here/images.ts" "$repo/lib/image/archive.ts";
  (cd "$here/files" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-12)
OUT=$CACHE/kind-node-$key
NAME=sctp-kind/node:$K8S_VERSION-$key
if [ -f "$OUT/node.tar" ]; then log "cached: $OUT/node.tar"; echo "$NAME $OUT/node.tar"; exit 0; fi
start=$(date +%s)
rm -rf "$OUT.tmp"; mkdir -p "$OUT.tmp"
S=$OUT.tmp/rootfs
log "staging the root filesystem"
cp -a "$ROOTFS/rootfs" "$S"

# systemd in a container (what kind's base image does, plus the host-protection masks)
rm -f "$S"/etc/systemd/system/*.wants/* "$S"/lib/systemd/system/multi-user.target.wants/getty.target
for u in systemd-sysctl.service systemd-modules-load.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
  proc-sys-fs-binfmt_misc.mount systemd-pstore.service systemd-random-seed.service kmod-static-nodes.service \
  systemd-firstboot.service systemd-repart.service systemd-pcrphase.service systemd-pcrphase-sysinit.service \
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount getty@tty1.service console-getty.service \
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer; do
  ln -sf /dev/null "$S/etc/systemd/system/$u"
done
echo ReadKMsg=no >>"$S/etc/systemd/journald.conf"
: >"$S/etc/machine-id"
cp -a "$here/files/." "$S/"
mkdir -p "$S/etc/systemd/system/multi-user.target.wants" "$S/etc/kubernetes/manifests" "$S/opt/cni" "$S/kind/images" "$S/var/lib/kubelet"
for u in containerd.service kubelet.service sctp-kind-preload.service; do
  src=/etc/systemd/system/$u; [ -f "$S$src" ] || src=/lib/systemd/system/$u
  ln -sf "$src" "$S/etc/systemd/system/multi-user.target.wants/$u"
done
ln -sfn /usr/lib/cni "$S/opt/cni/bin"
install -m 0755 "$BIN/kubelet" "$BIN/kubectl" "$KBIN/kubeadm" "$KBIN/crictl" "$S/usr/bin/"
echo "$K8S_VERSION" >"$S/kind/version"

log "image archives (lib/image)"
tsx "$here/images.ts" --bin "$BIN" --pause "$PAUSE" --out "$S/kind/images" >/dev/null
mv "$S/kind/images/images.json" "$S/kind/images.json"

log "writing the tarball"
tar -C "$S" --numeric-owner --xattrs -cf "$OUT.tmp/node.tar" .
rm -rf "$S"
printf '{"name":"%s","k8sVersion":"%s","bin":"%s","kindBin":"%s","rootfs":"%s"}\n' "$NAME" "$K8S_VERSION" "$BIN" "$KBIN" "$ROOTFS" >"$OUT.tmp/build.json"
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
log "built in $(( $(date +%s) - start ))s: $OUT/node.tar ($NAME)"
echo "$NAME $OUT/node.tar"
