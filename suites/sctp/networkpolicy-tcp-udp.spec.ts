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

    // 1. Without any policy both protocols reach the server: otherwise "blocked" later would prove nothing.
    for (const p of ['TCP', 'UDP'] as const) {
      await f.eventually(`${p} client -> server ${ip}:${PORT} allowed before any policy`, {
        timeout: timeouts.proxySync, probe: () => probe(p), until: (r) => r.state === 'allowed', describe: (r) => r.render(),
      });
    }

    // 2. The SCTP-only policy: selects the server, admits SCTP on the port, nothing else.
    await f.createNetworkPolicy({ name: 'allow-only-sctp', podSelector: { app: 'server' }, ingress: [{ ports: [{ protocol: 'SCTP', port: PORT }] }] });
    const blocked = async (p: Protocol) => {
      try {
        return await f.eventually(`${p} client -> server ${ip}:${PORT} blocked by SCTP-only policy`, {
          timeout: timeouts.proxySync, probe: () => probe(p), until: (r) => r.state === 'blocked', describe: (r) => r.render(),
        });
      } catch (e) {
        return e as Error;
      }
    };
    const tcp = await blocked('TCP');
    const udp = await blocked('UDP');
    if (!(tcp instanceof Error) && !(udp instanceof Error)) return; // both blocked: the promise holds

    // 3. Something got through. Is any NetworkPolicy enforced here at all? A deny-all ingress control, alone
    //    (policies add up: with the SCTP policy still there, a plugin reading it as TCP would leak the control too).
    await f.deleteNetworkPolicy('allow-only-sctp');
    await f.createNetworkPolicy({ name: 'control-deny-all', podSelector: { app: 'server' }, ingress: [] });
    const control = await f
      .eventually(`TCP client -> server blocked by a deny-all control policy`, {
        timeout: timeouts.proxySync, probe: () => probe('TCP'), until: (r) => r.state === 'blocked', describe: (r) => r.render(),
      })
      .then(() => true, () => false);
    f.skipIf(!control, `no NetworkPolicy implementation enforces policies in this cluster: even a deny-all ingress policy left TCP to ${ip}:${PORT} open for ${timeouts.proxySync / 1000}s`);
    const leaks = [tcp, udp].filter((x): x is Error => x instanceof Error).map((e) => e.message);
    expect.fail(`the cluster enforces NetworkPolicy (a deny-all policy blocks TCP), but a policy that admits only SCTP/${PORT} lets traffic through — a security hole:\n${leaks.join('\n')}`);
  });
});
