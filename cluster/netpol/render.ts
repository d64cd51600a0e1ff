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

export function agentArgs(o: { stateDir: string; node: ClusterNode; kubeconfig: string; podCIDR: string; libDir: string; sctp?: boolean }): string[] {
  const p = nodePaths(o.stateDir, o.node);
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
    // kube-proxy (iptables mode) keeps doing Services; Cilium's SCTP support excludes KPR anyway.
    '--kube-proxy-replacement=false',
    '--enable-node-port=false',
    '--bpf-lb-sock=false',
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
export function renderCniConflist(o: { node: ClusterNode; proxyMode: ProxyMode; logFile: string }): string {
  const portmap: Record<string, unknown> = { type: 'portmap', capabilities: { portMappings: true }, snat: true };
  if (o.proxyMode === 'iptables') portmap.externalSetMarkChain = 'KUBE-MARK-MASQ';
  return (
    JSON.stringify(
      {
        cniVersion: '0.3.1',
        name: 'cilium',
        plugins: [{ type: 'cilium-cni', 'enable-debug': false, 'log-file': o.logFile }, portmap],
      },
      null,
      2,
    ) + '\n'
  );
}

/** File name that sorts before the cluster's 10-sctpe2e.conflist (containerd uses the first one, max_conf_num=1). */
export const CNI_CONF_NAME = '05-cilium.conflist';
