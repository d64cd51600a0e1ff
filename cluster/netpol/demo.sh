#!/usr/bin/env bash
# Demonstrates NetworkPolicy enforcement for SCTP on the local cluster (needs `npm run cluster:up` and
# `npm run netpol:up`). Probes SCTP, TCP and UDP to port 5060 of a porter pod from a client pod:
#   1. no policy            -> all allowed
#   2. deny-all ingress     -> all blocked
#   3. + allow SCTP/5060    -> SCTP allowed, TCP and UDP still blocked
# Prints one verdict line per step and exits non-zero when an observation differs from the expectation.
# Removes its namespace at the end (also on failure).
set -uo pipefail
STATE=${SCTP_E2E_CLUSTER_DIR:-/var/lib/sctp-e2e/cluster}
NS=${NETPOL_DEMO_NS:-netpol-demo}
[ -f "$STATE/cluster.json" ] || { echo "demo: the local cluster is not up ($STATE/cluster.json missing)" >&2; exit 1; }
KC=$(sed -n 's/.*"kubeconfig": "\(.*\)".*/\1/p' "$STATE/cluster.json" | head -1)
IMG=$(sed -n 's/.*"agnhost": "\(.*\)".*/\1/p' "$STATE/cluster.json" | head -1)
NETNS=$(sed -n 's/.*"netns": "\(sctpe2e-node[0-9]*\)".*/\1/p' "$STATE/cluster.json" | head -1)
BIN=$(sed -n 's/.*"binDir": "\(.*\)".*/\1/p' "$STATE/state.json" 2>/dev/null | head -1)
K() { timeout 90 "${BIN:+$BIN/}kubectl" --kubeconfig="$KC" "$@"; }
cleanup() { K delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

K create namespace "$NS" >/dev/null
K apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: server, labels: {app: server}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: porter
    image: $IMG
    imagePullPolicy: Never
    args: ["--bind-address=\$(POD_IP)", "porter"]
    env:
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: SERVE_SCTP_PORT_5060, value: sctp-ok}
    - {name: SERVE_TCP_PORT_5060, value: tcp-ok}
    - {name: SERVE_UDP_PORT_5060, value: udp-ok}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: client
    image: $IMG
    imagePullPolicy: Never
    args: ["porter"]
    env:
    - {name: SERVE_TCP_PORT_8080, value: idle}
EOF
K wait -n "$NS" --for=condition=Ready pod/server pod/client --timeout=120s >/dev/null || { K get pods -n "$NS" -o wide; exit 1; }
IP=$(K get pod -n "$NS" server -o jsonpath='{.status.podIP}')
echo "server $IP, client $(K get pod -n "$NS" client -o jsonpath='{.status.podIP}')"

fail=0
probe() { # step-name expected-sctp expected-tcp expected-udp
  local name=$1 line="" got
  shift
  for proto in sctp tcp udp; do
    K exec -n "$NS" client -- /agnhost-sctp connect "$IP:5060" --protocol=$proto --timeout=3s >/dev/null 2>&1
    case $? in 0) got=allowed ;; 2) got=blocked ;; *) got="error($?)" ;; esac
    [ "$got" = "$1" ] || { fail=1; got="$got(expected $1)"; }
    line+=" $proto=$got"
    shift
  done
  echo "$name:$line"
}

probe "1 no policy          " allowed allowed allowed
K apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all-ingress}
spec: {podSelector: {}, policyTypes: [Ingress]}
EOF
sleep 3
probe "2 deny-all ingress   " blocked blocked blocked
K apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-sctp-5060}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{protocol: SCTP, port: 5060}]
EOF
sleep 3
probe "3 + allow SCTP/5060  " allowed blocked blocked

if [ -n "${NETNS:-}" ]; then
  echo "--- iptables rules mentioning sctp in $NETNS (Cilium enforces in eBPF; these are kube-proxy/portmap/CILIUM_* rules):"
  nsenter --net=/run/netns/"$NETNS" iptables-save | grep -i sctp | head -20
  NB=$(sed -n 's/.*"binDir": "\(.*\)".*/\1/p' "$STATE/netpol/state.json" 2>/dev/null | head -1)
  SOCK=$STATE/netpol/$NETNS/cilium.sock
  if [ -n "$NB" ] && [ -S "$SOCK" ]; then
    EP=$("$NB/cilium-dbg" -H "unix://$SOCK" endpoint list -o jsonpath="{range [*]}{.id} {.status.networking.addressing[0].ipv4}{'\n'}{end}" 2>/dev/null | awk -v ip="$IP" '$2==ip{print $1}')
    echo "--- Cilium policy map of the server endpoint $EP (proto 132 = SCTP):"
    [ -n "$EP" ] && "$NB/cilium-dbg" -H "unix://$SOCK" bpf policy get "$EP" 2>&1 | head -20
  fi
fi
[ $fail = 0 ] && echo "demo: all observations as expected" || echo "demo: some observations differ from the expectation"
exit $fail
