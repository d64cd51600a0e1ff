// SCTP Services while kube-proxy rewrites its rules, and ClientIP session affinity for SCTP.
// - Other Services and EndpointSlices are created and deleted (each change makes kube-proxy resync)
//   while a client keeps opening SCTP associations to a Service: none may fail or reach a stranger.
// - An association held open across the resyncs needs a long-lived client, which agnhost-sctp's
//   connect does not have (one exchange, then it closes): that test skips and says so.
// - sessionAffinity: ClientIP: N associations from one client all reach the same backend.

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { clientArgs, deleteEndpointSlice, deleteService, eventuallyAnsweredBy, expectEveryBackend, probeHostname, serverArgs, HTTP_PORT, type HostnameOutcome } from './helpers.ts';

const PORT = 5060;
const TARGET = 5061;
const BACKENDS = ['backend-a', 'backend-b'];
const CHURN_ROUNDS = 6;
const AFFINITY_CONNECTS = 10;

describeE2E('SCTPConnectivity Services during kube-proxy resync', [Tag.SCTPConnectivity, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-resync', { scope: 'all' });
  const ips: Record<string, string> = {};

  before(async function () {
    this.timeout(timeouts.podStart * 2);
    const pods = await Promise.all([
      ...BACKENDS.map((name) => f.runPod({ name, image: f.config.image, args: serverArgs(TARGET), labels: { app: 'sctp-resync' }, readinessPort: HTTP_PORT, ports: [{ name: 'sip', protocol: 'SCTP', containerPort: TARGET }] })),
      f.runPod({ name: 'client', image: f.config.image, args: clientArgs(f) }),
    ]);
    for (const p of pods) ips[p.metadata!.name!] = p.status!.podIP!;
  });

  async function service(name: string, affinity?: 'ClientIP') {
    const svc = await f.createService({ name, selector: { app: 'sctp-resync' }, sessionAffinity: affinity, ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }] });
    await f.waitForEndpointSlices(name, 'both backends ready', (s) => s.flatMap((x) => x.endpoints ?? []).filter((e) => e.conditions?.ready).length === BACKENDS.length);
    return svc.spec!.clusterIP!;
  }

  f.it('New SCTP associations to a Service keep working while other Services and endpoints change', async function () {
    this.timeout(timeouts.proxySync * (CHURN_ROUNDS + 2) + timeouts.apiCall * CHURN_ROUNDS * 4 + timeouts.endpoints);
    const vip = await service('sctp-stable');
    await expectEveryBackend(f, `SCTP client -> ${vip}:${PORT} before the churn`, BACKENDS, () => probeHostname(f, { from: 'client', host: vip, port: PORT }));

    let churning = true;
    let changes = 0;
    let resyncs = 0;
    const churn = (async () => {
      try {
        for (let i = 0; i < CHURN_ROUNDS; i++) {
          const churnSvc = await f.createService({ name: `churn-${i}`, ports: [{ name: 'sip', protocol: 'SCTP', port: PORT + 100 + i, targetPort: TARGET }] });
          await f.createEndpointSlice({ name: `churn-${i}-1`, serviceName: `churn-${i}`, addresses: [ips['backend-a']!], ports: [{ name: 'sip', protocol: 'SCTP', port: TARGET }] });
          changes += 2;
          // proof that kube-proxy resynced: the new Service answers (through backend-a, its only endpoint)
          const churnVip = churnSvc.spec!.clusterIP!;
          await eventuallyAnsweredBy(f, `SCTP client -> churn Service ${churnVip}:${PORT + 100 + i} (kube-proxy resync ${i + 1})`, 'backend-a', () => probeHostname(f, { from: 'client', host: churnVip, port: PORT + 100 + i }));
          resyncs++;
          if (i > 0) {
            await deleteEndpointSlice(f, `churn-${i - 1}-1`);
            await deleteService(f, `churn-${i - 1}`);
            changes += 2;
          }
        }
      } finally {
        churning = false;
      }
    })();
    const results: HostnameOutcome[] = [];
    while (churning || results.length < CHURN_ROUNDS) results.push(await probeHostname(f, { from: 'client', host: vip, port: PORT }));
    await churn;

    const bad = results.filter((r) => r.state !== 'allowed' || !BACKENDS.includes(r.reply));
    const seen = [...new Set(results.map((r) => r.reply).filter(Boolean))].sort().join(', ');
    f.log(`${results.length} associations to ${vip}:${PORT} during ${changes} Service/EndpointSlice changes and ${resyncs} proven kube-proxy resyncs; answered by ${seen}`);
    expect(resyncs, `kube-proxy programmed each of the ${CHURN_ROUNDS} churn Services while the client kept connecting`).to.equal(CHURN_ROUNDS);
    expect(bad.map((r) => r.render()), `${bad.length} of ${results.length} SCTP associations to ${vip}:${PORT} failed or reached a pod that is not a backend while ${changes} other Service/EndpointSlice changes made kube-proxy resync`).to.deep.equal([]);
  });

  f.it('An established SCTP association survives kube-proxy resyncs', async function () {
    f.skip('agnhost-sctp has no long-lived client mode: `connect` closes the association after one exchange (--data), so no association can be held open across a resync; needs e.g. `connect --hold=D --interval=I` sending on one association');
  });

  f.it('ClientIP session affinity holds for SCTP: every association from one client reaches one backend', async function () {
    this.timeout(timeouts.proxySync * 2 + timeouts.probe * AFFINITY_CONNECTS * 2);
    // both backends answer on their own, so a single backend seen below is affinity, not a dead peer
    for (const b of BACKENDS) await eventuallyAnsweredBy(f, `SCTP client -> ${b} ${ips[b]}:${TARGET} directly`, b, () => probeHostname(f, { from: 'client', host: ips[b]!, port: TARGET }));
    const vip = await service('sctp-affinity', 'ClientIP');
    const first = await f.eventually(`SCTP client -> ClientIP-affinity Service ${vip}:${PORT} answered`, {
      timeout: timeouts.proxySync, probe: () => probeHostname(f, { from: 'client', host: vip, port: PORT }), until: (r) => r.state === 'allowed', describe: (r) => r.render(),
    });
    const replies: string[] = [first.reply];
    for (let i = 1; i < AFFINITY_CONNECTS; i++) {
      const r = await probeHostname(f, { from: 'client', host: vip, port: PORT });
      expect(r.state, `association ${i + 1} of ${AFFINITY_CONNECTS} to ${vip}:${PORT}\n${r.render()}`).to.equal('allowed');
      replies.push(r.reply);
    }
    const counts = replies.reduce<Record<string, number>>((m, h) => ((m[h] = (m[h] ?? 0) + 1), m), {});
    expect(Object.keys(counts), `sessionAffinity ClientIP: ${AFFINITY_CONNECTS} SCTP associations from client ${ips.client} to ${vip}:${PORT} were answered by ${JSON.stringify(counts)}; all must reach one backend`).to.have.lengthOf(1);
    expect(BACKENDS, `answered by a pod that is not a backend: ${JSON.stringify(counts)}`).to.include(replies[0]);
  });
});
