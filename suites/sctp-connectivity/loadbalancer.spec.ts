// KEP-614: "A pod can connect to another pod via SCTP via a Load Balancer". Skips with the reason when
// no load-balancer implementation assigns an ingress address within a short wait, or when the provider
// says it rejects SCTP (an event or condition on the Service). The second test reaches the same kind of
// Service from a client that is not a pod (lib/outside.ts), which is what a load balancer is for; locally
// `npm run lb:up` (cluster/lb) provides the implementation and routes its pool from the outside netns.

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { formatDuration } from '../../lib/framework/timeouts.ts';
import { findOutside } from '../../lib/outside.ts';
import { clientArgs, eventsFor, expectEveryBackend, probeHostname, serverArgs, HTTP_PORT } from './helpers.ts';

const PORT = 5060;
const TARGET = 5061;
/** A provider that supports LoadBalancer assigns an address within half of kube-proxy's sync budget. */
const LB_WAIT = timeouts.proxySync / 2;
const REJECTS_SCTP = /sctp|protocol.*(not supported|unsupported|invalid)|(not supported|unsupported).*protocol|mixed protocol/i;

describeE2E('SCTPConnectivity LoadBalancer', [Tag.SCTPConnectivity, Tag.LoadBalancer, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-lb');

  f.it('A pod can connect to another pod via SCTP via a Load Balancer', async function () {
    this.timeout(timeouts.podStart + LB_WAIT + timeouts.proxySync * 2);
    const nodes = await f.readySchedulableNodes();
    f.skipIf(nodes.length === 0, 'the cluster has no ready schedulable node');
    const svc = await f.createService({ name: 'sctp-lb', type: 'LoadBalancer', selector: { app: 'sctp-lb' }, ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }] });
    expect(svc.spec!.ports![0]!.protocol, 'the API server kept the SCTP protocol of a LoadBalancer port').to.equal('SCTP');

    type LbState = { ingress: string[]; rejected?: string; evidence: string };
    const state = await f.eventually(`an ingress address for LoadBalancer Service ${f.ns}/sctp-lb (SCTP ${PORT})`, {
      timeout: LB_WAIT,
      probe: async (): Promise<LbState> => {
        const s = await f.readService('sctp-lb');
        const ingress = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean);
        const events = await eventsFor(f, 'sctp-lb');
        const conds = (s.status?.conditions ?? []).map((c) => `condition ${c.type}=${c.status} ${c.reason}: ${c.message}`);
        const rejected = [...events, ...conds].find((l) => /fail|error|reject/i.test(l) && REJECTS_SCTP.test(l));
        return { ingress, rejected, evidence: [...events, ...conds].join('\n') || '(no events or conditions on the Service)' };
      },
      until: (x) => x.ingress.length > 0 || x.rejected !== undefined,
      describe: (x) => `ingress: ${x.ingress.join(', ') || 'none'}\n${x.evidence}`,
    }).catch((e: Error) => e);
    if (state instanceof Error) {
      const ev = await eventsFor(f, 'sctp-lb').catch(() => []);
      return f.skip(`no LoadBalancer implementation: Service ${f.ns}/sctp-lb (type=LoadBalancer, SCTP ${PORT}) got no ingress address within ${formatDuration(LB_WAIT)}${ev.length ? `; events: ${ev.join(' | ')}` : '; no events about it'}`);
    }
    f.skipIf(state.ingress.length === 0 && state.rejected !== undefined, `the load-balancer provider rejects SCTP: ${state.rejected}`);

    await Promise.all([
      ...['backend-a', 'backend-b'].map((name) => f.runPod({ name, image: f.config.image, args: serverArgs(TARGET), labels: { app: 'sctp-lb' }, readinessPort: HTTP_PORT, ports: [{ protocol: 'SCTP', containerPort: TARGET }] })),
      f.runPod({ name: 'client', image: f.config.image, args: clientArgs(f) }),
    ]);
    const lb = state.ingress[0]!;
    await expectEveryBackend(f, `SCTP client -> LoadBalancer ${lb}:${PORT}`, ['backend-a', 'backend-b'], () => probeHostname(f, { from: 'client', host: lb, port: PORT }));
  });

  f.it('A client outside the cluster can connect via SCTP via a Load Balancer', async function () {
    this.timeout(timeouts.podStart + LB_WAIT + timeouts.proxySync * 2 + timeouts.apiCall);
    const choice = await findOutside(f.config);
    if (!choice.client) return f.skip(choice.reason);
    const outside = choice.client;
    f.defer(`close outside client ${outside.description}`, () => outside.close());
    const nodes = await f.readySchedulableNodes();
    f.skipIf(nodes.length === 0, 'the cluster has no ready schedulable node');
    await f.createService({ name: 'sctp-lb-out', type: 'LoadBalancer', selector: { app: 'sctp-lb-out' }, ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }] });

    const state = await f.eventually(`an ingress address for LoadBalancer Service ${f.ns}/sctp-lb-out (SCTP ${PORT})`, {
      timeout: LB_WAIT,
      probe: async () => {
        const s = await f.readService('sctp-lb-out');
        const ingress = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean);
        const events = await eventsFor(f, 'sctp-lb-out');
        const rejected = events.find((l) => /fail|error|reject/i.test(l) && REJECTS_SCTP.test(l));
        return { ingress, rejected, evidence: events.join('\n') || '(no events on the Service)' };
      },
      until: (x) => x.ingress.length > 0 || x.rejected !== undefined,
      describe: (x) => `ingress: ${x.ingress.join(', ') || 'none'}\n${x.evidence}`,
    }).catch((e: Error) => e);
    if (state instanceof Error) return f.skip(`no LoadBalancer implementation: Service ${f.ns}/sctp-lb-out (type=LoadBalancer, SCTP ${PORT}) got no ingress address within ${formatDuration(LB_WAIT)}`);
    f.skipIf(state.ingress.length === 0 && state.rejected !== undefined, `the load-balancer provider rejects SCTP: ${state.rejected}`);
    const lb = state.ingress[0]!;
    f.log(`outside vantage point: ${outside.description}; LoadBalancer ingress ${lb}`);
    if (outside.kind === 'netns') {
      // The provider must make its addresses reachable from outside (locally: cluster/lb routes its pool via node1).
      const route = await outside.routeTo(lb).catch((e: Error) => `no route: ${e.message}`);
      f.skipIf(!/ via /.test(route), `the outside netns has no route to the LoadBalancer address ${lb} (\`ip route get ${lb}\`: ${route.split('\n')[0]}); the load-balancer implementation does not announce its addresses`);
    }

    await Promise.all(['backend-a', 'backend-b'].map((name) => f.runPod({ name, image: f.config.image, args: serverArgs(TARGET), labels: { app: 'sctp-lb-out' }, readinessPort: HTTP_PORT, ports: [{ protocol: 'SCTP', containerPort: TARGET }] })));
    await expectEveryBackend(f, `SCTP outside ${outside.ip} -> LoadBalancer ${lb}:${PORT}`, ['backend-a', 'backend-b'], () => outside.connect(lb, PORT, 'SCTP', { data: 'hostname' }));
  });
});
