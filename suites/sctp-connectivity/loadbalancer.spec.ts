// KEP-614: "A pod can connect to another pod via SCTP via a Load Balancer".
//
// Both tests create an SCTP Service of type LoadBalancer and wait (timeouts.proxySync) for its ingress address.
// What the provider said is read by lib/k8s/lb-status.ts: "rejects SCTP" only from a Warning Event or status
// condition saying the protocol is unsupported/rejected (cluster/lb's `SyncLoadBalancerFailed … SCTP not
// supported by this load balancer`, a cloud's "unsupported protocol SCTP"), never from an event that merely
// mentions the Service's name (sctp-lb). A provider that rejects SCTP, and a cluster with no LoadBalancer
// implementation (no address, nothing said within the wait), skip via f.skipFor('loadbalancer'): with
// --require loadbalancer they FAIL with the same evidence.
//
// What each test proves:
// - the pod test: a pod reaching the ingress IP. With ipMode VIP (the default) kube-proxy DNATs a LoadBalancer
//   ingress IP on the client's own node, so the packets never go to the load balancer: this proves kube-proxy's
//   handling of the ingress IP for SCTP, not the load balancer. Its title is upstream's and stays.
// - the outside test: a client that is not a pod (lib/connectivity/outside.ts) reaching the ingress address — the proof of
//   the load-balancer path. Layer 3 (a route via a gateway; locally `npm run lb:up`, cluster/lb, routes its pool
//   via node1) and layer 2 (the address on-link, MetalLB L2 style) are both probed; only a vantage point with
//   no route at all skips, via f.skipFor('outside') with the `ip route get` evidence.
//
// Fault-lane recipe (cluster/lab) that must turn both tests red: `lb-rejects-sctp` — cluster/lb restarted with
// `--reject-protocols SCTP`, the run made with `--require loadbalancer`; each test fails with
// `required capability "loadbalancer" is missing … the load-balancer provider rejects SCTP … SyncLoadBalancerFailed
// … SCTP not supported by this load balancer`. On the healthy lane A (lb up) both pass.

import { findOutside } from '../../lib/connectivity/outside.ts';
import { describeE2E, type E2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { formatDuration } from '../../lib/framework/duration.ts';
import { errorMessage } from '../../lib/framework/errors.ts';
import { EventuallyTimeout } from '../../lib/framework/eventually.ts';
import {
  classifyLoadBalancer,
  classifyRouteGet,
  type IngressPoint,
  inClusterPath,
  ingressPoints,
  type LbVerdict,
  parseEventLine,
} from '../../lib/k8s/lb-status.ts';
import { clientArgs, expectEveryBackend, HTTP_PORT, probeHostname, serverArgs } from './helpers.ts';

const PORT = 5060;
const TARGET = 5061;
/** A provider that supports LoadBalancer assigns an address (or says why not) within kube-proxy's sync budget. */
const LB_WAIT = timeouts.loadBalancer;

interface LbState {
  ingress: IngressPoint[];
  verdict: LbVerdict;
  /** The Service's status.loadBalancer as read, for messages. */
  status: string;
}

/**
 * Create an SCTP LoadBalancer Service and wait for its ingress address. Skips (f.skipFor 'loadbalancer': a
 * failure under --require loadbalancer) when the provider says it rejects SCTP, or when nothing assigns an
 * address within LB_WAIT, saying what was observed.
 */
async function runLoadBalancer(f: E2E, name: string): Promise<{ lb: IngressPoint; state: LbState }> {
  const svc = await f.createService({
    name,
    type: 'LoadBalancer',
    selector: { app: name },
    ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }],
  });
  expect(svc.spec!.ports![0]!.protocol, 'the API server kept the SCTP protocol of a LoadBalancer port').to.equal('SCTP');
  const id = `${f.ns}/${name}`;
  const names = [name, f.ns, id];
  const seen = new Set<string>();
  const render = (x: LbState) =>
    `ingress: ${x.ingress.map((i) => `${i.address} (${i.isIP ? `ipMode ${i.ipMode}` : 'hostname'})`).join(', ') || 'none'}; status.loadBalancer: ${x.status}\n${x.verdict.lines.join('\n') || '(no events or conditions on the Service)'}`;
  let state: LbState;
  try {
    state = await f.eventually(`an ingress address for LoadBalancer Service ${id} (SCTP ${PORT}), or the provider saying it rejects SCTP`, {
      timeout: LB_WAIT,
      probe: async (): Promise<LbState> => {
        const s = await f.readService(name);
        const events = (await f.eventsFor(name)).map(parseEventLine);
        const verdict = classifyLoadBalancer({ events, conditions: s.status?.conditions ?? [], names });
        // progress: each new thing the provider says, when it says it
        for (const l of verdict.lines)
          if (!seen.has(l)) {
            seen.add(l);
            f.log(`Service ${id}: ${l}`);
          }
        return { ingress: ingressPoints(s.status?.loadBalancer?.ingress), verdict, status: JSON.stringify(s.status?.loadBalancer ?? {}) };
      },
      until: (x) => x.ingress.length > 0 || x.verdict.state === 'rejected',
      describe: render,
    });
  } catch (e) {
    if (!(e instanceof EventuallyTimeout)) throw e;
    const last = e.last as LbState | undefined;
    const waited = `within ${formatDuration(LB_WAIT)} (${e.attempts} polls)`;
    if (!last || last.verdict.lines.length === 0) {
      return f.skipFor(
        'loadbalancer',
        `no LoadBalancer implementation: Service ${id} (type=LoadBalancer, SCTP ${PORT}) got no ingress address and no event or condition ${waited}; ` +
          `status.loadBalancer: ${last?.status ?? '(never read)'}${e.lastError ? `; last error: ${errorMessage(e.lastError)}` : ''}`,
      );
    }
    return f.skipFor(
      'loadbalancer',
      `no ingress address for Service ${id} (type=LoadBalancer, SCTP ${PORT}) ${waited}, and no event or condition says SCTP is rejected; ` +
        `${last.verdict.warnings.length ? `warnings: ${last.verdict.warnings.join(' | ')}` : 'no warnings'}; everything observed: ${last.verdict.lines.join(' | ')}`,
    );
  }
  if (state.ingress.length === 0 && state.verdict.state === 'rejected') {
    return f.skipFor('loadbalancer', `the load-balancer provider rejects SCTP for Service ${id} (type=LoadBalancer, SCTP ${PORT}): ${state.verdict.evidence}`);
  }
  if (state.verdict.state === 'rejected')
    f.log(`Service ${id} has ingress ${state.ingress[0]!.address} although the provider said: ${state.verdict.evidence} (probing anyway: the traffic decides)`);
  return { lb: state.ingress[0]!, state };
}

describeE2E('SCTPConnectivity LoadBalancer', [Tag.SCTPConnectivity, Tag.LoadBalancer, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-lb');

  f.it('A pod can connect to another pod via SCTP via a Load Balancer', async () => {
    f.budget({ podStart: 1, loadBalancer: 1, proxySync: 2 });
    const nodes = await f.sctpPodNodes();
    f.skipIf(nodes.length === 0, `the cluster has no ready schedulable node for SCTP pods${f.placementNote() ? ` (${f.placementNote()})` : ''}`);
    const { lb } = await runLoadBalancer(f, 'sctp-lb');

    await Promise.all([
      ...['backend-a', 'backend-b'].map((name) =>
        f.runPod({
          name,
          image: f.config.images.test,
          args: serverArgs(TARGET),
          labels: { app: 'sctp-lb' },
          readinessPort: HTTP_PORT,
          ports: [{ protocol: 'SCTP', containerPort: TARGET }],
        }),
      ),
      f.runPod({ name: 'client', image: f.config.images.test, args: clientArgs(f) }),
    ]);
    // kube-proxy short-circuits an ingress IP (ipMode VIP) on the client's node: say what this probe proves.
    const path = inClusterPath(lb);
    f.log(
      `in-cluster probe of ${lb.address}: ${path.text}${path.viaLoadBalancer ? '' : '; the load-balancer path is proven by "A client outside the cluster can connect via SCTP via a Load Balancer"'}`,
    );
    const what = path.viaLoadBalancer
      ? `SCTP client pod -> LoadBalancer ${lb.address}:${PORT} (through the load balancer: ${path.text})`
      : `SCTP client pod -> LoadBalancer ingress IP ${lb.address}:${PORT} as handled by kube-proxy on the client's node (ipMode ${lb.ipMode}: DNATed before it reaches the load balancer)`;
    await expectEveryBackend(f, what, ['backend-a', 'backend-b'], () => probeHostname(f, { from: 'client', host: lb.address, port: PORT }));
  });

  f.it('A client outside the cluster can connect via SCTP via a Load Balancer', async () => {
    f.budget({ podStart: 1, loadBalancer: 1, proxySync: 2, apiCall: 1 });
    const choice = await findOutside(f.config);
    if (!choice.client) return f.skipFor('outside', choice.reason);
    const outside = choice.client;
    f.defer(`close outside client ${outside.description}`, () => outside.close());
    const nodes = await f.sctpPodNodes();
    f.skipIf(nodes.length === 0, `the cluster has no ready schedulable node for SCTP pods${f.placementNote() ? ` (${f.placementNote()})` : ''}`);
    const { lb } = await runLoadBalancer(f, 'sctp-lb-out');

    // Layer 3 (via a gateway) or layer 2 (on-link: the implementation answers ARP for the address): probe either.
    const lookup = await outside.routeTo(lb.address).catch((e: Error) => e);
    const route = classifyRouteGet(lookup);
    const routeEvidence = `\`ip route get ${lb.address}\` from ${outside.description}: ${route.line}`;
    f.log(`outside vantage point: ${outside.description}; LoadBalancer ingress ${lb.address}; route: ${route.kind} (${route.line})`);
    if (route.kind === 'no-route') {
      return f.skipFor(
        'outside',
        `the outside vantage point has no route to the LoadBalancer address ${lb.address} (${routeEvidence}); the load-balancer implementation does not announce its addresses toward it`,
      );
    }
    f.skipIf(
      route.kind === 'local',
      `the LoadBalancer address ${lb.address} is an address of the outside vantage point itself (${routeEvidence}); a probe would never leave it`,
    );

    await Promise.all(
      ['backend-a', 'backend-b'].map((name) =>
        f.runPod({
          name,
          image: f.config.images.test,
          args: serverArgs(TARGET),
          labels: { app: 'sctp-lb-out' },
          readinessPort: HTTP_PORT,
          ports: [{ protocol: 'SCTP', containerPort: TARGET }],
        }),
      ),
    );
    const how =
      route.kind === 'routed' ? `routed via ${route.via}` : route.kind === 'on-link' ? `on-link on ${route.dev} (layer 2)` : `route unknown: ${route.line}`;
    await expectEveryBackend(
      f,
      `SCTP outside ${outside.ip} -> LoadBalancer ${lb.address}:${PORT} (the load-balancer path; ${how}; ${routeEvidence})`,
      ['backend-a', 'backend-b'],
      () => outside.connect(lb.address, PORT, 'SCTP', { data: 'hostname' }),
    );
  });
});
