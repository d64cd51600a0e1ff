// SCTP Services while kube-proxy rewrites its rules, and ClientIP session affinity for SCTP.
// - Other Services and EndpointSlices are created and deleted (each change makes kube-proxy resync)
//   while a client keeps opening SCTP associations to a Service: none may fail or reach a stranger.
// - One association held open (`connect --hold`: one exchange every HOLD_INTERVAL_MS on the same
//   association) while other Services and EndpointSlices change and kube-proxy provably resyncs:
//   every exchange must be answered, all by one backend. Upstream agnhost has no such client: skips.
// - sessionAffinity: ClientIP: N associations from one client all reach the same backend.

import type { ProbeOutcome } from '../../lib/connectivity/probe.ts';
import { describeE2E, expect, span, Tag, timeouts, times, useE2E } from '../../lib/e2e.ts';
import { formatDuration, goDuration } from '../../lib/framework/duration.ts';
import { clientArgs, eventuallyAnsweredBy, expectEveryBackend, HTTP_PORT, probeHostname, serverArgs } from './helpers.ts';

const PORT = 5060;
const TARGET = 5061;
const BACKENDS = ['backend-a', 'backend-b'];
const CHURN_ROUNDS = 6;
const AFFINITY_CONNECTS = 10;
/** The held association: long enough for HOLD_RESYNCS proven resyncs (a few seconds each). */
const HOLD_MS = 40_000;
const HOLD_INTERVAL_MS = 500;
const HOLD_RESYNCS = 3;
const HOLD_MAX_RESYNCS = 20;

describeE2E('SCTPConnectivity Services during kube-proxy resync', [Tag.SCTPConnectivity, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-resync', { scope: 'all' });
  const ips: Record<string, string> = {};

  f.before(async () => {
    f.budget({ podStart: 2 });
    const pods = await Promise.all([
      ...BACKENDS.map((name) =>
        f.runPod({
          name,
          image: f.config.images.test,
          args: serverArgs(TARGET),
          labels: { app: 'sctp-resync' },
          readinessPort: HTTP_PORT,
          ports: [{ name: 'sip', protocol: 'SCTP', containerPort: TARGET }],
        }),
      ),
      f.runPod({ name: 'client', image: f.config.images.test, args: clientArgs(f) }),
    ]);
    for (const p of pods) ips[p.metadata!.name!] = p.status!.podIP!;
  });

  async function service(name: string, affinity?: 'ClientIP') {
    const svc = await f.createService({
      name,
      selector: { app: 'sctp-resync' },
      sessionAffinity: affinity,
      ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }],
    });
    await f.waitForEndpointSlices(
      name,
      'both backends ready',
      (s) => s.flatMap((x) => x.endpoints ?? []).filter((e) => e.conditions?.ready).length === BACKENDS.length,
    );
    return svc.spec!.clusterIP!;
  }

  /**
   * One proven kube-proxy resync: a new SCTP Service `${prefix}-${i}` with a hand-made EndpointSlice
   * (backend-a only) that the client reaches through backend-a; the previous round's pair is
   * deleted afterwards. Returns the number of API changes made.
   */
  async function churnRound(prefix: string, i: number): Promise<number> {
    const port = PORT + 100 + i;
    const churnSvc = await f.createService({ name: `${prefix}-${i}`, ports: [{ name: 'sip', protocol: 'SCTP', port, targetPort: TARGET }] });
    await f.createEndpointSlice({
      name: `${prefix}-${i}-1`,
      serviceName: `${prefix}-${i}`,
      addresses: [ips['backend-a']!],
      ports: [{ name: 'sip', protocol: 'SCTP', port: TARGET }],
    });
    // proof that kube-proxy resynced: the new Service answers (through backend-a, its only endpoint)
    const churnVip = churnSvc.spec!.clusterIP!;
    await eventuallyAnsweredBy(f, `SCTP client -> ${prefix} Service ${churnVip}:${port} (kube-proxy resync ${i + 1})`, 'backend-a', () =>
      probeHostname(f, { from: 'client', host: churnVip, port }),
    );
    if (i === 0) return 2;
    await f.deleteEndpointSlice(`${prefix}-${i - 1}-1`);
    await f.deleteService(`${prefix}-${i - 1}`);
    return 4;
  }

  f.it('New SCTP associations to a Service keep working while other Services and endpoints change', async () => {
    // the Service, every backend before the churn, each round (a proven resync and up to four API changes), the tail
    f.budget({ endpoints: 1, proxySync: 2 }, times(CHURN_ROUNDS, { proxySync: 1, apiCall: 4 }));
    const vip = await service('sctp-stable');
    await expectEveryBackend(f, `SCTP client -> ${vip}:${PORT} before the churn`, BACKENDS, () => probeHostname(f, { from: 'client', host: vip, port: PORT }));

    let churning = true;
    let changes = 0;
    let resyncs = 0;
    const churn = (async () => {
      try {
        for (let i = 0; i < CHURN_ROUNDS; i++) {
          changes += await churnRound('churn', i);
          resyncs++;
        }
      } finally {
        churning = false;
      }
    })();
    const results: ProbeOutcome[] = [];
    while (churning || results.length < CHURN_ROUNDS) results.push(await probeHostname(f, { from: 'client', host: vip, port: PORT }));
    await churn;

    const bad = results.filter((r) => r.state !== 'allowed' || !BACKENDS.includes(r.reply));
    const seen = [...new Set(results.map((r) => r.reply).filter(Boolean))].sort().join(', ');
    f.log(
      `${results.length} associations to ${vip}:${PORT} during ${changes} Service/EndpointSlice changes and ${resyncs} proven kube-proxy resyncs; answered by ${seen}`,
    );
    expect(resyncs, `kube-proxy programmed each of the ${CHURN_ROUNDS} churn Services while the client kept connecting`).to.equal(CHURN_ROUNDS);
    expect(
      bad.map((r) => r.render()),
      `${bad.length} of ${results.length} SCTP associations to ${vip}:${PORT} failed or reached a pod that is not a backend while ${changes} other Service/EndpointSlice changes made kube-proxy resync`,
    ).to.deep.equal([]);
  });

  f.it('An established SCTP association survives kube-proxy resyncs', async () => {
    if (f.config.flavor === 'agnhost')
      f.skip('upstream agnhost connect has no long-lived client mode (one connect, no data exchange); this test needs agnhost-sctp `connect --hold`');
    f.budget({ proxySync: 3, ms: HOLD_MS, apiCall: 4, endpoints: 1 });
    const vip = await service('sctp-held');
    await expectEveryBackend(f, `SCTP client -> ${vip}:${PORT} before the hold`, BACKENDS, () => probeHostname(f, { from: 'client', host: vip, port: PORT }));

    const argv = [
      f.agnhostBin(),
      'connect',
      `${vip}:${PORT}`,
      '--protocol=sctp',
      `--timeout=${goDuration(timeouts.probe)}`,
      `--hold=${goDuration(HOLD_MS)}`,
      `--interval=${goDuration(HOLD_INTERVAL_MS)}`,
      '--data=hostname',
    ];
    const command = f.execCommand('client', argv);
    const t0 = Date.now();
    let holdEnded = 0;
    const held = f
      .exec('client', argv, { timeout: span({ ms: HOLD_MS, probe: 1, nodeExec: 1 }) })
      .catch((e: Error) => e)
      .finally(() => {
        holdEnded = Date.now();
      });
    const proven: number[] = [];
    let changes = 0;
    // resyncs for the whole hold (at least HOLD_RESYNCS are required), not just its first seconds
    for (let i = 0; !holdEnded && i < HOLD_MAX_RESYNCS; i++) {
      changes += await churnRound('hold-churn', i);
      if (!holdEnded) proven.push(Date.now() - t0);
    }
    const r = await held;
    const at = formatDuration;
    const story = `${proven.length} kube-proxy resync(s) proven while the hold ran (at ${proven.map(at).join(', ') || '-'} after the exec started; ${changes} Service/EndpointSlice changes); hold ended after ${at(holdEnded - t0)}`;
    f.log(`held SCTP association client -> ${vip}:${PORT}: ${r instanceof Error ? r.message : r.stdout.trim() || r.stderr.trim()}; ${story}`);
    if (r instanceof Error) throw new Error(`the held association's exec did not complete: ${r.message}\n${story}\n  reproduce: ${command}`);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const who = /^OK: held \S+, (\d+)\/\1 exchanges answered by (\S+) on one sctp association/.exec(line);
    expect(
      [r.code, who !== null],
      `one SCTP association client -> ${vip}:${PORT} held ${at(HOLD_MS)} (an exchange every ${at(HOLD_INTERVAL_MS)}) across kube-proxy resyncs must answer every exchange from one backend; exit ${r.code}: ${line || r.stderr.trim()}\n${story}\n  reproduce: ${command}`,
    ).to.deep.equal([0, true]);
    expect(BACKENDS, `held association answered by ${who![2]}, which is not a backend of ${vip}:${PORT}\n  reproduce: ${command}`).to.include(who![2]);
    expect(
      proven.length,
      `the hold ended before ${HOLD_RESYNCS} kube-proxy resyncs were proven: ${story}; a slow cluster needs a longer HOLD_MS`,
    ).to.be.at.least(HOLD_RESYNCS);
  });

  f.it('ClientIP session affinity holds for SCTP: every association from one client reaches one backend', async () => {
    f.budget({ proxySync: 2 }, times(AFFINITY_CONNECTS, { probe: 2 }));
    // both backends answer on their own, so a single backend seen below is affinity, not a dead peer
    for (const b of BACKENDS)
      await eventuallyAnsweredBy(f, `SCTP client -> ${b} ${ips[b]}:${TARGET} directly`, b, () =>
        probeHostname(f, { from: 'client', host: ips[b]!, port: TARGET }),
      );
    const vip = await service('sctp-affinity', 'ClientIP');
    const first = await f.eventually(`SCTP client -> ClientIP-affinity Service ${vip}:${PORT} answered`, {
      timeout: timeouts.proxySync,
      probe: () => probeHostname(f, { from: 'client', host: vip, port: PORT }),
      until: (r) => r.state === 'allowed',
      describe: (r) => r.render(),
    });
    const replies: string[] = [first.reply];
    for (let i = 1; i < AFFINITY_CONNECTS; i++) {
      const r = await probeHostname(f, { from: 'client', host: vip, port: PORT });
      expect(r.state, `association ${i + 1} of ${AFFINITY_CONNECTS} to ${vip}:${PORT}\n${r.render()}`).to.equal('allowed');
      replies.push(r.reply);
    }
    const counts: Record<string, number> = {};
    for (const h of replies) counts[h] = (counts[h] ?? 0) + 1;
    expect(
      Object.keys(counts),
      `sessionAffinity ClientIP: ${AFFINITY_CONNECTS} SCTP associations from client ${ips.client} to ${vip}:${PORT} were answered by ${JSON.stringify(counts)}; all must reach one backend`,
    ).to.have.lengthOf(1);
    expect(BACKENDS, `answered by a pod that is not a backend: ${JSON.stringify(counts)}`).to.include(replies[0]);
  });
});
