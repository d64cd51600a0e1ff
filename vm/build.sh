#!/usr/bin/env bash
# Builds the kernel-lane VM image from Debian packages only.
#   usage: vm/build.sh OUT_DIR KERNEL_PACKAGE      (normally called by `npm run vm:build`, which picks
#          OUT_DIR = ~/.cache/sctp-e2e/vm-<hash of this script, packages.txt and the kernel version>)
# Writes into OUT_DIR: rootfs.img (ext4, sparse), vmlinuz, initrd.img, id_ed25519{,.pub} (client key),
# ssh_host_ed25519_key.pub (the guest's host key, generated here and baked in), kernel-release, build.json.
# Builds in OUT_DIR.tmp and renames at the end, so a failed build never leaves a usable-looking cache.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR KERNEL_PACKAGE}
kpkg=${2:?usage: build.sh OUT_DIR KERNEL_PACKAGE}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "vm build: must run as root (mmdebstrap and mkfs need it); rerun with sudo." >&2; exit 2; }
for t in mmdebstrap mkfs.ext4 ssh-keygen; do
  command -v "$t" >/dev/null || { echo "vm build: $t is missing; run: bash .ci/install-deps.sh" >&2; exit 2; }
done
tmp="$out.tmp"
rm -rf "$tmp"; mkdir -p "$tmp"
rootfs="$tmp/rootfs"
cleanup() { rc=$?; if [ $rc -ne 0 ]; then rm -rf "$tmp"; echo "vm build: failed (exit $rc); removed $tmp" >&2; fi; }
trap cleanup EXIT
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(date +%s.%N)
ssh-keygen -q -t ed25519 -N '' -C sctp-e2e-vm-client -f "$tmp/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C sctp-e2e-vm-host -f "$tmp/ssh_host_ed25519_key"
pkgs=$(grep -v '^\s*#' "$here/packages.txt" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
mirror=${SCTP_E2E_DEBIAN_MIRROR:-http://deb.debian.org/debian}
secmirror=${SCTP_E2E_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# /boot/config-* stays in the image (the sctp module probe reads it). Kernel, virtio and ext4 are modules in Debian's kernel, so an initrd is needed; MODULES=list keeps it ~6 MB.
mmdebstrap --variant=minbase --quiet --include="$kpkg,$pkgs" \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/sctp-e2e.conf"' \
  --setup-hook='printf "virtio_pci\nvirtio_blk\next4\nvirtio_net\n" > "$1/usr/share/initramfs-tools/modules.d/sctp-e2e.conf"' \
  --customize-hook='echo sctp-e2e-vm > "$1/etc/hostname"; echo "/dev/vda / ext4 rw,relatime 0 1" > "$1/etc/fstab"' \
  --customize-hook="mkdir -m700 -p \"\$1/root/.ssh\"; cp '$tmp/id_ed25519.pub' \"\$1/root/.ssh/authorized_keys\"" \
  --customize-hook="rm -f \"\$1\"/etc/ssh/ssh_host_*; cp '$tmp/ssh_host_ed25519_key' '$tmp/ssh_host_ed25519_key.pub' \"\$1/etc/ssh/\"; chmod 600 \"\$1/etc/ssh/ssh_host_ed25519_key\"" \
  --customize-hook='printf "HostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\nPermitRootLogin prohibit-password\n" > "$1/etc/ssh/sshd_config.d/sctp-e2e.conf"' \
  --customize-hook='mkdir -p "$1/etc/systemd/network"; printf "[Match]\nName=en*\n[Network]\nDHCP=ipv4\n" > "$1/etc/systemd/network/20-wired.network"' \
  --customize-hook='printf "[Match]\nMACAddress=52:54:00:c7:00:14\n[Link]\nRequiredForOnline=no\n[Network]\nAddress=10.199.0.20/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n" > "$1/etc/systemd/network/10-sctpe2e-cluster.network"' \
  --customize-hook='chroot "$1" systemctl disable containerd.service 2>/dev/null || true' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd ssh' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service e2scrub_all.timer fstrim.timer dpkg-db-backup.timer getty-static.service systemd-networkd-wait-online.service' \
  --customize-hook="bash '$here/prune-modules.sh' \"\$1\"" \
  --customize-hook="cp \"\$1\"/boot/vmlinuz-* '$tmp/vmlinuz'; cp \"\$1\"/boot/initrd.img-* '$tmp/initrd.img'; ls \"\$1/usr/lib/modules\" > '$tmp/kernel-release'" \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/* "$1"/boot/vmlinuz-* "$1"/boot/initrd.img-* "$1"/boot/System.map-*' \
  bookworm "$rootfs" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $secmirror bookworm-security main"
t1=$(date +%s.%N)
used_kb=$(du -sk "$rootfs" | cut -f1)
# ext4 with room to spare for test binaries; sparse on disk. The VM boots a qcow2 overlay, never this file.
mkfs.ext4 -q -F -L sctp-e2e-vm -d "$rootfs" "$tmp/rootfs.img" 2G
rm -rf "$rootfs"
t2=$(date +%s.%N)
rm -f "$tmp/ssh_host_ed25519_key"   # the private host key lives only in the image
cat > "$tmp/build.json" <<JSON
{ "kernelPackage": "$kpkg", "kernelRelease": "$(cat "$tmp/kernel-release")", "rootfsKiB": $used_kb,
  "mmdebstrapSeconds": $(secs "$t0" "$t1"), "mkfsSeconds": $(secs "$t1" "$t2"),
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)" }
JSON
rm -rf "$out"; mv "$tmp" "$out"
trap - EXIT
echo "vm build: image ready in $out (kernel $(cat "$out/kernel-release"), rootfs $((used_kb / 1024)) MiB, $(secs "$t0" "$t2") s)"
