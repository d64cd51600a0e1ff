// KEP-614: "A pod can connect directly to another pod via SCTP". The server echoes its hostname, so
// an answer from the wrong pod cannot pass. The server also serves TCP and UDP on the port: when SCTP fails,
// the diagnosis says whether the other protocols work between the same pods and which rule counted the drop.
// Fault-lane recipes that must turn the cross-node test red: `forward-drop-sctp` (npm run lab:break -- forward-drop-sctp);
// on an eBPF datapath (Cilium as kube-proxy replacement) `eth0-drop-sctp`, named by its nft rule in the diagnosis.
// On a VXLAN overlay (cluster/flannel up): `vxlan-drop-sctp` (only the tunnelled SCTP is dropped).

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { withDiagnosis } from './diagnose.ts';
import { clientArgs, eventuallyAnsweredBy, HTTP_PORT, probeHostname, serverArgs } from './helpers.ts';

const PORT = 5060;

describeE2E('SCTPConnectivity Pods', [Tag.SCTPConnectivity, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-pod-pod');

  async function podToPod(serverNode: string, clientNode: string, suffix = '') {
    const [serverName, clientName] = [`server${suffix}`, `client${suffix}`];
    const [server] = await Promise.all([
      f.runPod({
        name: serverName,
        image: f.config.images.test,
        args: serverArgs(PORT, { tcp: true, udp: true, flavor: f.config.flavor }),
        nodeName: serverNode,
        readinessPort: HTTP_PORT,
        ports: [{ protocol: 'SCTP', containerPort: PORT }],
      }),
      f.runPod({ name: clientName, image: f.config.images.test, args: clientArgs(f), nodeName: clientNode }),
    ]);
    const ip = server.status!.podIP!;
    const probe = () => probeHostname(f, { from: clientName, host: ip, port: PORT });
    const r = await withDiagnosis(
      f,
      () => ({ client: clientName, host: ip, port: PORT, nodes: [clientNode, serverNode] }),
      () => eventuallyAnsweredBy(f, `SCTP client (${clientNode}) -> server pod ${ip}:${PORT} (${serverNode})`, serverName, probe, timeouts.proxySync),
    );
    expect(r.reply, r.render()).to.equal(serverName);
  }

  f.it('A pod can connect directly to another pod via SCTP on the same node', async () => {
    f.budget({ podStart: 3 });
    const nodes = await f.sctpPodNodes();
    f.skipIf(nodes.length === 0, `the cluster has no ready schedulable node for SCTP pods${f.placementNote() ? ` (${f.placementNote()})` : ''}`);
    const n = nodes[0]!.metadata!.name!;
    await podToPod(n, n);
  });

  f.it('A pod can connect directly to another pod via SCTP on another node', async () => {
    f.budget({ podStart: 3 });
    const nodes = await f.sctpPodNodes();
    f.skipIf(
      nodes.length < 2,
      `cross-node pod-to-pod needs 2 ready schedulable nodes; the cluster has ${nodes.length} (${nodes.map((x) => x.metadata!.name).join(', ') || 'none'})${f.placementNote() ? `; ${f.placementNote()}` : ''}`,
    );
    await podToPod(nodes[0]!.metadata!.name!, nodes[1]!.metadata!.name!);
  });

  // Nodes with different kernels may run different SCTP stacks (kernel SCTP where the kernel has it, a
  // userspace stack where it does not, as agnhost-sctp chooses): the two must interoperate, both ways.
  f.it('A pod can connect directly via SCTP to a pod on a node with a different kernel, in both directions', async () => {
    f.budget({ podStart: 6 });
    const nodes = await f.sctpPodNodes();
    const kernel = (n: (typeof nodes)[number]) => n.status?.nodeInfo?.kernelVersion ?? '?';
    const a = nodes[0];
    const b = nodes.find((n) => kernel(n) !== kernel(a!));
    f.skipIf(
      !a || !b,
      `needs two ready schedulable nodes with different kernels; all run ${[...new Set(nodes.map(kernel))].join(', ') || 'no node'} (${nodes.map((n) => n.metadata!.name).join(', ')})${f.placementNote() ? `; ${f.placementNote()}` : ''}`,
    );
    const [an, bn] = [a!.metadata!.name!, b!.metadata!.name!];
    f.log(`kernels: ${an} ${kernel(a!)}, ${bn} ${kernel(b!)}`);
    await podToPod(an, bn, '-ab');
    await podToPod(bn, an, '-ba');
  });
});
