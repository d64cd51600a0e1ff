// KEP-614: no port reservation for SCTP. kubelet and kube-proxy must not open SCTP sockets to hold
// hostPorts, NodePorts or externalIPs (that would load sctp.ko and break userspace SCTP stacks).

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { endpointKey, ipFamilyOf } from '../../lib/node/netfilter/endpoint.ts';
import { offendingSockets, parseSsSctp, SCTP_SOCKETS_SCRIPT } from '../../lib/node/sctp-sockets.ts';

const HOST_PORT = 5062;
const PORT = 5063;

describeE2E('SCTP node rules', [Tag.SCTP, Tag.Serial, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-no-reservation', { sctpModuleGuard: true });

  f.it('kubelet and kube-proxy open no SCTP sockets for hostPorts, NodePorts or externalIPs', async () => {
    f.budget({ podStart: 1, proxySync: 2, nodeExec: 4 });
    const [node] = await f.readySchedulableNodes();
    f.skipIf(!node, 'the cluster has no ready schedulable node');
    const nodeName = node!.metadata!.name!;
    await f.node.access();
    const pod = await f.runPod({
      name: 'backend',
      image: f.config.images.test,
      args: f.pauseArgs(),
      nodeName,
      labels: { app: 'sctp-noreserve' },
      ports: [{ protocol: 'SCTP', containerPort: PORT, hostPort: HOST_PORT }],
    });
    const svc = await f.createService({
      name: 'sctp-noreserve',
      type: 'NodePort',
      selector: { app: 'sctp-noreserve' },
      externalIPs: ['192.0.2.11'],
      ports: [{ protocol: 'SCTP', port: PORT }],
    });
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    // The rules exist, so the components have acted on both objects. A node with no kube-proxy (proxy mode none:
    // an eBPF datapath serves hostPorts and Services) has no such rules to wait for; the socket check below still
    // covers the kubelet and every process on the node.
    const mode = await f.node.proxyMode(nodeName);
    if (mode.mode === 'none') f.log(`${nodeName}: proxy mode none (${mode.evidence}): no netfilter rules to wait for`);
    else
      await f.eventually(`hostPort ${HOST_PORT} and NodePort ${nodePort} rules on ${nodeName}`, {
        timeout: timeouts.proxySync,
        // the pod's primary family: an IPv6-primary cluster's rules are in ip6tables
        probe: async () => {
          const family = ipFamilyOf(pod.status!.podIP!);
          return [await f.node.hostPortRules(nodeName, { port: HOST_PORT, family }), await f.node.serviceRules(nodeName, { nodePort, family })] as const;
        },
        until: ([h, s]) => h.dnatTargets.includes(endpointKey(pod.status!.podIP!, PORT)) && s.sctp.length > 0,
        describe: (rs) => rs.map((r) => r.render()).join('\n'),
      });

    // The check means something only where SCTP sockets can exist: every ready node whose kernel has sctp.ko
    // loaded or built in. Elsewhere an SCTP socket would load the module, which the sctp.ko check catches.
    const checked: string[] = [];
    const reasons: string[] = [];
    for (const n of await f.readySchedulableNodes()) {
      const name = n.metadata!.name!;
      const mod = await f.node.sctpModule(name);
      if (mod.state === 'no-sctp') {
        reasons.push(`${name}: kernel has no SCTP (${mod.evidence})`);
        continue;
      }
      if (mod.state === 'not-loaded') {
        reasons.push(`${name}: sctp.ko not loaded (${mod.evidence}), so no SCTP socket exists`);
        continue;
      }
      if (mod.state === 'unknown') {
        reasons.push(`${name}: cannot tell the sctp.ko state (${mod.evidence})`);
        continue;
      }
      const exec = await f.node.exec(name);
      const r = await exec.run(SCTP_SOCKETS_SCRIPT);
      const parsed = parseSsSctp(r.stdout);
      expect(parsed.error, `\`ss -S -a -n -p\` on ${name} (${exec.description}) failed`).to.equal(undefined);
      const bad = offendingSockets(parsed.sockets, [HOST_PORT, nodePort, PORT]);
      expect(
        bad.map((s) => s.line),
        `SCTP sockets held by cluster components or on the reserved ports on ${name} (sctp.ko ${mod.state}):\n${r.stdout}`,
      ).to.be.empty;
      checked.push(`${name} (${mod.state}, ${parsed.sockets.length} SCTP socket(s), none reserved)`);
    }
    f.log(`checked: ${checked.join('; ') || 'none'}`);
    f.skipIf(checked.length === 0, `no node can hold SCTP sockets, so there is nothing to look at: ${reasons.join('; ')}`);
  });
});
