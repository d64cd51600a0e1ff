// Upstream's SCTP e2e specs (k8s.io/kubernetes test/e2e, `e2e.test --ginkgo.focus='SCTP|sctp'` at v1.34: 13 specs),
// each with the phase it belongs to, what it needs from the cluster, and the tests of this suite that cover
// the same ground. The catalogue is data for the comparison (upstream/compare.ts); `title` is matched
// against e2e.test's JUnit names, `ours` against ours, so a renamed test shows up as "not found", not as a pass.

export type UpstreamPhase = 'basic' | 'connectivity' | 'netpol' | 'dualstack';

export interface UpstreamSpec {
  id: string;
  phase: UpstreamPhase;
  /** a unique substring of the spec's full ginkgo name */
  title: string;
  /** what the spec needs to pass, beyond a working cluster (for "environmental" failures) */
  needs: string[];
  /** regexes over our test titles: the tests that cover what this spec checks */
  ours: string[];
  /** what ours checks that this spec does not */
  beyond: string;
}

const NEEDS_KERNEL_2 = 'kernel SCTP on at least 2 schedulable nodes (agnhost opens kernel SCTP sockets; NewNetworkingTestConfig needs 2 nodes)';
const NEEDS_KERNEL = 'kernel SCTP on the nodes running its pods (agnhost porter opens kernel SCTP sockets)';
const NEEDS_NETPOL = 'a NetworkPolicy implementation';

export const UPSTREAM_SPECS: UpstreamSpec[] = [
  {
    id: 'svc-basic',
    phase: 'basic',
    title: 'Services should allow creating a basic SCTP service with pod and endpoints',
    needs: ['node access through a privileged host pod (nsenter lsmod)'],
    ours: [
      'Service declares an SCTP port and keeps it',
      'EndpointSlices of a selector Service carry the SCTP port',
      'Services can declare SCTP ServicePorts when using the',
    ],
    beyond:
      'EndpointSlice protocol (not only the port number), the proxy rules on every node judged by their own protocol ' +
      'match, sctp.ko on every node (upstream: 2 nodes, and vacuous once loaded)',
  },
  {
    id: 'hostport-basic',
    phase: 'basic',
    title: 'Networking should allow creating a Pod with an SCTP HostPort',
    needs: ['node access through a privileged host pod (nsenter lsmod)'],
    ours: ['Pods can declare SCTP HostPorts', 'kubelet and kube-proxy open no SCTP sockets'],
    beyond: "the hostPort DNAT rule on the pod's node matches SCTP and the right port; no SCTP listening socket on the node",
  },
  {
    id: 'pod-service',
    phase: 'connectivity',
    title: 'Granular Checks: Services should function for pod-Service: sctp',
    needs: [NEEDS_KERNEL_2],
    ours: ['via a Service IP \\(port', 'A client outside the cluster can connect via SCTP to a NodePort Service'],
    beyond:
      'port != targetPort (a missing translation fails), a diagnosis (TCP/UDP controls, dropped-packet counters, conntrack) ' +
      'on failure; NodePort from outside the cluster',
  },
  {
    id: 'endpoint-service',
    phase: 'connectivity',
    title: 'Granular Checks: Services should function for endpoint-Service: sctp',
    needs: [NEEDS_KERNEL_2],
    ours: ['A backend can reach its own SCTP Service \\(hairpin\\)'],
    beyond: '',
  },
  {
    id: 'node-service',
    phase: 'connectivity',
    title: 'Granular Checks: Services should function for node-Service: sctp',
    needs: ['nothing: always skipped upstream (DialFromNode has no SCTP, kubernetes#96482)'],
    ours: ['A client outside the cluster can connect via SCTP to a NodePort Service', 'to a Service externalIP'],
    beyond: 'runs (from a vantage point outside the cluster)',
  },
  {
    id: 'intra-pod',
    phase: 'connectivity',
    title: 'Granular Checks: Pods should function for intra-pod communication: sctp',
    needs: [NEEDS_KERNEL_2],
    ours: ['connect directly to another pod via SCTP on the same node', 'connect directly to another pod via SCTP on another node'],
    beyond: 'same node and cross node separately; nodes with different kernels/stacks',
  },
  {
    id: 'node-pod',
    phase: 'connectivity',
    title: 'Granular Checks: Pods should function for node-pod communication: sctp',
    needs: ['nothing: always skipped upstream (kubernetes#96482)'],
    ours: ['A client outside the cluster can connect via SCTP to a pod.{1,2}s hostPort'],
    beyond: 'runs',
  },
  {
    id: 'dualstack-pod-service',
    phase: 'dualstack',
    title: 'Secondary IP Family [LinuxOnly] should function for pod-Service: sctp',
    needs: ['a dual-stack cluster', NEEDS_KERNEL_2],
    ours: [],
    beyond: '',
  },
  {
    id: 'netpol-sctp-not-tcp',
    phase: 'netpol',
    title: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'",
    needs: [NEEDS_NETPOL],
    ours: ['A NetworkPolicy matching an SCTP port does not allow TCP or UDP traffic'],
    beyond: 'UDP as well as TCP',
  },
  {
    id: 'netpol-isolate',
    phase: 'netpol',
    title: 'should properly isolate pods that are selected by a policy allowing SCTP',
    needs: [NEEDS_NETPOL],
    ours: ['A NetworkPolicy matching an SCTP port does not allow TCP or UDP traffic'],
    beyond: '',
  },
  {
    id: 'netpol-default-deny',
    phase: 'netpol',
    title: "using SCTP should support a 'default-deny-ingress' policy",
    needs: [NEEDS_NETPOL, NEEDS_KERNEL],
    ours: ['SCTP ports: default-deny-ingress'],
    beyond: 'a deny-all control proves enforcement before the verdict',
  },
  {
    id: 'netpol-ports',
    phase: 'netpol',
    title: 'using SCTP should enforce policy based on Ports',
    needs: [NEEDS_NETPOL, NEEDS_KERNEL],
    ours: ['SCTP ports: allow by port', 'SCTP allowed on a port leaves TCP and UDP on that port denied'],
    beyond: 'the other port stays denied (upstream probes only port 81)',
  },
  {
    id: 'netpol-pod-ns',
    phase: 'netpol',
    title: 'using SCTP should enforce policy to allow traffic only from a pod in a different namespace',
    needs: [NEEDS_NETPOL, NEEDS_KERNEL],
    ours: ['allow from a pod in another namespace by pod and namespace selector'],
    beyond: '',
  },
];

/** e2e.test --ginkgo.focus for a phase (regex over the full spec names). */
export function upstreamFocus(phases: readonly UpstreamPhase[], ids?: readonly string[]): string {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return selectSpecs(phases, ids)
    .map((s) => esc(s.title))
    .join('|');
}

/** The specs of these phases, or only those with these ids (an unknown id is an error naming the known ones). */
export function selectSpecs(phases: readonly UpstreamPhase[], ids?: readonly string[]): UpstreamSpec[] {
  for (const id of ids ?? [])
    if (!UPSTREAM_SPECS.some((s) => s.id === id))
      throw new Error(`unknown upstream spec id ${JSON.stringify(id)}; known: ${UPSTREAM_SPECS.map((s) => s.id).join(', ')}`);
  return UPSTREAM_SPECS.filter((s) => phases.includes(s.phase) && (!ids?.length || ids.includes(s.id)));
}

export function specOf(name: string): UpstreamSpec | undefined {
  return UPSTREAM_SPECS.find((s) => name.includes(s.title));
}
