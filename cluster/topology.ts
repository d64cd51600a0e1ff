// The local cluster's topology: names, address ranges, node specs and the state dir layout. Pure, imports nothing;
// cluster/contract.ts re-exports what readers of the state dir need; components.ts and render.ts build on it.

/** The modes kube-proxy runs in on this kernel (no IPVS). */
export const KUBE_PROXY_MODES = ['iptables', 'nftables'] as const;
/**
 * kube-proxy's mode in the local cluster; cluster.json names it (cluster/contract.ts). 'none': no kube-proxy runs
 * (a kube-proxy replacement, e.g. Cilium's, serves Services once its add-on is up: `netpol:up -- --kpr`).
 */
export const PROXY_MODES = [...KUBE_PROXY_MODES, 'none'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];
/** A node's own kube-proxy mode: the cluster's, or ipvs on the kernel-lane node (vm/join.ts), whose kernel has IPVS. */
export const NODE_PROXY_MODES = [...KUBE_PROXY_MODES, 'ipvs'] as const;
export type NodeProxyMode = (typeof NODE_PROXY_MODES)[number];

/**
 * The cluster's address families (`cluster:up -- --ip-family`): ipv4 (the default) or dual (IPv4 first, then
 * IPv6 in the same network namespaces: node, pod and Service addresses in both). IPv6-only is not built.
 */
export const IP_FAMILY_MODES = ['ipv4', 'dual'] as const;
export type IpFamilyMode = (typeof IP_FAMILY_MODES)[number];
/** Kubernetes' names of the families a mode gives (Service spec.ipFamilies order: the primary first). */
export function familiesOf(mode: IpFamilyMode): ('IPv4' | 'IPv6')[] {
  return mode === 'dual' ? ['IPv4', 'IPv6'] : ['IPv4'];
}

export const CLUSTER_NAME = 'sctp-e2e';
export const SERVICE_CIDR = '10.96.0.0/16';
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const POD_CIDR = '10.244.0.0/16';
export const DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
export const HOST_IP = '10.199.0.1';
export const LINK_PREFIX = 24;
// IPv6 (ULA) twins of the ranges above, used with --ip-family dual.
export const SERVICE_CIDR6 = 'fd00:96::/112';
export const POD_CIDR6 = 'fd00:244::/48';
export const HOST_IP6 = 'fd00:199::1';
export const LINK_PREFIX6 = 64;
export const NODE_NET6 = 'fd00:199::/64';
/** IPv6 addresses for Service externalIPs in tests (dual): routed to node1 like EXTERNAL_IP_RANGE. */
export const EXTERNAL_IP_RANGE6 = 'fd00:199:1::/64';
/** Addresses for Service externalIPs in tests: the host and the outside netns route them to node1. */
export const EXTERNAL_IP_RANGE = '10.199.1.0/24';
export const BRIDGE = 'sctpe2e-br0';
export const OUTSIDE = { netns: 'sctpe2e-outside', ip: '10.199.0.100', ip6: 'fd00:199::100', hostVeth: 'sctpe2e-out' } as const;
export const IMAGES = {
  pause: 'registry.local/pause:sctp-e2e',
  coredns: 'registry.local/coredns:v1.14.7',
  busybox: 'registry.local/busybox:sctp-e2e',
} as const;
export const API_PORT = 6443;

export interface NodeSpec {
  index: number; // 1-based
  name: string; // Kubernetes node name
  netns: string;
  ip: string;
  /** The node's IPv6 address on the node network (used with --ip-family dual). */
  ip6: string;
  hostVeth: string; // host end of the veth pair; the node end is eth0
  podSubnet: string; // host-local range of this node, inside POD_CIDR
  podSubnet6: string; // its IPv6 range, inside POD_CIDR6 (dual)
  controlPlane: boolean;
}

export function nodeSpec(index: number): NodeSpec {
  if (!Number.isInteger(index) || index < 1 || index > 9) throw new Error(`node index must be 1..9, got ${index}`);
  return {
    index,
    name: `${CLUSTER_NAME}-node${index}`,
    netns: `sctpe2e-node${index}`,
    ip: `10.199.0.${1 + index}`,
    ip6: `fd00:199::${1 + index}`,
    hostVeth: `sctpe2e-n${index}`,
    podSubnet: `10.244.${index}.0/24`,
    podSubnet6: `fd00:244:${index}::/64`,
    controlPlane: index === 1,
  };
}

export function apiServerURL(): string {
  return `https://${nodeSpec(1).ip}:${API_PORT}`;
}

/** Directory layout under the state dir. */
export function layout(dir: string) {
  return {
    dir,
    clusterJson: `${dir}/cluster.json`,
    stateJson: `${dir}/state.json`,
    adminKubeconfig: `${dir}/admin.kubeconfig`,
    pki: `${dir}/pki`,
    ssh: `${dir}/ssh`,
    logs: `${dir}/logs`,
    pids: `${dir}/pids`,
    etcd: `${dir}/etcd`,
    images: `${dir}/images`,
    manifests: `${dir}/manifests`,
    node: (n: NodeSpec) => {
      const d = `${dir}/${n.name}`;
      return {
        dir: d,
        containerdRoot: `${d}/containerd/root`,
        containerdState: `${d}/containerd/state`,
        containerdSock: `${d}/containerd/containerd.sock`,
        containerdConfig: `${d}/containerd/config.toml`,
        runcRoot: `${d}/runc`,
        optDir: `${d}/containerd/opt`,
        cniConfDir: `${d}/cni/net.d`,
        cniIpamDir: `${d}/cni/ipam`,
        kubeletRoot: `${d}/kubelet`,
        kubeletConfig: `${d}/kubelet.yaml`,
        kubeletKubeconfig: `${d}/kubelet.kubeconfig`,
        podLogs: `${d}/pod-logs`,
        resolvConf: `${d}/resolv.conf`,
        proxyConfig: `${d}/kube-proxy.yaml`,
        proxyKubeconfig: `${d}/kube-proxy.kubeconfig`,
        sshdConfig: `${d}/sshd_config`,
      };
    },
  };
}
export type Layout = ReturnType<typeof layout>;
