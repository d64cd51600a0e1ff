// KEP-614 basic test: "A NetworkPolicy matching an SCTP port does not allow TCP or UDP traffic".
// Both halves (upstream only wrote TCP). The server listens on TCP and UDP on the SCTP port number
// (and opens no SCTP socket): the policy admits only SCTP on that port, so both probes must be blocked.
// Selection by a policy must isolate the pod even where the plugin ignores SCTP rules.
//
// Verdicts: every step is a probeMatrix over the cells client -> server TCP and UDP, and a cell counts
// only after two consecutive agreeing observations (one lost UDP datagram does not pass a UDP leak).
// The deny-all control tells three things apart (lib/connectivity/control.ts): enforced (blocked twice in
// a row), no implementation (allowed in every observation across the whole wait: skip with the evidence,
// a failure under --require networkpolicy), and a probe error (a failure with the probe's evidence).
//
// Fault-lane recipes that must turn this test red (cluster/lab, `npm run lab:verdicts`):
//   netpol-sctp-disabled  a NetworkPolicy implementation with SCTP disabled (Cilium without
//                         --enable-sctp): the SCTP-only policy must not leave TCP or UDP open
//   no-netpol             no NetworkPolicy implementation, run with --require networkpolicy: the control
//                         fails with 'required capability "networkpolicy"' instead of skipping

import { classifyControl } from '../../lib/connectivity/control.ts';
import type { Protocol } from '../../lib/connectivity/model.ts';
import { probeMatrix, settleOptions } from '../../lib/connectivity/probe-matrix.ts';
import { type Cell, compareList, renderList, type Verdict } from '../../lib/connectivity/truth-table.ts';
import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { formatDuration } from '../../lib/framework/duration.ts';

const PORT = 5060;

describeE2E('SCTP NetworkPolicy', [Tag.SCTP, Tag.NetworkPolicy, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-netpol-basic', { sctpModuleGuard: true });

  f.it('A NetworkPolicy matching an SCTP port does not allow TCP or UDP traffic', async () => {
    // four steps, each cells settling: open, the control, open again, the policy under test
    f.budget({ podStart: 2, cellsSettle: 4, apiCall: 4 });
    const server = await f.runPod({
      name: 'server',
      image: f.config.images.test,
      labels: { app: 'server' },
      args: f.porterArgs(),
      env: { [`SERVE_PORT_${PORT}`]: 'tcp-ok', [`SERVE_UDP_PORT_${PORT}`]: 'udp-ok' },
      ports: [
        { protocol: 'TCP', containerPort: PORT },
        { protocol: 'UDP', containerPort: PORT },
      ],
    });
    await f.runPod({ name: 'client', image: f.config.images.test, args: f.pauseArgs() });
    const ip = server.status!.podIP!;
    const cell = (p: Protocol): Cell => ({ from: `${f.ns}/client`, to: `server ${ip}:${PORT}/${p}` });
    const protocolOf = (c: Cell): Protocol => (c.to.endsWith('/UDP') ? 'UDP' : 'TCP');

    /** Probe the protocols' cells until each is accepted as `want` (two agreeing observations) or the step ends. */
    const observe = async (title: string, want: Verdict, protocols: Protocol[], inForce?: string) => {
      const cells = protocols.map(cell);
      const r = await probeMatrix({
        cells,
        expected: () => want,
        concurrency: cells.length,
        ...settleOptions(timeouts.probe),
        probe: (c) => f.probe({ from: 'client', host: ip, port: PORT, protocol: protocolOf(c) }),
        ...(inForce ? { inForce } : {}),
      });
      const text = renderList({ title, cells, expected: () => want, observed: r.observed, inForce: r.inForce });
      f.log(`${text.split('\n')[0]} — ${r.probes} probes in ${formatDuration(r.elapsedMs)}`);
      return { r, text, wrong: compareList({ cells, expected: () => want, observed: r.observed }).length };
    };

    // 1. Without any policy both protocols reach the server: otherwise "blocked" later would prove nothing.
    const open = await observe(
      `TCP and UDP client -> server ${ip}:${PORT} before any policy`,
      'allowed',
      ['TCP', 'UDP'],
      'no policy is applied yet (readiness)',
    );
    if (open.wrong) expect.fail(open.text);

    // 2. Is any NetworkPolicy enforced here at all? A deny-all ingress control, observed across one sync period.
    await f.createNetworkPolicy({ name: 'control-deny-all', podSelector: { app: 'server' }, ingress: [] });
    const c = await observe(`TCP client -> server ${ip}:${PORT} under the deny-all control`, 'blocked', ['TCP']).finally(() =>
      f.deleteNetworkPolicy('control-deny-all'),
    );
    const control = classifyControl({
      what: `TCP ${cell('TCP').from} -> ${cell('TCP').to}`,
      policy: `a deny-all ingress policy on ${f.ns}/server (control-deny-all)`,
      observation: c.r.observed.get(cell('TCP').from, cell('TCP').to),
    });
    if (control.kind === 'not-enforced') f.skipFor('networkpolicy', control.text);
    if (control.kind === 'failed') expect.fail(control.text);
    f.log(control.text);

    // 3. The control is gone: both protocols must be proven open again before the policy under test.
    const reopened = await observe(
      `TCP and UDP client -> server ${ip}:${PORT} after the control was deleted`,
      'allowed',
      ['TCP', 'UDP'],
      'control-deny-all was deleted; nothing to prove in force: each protocol must answer twice in a row before the next step',
    );
    if (reopened.wrong) expect.fail(reopened.text);

    // 4. The SCTP-only policy: selects the server, admits SCTP on the port, nothing else. Policies add up,
    //    so it is measured alone: a plugin that reads "SCTP" as "TCP" (or as "any") leaks here.
    await f.createNetworkPolicy({ name: 'allow-only-sctp', podSelector: { app: 'server' }, ingress: [{ ports: [{ protocol: 'SCTP', port: PORT }] }] });
    const leaks = await observe(`TCP and UDP client -> server ${ip}:${PORT} with a policy that admits only SCTP/${PORT}`, 'blocked', ['TCP', 'UDP']);
    if (leaks.wrong) {
      expect.fail(
        `a policy that admits only SCTP/${PORT} lets other protocols through — a security hole, while the cluster enforces NetworkPolicy (${control.text}):\n${leaks.text}`,
      );
    }
  });
});
