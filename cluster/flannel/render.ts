// Pure renderers for flannel on the local cluster (VXLAN backend, see README.md). No I/O here; render.test.ts
// checks the output.

import type { NetnsNode, ProxyMode } from '../contract.ts';

export const FLANNEL_VERSION = 'v0.28.10';
/** The flannel CNI plugin's source: github.com/flannel-io/cni-plugin is refused by the module proxy (build.sh). */
export const CNI_PLUGIN_SOURCE = 'github.com/containernetworking/plugins@v0.9.1 plugins/meta/flannel';

/** What the renderers need of a cluster.json node (cluster/contract.ts): flanneld runs in its netns. */
export type ClusterNode = Pick<NetnsNode, 'name' | 'ip' | 'netns'>;

/** The VXLAN device flanneld creates in each node netns (VNI 1), and its UDP port (the Linux/flannel default). */
export const VXLAN = { device: 'flannel.1', vni: 1, port: 8472 } as const;
/** The bridge the CNI plugin's delegate puts pods on: not `cni0`, which the cluster's own bridge CNI uses. */
export const POD_BRIDGE = 'cni-flannel';
/** flanneld's healthz, on the node netns' loopback. */
export const HEALTHZ_PORT = 10267;

/** What `flannel up` created, so that `flannel down` removes exactly that. */
export interface FlannelState {
  startedAt: string;
  version: string;
  binDir: string;
  /** Host files we created (the CNI plugin wrapper) — removed on down. */
  createdFiles: string[];
  /** Files written into the cluster's CNI conf dirs — removed on down. */
  cniConfs: string[];
  /** Routes added in the host netns for the outside vantage point: `ip route del` on down. */
  hostRoutes: string[];
  /** Nodes whose spec.podCIDR we set (it cannot be unset; it stays until cluster:down). */
  podCIDRSet: string[];
}

export function flannelDir(stateDir: string): string {
  return `${stateDir}/flannel`;
}

/** Per-node paths, all under the add-on's state dir. */
export function nodePaths(stateDir: string, n: ClusterNode) {
  const d = `${flannelDir(stateDir)}/${n.netns}`;
  return {
    dir: d,
    netConf: `${d}/net-conf.json`,
    subnetFile: `${d}/subnet.env`,
    /** The CNI plugin's scratch dir (delegate configs per container). */
    cniDataDir: `${d}/cni`,
    /** host-local's leases for this node's flannel range. */
    ipamDir: `${d}/ipam`,
    log: `${flannelDir(stateDir)}/logs/flanneld-${n.name}.log`,
    pidName: `flanneld-${n.name}`,
  };
}

/**
 * Pod range flannel gives node N (its spec.podCIDR): outside the bridge CNI's 10.244.N.0/24, which the root and
 * node netns route to node N over eth0, so that cross-node traffic between flannel pods can only take flannel.1.
 * The same range cluster/netpol gives Cilium (a node's spec.podCIDR can be set once).
 */
export function flannelPodCIDR(nodeIndex: number): string {
  if (!Number.isInteger(nodeIndex) || nodeIndex < 1 || nodeIndex > 9) throw new Error(`node index must be 1..9, got ${nodeIndex}`);
  return `10.244.${100 + nodeIndex}.0/24`;
}

/** The index N of a node named …nodeN. */
export function nodeIndex(name: string): number {
  const m = /node(\d+)$/.exec(name);
  if (!m) throw new Error(`cannot tell the index of node ${name}`);
  return Number(m[1]);
}

/** Is this pod IP one flannel handed out (10.244.101-109.x)? `down` deletes those pods. */
export function isFlannelPodIP(ip: string): boolean {
  return /^10\.244\.10[1-9]\.\d+$/.test(ip);
}

/** flanneld's net-conf.json: the cluster's pod network, backend vxlan with its VNI and port spelled out. */
export function renderNetConf(network: string): string {
  return (
    JSON.stringify(
      { Network: network, EnableIPv4: true, EnableIPv6: false, EnableNFTables: false, Backend: { Type: 'vxlan', VNI: VXLAN.vni, Port: VXLAN.port } },
      null,
      2,
    ) + '\n'
  );
}

/**
 * flanneld's arguments: the Kubernetes subnet manager (the node's spec.podCIDR is its lease, flannel's node
 * annotations carry the VTEP), eth0 of the node netns for the tunnel, --ip-masq as upstream's manifest (so the CNI
 * plugin's bridge does not masquerade pod-to-pod traffic), every path under the add-on's state dir.
 */
export function flanneldArgs(o: { stateDir: string; node: ClusterNode; kubeconfig: string }): string[] {
  const p = nodePaths(o.stateDir, o.node);
  return [
    '--kube-subnet-mgr',
    `--kubeconfig-file=${o.kubeconfig}`,
    '--iface=eth0',
    `--public-ip=${o.node.ip}`,
    '--ip-masq',
    `--net-config-path=${p.netConf}`,
    `--subnet-file=${p.subnetFile}`,
    '--healthz-ip=127.0.0.1',
    `--healthz-port=${HEALTHZ_PORT}`,
    '--v=1',
  ];
}

/** The environment flanneld finds its Node by (outside a pod it reads NODE_NAME). */
export function flanneldEnv(base: NodeJS.ProcessEnv, nodeName: string): NodeJS.ProcessEnv {
  return { ...base, NODE_NAME: nodeName };
}

export const WRAPPER_MARK = 'Written by cluster/flannel (sctp-e2e)';

/** <cni bin dir>/flannel: containerd looks plugins up by type in its one bin_dir; this runs our build. */
export function cniWrapper(realBin: string): string {
  return `#!/bin/sh
# ${WRAPPER_MARK}; removed by \`npm run flannel:down\`.
exec "${realBin}" "$@"
`;
}

/**
 * The conflist that replaces the cluster's bridge+host-local: the flannel CNI plugin (it reads the node's subnet.env
 * and delegates to bridge + host-local on ${POD_BRIDGE} with flannel's MTU) + the same portmap as the cluster's.
 */
export function renderCniConflist(o: { stateDir: string; node: ClusterNode; proxyMode: ProxyMode }): string {
  const p = nodePaths(o.stateDir, o.node);
  const portmap: Record<string, unknown> = { type: 'portmap', capabilities: { portMappings: true }, snat: true };
  if (o.proxyMode === 'iptables') portmap.externalSetMarkChain = 'KUBE-MARK-MASQ';
  return (
    JSON.stringify(
      {
        cniVersion: '0.3.1',
        name: 'flannel',
        plugins: [
          {
            type: 'flannel',
            subnetFile: p.subnetFile,
            dataDir: p.cniDataDir,
            ipam: { type: 'host-local', dataDir: p.ipamDir },
            delegate: { bridge: POD_BRIDGE, hairpinMode: true, isDefaultGateway: true },
          },
          portmap,
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

/** File name that sorts before the cluster's 10-sctpe2e.conflist (containerd uses the first one, max_conf_num=1). */
export const CNI_CONF_NAME = '05-flannel.conflist';

/** subnet.env → its variables (FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ). */
export function parseSubnetEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(l.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** `ip -d -s -j link show flannel.1` (one element) → what status and the VXLAN proof print. */
export interface VxlanLink {
  present: boolean;
  vni?: number;
  local?: string;
  port?: number;
  mtu?: number;
  rxPackets?: number;
  txPackets?: number;
}

export function parseVxlanLink(json: string): VxlanLink {
  let a: unknown;
  try {
    a = JSON.parse(json);
  } catch {
    return { present: false };
  }
  const l = Array.isArray(a) ? (a[0] as Record<string, unknown> | undefined) : undefined;
  if (!l) return { present: false };
  const info = (l.linkinfo as { info_kind?: string; info_data?: Record<string, unknown> } | undefined) ?? {};
  const stats = (l.stats64 as { rx?: { packets?: number }; tx?: { packets?: number } } | undefined) ?? {};
  return {
    present: info.info_kind === 'vxlan',
    vni: info.info_data?.id as number | undefined,
    local: info.info_data?.local as string | undefined,
    port: info.info_data?.port as number | undefined,
    mtu: l.mtu as number | undefined,
    rxPackets: stats.rx?.packets,
    txPackets: stats.tx?.packets,
  };
}
