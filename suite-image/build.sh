#!/usr/bin/env bash
# Builds the suite image registry.local/sctp-e2e-suite:<package.json version> offline with lib/image (no
# registry, no Docker): see suite-image/build.ts and README.md. `npm run suite-image:build [-- --force]`.
# Cached under ~/.cache/sctp-e2e/suite-image-<version>-<inputs hash>/ (SCTP_E2E_CACHE, XDG_CACHE_HOME move
# it); prints the archive path last. Import it: ctr -n k8s.io images import <path> | docker load -i <path> |
# kind load image-archive <path>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
for need in ldd /bin/busybox "$repo/node_modules/node/bin/node" "$repo/node_modules/.bin/tsx"; do
  if [[ "$need" == /* ]]; then [[ -e "$need" ]] || { echo "suite-image build: $need missing (npm ci; busybox-static)" >&2; exit 1; }
  else command -v "$need" >/dev/null || { echo "suite-image build: $need missing (libc-bin)" >&2; exit 1; }; fi
done
export PATH="$repo/node_modules/.bin:$PATH" LC_ALL=C
cd "$repo"
json="$(tsx suite-image/build.ts "$@")"
echo "$json" >&2
sed -n 's/.*"path":"\([^"]*\)".*/\1/p' <<<"$json"
