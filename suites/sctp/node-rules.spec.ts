// KEP-614 basic tests that read node state: the rules an SCTP hostPort and an SCTP Service produce.
// "Pods can declare SCTP HostPorts" and "Services can declare SCTP ServicePorts when using the
// <mode> proxier": the rules match SCTP, not TCP/UDP, and carry the port translation. No SCTP is sent.

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';

const PORT = 5060;
const TARGET = 5061;
const EXTERNAL_IP = '192.0.2.10'; // TEST-NET-1: rules only, never a destination of traffic here

describeE2E('SCTP node rules', [Tag.SCTP, Tag.Serial, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-node-rules', { sctpModuleGuard: true });

  f.it('Pods can declare SCTP HostPorts', async function () {
    this.timeout(timeouts.podStart + timeouts.proxySync + timeouts.nodeExec * 4);
    const nodes = await f.node.access();
    const [node] = await f.readySchedulableNodes();
    f.skipIf(!node, 'the cluster has no ready schedulable node');
    const pod = await f.runPod({
      name: 'hostport', image: f.config.image, args: f.pauseArgs(), nodeName: node!.metadata!.name,
      ports: [{ protocol: 'SCTP', containerPort: PORT, hostPort: PORT }],
    });
    const nodeName = pod.spec!.nodeName!;
    const target = `${pod.status!.podIP}:${PORT}`;
    const found = await f.eventually(`an SCTP DNAT for hostPort ${PORT} -> ${target} on node ${nodeName} (node access: ${nodes.mode})`, {
      timeout: timeouts.proxySync,
      probe: () => f.node.hostPortRules(nodeName, { port: PORT }),
      until: (r) => r.dnatTargets.includes(target),
      describe: (r) => r.render(),
    });
    expect(found.sctp, `SCTP hostPort rules on ${nodeName}\n${found.render()}`).to.not.be.empty;
    expect(found.tcpOrUdp, `TCP/UDP rules for an SCTP-only hostPort on ${nodeName}\n${found.render()}`).to.be.empty;
  });

  for (const mode of ['iptables', 'nftables', 'ipvs'] as const) {
    f.it(`Services can declare SCTP ServicePorts when using the ${mode} proxier`, async function () {
      this.timeout(timeouts.podStart + timeouts.proxySync + timeouts.nodeExec * 6);
      const [node] = await f.readySchedulableNodes();
      f.skipIf(!node, 'the cluster has no ready schedulable node');
      const nodeName = node!.metadata!.name!;
      const actual = await f.node.proxyMode(nodeName);
      f.skipIf(actual.mode !== mode, `kube-proxy on node ${nodeName} runs in ${actual.mode} mode (${actual.evidence}), not ${mode}`);

      const pod = await f.runPod({ name: 'backend', image: f.config.image, args: f.pauseArgs(), labels: { app: 'sctp-rules' }, nodeName, ports: [{ protocol: 'SCTP', containerPort: TARGET }] });
      const svc = await f.createService({
        name: 'sctp-rules', type: 'NodePort', selector: { app: 'sctp-rules' }, externalIPs: [EXTERNAL_IP],
        ports: [{ protocol: 'SCTP', port: PORT, targetPort: TARGET }],
      });
      const clusterIP = svc.spec!.clusterIP!;
      const nodePort = svc.spec!.ports![0]!.nodePort!;
      const endpoint = `${pod.status!.podIP}:${TARGET}`;
      for (const [label, query] of [
        [`ClusterIP ${clusterIP}:${PORT}`, { ip: clusterIP, port: PORT }],
        [`externalIP ${EXTERNAL_IP}:${PORT}`, { ip: EXTERNAL_IP, port: PORT }],
        [`NodePort ${nodePort}`, { nodePort }],
      ] as const) {
        const found = await f.eventually(`${mode} rules for ${label}/SCTP -> ${endpoint} on node ${nodeName}`, {
          timeout: timeouts.proxySync,
          probe: () => f.node.serviceRules(nodeName, query),
          until: (r) => r.sctp.length > 0 && r.dnatTargets.includes(endpoint),
          describe: (r) => r.render(),
        });
        expect(found.tcpOrUdp, `${label}: rules that match TCP/UDP for an SCTP-only Service on ${nodeName}\n${found.render()}`).to.be.empty;
        expect(found.dnatTargets, `${label}: DNAT carries the port translation ${PORT} -> ${TARGET}\n${found.render()}`).to.include(endpoint);
      }
    });
  }
});
