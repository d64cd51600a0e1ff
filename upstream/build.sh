#!/usr/bin/env bash
# Builds upstream's SCTP conformance tooling at the cluster's Kubernetes version, offline except for the
# Go module proxy, and caches it by version:
#   e2e.test  `go test -c k8s.io/kubernetes/test/e2e` through a shim module (staging modules replaced
#             by their v0.X.Y tags, as cluster/build.sh does for the cluster binaries);
#   agnhost   `k8s.io/kubernetes/test/images/agnhost` from the same module, and an image archive
#             registry.local/e2e-test-images/agnhost:<the tag e2e.test --list-images names>, built by
#             lib/image: /agnhost, busybox (sh, nsenter: upstream's hostexec) and Debian's curl with
#             its libraries (upstream's DialFromContainer runs curl in the agnhost container);
#   repo-list.yaml  a KUBE_TEST_REPO_LIST file that points e2e.test's promoterE2eRegistry at it.
# Usage: upstream/build.sh [K8S_VERSION]   (default: the local cluster's, v1.34.4). Prints the dir last.
set -euo pipefail
K8S_VERSION=${1:-${K8S_VERSION:-v1.34.4}}
CACHE=${SCTP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sctp-e2e}
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/.." && pwd)
key=$(printf '%s\n' "$K8S_VERSION" "$(cat "$here/build.sh" "$repo/cluster/k8s-shim.sh" | sha256sum)" | sha256sum | cut -c1-12)
OUT=$CACHE/upstream-$K8S_VERSION-$key
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
log() { printf '[upstream %s] %s\n' "$(date +%T)" "$*" >&2; }
# shellcheck source=../cluster/k8s-shim.sh
. "$repo/cluster/k8s-shim.sh"
[[ "$K8S_VERSION" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "upstream/build.sh: version must look like v1.34.4, got '$K8S_VERSION'" >&2; exit 2; }
command -v go >/dev/null || { echo "upstream/build.sh: Go is not installed (need go >= 1.24 on PATH)" >&2; exit 3; }
for need in /bin/busybox /usr/bin/curl; do [ -x "$need" ] || { echo "upstream/build.sh: $need missing (run .ci/install-deps.sh)" >&2; exit 3; }; done
if [ -f "$OUT/build.json" ]; then log "cached: $OUT"; echo "$OUT"; exit 0; fi
start=$(date +%s); mkdir -p "$OUT.tmp" "$CACHE/src"

shim=$CACHE/src/upstream-e2e-$K8S_VERSION
if [ ! -x "$OUT.tmp/e2e.test" ] || [ ! -x "$OUT.tmp/agnhost" ]; then
  k8s_shim "$shim" "$K8S_VERSION" local.invalid/upstreame2e
  # import both packages first, so that the pinned k8s.io/kubernetes is never "tidied" to latest
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/test/e2e"\n\t_ "k8s.io/kubernetes/test/images/agnhost"\n)\n' > tools.go
  go get "k8s.io/kubernetes@$K8S_VERSION" >/dev/null 2>&1 || go get "k8s.io/kubernetes@$K8S_VERSION"
  # test-only dependencies of test/e2e (ginkgo, gomega, ...) come from kubernetes' own go.mod through MVS
  go get "k8s.io/kubernetes/test/e2e@$K8S_VERSION" "k8s.io/kubernetes/test/images/agnhost@$K8S_VERSION" >/dev/null 2>&1 ||
    go get "k8s.io/kubernetes/test/e2e@$K8S_VERSION" "k8s.io/kubernetes/test/images/agnhost@$K8S_VERSION"
  grep -q "k8s.io/kubernetes $K8S_VERSION" go.mod || { echo "upstream/build.sh: go.mod does not pin k8s.io/kubernetes $K8S_VERSION" >&2; exit 3; }
  ld=$(k8s_ldflags "$K8S_VERSION")
  log "compiling e2e.test $K8S_VERSION (cold: several minutes on 2 cores)"
  go test -c -trimpath -ldflags "$ld" -o "$OUT.tmp/e2e.test" k8s.io/kubernetes/test/e2e
  log "compiling agnhost"
  go build -trimpath -ldflags "-s -w" -o "$OUT.tmp/agnhost" k8s.io/kubernetes/test/images/agnhost
fi

# the agnhost tag this e2e.test asks for (test/utils/image/manifest.go)
ref=$("$OUT.tmp/e2e.test" --list-images 2>/dev/null | grep -m1 '/e2e-test-images/agnhost:' || true)
[ -n "$ref" ] || { echo "upstream/build.sh: e2e.test --list-images names no agnhost image" >&2; exit 3; }
tag=${ref##*:}
src_version=$(cat "$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/test/images/agnhost/VERSION" 2>/dev/null || echo unknown)
name=registry.local/e2e-test-images/agnhost:$tag
log "agnhost image $name (e2e.test lists $ref; agnhost source VERSION at $K8S_VERSION: $src_version)"

# curl and every library it loads, at their Debian paths
files=(--file "$OUT.tmp/agnhost:/agnhost:0755" --file /bin/busybox:/bin/busybox:0755 --file /usr/bin/curl:/usr/bin/curl:0755)
for lib in $(ldd /usr/bin/curl | awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
  real=$(readlink -f "$lib"); files+=(--file "$real:$lib:0755")
done
applets=(sh ash nsenter cat ls ip nslookup sleep echo env grep sed awk head tail wc ps kill mkdir rm cp mv ln
  hostname ping nc wget cut tr sort test true false timeout date id uname lsmod printf seq)
links=(); for a in "${applets[@]}"; do links+=(--symlink "busybox:/bin/$a"); done
cd "$repo"
result=$(PATH="$repo/node_modules/.bin:$PATH" tsx lib/image/cli.ts --name "$name" --out "$OUT.tmp/agnhost-$tag.tar" \
  "${files[@]}" "${links[@]}" --dir /tmp:1777 --dir /etc \
  --entrypoint '["/agnhost"]' --cmd '["pause"]' --env PATH=/usr/bin:/bin:/ \
  --label org.opencontainers.image.title=agnhost \
  --label "org.opencontainers.image.version=$tag" \
  --label "org.opencontainers.image.source=k8s.io/kubernetes/test/images/agnhost@$K8S_VERSION" \
  --label "org.opencontainers.image.description=upstream agnhost built from k8s.io/kubernetes $K8S_VERSION; busybox and Debian curl")
echo "$result" > "$OUT.tmp/image.json"
printf 'promoterE2eRegistry: registry.local/e2e-test-images\n' > "$OUT.tmp/repo-list.yaml"
"$OUT.tmp/e2e.test" --list-images 2>/dev/null > "$OUT.tmp/images.txt" || true
digest=$(sed -n 's/.*"digest":"\([^"]*\)".*/\1/p' "$OUT.tmp/image.json")
printf '{"k8sVersion":"%s","agnhostTag":"%s","agnhostSourceVersion":"%s","image":"%s","imageDigest":"%s","archive":"%s","e2eTestSha256":"%s","agnhostSha256":"%s"}\n' \
  "$K8S_VERSION" "$tag" "$src_version" "$name" "$digest" "$OUT/agnhost-$tag.tar" \
  "$(sha256sum "$OUT.tmp/e2e.test" | cut -d' ' -f1)" "$(sha256sum "$OUT.tmp/agnhost" | cut -d' ' -f1)" > "$OUT.tmp/build.json"
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
sed -i "s#$OUT.tmp#$OUT#g" "$OUT/image.json"
log "built in $(( $(date +%s) - start ))s: $OUT"
echo "$OUT"
