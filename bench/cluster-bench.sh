#!/usr/bin/env bash
# Benchmark of the local from-source cluster (cluster/): cold build time (read from the build log, never
# rebuilt here), warm `cluster up` wall time, `cluster down` wall time, and peak memory of the cluster
# (sum of RSS over every process in the node netns and in the kubelet's cgroups, sampled every second
# from the start of `up` to the start of `down`). Prints a table and one JSON line.
#   usage: bash bench/cluster-bench.sh [ROUNDS=2] [--proxy-mode iptables|nftables] [--hold SECONDS]
# Needs root and no cluster running. Leaves nothing behind (every round ends with `cluster down`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
ROUNDS=2 MODE=iptables HOLD=10
while [ $# -gt 0 ]; do
  case $1 in
    --proxy-mode) MODE=$2; shift 2 ;;
    --hold) HOLD=$2; shift 2 ;;
    [0-9]*) ROUNDS=$1; shift ;;
    *) echo "cluster-bench: unknown argument $1 (usage: bash bench/cluster-bench.sh [ROUNDS] [--proxy-mode M] [--hold S])" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "cluster-bench: must run as root (cluster up creates netns, mounts, cgroups)" >&2; exit 2; }
if [ -e /run/netns/sctpe2e-node1 ]; then echo "cluster-bench: a cluster is already up (netns sctpe2e-node1); run npm run cluster:down first" >&2; exit 2; fi

BUILD_LOG=${BUILD_LOG:-/tmp/build.log}
cold="unknown"
if [ -f "$BUILD_LOG" ]; then
  cold=$(sed -n 's/.*built in \([0-9]*\)s: .*/\1/p' "$BUILD_LOG" | tail -1)
  [ -n "$cold" ] || cold="unknown"
fi

now() { date +%s.%N; }
rss_sum_kb() {  # RSS (kB) of everything in the node netns plus everything in the kubelet's cgroups
  local ino sum=0 p pids=()
  ino=$(stat -L -c %i /run/netns/sctpe2e-node1 2>/dev/null) || { echo 0; return; }
  for p in /proc/[0-9]*; do
    [ "$(stat -L -c %i "$p/ns/net" 2>/dev/null)" = "$ino" ] && pids+=("${p#/proc/}")
  done
  if [ -d /sys/fs/cgroup/memory/sctpe2e-node1 ]; then
    while read -r p; do pids+=("$p"); done < <(find /sys/fs/cgroup/memory/sctpe2e-node1 -name cgroup.procs -exec cat {} + 2>/dev/null)
  fi
  for p in $(printf '%s\n' "${pids[@]}" | sort -un); do
    r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || true)
    sum=$((sum + ${r:-0}))
  done
  echo "$sum"
}

ups=() downs=() peaks=()
for i in $(seq 1 "$ROUNDS"); do
  peakfile=$(mktemp)
  echo 0 > "$peakfile"
  ( while :; do s=$(rss_sum_kb); [ "$s" -gt "$(cat "$peakfile")" ] && echo "$s" > "$peakfile"; sleep 1; done ) &
  sampler=$!
  t=$(now)
  if ! npx tsx cluster/cli.ts up --proxy-mode "$MODE" > /tmp/cluster-bench-up.$$ 2>&1; then
    kill "$sampler"; wait "$sampler" 2>/dev/null || true; rm -f "$peakfile"
    echo "cluster-bench: round $i: cluster up failed; its output:" >&2; tail -20 /tmp/cluster-bench-up.$$ >&2; rm -f /tmp/cluster-bench-up.$$
    exit 1
  fi
  up_s=$(awk -v a="$(now)" -v b="$t" 'BEGIN{print a-b}')
  sleep "$HOLD"   # steady state: CoreDNS, controllers and kube-proxy synced
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  peak=$(cat "$peakfile"); rm -f "$peakfile" /tmp/cluster-bench-up.$$
  t=$(now)
  npx tsx cluster/cli.ts down > /dev/null 2>&1 || { echo "cluster-bench: round $i: cluster down failed" >&2; exit 1; }
  down_s=$(awk -v a="$(now)" -v b="$t" 'BEGIN{print a-b}')
  printf 'round %d: up %.1fs  down %.1fs  peak RSS %d MiB\n' "$i" "$up_s" "$down_s" $((peak / 1024))
  ups+=("$up_s") downs+=("$down_s") peaks+=("$peak")
done

max() { printf '%s\n' "$@" | sort -g | tail -1; }
min() { printf '%s\n' "$@" | sort -g | head -1; }
echo "---"
printf 'cold build (from %s): %ss\n' "$BUILD_LOG" "$cold"
printf 'warm up:  min %.1fs  max %.1fs  (target <= 90s)  [%s]\n' "$(min "${ups[@]}")" "$(max "${ups[@]}")" "$MODE"
printf 'down:     min %.1fs  max %.1fs\n' "$(min "${downs[@]}")" "$(max "${downs[@]}")"
printf 'peak RSS: %d MiB (sum over node netns + kubelet cgroups)\n' $(( $(max "${peaks[@]}") / 1024 ))
printf '{"bench":"cluster","proxyMode":"%s","rounds":%d,"coldBuildSeconds":"%s","upSeconds":[%s],"downSeconds":[%s],"peakRssKiB":[%s]}\n' \
  "$MODE" "$ROUNDS" "$cold" "$(IFS=,; echo "${ups[*]}")" "$(IFS=,; echo "${downs[*]}")" "$(IFS=,; echo "${peaks[*]}")"
