// Pure renderers for the NetworkPolicy implementation of the local cluster (Cilium, see README.md).
// No I/O here; render.test.ts checks the output.

import type { NetnsNode, ProxyMode } from '../contract.ts';

export const CILIUM_VERSION = 'v1.15.19';

/** What the renderers need of a cluster.json node (cluster/contract.ts): Cilium runs in its netns. */
export type ClusterNode = Pick<NetnsNode, 'name' | 'ip' | 'netns'>;

/** What `netpol up` created, so that `netpol down` removes exactly that. */
export interface NetpolState {
  startedAt: string;
  version: string;
  binDir: string;
  /** Host files we created (the CNI wrapper) — removed on down. */
  createdFiles: string[];
  /** Files written into the cluster's CNI conf dirs — removed on down. */
  cniConfs: string[];
  /** bpffs mount points we mounted — unmounted on down. */
  mounts: string[];
  /** Nodes whose ipv4-pod-cidr annotation we set. */
  annotated: string[];
  /** Routes added in the host netns (the outside netns reaches pods through the host): `ip route del` on down. */
  hostRoutes: string[];
  crdsApplied: boolean;
  sctp: boolean;
  /** `up --kpr`: Cilium serves Services (no kube-proxy); absent in states written before the flag. */
  kpr?: boolean;
}

export function netpolDir(stateDir: string): string {
  return `${stateDir}/netpol`;
}

/** Per-node paths. Keyed by netns name: the CNI wrapper finds its node with `ip netns identify`. */
export function nodePaths(stateDir: string, n: ClusterNode) {
  const d = `${netpolDir(stateDir)}/${n.netns}`;
  return {
    dir: d,
    run: `${d}/run`,
    sock: `${d}/cilium.sock`,
    bpffs: `${d}/bpffs`,
    masks: `${d}/sysctl-masks`,
    log: `${netpolDir(stateDir)}/logs/cilium-agent-${n.name}.log`,
    pidName: `cilium-agent-${n.name}`,
  };
}

/** Pod range Cilium hands out on node N: outside the bridge CNI's 10.244.N.0/24 so the two never share a route. */
export function ciliumPodCIDR(nodeIndex: number): string {
  if (!Number.isInteger(nodeIndex) || nodeIndex < 1 || nodeIndex > 9) throw new Error(`node index must be 1..9, got ${nodeIndex}`);
  return `10.244.${100 + nodeIndex}.0/24`;
}

export const POD_CIDR_ANNOTATION = 'network.cilium.io/ipv4-pod-cidr';

/**
 * Global (not per-netns) sysctls that cilium-agent writes at start. kernel.unprivileged_bpf_disabled=1 cannot be
 * undone without a reboot, so the agent runs in a private mount namespace where these files are bind-mounted over
 * with plain files (its writes land there; IgnoreErr upstream).
 */
export const MASKED_SYSCTLS = ['kernel/unprivileged_bpf_disabled', 'kernel/timer_migration'];

/**
 * `up --kpr`: Cilium's eBPF Service translation in place of kube-proxy, per packet only. Why not
 * `--kube-proxy-replacement=true`: in v1.15 it forces socket LB on (daemon/cmd/kube_proxy_replacement.go:74-86,
 * `option.Config.EnableSocketLB = true`, whatever --bpf-lb-sock says). Socket LB attaches bpf_sock to the cgroup v2
 * root, which every node netns here shares with the host and with the outside netns: each agent would attach its
 * own programs there, and the outside vantage point's TCP/UDP connects to NodePorts would be rewritten at connect()
 * on the host instead of crossing the node's datapath. So kube-proxy-replacement=false with each feature that
 * `true` turns on enabled by name (NodePort, externalIPs, hostPort, session affinity), and socket LB off: Services
 * are translated per packet in bpf_lxc (pods) and bpf_host on eth0 (NodePort, externalIPs, LoadBalancer IPs), which is
 * also where SCTP is handled (bpf/bpf_lxc.c:60-71, ENABLE_SCTP -> ENABLE_PER_PACKET_LB).
 */
export function kprArgs(apiServer: string): string[] {
  return [
    // No ClusterIP exists before Cilium: the API server itself (cluster/topology.ts apiServerURL).
    `--k8s-api-server=${apiServer}`,
    '--kube-proxy-replacement=false',
    '--enable-node-port=true',
    '--enable-external-ips=true',
    '--enable-host-port=true',
    '--enable-session-affinity=true',
    '--bpf-lb-sock=false',
  ];
}

export function agentArgs(o: {
  stateDir: string;
  node: ClusterNode;
  kubeconfig: string;
  podCIDR: string;
  libDir: string;
  sctp?: boolean;
  /** The API server URL: Cilium serves Services (kprArgs). */
  kprApiServer?: string;
}): string[] {
  const p = nodePaths(o.stateDir, o.node);
  const services = o.kprApiServer
    ? kprArgs(o.kprApiServer)
    : [
        // kube-proxy (iptables mode) keeps doing Services; Cilium's SCTP support excludes KPR anyway.
        '--kube-proxy-replacement=false',
        '--enable-node-port=false',
        '--bpf-lb-sock=false',
      ];
  return [
    `--k8s-kubeconfig-path=${o.kubeconfig}`,
    '--k8s-namespace=kube-system',
    '--enable-k8s-networkpolicy=true',
    '--enable-policy=default',
    // The point of this deployment: SCTP in policies (beta upstream and off by default: `up --sctp=off` runs that
    // default, an implementation that does not handle SCTP, for the suite's negative verdict).
    `--enable-sctp=${o.sctp === false ? 'false' : 'true'}`,
    '--ipam=kubernetes',
    '--enable-ipv4=true',
    '--enable-ipv6=false',
    '--routing-mode=native',
    `--ipv4-native-routing-cidr=${o.podCIDR}`,
    '--enable-endpoint-routes=true',
    // Nodes share one L2 (10.199.0.0/24): each agent routes the other nodes' Cilium pod ranges via their node IP.
    '--auto-direct-node-routes=true',
    ...services,
    '--enable-ipv4-masquerade=false',
    '--enable-bpf-masquerade=false',
    '--install-iptables-rules=true',
    '--enable-l7-proxy=false',
    '--enable-envoy-config=false',
    '--enable-health-checking=false',
    '--enable-endpoint-health-checking=false',
    '--enable-hubble=false',
    '--enable-l2-neigh-discovery=false',
    '--identity-allocation-mode=crd',
    '--cni-exclusive=false',
    '--devices=eth0',
    `--bpf-root=${p.bpffs}`,
    '--cgroup-root=/sys/fs/cgroup/unified',
    `--state-dir=${p.run}`,
    `--socket-path=${p.sock}`,
    `--lib-dir=${o.libDir}`,
    '--agent-health-port=9879',
    `--cluster-name=sctp-e2e`,
  ];
}

/** Shell run inside the node netns: private mount ns, mask global sysctls, exec the agent (PID stays the agent's). */
export function agentLauncher(o: { masksDir: string; agent: string; args: string[]; nodeName: string }): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const binds = MASKED_SYSCTLS.map((s) => {
    const f = `${o.masksDir}/${s.replace('/', '.')}`;
    return `cat /proc/sys/${s} > ${q(f)} && mount --bind ${q(f)} /proc/sys/${s}`;
  });
  // The agent finds its Node object (and pod range) by K8S_NODE_NAME, else by the host's hostname.
  const script = ['set -e', ...binds, `export K8S_NODE_NAME=${q(o.nodeName)}`, `exec ${q(o.agent)} ${o.args.map(q).join(' ')}`].join('\n');
  return ['unshare', '--mount', '--propagation', 'slave', '--', 'sh', '-c', script];
}

/** CNI plugin wrapper installed as <cni bin dir>/cilium-cni: points the real plugin at the agent of its node. */
export function cniWrapper(o: { netpolDir: string; realBin: string }): string {
  return `#!/bin/sh
# Written by cluster/netpol (sctp-e2e); removed by \`npm run netpol:down\`.
# containerd runs CNI plugins inside the node's netns: find which node this is and use its cilium-agent socket.
ns=$(/usr/sbin/ip netns identify 2>/dev/null || /sbin/ip netns identify 2>/dev/null)
export CILIUM_SOCK="${o.netpolDir}/$ns/cilium.sock"
exec "${o.realBin}" "$@"
`;
}

/** The conflist that replaces bridge+host-local with cilium-cni (+ the same portmap as the cluster's). */
export function renderCniConflist(o: { node: ClusterNode; proxyMode: ProxyMode; logFile: string; kpr?: boolean }): string {
  const portmap: Record<string, unknown> = { type: 'portmap', capabilities: { portMappings: true }, snat: true };
  if (o.proxyMode === 'iptables') portmap.externalSetMarkChain = 'KUBE-MARK-MASQ';
  // With --kpr the agent serves hostPorts itself (--enable-host-port, from the pod specs): no portmap rules.
  return (
    JSON.stringify(
      {
        cniVersion: '0.3.1',
        name: 'cilium',
        plugins: [{ type: 'cilium-cni', 'enable-debug': false, 'log-file': o.logFile }, ...(o.kpr ? [] : [portmap])],
      },
      null,
      2,
    ) + '\n'
  );
}

/** File name that sorts before the cluster's 10-sctpe2e.conflist (containerd uses the first one, max_conf_num=1). */
export const CNI_CONF_NAME = '05-cilium.conflist';
