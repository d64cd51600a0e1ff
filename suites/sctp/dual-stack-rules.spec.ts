// Dual-stack SCTP node rules (issue 14): a RequireDualStack SCTP Service gets, on every node, rules of each
// family — iptables-save for IPv4 and ip6tables-save for IPv6 (iptables mode), the `ip` and the `ip6`
// kube-proxy table (nftables mode), IPv4 and IPv6 virtual services (ipvs) — for its ClusterIP of that family and
// its NodePort, each DNATed to the backend's address of that family with the port translated. No SCTP is sent.
// Skips when the cluster is not dual-stack (the API server refuses RequireDualStack, or the pod gets one family),
// saying which; fails instead under --require dual-stack.
//
// Fault-lane recipe that must turn the IPv6 test red and leave the IPv4 one green (cluster/lab):
//   dnat-to-tcp6  (not built: kube-proxy writes both families through one iptables-restore wrapper per family;
//                 the lab's dnat-to-tcp covers IPv4). The connectivity half is forward-drop-sctp6 in
//                 suites/sctp-connectivity/dual-stack.spec.ts.

import type * as k8s from '@kubernetes/client-node';
import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { errorMessage } from '../../lib/framework/errors.ts';
import { EventuallyTimeout } from '../../lib/framework/eventually.ts';
import {
  describeDnatExpectation,
  endpointKey,
  familyName,
  type IpFamily,
  pickFamily,
  type RuleSearch,
  type ServiceQuery,
} from '../../lib/node/netfilter/index.ts';

const PORT = 5060;
const TARGET = 5061;
const FAMILIES: IpFamily[] = [4, 6];

function problemsWith(found: RuleSearch, what: string, expected: string): string[] {
  const out: string[] = [];
  const where = `${what} on node ${found.node} (proxy mode ${found.mode})`;
  if (found.mismatches.length) out.push(`${where}: rule(s) on the SCTP path match another protocol:\n  ${found.mismatches.map((m) => m.message).join('\n  ')}`);
  if (found.tcpOrUdp.length) out.push(`${where}: ${found.tcpOrUdp.length} rule(s) match TCP/UDP for an SCTP-only port`);
  if (!found.dnatTargets.includes(expected)) out.push(`${where}: ${describeDnatExpectation(found, expected)} (port ${PORT} must be DNATed to ${TARGET})`);
  return out.length ? [`${out.join('\n')}\n${found.render()}`] : [];
}

describeE2E('SCTP dual-stack node rules', [Tag.IPv6DualStack, Tag.SCTP, Tag.Serial, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-dual-rules', { scope: 'all', sctpModuleGuard: true });
  let svc: k8s.V1Service;
  let pod: k8s.V1Pod;
  let nodes: string[] = [];

  f.before(async () => {
    f.budget({ podStart: 1, apiCall: 2 });
    await f.node.access(); // skips (or fails under --require node-access) without node access
    nodes = (await f.readySchedulableNodes()).map((n) => n.metadata!.name!);
    f.skipIf(nodes.length === 0, 'the cluster has no ready schedulable node');
    try {
      svc = await f.createService({
        name: 'sctp-dual-rules',
        type: 'NodePort',
        ipFamilyPolicy: 'RequireDualStack',
        ipFamilies: ['IPv4', 'IPv6'],
        selector: { app: 'sctp-dual-rules' },
        ports: [{ protocol: 'SCTP', port: PORT, targetPort: TARGET }],
      });
    } catch (e) {
      const m = (e as Error).message;
      if (/dual-?stack|ipFamil/i.test(m)) f.skipFor('dual-stack', `the API server refused a RequireDualStack Service: ${m}`);
      throw e;
    }
    pod = await f.runPod({
      name: 'backend',
      image: f.config.images.test,
      args: f.pauseArgs(),
      labels: { app: 'sctp-dual-rules' },
      nodeName: nodes[0],
      ports: [{ protocol: 'SCTP', containerPort: TARGET }],
    });
    const ips = (pod.status?.podIPs ?? []).map((x) => x.ip!);
    if (!pickFamily(ips, 6) || !pickFamily(ips, 4))
      f.skipFor('dual-stack', `Services are dual-stack (ClusterIPs ${svc.spec?.clusterIPs?.join(', ')}) but pod backend has podIPs [${ips.join(', ')}]`);
  });

  for (const fam of FAMILIES) {
    const IPv = familyName(fam);
    f.it(
      `Services can declare SCTP ServicePorts: kube-proxy programs the ${IPv} ClusterIP and NodePort of a dual-stack SCTP Service on every node`,
      async () => {
        f.budget({ proxySync: 2 * nodes.length, nodeExec: 4 * nodes.length });
        const clusterIP = pickFamily(svc.spec!.clusterIPs ?? [], fam);
        expect(
          clusterIP,
          `Service ${svc.metadata!.name} (RequireDualStack) has no ${IPv} ClusterIP: clusterIPs ${JSON.stringify(svc.spec!.clusterIPs)}`,
        ).to.be.a('string');
        const podIP = pickFamily(
          (pod.status?.podIPs ?? []).map((x) => x.ip!),
          fam,
        )!;
        const endpoint = endpointKey(podIP, TARGET);
        const nodePort = svc.spec!.ports![0]!.nodePort!;
        const queries: [string, ServiceQuery][] = [
          [`${IPv} ClusterIP ${endpointKey(clusterIP!, PORT)}`, { ip: clusterIP!, port: PORT, family: fam }],
          [`${IPv} NodePort ${nodePort}`, { nodePort, family: fam }],
        ];
        const problems: string[] = [];
        for (const node of nodes) {
          for (const [label, query] of queries) {
            try {
              const found = await f.eventually(`${IPv} rules for ${label}/SCTP -> ${endpoint} on node ${node}`, {
                timeout: timeouts.proxySync,
                probe: () => f.node.serviceRules(node, query),
                until: (r) => r.dnatTargets.length > 0 || r.mismatches.length > 0,
                describe: (r) => r.render(),
              });
              problems.push(...problemsWith(found, `${label}/SCTP`, endpoint));
            } catch (e) {
              if (!(e instanceof EventuallyTimeout)) throw e;
              problems.push(`${label}/SCTP on node ${node}: ${errorMessage(e)}`);
            }
          }
        }
        expect(
          problems,
          `${problems.length} problem(s) with the ${IPv} rules of dual-stack SCTP Service ${svc.metadata!.name} (${IPv} endpoint ${endpoint}) on ${nodes.length} node(s) [${nodes.join(', ')}]:\n\n${problems.join('\n\n')}`,
        ).to.be.empty;
      },
    );
  }
});
