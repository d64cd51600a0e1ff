// The capability probe run once before the first test: what this cluster offers the suite, per node and
// overall, with the evidence, in parallel and with deadlines. Printed as a table, written to
// <artifacts>/<run>/capabilities.json and to the run notes (summary + JUnit). Capabilities that only a test
// can prove (NetworkPolicy enforced, LoadBalancer addresses) are shown as such, not guessed.

import type * as k8s from '@kubernetes/client-node';
import { CAPABILITIES, type Capability } from './framework/capabilities.ts';
import { formatDuration } from './framework/duration.ts';
import { errorMessage, withDeadline } from './framework/errors.ts';
import { api, type Cluster } from './k8s/client.ts';
import { nodeIsReady, nodeIsSchedulable } from './k8s/nodes.ts';
import { nodeNetfilter } from './node/netfilter/index.ts';
import { probeSctpModule } from './node/sctp-module.ts';
import type { NodeAccess } from './node/select.ts';

export interface NodeCapabilities {
  node: string;
  ready: boolean;
  schedulable: boolean;
  controlPlane: boolean;
  kernel: string;
  kernelSctp: string; // loaded | not-loaded (loadable) | builtin | no-sctp | unknown | not probed
  kernelSctpEvidence: string;
  proxyMode: string; // iptables | nftables | ipvs | none | unknown | not probed
  proxyModeEvidence: string;
}

export type CapabilityStatus = 'yes' | 'no' | 'per test' | 'unknown';

export interface CapabilityRow {
  capability: Capability;
  status: CapabilityStatus;
  required: boolean;
  detail: string;
}

export interface CapabilityReport {
  nodeAccess: { mode: string; reason: string };
  nodes: NodeCapabilities[];
  rows: CapabilityRow[];
  probedInMs: number;
}

export interface ProbeInput {
  cluster: Cluster;
  access: NodeAccess;
  required: Set<Capability>;
  outside: () => Promise<{ ok: boolean; detail: string }>;
  deadlineMs: number;
}

const KERNEL_SCTP_LABEL: Record<string, string> = { 'not-loaded': 'loadable', loaded: 'loaded', builtin: 'built in', 'no-sctp': 'none', unknown: 'unknown' };

async function probeNode(n: k8s.V1Node, access: NodeAccess, deadlineMs: number): Promise<NodeCapabilities> {
  const name = n.metadata!.name!;
  const unread = access.mode === 'none' ? 'no node access' : `not read by the capability probe (node access ${access.mode})`;
  const base: NodeCapabilities = {
    node: name,
    ready: nodeIsReady(n),
    schedulable: nodeIsSchedulable(n),
    controlPlane: Object.keys(n.metadata?.labels ?? {}).some((k) => k === 'node-role.kubernetes.io/control-plane'),
    kernel: n.status?.nodeInfo?.kernelVersion ?? '?',
    kernelSctp: 'not probed',
    kernelSctpEvidence: `${unread} (${access.reason})`,
    proxyMode: 'not probed',
    proxyModeEvidence: `${unread} (${access.reason})`,
  };
  if (access.mode === 'none') return base;
  let exec: ReturnType<typeof access.exec>;
  try {
    exec = access.exec(name);
  } catch (e) {
    return { ...base, kernelSctp: 'unknown', kernelSctpEvidence: errorMessage(e), proxyMode: 'unknown', proxyModeEvidence: errorMessage(e) };
  }
  if (!exec) return base;
  const [mod, proxy] = await Promise.allSettled([
    withDeadline(`sctp.ko probe on ${name}`, deadlineMs, () => probeSctpModule(exec, { timeoutMs: deadlineMs })),
    withDeadline(`proxy-mode probe on ${name}`, deadlineMs, () => nodeNetfilter(exec, { timeoutMs: deadlineMs }).detectProxyMode()),
  ]);
  return {
    ...base,
    kernelSctp: mod.status === 'fulfilled' ? (KERNEL_SCTP_LABEL[mod.value.state] ?? mod.value.state) : 'unknown',
    kernelSctpEvidence: mod.status === 'fulfilled' ? mod.value.evidence : errorMessage(mod.reason),
    proxyMode: proxy.status === 'fulfilled' ? proxy.value.mode : 'unknown',
    proxyModeEvidence: proxy.status === 'fulfilled' ? proxy.value.evidence : errorMessage(proxy.reason),
  };
}

async function probeDns(c: Cluster): Promise<{ ok: boolean; detail: string }> {
  try {
    const svc = await api('get service kube-system/kube-dns', () => c.core.readNamespacedService({ namespace: 'kube-system', name: 'kube-dns' }));
    const slices = await api('list endpointslices of kube-system/kube-dns', () =>
      c.discovery.listNamespacedEndpointSlice({ namespace: 'kube-system', labelSelector: 'kubernetes.io/service-name=kube-dns' }),
    );
    const ready = slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses));
    return ready.length
      ? {
          ok: true,
          detail:
            `kube-system/kube-dns ${svc.spec?.clusterIP} with ${ready.length} ready endpoint(s) (${ready.join(', ')}); answers ` +
            `are proven by the DNS tests`,
        }
      : { ok: false, detail: `kube-system/kube-dns ${svc.spec?.clusterIP} has no ready endpoint` };
  } catch (e) {
    return { ok: false, detail: `no kube-system/kube-dns Service: ${errorMessage(e)}` };
  }
}

export async function probeCapabilities(i: ProbeInput): Promise<CapabilityReport> {
  const t0 = Date.now();
  const list = await api('list nodes', () => i.cluster.core.listNode());
  const [nodes, dns, outside] = await Promise.all([
    Promise.all(list.items.map((n) => probeNode(n, i.access, i.deadlineMs))),
    withDeadline('DNS capability probe', i.deadlineMs, () => probeDns(i.cluster)).catch((e) => ({ ok: false, detail: errorMessage(e) })),
    withDeadline('outside vantage point probe', i.deadlineMs, i.outside).catch((e) => ({ ok: false, detail: errorMessage(e) })),
  ]);
  const rows: CapabilityRow[] = [];
  const add = (capability: Capability, status: CapabilityStatus, detail: string) =>
    rows.push({ capability, status, required: i.required.has(capability), detail });
  add('node-access', i.access.mode === 'none' ? 'no' : 'yes', `${i.access.mode}: ${i.access.reason}`);
  const schedulable = nodes.filter((n) => n.ready && n.schedulable);
  add('multi-node', schedulable.length >= 2 ? 'yes' : 'no', `${schedulable.length} ready schedulable node(s) of ${nodes.length}`);
  const withSctp = nodes.filter((n) => ['loadable', 'loaded', 'built in'].includes(n.kernelSctp));
  const sctpUnknown = nodes.filter((n) => ['unknown', 'not probed'].includes(n.kernelSctp));
  add(
    'kernel-sctp',
    withSctp.length ? 'yes' : sctpUnknown.length ? 'unknown' : 'no',
    withSctp.length
      ? `on ${withSctp.map((n) => `${n.node} (${n.kernelSctp})`).join(', ')}${
          withSctp.length < nodes.length
            ? `; not on ${nodes
                .filter((n) => !withSctp.includes(n))
                .map((n) => `${n.node} (${n.kernelSctp})`)
                .join(', ')}`
            : ''
        }`
      : sctpUnknown.length
        ? `not known on ${sctpUnknown.map((n) => n.node).join(', ')}`
        : "no node's kernel has SCTP (tests use the userspace stack)",
  );
  for (const mode of ['iptables', 'nftables', 'ipvs'] as const) {
    const on = nodes.filter((n) => n.proxyMode === mode);
    const unknown = nodes.filter((n) => ['unknown', 'not probed'].includes(n.proxyMode));
    add(
      mode,
      on.length ? 'yes' : unknown.length ? 'unknown' : 'no',
      on.length ? `kube-proxy ${mode} on ${on.map((n) => n.node).join(', ')}` : `no node: ${nodes.map((n) => `${n.node} ${n.proxyMode}`).join(', ')}`,
    );
  }
  add('dns', dns.ok ? 'yes' : 'no', dns.detail);
  add('outside', outside.ok ? 'yes' : 'no', outside.detail);
  const dual = dualStackFromNodes(list.items);
  add('dual-stack', dual.status, dual.detail);
  add('networkpolicy', 'per test', 'proven by each NetworkPolicy test with a deny-all control before its verdict');
  add('loadbalancer', 'per test', 'proven by the LoadBalancer tests (an ingress address assigned to an SCTP Service)');
  return { nodeAccess: { mode: i.access.mode, reason: i.access.reason }, nodes, rows, probedInMs: Date.now() - t0 };
}

/**
 * Dual-stack, as far as nodes can tell (their InternalIPs of each family): "no" when a node has one family only;
 * otherwise "per test", since only a Service (RequireDualStack) and a pod's podIPs prove it (the dual-stack tests).
 */
export function dualStackFromNodes(nodes: k8s.V1Node[]): { status: CapabilityStatus; detail: string } {
  const fams = nodes.map((n) => {
    const ips = (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    return { node: n.metadata?.name ?? '?', ips, v4: ips.some((a) => !a.includes(':')), v6: ips.some((a) => a.includes(':')) };
  });
  const list = fams.map((x) => `${x.node} ${x.ips.join(' ') || '(no InternalIP)'}`).join('; ');
  if (fams.length && fams.every((x) => x.v4 && x.v6))
    return { status: 'per test', detail: `every node has an IPv4 and an IPv6 InternalIP (${list}); Services and pods are proven by the dual-stack tests` };
  return { status: 'no', detail: `not every node has an InternalIP of each family (${list})` };
}

export function renderCapabilities(r: CapabilityReport): string {
  const lines: string[] = [`Capabilities (probed in ${formatDuration(r.probedInMs)})`];
  const nodeRows = [
    ['node', 'ready', 'sched', 'kernel', 'kernel SCTP', 'proxy mode'],
    ...r.nodes.map((n) => [
      n.node + (n.controlPlane ? ' (cp)' : ''),
      n.ready ? 'yes' : 'NO',
      n.schedulable ? 'yes' : 'no',
      n.kernel,
      n.kernelSctp,
      n.proxyMode,
    ]),
  ];
  const w = nodeRows[0]!.map((_, i) => Math.max(...nodeRows.map((row) => row[i]!.length)));
  for (const row of nodeRows) lines.push(`  ${row.map((c, i) => c.padEnd(w[i]!)).join('  ')}`);
  const cw = Math.max(...r.rows.map((x) => x.capability.length));
  lines.push('');
  for (const x of r.rows) {
    const req = x.required ? (x.status === 'yes' || x.status === 'per test' ? ' [required]' : ' [REQUIRED: tests needing it will fail]') : '';
    lines.push(`  ${x.capability.padEnd(cw)}  ${x.status.padEnd(8)} ${x.detail}${req}`);
  }
  return lines.join('\n');
}

export { CAPABILITIES };
