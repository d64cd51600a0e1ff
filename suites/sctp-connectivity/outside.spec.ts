// SCTP from OUTSIDE the cluster: NodePort, hostPort and externalIP reached by a client that is not
// a pod (lib/connectivity/outside.ts: the local cluster's outside netns, or a container on kind's network).
// Each answer carries the backend's hostname, so a wrong backend cannot pass.

import type * as k8s from '@kubernetes/client-node';
import { findOutside, type OutsideClient } from '../../lib/connectivity/outside.ts';
import type { ProbeOutcome } from '../../lib/connectivity/probe.ts';
import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { HTTP_PORT, serverArgs } from './helpers.ts';

const PORT = 5060;
const TARGET = 5061;
const HOST_PORT = 5062;
/** Local cluster: an unused address in the node link subnet, routed from the outside netns via the node. */
const LOCAL_EXTERNAL_IP = '10.199.0.50';

const internalIP = (n: k8s.V1Node) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

describeE2E('SCTPConnectivity from outside the cluster', [Tag.SCTPConnectivity, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-outside', { scope: 'all' });
  let outside: OutsideClient;
  let node: k8s.V1Node;
  let nodeIP = '';

  f.before(async () => {
    f.budget({ podStart: 1, apiCall: 2 });
    const choice = await findOutside(f.config);
    if (!choice.client) return f.skip(choice.reason);
    outside = choice.client;
    f.defer(`close outside client ${outside.description}`, () => outside.close());
    f.log(`outside vantage point: ${outside.description}`);
    const nodes = await f.sctpPodNodes();
    f.skipIf(nodes.length === 0, `the cluster has no ready schedulable node for SCTP pods${f.placementNote() ? ` (${f.placementNote()})` : ''}`);
    node = nodes[0]!;
    const ip = internalIP(node);
    f.skipIf(!ip, `node ${node.metadata!.name} has no InternalIP address`);
    nodeIP = ip!;
    await f.runPod({
      name: 'backend',
      image: f.config.images.test,
      args: serverArgs(TARGET),
      labels: { app: 'sctp-outside' },
      readinessPort: HTTP_PORT,
      nodeName: node.metadata!.name,
      ports: [{ name: 'sip', protocol: 'SCTP', containerPort: TARGET, hostPort: HOST_PORT }],
    });
  });

  /** Readiness and verdict with the same probe: an association from outside, answered by `backend`. */
  async function expectFromOutside(what: string, host: string, port: number): Promise<ProbeOutcome> {
    const r = await f.eventually(`${what}: SCTP from outside (${outside.ip}) to ${host}:${port} answered`, {
      timeout: timeouts.proxySync,
      probe: () => outside.connect(host, port, 'SCTP', { data: 'hostname' }),
      until: (o) => o.state === 'allowed',
      describe: (o) => o.render(),
    });
    expect(r.reply, `${what}: expected pod "backend" to answer ${host}:${port} from outside\n${r.render()}`).to.equal('backend');
    return r;
  }

  f.it('A client outside the cluster can connect via SCTP to a NodePort Service', async () => {
    f.budget({ proxySync: 1, endpoints: 1, apiCall: 1 });
    const svc = await f.createService({
      name: 'sctp-nodeport',
      type: 'NodePort',
      selector: { app: 'sctp-outside' },
      ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }],
    });
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    await f.waitForEndpointSlices('sctp-nodeport', 'the backend ready', (s) => s.some((x) => (x.endpoints ?? []).some((e) => e.conditions?.ready)));
    await expectFromOutside(`NodePort ${nodePort} on node ${node.metadata!.name}`, nodeIP, nodePort);
  });

  f.it("A client outside the cluster can connect via SCTP to a pod's hostPort", async () => {
    f.budget({ proxySync: 1, apiCall: 1 });
    await expectFromOutside(`hostPort ${HOST_PORT} -> ${TARGET} on node ${node.metadata!.name}`, nodeIP, HOST_PORT);
  });

  f.it('A client outside the cluster can connect via SCTP to a Service externalIP', async () => {
    f.budget({ proxySync: 1, endpoints: 1, nodeExec: 3 });
    // The externalIP must be routed to a node. Local cluster: a free address of the node link, with a
    // /32 route via the node in the outside netns only (removed after). Elsewhere: the node's own IP.
    let externalIP = nodeIP;
    if (outside.kind === 'netns') {
      externalIP = LOCAL_EXTERNAL_IP;
      const taken = (f.config.localCluster?.nodes ?? []).map((n) => n.ip).concat(outside.ip);
      f.skipIf(
        taken.includes(externalIP),
        `the externalIP ${externalIP} chosen for the local cluster is already an address of a node or of the outside netns (${taken.join(', ')})`,
      );
      const before = await outside.routeTo(externalIP);
      if (!before.includes(`via ${nodeIP}`)) {
        const remove = await outside.addHostRoute(externalIP, nodeIP);
        f.defer(`remove route ${externalIP}/32 via ${nodeIP} in the outside netns`, remove);
      }
      const route = await outside.routeTo(externalIP);
      expect(route, `route from outside to the externalIP must go via node ${nodeIP}`).to.include(`via ${nodeIP}`);
    }
    await f.createService({
      name: 'sctp-externalip',
      selector: { app: 'sctp-outside' },
      externalIPs: [externalIP],
      ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }],
    });
    await f.waitForEndpointSlices('sctp-externalip', 'the backend ready', (s) => s.some((x) => (x.endpoints ?? []).some((e) => e.conditions?.ready)));
    await expectFromOutside(`externalIP ${externalIP}:${PORT}`, externalIP, PORT);
  });
});
