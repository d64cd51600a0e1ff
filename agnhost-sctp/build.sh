#!/usr/bin/env bash
# Builds agnhost-sctp/out/agnhost-sctp (static: glibc + Debian's libusrsctp.a) and the image
# archive registry.local/agnhost-sctp:$(cat VERSION) via lib/image. Reproducible: the same
# sources, compiler and libraries give the same binary and the same image digest.
# Last line of output: the archive path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$here/out"
version="$(tr -d ' \n' < "$here/VERSION")"
name="registry.local/agnhost-sctp:$version"
lib=/usr/lib/x86_64-linux-gnu/libusrsctp.a
for need in gcc strip "$lib" /bin/busybox; do
  if [[ "$need" == /* ]]; then [[ -e "$need" ]] || { echo "build: $need missing (run .ci/install-deps.sh: libusrsctp-dev, busybox-static)" >&2; exit 1; }
  else command -v "$need" >/dev/null || { echo "build: $need missing (run .ci/install-deps.sh: build-essential)" >&2; exit 1; }; fi
done
mkdir -p "$out"
export SOURCE_DATE_EPOCH=0 LC_ALL=C
export PATH="$repo/node_modules/.bin:$PATH"
# src/exit_classes.h (and its TS twin) must match exit-classes.json: `npm run agnhost:gen` rewrites them
(cd "$repo" && tsx agnhost-sctp/gen-exit-classes.ts --check)
# every src/*.c (sorted: LC_ALL=C); -Wl,--wrap=socket: raw SCTP sockets are born filtered (see src/stack.c)
gcc -O2 -Wall -Wextra -std=gnu11 -DINET -DINET6 -DAGNHOST_VERSION="\"$version\"" \
  -ffile-prefix-map="$here"=. -fno-ident -static -Wl,--build-id=none -Wl,--wrap=socket \
  -o "$out/agnhost-sctp.tmp" "$here"/src/*.c \
  "$lib" -lpthread 2> "$out/gcc.log" || { cat "$out/gcc.log" >&2; exit 1; }
# the one expected linker note: getaddrinfo in a static binary (see README, DNS)
grep -v -e "getaddrinfo" -e "in function \`resolve_host'" "$out/gcc.log" >&2 || true
strip --strip-all "$out/agnhost-sctp.tmp"
mv "$out/agnhost-sctp.tmp" "$out/agnhost-sctp"

applets=(sh ash nsenter cat ls ip nslookup sleep echo env grep sed awk head tail wc ps kill mkdir rm cp mv ln
  chroot mount umount hostname ping nc wget sysctl cut tr sort uniq test true false timeout date id uname
  readlink stat find xargs tee touch which printf seq dirname basename netstat lsmod setpriv unshare)
args=(--name "$name" --out "$out/agnhost-sctp-$version.tar"
  --file "$out/agnhost-sctp:/agnhost-sctp:0755" --file /bin/busybox:/bin/busybox:0755
  --file /usr/share/doc/libusrsctp-dev/copyright:/licenses/usrsctp:0644
  --file /usr/share/doc/busybox-static/copyright:/licenses/busybox:0644
  --file "$here/README.md:/licenses/README-agnhost-sctp.md:0644"
  --dir /tmp:1777 --dir /etc
  --entrypoint '["/agnhost-sctp"]' --cmd '["pause"]' --env PATH=/bin:/
  --label org.opencontainers.image.title=agnhost-sctp
  --label "org.opencontainers.image.version=$version"
  --label "org.opencontainers.image.description=agnhost netexec/connect/porter with kernel or userspace (usrsctp over raw IP) SCTP; busybox host-exec tools"
  --label org.opencontainers.image.licenses="Apache-2.0 AND BSD-3-Clause AND GPL-2.0-only"
  --label sctp-e2e.io/requires-capabilities=NET_RAW
  --label sctp-e2e.io/sctp-stacks=kernel,userspace)
for a in "${applets[@]}"; do args+=(--symlink "busybox:/bin/$a"); done
result="$(cd "$repo" && tsx lib/image/cli.ts "${args[@]}")"
echo "$result" > "$out/image.json"
# the same file tree, unpacked, as the build context of ./Dockerfile
layer="$(sed -n 's/.*"layerDigest":"sha256:\([0-9a-f]*\)".*/\1/p' "$out/image.json")"
rm -rf "$out/rootfs" && mkdir -p "$out/rootfs"
tar -xOf "$out/agnhost-sctp-$version.tar" "blobs/sha256/$layer" | tar -xzf - -C "$out/rootfs"
binsize=$(stat -c %s "$out/agnhost-sctp")
echo "build: binary $out/agnhost-sctp ($binsize bytes, sha256 $(sha256sum "$out/agnhost-sctp" | cut -c1-16)…)" >&2
echo "build: image $result" >&2
echo "$out/agnhost-sctp-$version.tar"
