# Sourced by cluster/build.sh and upstream/build.sh: a Go module that builds k8s.io/kubernetes packages at a tag.
# k8s.io/kubernetes' go.mod replaces its staging modules (k8s.io/api, client-go, …) by ./staging paths that a
# module download does not have; the shim replaces each by its published v0.X.Y tag instead.
#   k8s_shim DIR VERSION MODULE   creates DIR (a fresh go.mod named MODULE) and leaves the shell in it
#   k8s_ldflags VERSION           the -ldflags that stamp the version as upstream's release builds do
k8s_shim() {
  local dir=$1 version=$2 module=$3 gomod gover godebug m
  local staging=v0.${version#v1.}
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || return 3
  go mod init "$module" >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  [ -f "$gomod" ] || { echo "build: could not download k8s.io/kubernetes@$version" >&2; return 3; }
  gover=$(awk '$1=="go"{print $2; exit}' "$gomod"); godebug=$(awk '$1=="godebug"{print $2; exit}' "$gomod")
  go mod edit -go="$gover"
  [ -n "$godebug" ] && go mod edit -godebug="$godebug"
  local args=()
  for m in $(awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod"); do args+=("-replace=$m=$m@$staging"); done
  echo "build: k8s $version: ${#args[@]} staging modules -> $staging" >&2
  go mod edit "${args[@]}"
}

k8s_ldflags() {
  local version=$1 minor
  minor=$(echo "$version" | cut -d. -f2)
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1"
  ld+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$version"
  ld+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  ld+=" -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  echo "$ld"
}
