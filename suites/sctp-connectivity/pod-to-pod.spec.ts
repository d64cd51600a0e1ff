// KEP-614: "A pod can connect directly to another pod via SCTP". The server echoes its hostname, so
// an answer from the wrong pod cannot pass.

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { clientArgs, eventuallyAnsweredBy, probeHostname, serverArgs, HTTP_PORT } from './helpers.ts';

const PORT = 5060;

describeE2E('SCTPConnectivity Pods', [Tag.SCTPConnectivity, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-pod-pod');

  async function podToPod(serverNode: string, clientNode: string) {
    const [server] = await Promise.all([
      f.runPod({ name: 'server', image: f.config.image, args: serverArgs(PORT), nodeName: serverNode, readinessPort: HTTP_PORT, ports: [{ protocol: 'SCTP', containerPort: PORT }] }),
      f.runPod({ name: 'client', image: f.config.image, args: clientArgs(f), nodeName: clientNode }),
    ]);
    const ip = server.status!.podIP!;
    const probe = () => probeHostname(f, { from: 'client', host: ip, port: PORT });
    const r = await eventuallyAnsweredBy(f, `SCTP client (${clientNode}) -> server pod ${ip}:${PORT} (${serverNode})`, 'server', probe, timeouts.proxySync);
    expect(r.reply, r.render()).to.equal('server');
  }

  f.it('A pod can connect directly to another pod via SCTP on the same node', async function () {
    this.timeout(timeouts.podStart * 3);
    const nodes = await f.readySchedulableNodes();
    f.skipIf(nodes.length === 0, 'the cluster has no ready schedulable node');
    const n = nodes[0]!.metadata!.name!;
    await podToPod(n, n);
  });

  f.it('A pod can connect directly to another pod via SCTP on another node', async function () {
    this.timeout(timeouts.podStart * 3);
    const nodes = await f.readySchedulableNodes();
    f.skipIf(nodes.length < 2, `cross-node pod-to-pod needs 2 ready schedulable nodes; the cluster has ${nodes.length} (${nodes.map((x) => x.metadata!.name).join(', ') || 'none'})`);
    await podToPod(nodes[0]!.metadata!.name!, nodes[1]!.metadata!.name!);
  });
});
