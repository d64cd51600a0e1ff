// KEP-614 basic test: "A NetworkPolicy matching an SCTP port does not allow TCP or UDP traffic".
// Both halves (upstream only wrote TCP). The server listens on TCP and UDP on the SCTP port number
// (and opens no SCTP socket): the policy admits only SCTP on that port, so both probes must be blocked.
// Selection by a policy must isolate the pod even where the plugin ignores SCTP rules.

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import type { Protocol } from '../../lib/k8s/builders.ts';

const PORT = 5060;

describeE2E('SCTP NetworkPolicy', [Tag.SCTP, Tag.NetworkPolicy, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-netpol-basic', { sctpModuleGuard: true });

  f.it('A NetworkPolicy matching an SCTP port does not allow TCP or UDP traffic', async function () {
    this.timeout(timeouts.podStart * 2 + timeouts.proxySync * 4);
    const server = await f.runPod({
      name: 'server', image: f.config.image, labels: { app: 'server' },
      args: f.porterArgs(), env: { [`SERVE_PORT_${PORT}`]: 'tcp-ok', [`SERVE_UDP_PORT_${PORT}`]: 'udp-ok' },
      ports: [{ protocol: 'TCP', containerPort: PORT }, { protocol: 'UDP', containerPort: PORT }],
    });
    await f.runPod({ name: 'client', image: f.config.image, args: f.pauseArgs() });
    const ip = server.status!.podIP!;
    const probe = (protocol: Protocol) => f.probe({ from: 'client', host: ip, port: PORT, protocol });

    const until = (p: Protocol, want: 'allowed' | 'blocked', why: string) =>
      f.eventually(`${p} client -> server ${ip}:${PORT} ${want} ${why}`, {
        timeout: timeouts.proxySync, probe: () => probe(p), until: (r) => r.state === want, describe: (r) => r.render(),
      });

    // 1. Without any policy both protocols reach the server: otherwise "blocked" later would prove nothing.
    await Promise.all([until('TCP', 'allowed', 'before any policy'), until('UDP', 'allowed', 'before any policy')]);

    // 2. Is any NetworkPolicy enforced here at all? A deny-all ingress control tells, within one sync period.
    await f.createNetworkPolicy({ name: 'control-deny-all', podSelector: { app: 'server' }, ingress: [] });
    const enforced = await until('TCP', 'blocked', 'by a deny-all control policy').then(() => true, () => false);
    f.skipIf(!enforced, `no NetworkPolicy implementation enforces policies in this cluster: a deny-all ingress policy left TCP to ${ip}:${PORT} open for ${timeouts.proxySync / 1000}s`);
    await f.deleteNetworkPolicy('control-deny-all');
    await until('TCP', 'allowed', 'again after the control policy was deleted');

    // 3. The SCTP-only policy: selects the server, admits SCTP on the port, nothing else. Policies add up,
    //    so it is measured alone: a plugin that reads "SCTP" as "TCP" (or as "any") leaks here.
    await f.createNetworkPolicy({ name: 'allow-only-sctp', podSelector: { app: 'server' }, ingress: [{ ports: [{ protocol: 'SCTP', port: PORT }] }] });
    const results = await Promise.allSettled([until('TCP', 'blocked', 'by the SCTP-only policy'), until('UDP', 'blocked', 'by the SCTP-only policy')]);
    const leaks = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).message);
    expect(leaks, `the cluster enforces NetworkPolicy (a deny-all policy blocks TCP), but a policy that admits only SCTP/${PORT} lets other protocols through — a security hole:\n${leaks.join('\n')}`).to.be.empty;
  });
});
