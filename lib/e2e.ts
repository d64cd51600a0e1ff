// What a spec imports: the framework, the Kubernetes helpers and node access, behind one object.
// No raw client, ssh2 or execa calls in a spec.

import type * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { type ProbeOutcome, podVantage, probeFrom, reproduceCommand, type Target, type Vantage } from './connectivity/probe.ts';
import { cluster, k8sNamespaces } from './e2e-cluster.ts';
import { type NodeLayer, nodeLayer } from './e2e-node.ts';
import { describeE2E, type Framework, type FrameworkOptions, useFramework } from './framework/framework.ts';
import { addRunNote } from './framework/run-notes.ts';
import { Tag } from './framework/tags.ts';
import { span, timeouts, times } from './framework/timeouts.ts';
import * as b from './k8s/builders.ts';
import { api } from './k8s/client.ts';
import { nodeIsReadySchedulable } from './k8s/nodes.ts';
import { describePod, execInPod, type PodExecResult, waitForPodReady } from './k8s/pods.ts';
import { guardSctpModule, type ModuleNodes, observeAllNodes } from './node/module-guard.ts';

export type { Framework };
export { b as build, describeE2E, expect, nodeIsReadySchedulable, span, Tag, timeouts, times };

export interface E2EOptions extends FrameworkOptions {
  /**
   * KEP-614: around every f.it() test and at the end of the basic phase, on every node where sctp.ko was
   * not loaded, it must stay not loaded (lib/node/module-guard.ts). Set by every [Feature:SCTP] spec.
   */
  sctpModuleGuard?: boolean;
}

export interface E2E extends Framework {
  /** Node access: transport, netfilter rules, proxy mode, sctp.ko state. */
  node: NodeLayer;
  createPod(o: b.PodOptions, ns?: string): Promise<k8s.V1Pod>;
  /** Create and wait until Running and Ready. */
  runPod(o: b.PodOptions, ns?: string): Promise<k8s.V1Pod>;
  createService(o: b.ServiceOptions, ns?: string): Promise<k8s.V1Service>;
  createNetworkPolicy(o: b.NetworkPolicyOptions, ns?: string): Promise<k8s.V1NetworkPolicy>;
  createEndpointSlice(o: b.EndpointSliceOptions, ns?: string): Promise<k8s.V1EndpointSlice>;
  readPod(name: string, ns?: string): Promise<k8s.V1Pod>;
  readService(name: string, ns?: string): Promise<k8s.V1Service>;
  readNetworkPolicy(name: string, ns?: string): Promise<k8s.V1NetworkPolicy>;
  deletePod(name: string, ns?: string): Promise<void>;
  deleteService(name: string, ns?: string): Promise<void>;
  deleteEndpointSlice(name: string, ns?: string): Promise<void>;
  /** Events about one object, oldest first, as "type reason: message" lines. */
  eventsFor(name: string, ns?: string): Promise<string[]>;
  endpointSlicesFor(service: string, ns?: string): Promise<k8s.V1EndpointSlice[]>;
  /** Wait until the Service's EndpointSlices satisfy `until`; the error shows the last slices. */
  waitForEndpointSlices(service: string, what: string, until: (s: k8s.V1EndpointSlice[]) => boolean, ns?: string): Promise<k8s.V1EndpointSlice[]>;
  exec(pod: string, argv: string[], o?: { ns?: string; timeout?: number }): Promise<PodExecResult>;
  /** The command that runs f.exec's argv by hand (`kubectl exec -n NS POD -- ARGV`, quoted). */
  execCommand(pod: string, argv: readonly string[], ns?: string): string;
  readySchedulableNodes(): Promise<k8s.V1Node[]>;
  /**
   * The nodes that can host the pods of a connectivity test: every ready schedulable node, except with
   * --flavor agnhost (upstream's image opens kernel SCTP sockets only), where it is those whose kernel has SCTP.
   * Pods that open sockets and name no node are placed on these nodes too (see createPod).
   */
  sctpPodNodes(): Promise<k8s.V1Node[]>;
  /** Why sctpPodNodes() left nodes out ('' when it did not): for skip messages. */
  placementNote(): string;
  /** The agnhost args that keep a container alive without opening any socket. */
  pauseArgs(): string[];
  /** agnhost `porter`: serves SERVE_PORT_<n> / SERVE_UDP_PORT_<n> / SERVE_SCTP_PORT_<n> from env. */
  porterArgs(): string[];
  /** The agnhost binary inside the image. */
  agnhostBin(): string;
  deleteNetworkPolicy(name: string, ns?: string): Promise<void>;
  /** A pod as a probe's vantage point (lib/connectivity/probe.ts). */
  podVantage(pod: string, ns?: string): Vantage;
  /**
   * One probe from a pod (lib/connectivity/probe.ts); never throws for "blocked". `data: 'hostname'`: the
   * outcome's reply says who answered (with --flavor agnhost the pod must run netexec: clientArgs).
   */
  probe(o: { from: string; fromNs?: string } & Target): Promise<ProbeOutcome>;
}

export function describeSlices(slices: k8s.V1EndpointSlice[]): string {
  if (!slices.length) return '(no EndpointSlices)';
  return slices
    .map(
      (s) =>
        `${s.metadata?.name}: ports [${(s.ports ?? []).map((p) => `${p.name || '-'} ${p.port}/${p.protocol}`).join(', ')}] endpoints [${(s.endpoints ?? []).map((e) => `${e.addresses.join(',')}${e.conditions?.ready ? '' : ' (not ready)'}`).join(', ')}]`,
    )
    .join('\n');
}

export function useE2E(name: string, opts: E2EOptions = {}): E2E {
  const f = useFramework(name, { ...opts, host: k8sNamespaces });
  const c = cluster;
  const nsOf = (ns?: string) => ns ?? f.ns;
  // f's getters (ns, config) stay live through the prototype; Object.assign would call them now.
  const e: E2E = Object.assign(Object.create(f) as Framework, {
    async createPod(o: b.PodOptions, ns?: string) {
      // upstream agnhost opens kernel SCTP sockets: a pod that opens sockets goes where the kernel has SCTP
      const opensSockets = o.args?.[0] !== 'pause' && !o.hostNetwork;
      const placed =
        f.config.flavor === 'agnhost' && opensSockets && !o.nodeName && !o.nodeNames
          ? { ...o, nodeNames: (await kernelSctpPlacement(e)).restricts ? (await e.sctpPodNodes()).map((n) => n.metadata!.name!) : undefined }
          : o;
      return api(`create pod ${nsOf(ns)}/${o.name}`, () => c().core.createNamespacedPod({ namespace: nsOf(ns), body: b.pod(placed) }));
    },
    async runPod(o: b.PodOptions, ns?: string) {
      await e.createPod(o, ns);
      return waitForPodReady(c(), nsOf(ns), o.name, timeouts.podStart, f.log);
    },
    createService: (o: b.ServiceOptions, ns?: string) =>
      api(`create service ${nsOf(ns)}/${o.name}`, () => c().core.createNamespacedService({ namespace: nsOf(ns), body: b.service(o) })),
    createNetworkPolicy: (o: b.NetworkPolicyOptions, ns?: string) =>
      api(`create networkpolicy ${nsOf(ns)}/${o.name}`, () => c().net.createNamespacedNetworkPolicy({ namespace: nsOf(ns), body: b.networkPolicy(o) })),
    createEndpointSlice: (o: b.EndpointSliceOptions, ns?: string) =>
      api(`create endpointslice ${nsOf(ns)}/${o.name}`, () => c().discovery.createNamespacedEndpointSlice({ namespace: nsOf(ns), body: b.endpointSlice(o) })),
    readPod: (n: string, ns?: string) => api(`get pod ${nsOf(ns)}/${n}`, () => c().core.readNamespacedPod({ namespace: nsOf(ns), name: n })),
    readService: (n: string, ns?: string) => api(`get service ${nsOf(ns)}/${n}`, () => c().core.readNamespacedService({ namespace: nsOf(ns), name: n })),
    readNetworkPolicy: (n: string, ns?: string) =>
      api(`get networkpolicy ${nsOf(ns)}/${n}`, () => c().net.readNamespacedNetworkPolicy({ namespace: nsOf(ns), name: n })),
    async deletePod(n: string, ns?: string) {
      await api(`delete pod ${nsOf(ns)}/${n}`, () => c().core.deleteNamespacedPod({ namespace: nsOf(ns), name: n, gracePeriodSeconds: 0 }));
    },
    async deleteService(n: string, ns?: string) {
      await api(`delete service ${nsOf(ns)}/${n}`, () => c().core.deleteNamespacedService({ namespace: nsOf(ns), name: n }));
    },
    async deleteEndpointSlice(n: string, ns?: string) {
      await api(`delete endpointslice ${nsOf(ns)}/${n}`, () => c().discovery.deleteNamespacedEndpointSlice({ namespace: nsOf(ns), name: n }));
    },
    async eventsFor(n: string, ns?: string) {
      const l = await api(`list events for ${nsOf(ns)}/${n}`, () =>
        c().core.listNamespacedEvent({ namespace: nsOf(ns), fieldSelector: `involvedObject.name=${n}` }),
      );
      return l.items
        .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
        .map((ev) => `${ev.type ?? ''} ${ev.reason ?? ''}: ${ev.message ?? ''}`.trim());
    },
    async endpointSlicesFor(service: string, ns?: string) {
      const l = await api(`list endpointslices of ${nsOf(ns)}/${service}`, () =>
        c().discovery.listNamespacedEndpointSlice({ namespace: nsOf(ns), labelSelector: `kubernetes.io/service-name=${service}` }),
      );
      return l.items;
    },
    waitForEndpointSlices: (service: string, what: string, until: (s: k8s.V1EndpointSlice[]) => boolean, ns?: string) =>
      f.eventually(`EndpointSlices of ${nsOf(ns)}/${service}: ${what}`, {
        timeout: timeouts.endpoints,
        probe: () => e.endpointSlicesFor(service, ns),
        until,
        describe: describeSlices,
      }),
    exec: (pod: string, argv: string[], o: { ns?: string; timeout?: number } = {}) => execInPod(c(), nsOf(o.ns), pod, argv, o.timeout ?? timeouts.nodeExec),
    execCommand: (pod: string, argv: readonly string[], ns?: string) => reproduceCommand({ pod, ns: nsOf(ns) }, argv),
    async readySchedulableNodes() {
      const l = await api('list nodes', () => c().core.listNode());
      return l.items.filter(nodeIsReadySchedulable);
    },
    async sctpPodNodes() {
      const all = await e.readySchedulableNodes();
      if (f.config.flavor !== 'agnhost') return all;
      const p = await kernelSctpPlacement(e);
      if (!p.restricts) return all;
      const kernel = all.filter((n) => p.kernel.includes(n.metadata!.name!));
      if (!kernel.length) return f.skipFor('kernel-sctp', placement.note);
      return kernel;
    },
    placementNote: () => placement.note,
    node: nodeLayer(
      (reason) => f.skipFor('node-access', reason),
      (what, fn) => f.onFailure(what, fn),
    ),
    pauseArgs: () => ['pause'],
    porterArgs: () => ['porter'],
    agnhostBin: () => (f.config.flavor === 'agnhost' ? '/agnhost' : '/agnhost-sctp'),
    async deleteNetworkPolicy(n: string, ns?: string) {
      await api(`delete networkpolicy ${nsOf(ns)}/${n}`, () => c().net.deleteNamespacedNetworkPolicy({ namespace: nsOf(ns), name: n }));
    },
    podVantage: (pod: string, ns?: string) =>
      podVantage({ ns: nsOf(ns), pod, flavor: f.config.flavor, exec: (argv, timeout) => execInPod(c(), nsOf(ns), pod, argv, timeout) }),
    probe: ({ from, fromNs, ...target }: { from: string; fromNs?: string } & Target) => probeFrom(e.podVantage(from, fromNs), target),
  });
  if (opts.sctpModuleGuard) guardSctpModule(moduleNodes(e), e);
  return e;
}

/** Every node of the cluster (control plane included) and its sctp.ko state, for lib/node/module-guard.ts. */
function moduleNodes(e: E2E): ModuleNodes {
  return {
    nodeNames: async () => (await api('list nodes', () => cluster().core.listNode())).items.map((n) => n.metadata!.name!),
    access: () => e.node.access(),
    sctpModule: (node) => e.node.sctpModule(node),
  };
}

/**
 * --flavor agnhost: which nodes have kernel SCTP (read once per run through node access). Without node
 * access the placement is not restricted, and the run notes say so: pods may then land where SCTP fails.
 */
const placement: { done?: Promise<{ restricts: boolean; kernel: string[] }>; note: string } = { note: '' };

function kernelSctpPlacement(e: E2E): Promise<{ restricts: boolean; kernel: string[] }> {
  placement.done ??= (async () => {
    const nodes = (await e.readySchedulableNodes()).map((n) => n.metadata!.name!);
    const obs = await observeAllNodes(moduleNodes(e));
    const kernel = obs
      .filter((o) => o.state === 'not-loaded' || o.state === 'loaded' || o.state === 'builtin')
      .map((o) => o.node)
      .filter((n) => nodes.includes(n));
    const unknown = obs.filter((o) => o.state === undefined || o.state === 'unknown');
    if (unknown.length) {
      placement.note = `--flavor agnhost needs kernel SCTP, which could not be read on ${unknown.map((o) => `${o.node} (${o.evidence})`).join(', ')}: pods are not restricted to kernel-SCTP nodes`;
      addRunNote('placement', placement.note, 'warning');
      return { restricts: false, kernel };
    }
    const without = obs.filter((o) => nodes.includes(o.node) && !kernel.includes(o.node));
    if (!without.length) return { restricts: false, kernel };
    placement.note = `--flavor agnhost opens kernel SCTP sockets, so its pods run only on nodes whose kernel has SCTP: ${kernel.join(', ') || 'none'}; left out: ${without.map((o) => `${o.node} (${o.state})`).join(', ')}`;
    addRunNote('placement', placement.note);
    return { restricts: true, kernel };
  })();
  return placement.done;
}

export { describePod };
