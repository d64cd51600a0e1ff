// Dual-stack SCTP (issue 14): real SCTP over each family — pod to pod, pod to each family's ClusterIP, NodePort
// on every node address from a pod (upstream's one dual-stack SCTP spec, "Granular Checks: Services Secondary IP
// Family ... should function for pod-Service: sctp") and from outside, a headless Service's AAAA and SRV records
// reached over IPv6, and a NetworkPolicy ipBlock with an IPv6 CIDR on SCTP.
// The cluster is dual-stack when the API server gives a RequireDualStack Service one ClusterIP per family and the
// pods get an address of each family; otherwise every test skips saying which of the two was missing
// (a failure under --require dual-stack).
//
// Fault-lane recipe that must turn the IPv6 tests red and leave the IPv4 ones green (cluster/lab):
//   forward-drop-sctp6   ip6tables -I FORWARD 1 -p sctp -j DROP in every node netns: "... over IPv6" fails
//                        naming IPv6 and the family's addresses; "... over IPv4" passes.

import type * as k8s from '@kubernetes/client-node';
import { classifyControl } from '../../lib/connectivity/control.ts';
import { findOutside, type OutsideClient } from '../../lib/connectivity/outside.ts';
import { probeMatrix, settleOptions } from '../../lib/connectivity/probe-matrix.ts';
import type { Cell } from '../../lib/connectivity/truth-table.ts';
import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { parseNslookup } from '../../lib/k8s/dns.ts';
import { endpointKey, familyName, type IpFamily, pickFamily } from '../../lib/node/netfilter/endpoint.ts';
import { withDiagnosis } from './diagnose.ts';
import { clientArgs, eventuallyAnsweredBy, expectEveryBackend, HTTP_PORT, probeHostname, serverArgs } from './helpers.ts';

const PORT = 5060; // Service port
const TARGET = 5061; // container port: port != targetPort, so a missing translation fails
const BACKENDS = ['backend-a', 'backend-b'];
const FAMILIES: IpFamily[] = [4, 6];
const LABELS = { app: 'sctp-dual' };

describeE2E('SCTPConnectivity dual-stack', [Tag.IPv6DualStack, Tag.SCTPConnectivity, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-dual', { scope: 'all' });
  const podIPs: Record<string, string[]> = {};
  const nodeOf: Record<string, string> = {};
  let nodes: k8s.V1Node[] = [];
  let svc: k8s.V1Service;

  /** The address of `family` among a pod's addresses; the before() proved every pod has one. */
  const podIP = (pod: string, family: IpFamily) => pickFamily(podIPs[pod] ?? [], family)!;
  const clusterIP = (family: IpFamily) => pickFamily(svc.spec?.clusterIPs ?? [], family)!;
  const nodeIPs = (n: k8s.V1Node, family: IpFamily) =>
    (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && pickFamily([a.address], family)).map((a) => a.address);

  f.before(async () => {
    f.budget({ podStart: 2, apiCall: 2, endpoints: 1 });
    nodes = await f.sctpPodNodes();
    f.skipIf(nodes.length === 0, `the cluster has no ready schedulable node for SCTP pods${f.placementNote() ? ` (${f.placementNote()})` : ''}`);
    // Dual-stack Services: the API server refuses RequireDualStack when it has one Service range only.
    try {
      svc = await f.createService({
        name: 'sctp-dual',
        type: 'NodePort',
        ipFamilyPolicy: 'RequireDualStack',
        ipFamilies: ['IPv4', 'IPv6'],
        selector: LABELS,
        ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }],
      });
    } catch (e) {
      const m = (e as Error).message;
      if (/dual-?stack|ipFamil/i.test(m)) f.skipFor('dual-stack', `the API server refused a RequireDualStack Service: ${m}`);
      throw e;
    }
    const pods = await Promise.all([
      ...BACKENDS.map((name, i) =>
        f.runPod({
          name,
          image: f.config.images.test,
          args: serverArgs(TARGET, { tcp: true, udp: true, flavor: f.config.flavor }),
          labels: LABELS,
          readinessPort: HTTP_PORT,
          nodeName: nodes[i % nodes.length]!.metadata!.name,
          ports: [{ name: 'sip', protocol: 'SCTP', containerPort: TARGET }],
        }),
      ),
      f.runPod({ name: 'client', image: f.config.images.test, args: clientArgs(f), nodeName: nodes[0]!.metadata!.name }),
    ]);
    for (const p of pods) {
      podIPs[p.metadata!.name!] = (p.status?.podIPs ?? []).map((x) => x.ip!).filter(Boolean);
      nodeOf[p.metadata!.name!] = p.spec!.nodeName!;
    }
    const single = pods.filter((p) => FAMILIES.some((fam) => !pickFamily(podIPs[p.metadata!.name!]!, fam)));
    if (single.length)
      f.skipFor(
        'dual-stack',
        `Services are dual-stack (ClusterIPs ${svc.spec?.clusterIPs?.join(', ')}) but pods are not: ${single
          .map((p) => `${p.metadata!.name} has podIPs [${podIPs[p.metadata!.name!]!.join(', ')}]`)
          .join('; ')} (the CNI gives one family)`,
      );
    await f.waitForEndpointSlices('sctp-dual', `both backends ready on ${TARGET}/SCTP in an IPv4 and an IPv6 EndpointSlice`, (s) =>
      ['IPv4', 'IPv6'].every(
        (t) =>
          s
            .filter((x) => x.addressType === t)
            .flatMap((x) => x.endpoints ?? [])
            .filter((e) => e.conditions?.ready).length === BACKENDS.length,
      ),
    );
    f.log(
      `dual-stack: Service ClusterIPs ${svc.spec!.clusterIPs!.join(', ')}; ${pods.map((p) => `${p.metadata!.name} ${podIPs[p.metadata!.name!]!.join(' ')}`).join('; ')}`,
    );
  });

  for (const fam of FAMILIES) {
    const IPv = familyName(fam);

    f.it(`A pod can connect directly to another pod via SCTP over ${IPv}`, async () => {
      f.budget({ proxySync: 1, nodeExec: 4 });
      const to = nodeOf['backend-b'] !== nodeOf.client ? 'backend-b' : 'backend-a';
      const ip = podIP(to, fam);
      await withDiagnosis(
        f,
        () => ({ client: 'client', host: ip, port: TARGET, nodes: [nodeOf.client!, nodeOf[to]!] }),
        () =>
          eventuallyAnsweredBy(f, `SCTP over ${IPv}: client -> ${to} ${endpointKey(ip, TARGET)}`, to, () =>
            probeHostname(f, { from: 'client', host: ip, port: TARGET }),
          ),
      );
    });

    f.it(`A pod can connect to another pod via SCTP via a Service IP over ${IPv} (port ${PORT} -> targetPort ${TARGET}, every backend answers)`, async () => {
      f.budget({ proxySync: 1, nodeExec: 4 });
      const vip = clusterIP(fam);
      const r = await withDiagnosis(
        f,
        () => ({
          client: 'client',
          host: vip,
          port: PORT,
          control: { host: podIP('backend-a', fam), port: TARGET },
          nodes: Object.values(nodeOf),
          service: { ip: vip, port: PORT, family: fam },
        }),
        () =>
          expectEveryBackend(f, `SCTP over ${IPv}: client -> ClusterIP ${endpointKey(vip, PORT)}`, BACKENDS, () =>
            probeHostname(f, { from: 'client', host: vip, port: PORT }),
          ),
      );
      f.log(`${IPv} ClusterIP ${endpointKey(vip, PORT)}: ${r.render()}`);
    });

    f.it(`A client outside the cluster can connect via SCTP to a NodePort over ${IPv} on every node address of that family`, async () => {
      f.budget({ proxySync: 2, apiCall: 1 });
      const choice = await findOutside(f.config);
      if (!choice.client) return f.skipFor('outside', choice.reason);
      const outside: OutsideClient = choice.client;
      f.defer(`close outside client ${outside.description}`, () => outside.close());
      const nodePort = svc.spec!.ports![0]!.nodePort!;
      const targets = nodes.flatMap((n) => nodeIPs(n, fam).map((ip) => ({ node: n.metadata!.name!, ip })));
      expect(targets, `no node has an ${IPv} InternalIP (${nodes.map((n) => `${n.metadata!.name}: ${JSON.stringify(n.status?.addresses)}`).join('; ')})`).to.not
        .be.empty;
      for (const t of targets) {
        const r = await f.eventually(`SCTP over ${IPv} from outside to NodePort ${endpointKey(t.ip, nodePort)} (node ${t.node}) answered`, {
          timeout: timeouts.proxySync,
          probe: () => outside.connect(t.ip, nodePort, 'SCTP', { data: 'hostname' }),
          until: (o) => o.state === 'allowed',
          describe: (o) => o.render(),
        });
        expect(BACKENDS, `SCTP over ${IPv}: NodePort ${endpointKey(t.ip, nodePort)} answered by a pod that is not a backend\n${r.render()}`).to.include(
          r.reply,
        );
      }
    });
  }

  // upstream test/e2e/network/dual_stack.go: the Service's secondary-family ClusterIP and NodePort, from a pod
  f.it('Granular Checks: Services Secondary IP Family should function for pod-Service: sctp (secondary ClusterIP and NodePort on every node)', async () => {
    f.budget({ proxySync: 1 + nodes.length });
    const secondary = svc.spec!.ipFamilies![1] === 'IPv6' ? 6 : 4;
    const IPv = familyName(secondary);
    const vip = clusterIP(secondary);
    await expectEveryBackend(f, `SCTP over ${IPv} (secondary family): client -> ClusterIP ${endpointKey(vip, PORT)}`, BACKENDS, () =>
      probeHostname(f, { from: 'client', host: vip, port: PORT }),
    );
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    for (const n of nodes) {
      const ip = pickFamily(nodeIPs(n, secondary), secondary);
      expect(ip, `node ${n.metadata!.name} has no ${IPv} InternalIP: ${JSON.stringify(n.status?.addresses)}`).to.be.a('string');
      await expectEveryBackend(
        f,
        `SCTP over ${IPv} (secondary family): client -> NodePort ${endpointKey(ip!, nodePort)} on ${n.metadata!.name}`,
        BACKENDS,
        () => probeHostname(f, { from: 'client', host: ip!, port: nodePort }),
      );
    }
  });

  f.it(
    'A headless dual-stack SCTP Service has AAAA records and a _sip._sctp SRV record per pod address of each family, and SCTP reaches every AAAA address',
    async () => {
      f.budget({ dns: 2, proxySync: 1 });
      f.skipIf(f.config.flavor !== 'agnhost-sctp', `DNS lookups use the busybox nslookup in agnhost-sctp; flavor ${f.config.flavor} has none`);
      await f.createService({
        name: 'sctp-dual-hl',
        headless: true,
        ipFamilyPolicy: 'RequireDualStack',
        ipFamilies: ['IPv4', 'IPv6'],
        selector: LABELS,
        ports: [{ name: 'sip', protocol: 'SCTP', port: TARGET }],
      });
      const fqdn = `sctp-dual-hl.${f.ns}.svc.${f.config.clusterDomain}`;
      const want = BACKENDS.map((b) => podIP(b, 6)).sort();
      const lookup = (type: 'AAAA' | 'SRV', name: string, until: (r: ReturnType<typeof parseNslookup>) => boolean) =>
        f.eventually(`${type} records for ${name} from pod ${f.ns}/client`, {
          timeout: timeouts.dns,
          probe: async () => {
            const x = await f.exec('client', ['/bin/nslookup', `-type=${type}`, name]);
            return { ...parseNslookup(x.stdout), raw: `$ nslookup -type=${type} ${name}\nexit ${x.code}\n${x.stdout}${x.stderr}` };
          },
          until,
          describe: (r) => r.raw,
        });
      const aaaa = await lookup('AAAA', fqdn, (r) => r.addresses.length >= want.length);
      expect(aaaa.addresses.map((a) => endpointKey(a)).sort(), `AAAA of ${fqdn}: expected the backends' IPv6 addresses\n${aaaa.raw}`).to.deep.equal(
        want.map((a) => endpointKey(a)),
      );
      // CoreDNS gives a dual-stack headless Service one SRV record per endpoint address: per pod, one of each family,
      // named after the address (10-244-1-5…, fd00-244-1--5…)
      const dashed = BACKENDS.flatMap((b) => FAMILIES.map((fam) => podIP(b, fam).replaceAll(/[.:]/g, '-'))).sort();
      const srv = await lookup('SRV', `_sip._sctp.${fqdn}`, (r) => r.srv.length >= dashed.length);
      expect(
        srv.srv.map((s) => `${s.target.split('.')[0]}:${s.port}`).sort(),
        `SRV _sip._sctp.${fqdn}: one record per backend address of each family, on port ${TARGET}\n${srv.raw}`,
      ).to.deep.equal(dashed.map((d) => `${d}:${TARGET}`));
      for (const ip of want) {
        const who = BACKENDS.find((b) => podIP(b, 6) === ip)!;
        await eventuallyAnsweredBy(f, `SCTP over IPv6 to the AAAA address ${endpointKey(ip, TARGET)} of ${fqdn}`, who, () =>
          probeHostname(f, { from: 'client', host: ip, port: TARGET }),
        );
      }
    },
  );
});

// Its own describe: a [Feature:NetworkPolicy] describe runs last in the embedded lab (after the NetworkPolicy
// implementation is brought up), and the Service tests above must not run under it.
describeE2E('SCTPConnectivity dual-stack NetworkPolicy', [Tag.IPv6DualStack, Tag.SCTPConnectivity, Tag.NetworkPolicy, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-dual-netpol', { scope: 'all' });
  const podIPs: Record<string, string[]> = {};
  const podIP = (pod: string, family: IpFamily) => pickFamily(podIPs[pod] ?? [], family)!;

  f.before(async () => {
    f.budget({ podStart: 1 });
    const nodes = await f.sctpPodNodes();
    f.skipIf(nodes.length === 0, `the cluster has no ready schedulable node for SCTP pods${f.placementNote() ? ` (${f.placementNote()})` : ''}`);
    const pods = await Promise.all(
      ['backend-a', 'backend-b', 'client'].map((name, i) =>
        f.runPod({
          name,
          image: f.config.images.test,
          args: serverArgs(TARGET, { tcp: true, flavor: f.config.flavor }),
          labels: { pod: name },
          readinessPort: HTTP_PORT,
          nodeName: nodes[i % nodes.length]!.metadata!.name,
          ports: [{ name: 'sip', protocol: 'SCTP', containerPort: TARGET }],
        }),
      ),
    );
    for (const p of pods) podIPs[p.metadata!.name!] = (p.status?.podIPs ?? []).map((x) => x.ip!).filter(Boolean);
    const single = pods.filter((p) => !pickFamily(podIPs[p.metadata!.name!]!, 6));
    if (single.length)
      f.skipFor(
        'dual-stack',
        `pods have no IPv6 address: ${single.map((p) => `${p.metadata!.name} has podIPs [${podIPs[p.metadata!.name!]!.join(', ')}]`).join('; ')}`,
      );
  });

  f.it('NetworkPolicy ipBlock with an IPv6 CIDR admits SCTP from inside the block and denies it from outside, over IPv6', async () => {
    f.budget({ matrix: 3, apiCall: 3 });
    const cell = (from: string): Cell => ({ from, to: 'backend-a' });
    const probe6 = (c: Cell, protocol: 'SCTP' | 'TCP') =>
      f.probe({ from: c.from, host: podIP('backend-a', 6), port: TARGET, protocol, timeoutMs: timeouts.matrixProbe });
    // control: is any NetworkPolicy enforced, over IPv6? (deny-all ingress on backend-a, observed with TCP)
    await f.createNetworkPolicy({ name: 'control-deny-all', podSelector: { pod: 'backend-a' }, ingress: [] });
    const ctl = await probeMatrix({
      cells: [cell('client')],
      expected: () => 'blocked',
      concurrency: 1,
      ...settleOptions(timeouts.matrixProbe),
      probe: (c) => probe6(c, 'TCP'),
    }).finally(() => f.deleteNetworkPolicy('control-deny-all'));
    const verdict = classifyControl({
      what: `TCP over IPv6 client -> backend-a ${endpointKey(podIP('backend-a', 6), TARGET)}`,
      policy: `a deny-all ingress policy on ${f.ns}/backend-a (control-deny-all)`,
      observation: ctl.observed.get('client', 'backend-a'),
    });
    if (verdict.kind === 'not-enforced') f.skipFor('networkpolicy', verdict.text);
    if (verdict.kind === 'failed') expect.fail(verdict.text);
    const cidr = `${podIP('client', 6)}/128`;
    await f.createNetworkPolicy({
      name: 'sctp-from-ipv6-block',
      podSelector: { pod: 'backend-a' },
      ingress: [{ from: [{ ipBlock: { cidr } }], ports: [{ protocol: 'SCTP', port: TARGET }] }],
    });
    const cells = [cell('client'), cell('backend-b')];
    const r = await probeMatrix({
      cells,
      expected: (c) => (c.from === 'client' ? 'allowed' : 'blocked'),
      concurrency: cells.length,
      ...settleOptions(timeouts.matrixProbe),
      probe: (c) => probe6(c, 'SCTP'),
    });
    const seen = cells.map((c) => `${c.from} -> backend-a: ${r.observed.get(c.from, c.to).state}`).join('; ');
    expect(
      r.observed.get('client', 'backend-a').state,
      `SCTP over IPv6 from inside ipBlock ${cidr} to backend-a ${endpointKey(podIP('backend-a', 6), TARGET)}: ${seen}`,
    ).to.equal('allowed');
    expect(
      r.observed.get('backend-b', 'backend-a').state,
      `SCTP over IPv6 from backend-b ${podIP('backend-b', 6)} (outside ipBlock ${cidr}) to backend-a: ${seen}`,
    ).to.equal('blocked');
  });
});
