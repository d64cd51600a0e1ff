// The one contract between the local cluster (cluster/, which writes its state dir) and everything that
// reads it: the suite (lib/), the kernel lane (vm/) and the cluster's own add-ons (lb/, netpol/, lab/).
// docs/CONTRACTS.md documents the same fields. What is not here (pids, pki, per-node dirs) is cluster/'s own;
// vm/ reaches the renderers it needs to join a node through the re-exports at the end, never cluster/render.ts.
// It imports only the pure leaves topology.ts and components.ts, which render.ts builds on too: contract.ts never
// imports render.ts (a rule of lib/lint/rules.ts).
//
// State dir: $SCTP_E2E_CLUSTER_DIR or /var/lib/sctp-e2e/cluster, holding
//   cluster.json  written by `npm run cluster:up` once the cluster is ready (ClusterJson below);
//   state.json    written by `up` from its first step; readers may use only ClusterStateView's fields.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from '../lib/framework/errors.ts';
import { nodeIPs, podCIDRs, serviceCIDRs } from './components.ts';
import {
  CLUSTER_DOMAIN,
  CLUSTER_NAME,
  DNS_IP,
  familiesOf,
  type IpFamilyMode,
  type Layout,
  NODE_PROXY_MODES,
  type NodeProxyMode,
  type NodeSpec,
  OUTSIDE,
  POD_CIDR,
  PROXY_MODES,
  type ProxyMode,
  SERVICE_CIDR,
} from './topology.ts';

export const DEFAULT_CLUSTER_DIR = '/var/lib/sctp-e2e/cluster';

export function clusterDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SCTP_E2E_CLUSTER_DIR || DEFAULT_CLUSTER_DIR;
}

export function clusterJsonPath(dir = clusterDir()): string {
  return join(dir, 'cluster.json');
}

export { NODE_PROXY_MODES, type NodeProxyMode, PROXY_MODES, type ProxyMode };

export interface ClusterSsh {
  host: string;
  port: number;
  user: string;
  keyPath: string;
  knownHostsPath: string;
}

export interface ClusterNode {
  name: string;
  ip: string;
  /** Every address of the node, primary first (dual-stack: IPv4, IPv6); absent in files written before it existed. */
  ips?: string[];
  /** The node's network namespace; absent for a node that is not a netns of this host (the kernel-lane VM). */
  netns?: string;
  ssh: ClusterSsh;
}

/** A node that is a network namespace of this host (every node `up` creates; not the kernel-lane VM). */
export type NetnsNode = ClusterNode & { netns: string };
export const isNetnsNode = (n: ClusterNode): n is NetnsNode => typeof n.netns === 'string' && n.netns !== '';

/** cluster.json. Structurally a LocalClusterInfo (lib/framework/config.ts): every value of it is one. */
export interface ClusterJson {
  name: string;
  kubeconfig: string;
  proxyMode: ProxyMode;
  serviceCIDR: string;
  podCIDR: string;
  /** The cluster's families, primary first: ["IPv4"] or ["IPv4", "IPv6"] (`cluster:up -- --ip-family dual`). Absent = ["IPv4"]. */
  ipFamilies?: ('IPv4' | 'IPv6')[];
  /** Every Service and pod range, primary first (serviceCIDR/podCIDR are the primary ones). */
  serviceCIDRs?: string[];
  podCIDRs?: string[];
  dnsIP: string;
  clusterDomain: string;
  nodes: ClusterNode[];
  outside: { netns: string; ip: string; ips?: string[] };
  /** The images `up` imported into every node, by role; agnhost is absent when agnhost-sctp was not built. */
  images: { agnhost?: string };
}

/** The fields of state.json other parts may read (cluster/state.ts's State has more, for `down`). */
export interface ClusterStateView {
  startedAt: string;
  /** Where cluster/build.sh put kubelet, kube-proxy, kubectl, …; absent while `up` has not resolved it. */
  binDir?: string;
}

/** cluster.json or state.json is unreadable or malformed: one sentence (exit 1 from a CLI). */
export class ContractError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.failed);
    this.name = 'ContractError';
  }
}

type Shape = 'string' | 'number' | 'object' | 'array';

/** What `up` writes once the cluster is ready. */
export function renderClusterJson(l: Layout, nodes: NodeSpec[], mode: ProxyMode, agnhost?: string, fam: IpFamilyMode = 'ipv4'): ClusterJson {
  return {
    name: CLUSTER_NAME,
    kubeconfig: l.adminKubeconfig,
    proxyMode: mode,
    serviceCIDR: SERVICE_CIDR,
    podCIDR: POD_CIDR,
    ipFamilies: familiesOf(fam),
    serviceCIDRs: serviceCIDRs(fam),
    podCIDRs: podCIDRs(fam),
    dnsIP: DNS_IP,
    clusterDomain: CLUSTER_DOMAIN,
    nodes: nodes.map((n) => ({
      name: n.name,
      ip: n.ip,
      ips: nodeIPs(n, fam),
      netns: n.netns,
      ssh: { host: n.ip, port: 22, user: 'root', keyPath: `${l.ssh}/id_ed25519`, knownHostsPath: `${l.ssh}/known_hosts` },
    })),
    outside: { netns: OUTSIDE.netns, ip: OUTSIDE.ip, ips: fam === 'dual' ? [OUTSIDE.ip, OUTSIDE.ip6] : [OUTSIDE.ip] },
    images: agnhost ? { agnhost } : {},
  };
}

/** Checks what `up` writes; the error names the file and the first missing or wrong field. */
export function parseClusterJson(text: string, path = 'cluster.json'): ClusterJson {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ContractError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const need = (v: unknown, field: string, shape: Shape): void => {
    const ok = shape === 'array' ? Array.isArray(v) : shape === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v) : typeof v === shape;
    if (!ok)
      throw new ContractError(
        `${path}: field ${field} is ${v === undefined ? 'missing' : `not ${shape === 'array' || shape === 'object' ? `an ${shape}` : `a ${shape}`} (${JSON.stringify(v)})`}`,
      );
  };
  need(j, '(top level)', 'object');
  const c = j as Record<string, unknown>;
  for (const f of ['name', 'kubeconfig', 'proxyMode', 'serviceCIDR', 'podCIDR', 'dnsIP', 'clusterDomain']) need(c[f], f, 'string');
  if (!(PROXY_MODES as readonly string[]).includes(c.proxyMode as string))
    throw new ContractError(`${path}: field proxyMode is ${JSON.stringify(c.proxyMode)}, not one of ${PROXY_MODES.join(', ')}`);
  need(c.nodes, 'nodes', 'array');
  (c.nodes as unknown[]).forEach((n, i) => {
    need(n, `nodes[${i}]`, 'object');
    const node = n as Record<string, unknown>;
    need(node.name, `nodes[${i}].name`, 'string');
    need(node.ip, `nodes[${i}].ip`, 'string');
    if (node.netns !== undefined) need(node.netns, `nodes[${i}].netns`, 'string');
    need(node.ssh, `nodes[${i}].ssh`, 'object');
    const ssh = node.ssh as Record<string, unknown>;
    for (const f of ['host', 'user', 'keyPath', 'knownHostsPath']) need(ssh[f], `nodes[${i}].ssh.${f}`, 'string');
    need(ssh.port, `nodes[${i}].ssh.port`, 'number');
  });
  need(c.outside, 'outside', 'object');
  for (const f of ['netns', 'ip']) need((c.outside as Record<string, unknown>)[f], `outside.${f}`, 'string');
  need(c.images, 'images', 'object');
  if (c.ipFamilies !== undefined) {
    need(c.ipFamilies, 'ipFamilies', 'array');
    const fams = c.ipFamilies as unknown[];
    if (fams.length === 0 || fams.some((x) => x !== 'IPv4' && x !== 'IPv6'))
      throw new ContractError(`${path}: field ipFamilies is ${JSON.stringify(fams)}, not a list of IPv4 and/or IPv6`);
  }
  for (const f of ['serviceCIDRs', 'podCIDRs']) if (c[f] !== undefined) need(c[f], f, 'array');
  return j as ClusterJson;
}

/** cluster.json of a state dir, or undefined when the cluster is not up; throws ContractError when it is malformed. */
export function readClusterJson(dir = clusterDir()): ClusterJson | undefined {
  const p = clusterJsonPath(dir);
  if (!existsSync(p)) return undefined;
  return parseClusterJson(readFileSync(p, 'utf8'), p);
}

/** The readable part of state.json, or undefined when there is none (or it is not JSON: `up` may be writing it). */
export function readClusterState(dir = clusterDir()): ClusterStateView | undefined {
  const p = join(dir, 'state.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ClusterStateView;
  } catch {
    return undefined;
  }
}

export {
  certSubject,
  kubeletArgs,
  kubeProxyArgs,
  renderCertExtensions,
  renderCniConflist,
  renderContainerdConfig,
  renderKubeconfig,
  renderKubeletConfig,
  renderKubeProxyConfig,
} from './components.ts';
// What a node joining from elsewhere (vm/join.ts) renders with the cluster's own renderers, so that it is
// configured exactly as the cluster's nodes are.
export { apiServerURL, BRIDGE, IMAGES, KUBERNETES_SERVICE_IP, layout, type NodeSpec, nodeSpec, OUTSIDE, SERVICE_CIDR } from './topology.ts';
