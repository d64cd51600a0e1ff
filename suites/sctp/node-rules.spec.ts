// KEP-614 basic tests that read node state: the rules an SCTP hostPort and an SCTP Service produce.
// "Pods can declare SCTP HostPorts" and "Services can declare SCTP ServicePorts when using the
// <mode> proxier": the rules match SCTP, not TCP/UDP, and carry the port translation. No SCTP is sent.
// Each rule is judged by its own protocol match (lib/node/netfilter/find.ts): a TCP DNAT reached from the
// SCTP Service is named in the failure, never counted as the SCTP DNAT.
//
// Verdicts both ways. Green on a healthy cluster; red, for the reason given, on a node broken by these
// fault-lane recipes (built in the fault lane; re-run both halves):
//   dnat-to-tcp      the endpoint DNAT rewritten to TCP (KUBE-SEP-* `-p tcp -m tcp -j DNAT`, nft `meta l4proto tcp dnat`)
//                    -> "Services can declare SCTP ServicePorts when using the <mode> proxier" fails:
//                       "rule `...` (nat KUBE-SEP-...) on the path of SCTP <clusterIP>:5060 matches tcp: SCTP is never DNATed to <podIP>:5061"
//   dnat-no-port     DNAT without port translation (`--to-destination <podIP>`, nft `dnat to <podIP>`)
//                    -> the Services test fails: "observed SCTP DNAT targets: <podIP>:5060 (... the port is 5060, not 5061)";
//                       on the hostPort's CNI-DN-* rule -> "Pods can declare SCTP HostPorts" fails with <podIP>:5072, not 5060
//   portmap-removed  the CNI portmap plugin removed from the chain (no CNI-HOSTPORT-DNAT / CNI-DN-* rules for the pod)
//                    -> "Pods can declare SCTP HostPorts" fails: no SCTP DNAT for hostPort 5072, with the node's rule excerpt
// The same breakages on captured dumps: lib/node/fixtures/netfilter/variants/ (unit tests: lib/node/netfilter/verdicts.test.ts).

import { describeE2E, expect, Tag, timeouts, times, useE2E } from '../../lib/e2e.ts';
import { errorMessage } from '../../lib/framework/errors.ts';
import { EventuallyTimeout } from '../../lib/framework/eventually.ts';
import { describeDnatExpectation, endpointKey, type RuleSearch, type ServiceQuery } from '../../lib/node/netfilter/index.ts';
import { noNetfilterDataplane } from '../../lib/node/netfilter/no-dataplane.ts';

const PORT = 5060;
const TARGET = 5061;
const HOST_PORT = 5072; // unique in the suite (a terminating pod of another test may still hold its hostPort); != the containerPort, so a DNAT that keeps the port (no port translation) is visible
const CONTAINER_PORT = 5060;
const EXTERNAL_IP = '192.0.2.10'; // TEST-NET-1: rules only, never a destination of traffic here

/** What is wrong with the SCTP rules found for `what` (empty: nothing). Each message stands alone. */
function problemsWith(found: RuleSearch, what: string, expected: string, translation: string): string[] {
  const out: string[] = [];
  const where = `${what} on node ${found.node} (proxy mode ${found.mode})`;
  if (found.mismatches.length)
    out.push(`${where}: ${found.mismatches.length} rule(s) on the SCTP path match another protocol:\n  ${found.mismatches.map((m) => m.message).join('\n  ')}`);
  if (found.tcpOrUdp.length) out.push(`${where}: ${found.tcpOrUdp.length} rule(s) match TCP/UDP for an SCTP-only port`);
  if (!found.dnatTargets.includes(expected)) out.push(`${where}: ${describeDnatExpectation(found, expected)} (${translation})`);
  if (!found.sctp.length) out.push(`${where}: no rule matches SCTP`);
  return out.length ? [`${out.join('\n')}\n${found.render()}`] : [];
}

describeE2E('SCTP node rules', [Tag.SCTP, Tag.Serial, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-node-rules', { sctpModuleGuard: true });

  f.it('Pods can declare SCTP HostPorts', async () => {
    f.budget({ podStart: 1, proxySync: 1, nodeExec: 4 });
    const nodes = await f.node.access();
    const [node] = await f.readySchedulableNodes();
    f.skipIf(!node, 'the cluster has no ready schedulable node');
    const pod = await f.runPod({
      name: 'hostport',
      image: f.config.images.test,
      args: f.pauseArgs(),
      nodeName: node!.metadata!.name,
      ports: [{ protocol: 'SCTP', containerPort: CONTAINER_PORT, hostPort: HOST_PORT }],
    });
    const nodeName = pod.spec!.nodeName!;
    const podIP = pod.status!.podIP!;
    const target = endpointKey(podIP, CONTAINER_PORT);
    const what = `hostPort ${HOST_PORT} -> containerPort ${CONTAINER_PORT} of pod ${pod.metadata!.name} (${podIP})`;
    // No kube-proxy on the node: CNI portmap (if chained) writes its rules at pod start, so one read tells whether
    // netfilter carries this hostPort at all; if not, an eBPF datapath serves it and this test has nothing to read.
    const mode = await f.node.proxyMode(nodeName);
    if (mode.mode === 'none') {
      const why = noNetfilterDataplane(
        mode,
        await f.node.hostPortRules(nodeName, { port: HOST_PORT, family: podIP.includes(':') ? 6 : 4 }),
        what,
        `its SCTP path is judged by "A client outside the cluster can connect via SCTP to a pod's hostPort"`,
      );
      f.skipIf(why !== undefined, why!);
    }
    // CNI portmap writes a pod's rules at once: the first SCTP DNAT (or a rule of the wrong protocol) is the verdict.
    const found = await f.eventually(`an SCTP DNAT for hostPort ${HOST_PORT} -> ${target} on node ${nodeName} (node access: ${nodes.mode})`, {
      timeout: timeouts.proxySync,
      probe: () => f.node.hostPortRules(nodeName, { port: HOST_PORT, family: podIP.includes(':') ? 6 : 4 }),
      until: (r) => r.dnatTargets.length > 0 || r.mismatches.length > 0,
      describe: (r) => r.render(),
    });
    const problems = problemsWith(found, what, target, `hostPort ${HOST_PORT} must be DNATed to containerPort ${CONTAINER_PORT}`);
    expect(problems, problems.join('\n\n')).to.be.empty;
  });

  for (const mode of ['iptables', 'nftables', 'ipvs'] as const) {
    f.it(`Services can declare SCTP ServicePorts when using the ${mode} proxier`, async () => {
      f.budget({ podStart: 1, nodeExec: 4 });
      const nodes = (await f.readySchedulableNodes()).map((n) => n.metadata!.name!);
      f.skipIf(!nodes.length, 'the cluster has no ready schedulable node');
      // per node: its proxy mode, then three addresses, each up to one sync plus its rule reads
      f.budget({ podStart: 1 }, times(nodes.length, { nodeExec: 4 }, times(3, { proxySync: 1, nodeExec: 4 })));

      // Nodes may differ: read the proxy mode on every one of them.
      const modes: { node: string; mode: string; evidence: string }[] = [];
      for (const node of nodes) modes.push({ node, ...(await f.node.proxyMode(node)) });
      const modeTable = modes.map((m) => `  ${m.node}: ${m.mode} — ${m.evidence}`).join('\n');
      const unknown = modes.filter((m) => m.mode === 'unknown');
      expect(
        unknown.map((m) => m.node),
        `the proxy mode of ${unknown.length} node(s) could not be determined, so no Service-rule verdict can be trusted there:\n${modeTable}`,
      ).to.be.empty;
      const inMode = modes.filter((m) => m.mode === mode).map((m) => m.node);
      // 'none' (an eBPF Service dataplane, or no kube-proxy) is shown as such, never as a missing rule.
      if (!inMode.length) f.skipFor(mode, `no ready node runs kube-proxy in ${mode} mode; proxy mode per node:\n${modeTable}`);
      const others = modes.filter((m) => m.mode !== mode);
      if (others.length) f.log(`not checked in this test (other proxy modes):\n${others.map((m) => `  ${m.node}: ${m.mode} — ${m.evidence}`).join('\n')}`);

      const pod = await f.runPod({
        name: 'backend',
        image: f.config.images.test,
        args: f.pauseArgs(),
        labels: { app: 'sctp-rules' },
        nodeName: inMode[0],
        ports: [{ protocol: 'SCTP', containerPort: TARGET }],
      });
      const svc = await f.createService({
        name: 'sctp-rules',
        type: 'NodePort',
        selector: { app: 'sctp-rules' },
        externalIPs: [EXTERNAL_IP],
        ports: [{ protocol: 'SCTP', port: PORT, targetPort: TARGET }],
      });
      const clusterIP = svc.spec!.clusterIP!;
      const family = clusterIP.includes(':') ? 6 : 4;
      const nodePort = svc.spec!.ports![0]!.nodePort!;
      const endpoint = endpointKey(pod.status!.podIP!, TARGET);
      const queries: [string, ServiceQuery][] = [
        [`ClusterIP ${endpointKey(clusterIP, PORT)}`, { ip: clusterIP, port: PORT }],
        [`NodePort ${nodePort}`, { nodePort, family }],
      ];
      if (family === 4) queries.splice(1, 0, [`externalIP ${EXTERNAL_IP}:${PORT}`, { ip: EXTERNAL_IP, port: PORT }]);

      // Every node in this mode, every address of the Service; all problems in one message.
      const problems: string[] = [];
      for (const node of inMode) {
        for (const [label, query] of queries) {
          try {
            // kube-proxy writes a Service's rules in one sync: the first SCTP DNAT (or a rule of the wrong protocol) is the verdict.
            const found = await f.eventually(`${mode} rules for ${label}/SCTP -> ${endpoint} on node ${node}`, {
              timeout: timeouts.proxySync,
              probe: () => f.node.serviceRules(node, query),
              until: (r) => r.dnatTargets.length > 0 || r.mismatches.length > 0,
              describe: (r) => r.render(),
            });
            problems.push(...problemsWith(found, `${label}/SCTP`, endpoint, `Service port ${PORT} must be DNATed to targetPort ${TARGET}`));
          } catch (e) {
            if (!(e instanceof EventuallyTimeout)) throw e;
            problems.push(`${label}/SCTP on node ${node} (proxy mode ${mode}): ${errorMessage(e)}`);
          }
        }
      }
      expect(
        problems,
        `${problems.length} problem(s) with the ${mode} rules of SCTP Service ${svc.metadata!.name} (endpoint ${endpoint}) on ${inMode.length} node(s) [${inMode.join(', ')}]:\n\n${problems.join('\n\n')}`,
      ).to.be.empty;
    });
  }
});
