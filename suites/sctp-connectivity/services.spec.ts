// KEP-614: "A pod can connect to another pod via SCTP via a Service IP" — with port translation,
// every backend reached, hairpin (a backend reaching its own Service), a headless Service found
// through DNS (A and _sctp SRV) and a Service without selector fed by a hand-made EndpointSlice.
// Fault-lane recipes that must turn the Service IP test red: `dnat-to-tcp`, `dnat-no-port`, `forward-drop-sctp`.

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { parseNslookup } from '../../lib/k8s/dns.ts';
import { withDiagnosis } from './diagnose.ts';
import { clientArgs, eventuallyAnsweredBy, expectEveryBackend, HTTP_PORT, probeHostname, serverArgs } from './helpers.ts';

const PORT = 5060; // Service port
const TARGET = 5061; // container port: port != targetPort, so a missing translation fails
const BACKENDS = ['backend-a', 'backend-b'];

describeE2E('SCTPConnectivity Services', [Tag.SCTPConnectivity, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-svc', { scope: 'all' });
  const ips: Record<string, string> = {};
  const nodeOf: Record<string, string> = {};

  f.before(async () => {
    f.budget({ podStart: 2 });
    const nodes = await f.sctpPodNodes();
    f.skipIf(nodes.length === 0, `the cluster has no ready schedulable node for SCTP pods${f.placementNote() ? ` (${f.placementNote()})` : ''}`);
    // backends spread over the nodes there are; the client on the first
    const pods = await Promise.all([
      ...BACKENDS.map((name, i) =>
        f.runPod({
          name,
          image: f.config.images.test,
          args: serverArgs(TARGET, { tcp: true, udp: true, flavor: f.config.flavor }),
          labels: { app: 'sctp-svc' },
          readinessPort: HTTP_PORT,
          nodeName: nodes[i % nodes.length]!.metadata!.name,
          ports: [{ name: 'sip', protocol: 'SCTP', containerPort: TARGET }],
        }),
      ),
      f.runPod({ name: 'client', image: f.config.images.test, args: clientArgs(f), nodeName: nodes[0]!.metadata!.name }),
    ]);
    for (const p of pods) {
      ips[p.metadata!.name!] = p.status!.podIP!;
      nodeOf[p.metadata!.name!] = p.spec!.nodeName!;
    }
  });

  async function clusterIPService(name: string) {
    const svc = await f.createService({ name, selector: { app: 'sctp-svc' }, ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }] });
    await f.waitForEndpointSlices(
      name,
      `both backends ready on ${TARGET}/SCTP`,
      (s) =>
        s.flatMap((x) => x.endpoints ?? []).filter((e) => e.conditions?.ready).length === BACKENDS.length &&
        s.some((x) => (x.ports ?? []).some((p) => p.port === TARGET && p.protocol === 'SCTP')),
    );
    return svc.spec!.clusterIP!;
  }

  f.it(`A pod can connect to another pod via SCTP via a Service IP (port ${PORT} -> targetPort ${TARGET}, every backend answers)`, async () => {
    f.budget({ endpoints: 1, proxySync: 2 });
    const vip = await clusterIPService('sctp-clusterip');
    const nodes = [...new Set(Object.keys(ips).map((n) => nodeOf[n]!))];
    const r = await withDiagnosis(
      f,
      () => ({ client: 'client', host: vip, port: PORT, control: { host: ips['backend-a']!, port: TARGET }, nodes, service: { ip: vip, port: PORT } }),
      () => expectEveryBackend(f, `SCTP client -> ClusterIP ${vip}:${PORT}`, BACKENDS, () => probeHostname(f, { from: 'client', host: vip, port: PORT })),
    );
    f.log(`ClusterIP ${vip}:${PORT}: ${r.render()}`);
    // the Service port is not the container port: nothing answers on the pod IP at :PORT
    const direct = await probeHostname(f, { from: 'client', host: ips['backend-a']!, port: PORT });
    expect(
      direct.state,
      `nothing listens on backend-a ${ips['backend-a']}:${PORT}; an answer means the test would not see a missing port translation\n${direct.render()}`,
    ).to.not.equal('allowed');
  });

  f.it('A backend can reach its own SCTP Service (hairpin), every backend answers', async () => {
    f.budget({ endpoints: 1, proxySync: 2 });
    const vip = await clusterIPService('sctp-hairpin');
    const r = await expectEveryBackend(f, `SCTP backend-a -> its own Service ${vip}:${PORT}`, BACKENDS, () =>
      probeHostname(f, { from: 'backend-a', host: vip, port: PORT }),
    );
    expect(r.seen.get('backend-a'), `hairpin: backend-a must reach itself through ${vip}:${PORT}\n${r.render()}`).to.be.greaterThan(0);
  });

  f.it('A pod can connect via SCTP to the addresses of a headless Service found through DNS (A and _sip._sctp SRV)', async () => {
    f.budget({ dns: 2, proxySync: 2 });
    f.skipIf(f.config.flavor !== 'agnhost-sctp', `DNS lookups use the busybox nslookup in agnhost-sctp; flavor ${f.config.flavor} has none`);
    await f.createService({ name: 'sctp-headless', headless: true, selector: { app: 'sctp-svc' }, ports: [{ name: 'sip', protocol: 'SCTP', port: TARGET }] });
    const fqdn = `sctp-headless.${f.ns}.svc.${f.config.clusterDomain}`;
    const lookup = (type: 'A' | 'SRV', name: string, until: (r: ReturnType<typeof parseNslookup>) => boolean) =>
      f.eventually(`${type} ${name} from ${f.ns}/client`, {
        timeout: timeouts.dns,
        probe: async () => {
          const argv = ['/bin/nslookup', `-type=${type}`, name];
          const x = await f.exec('client', argv);
          return { ...parseNslookup(x.stdout), raw: `$ ${f.execCommand('client', argv)}\nexit ${x.code}\n${x.stdout}${x.stderr}` };
        },
        until,
        describe: (r) => r.raw,
      });
    const a = await lookup('A', fqdn, (r) => r.addresses.length === BACKENDS.length);
    expect([...a.addresses].sort(), a.raw).to.deep.equal(BACKENDS.map((b) => ips[b]!).sort());
    const srv = await lookup('SRV', `_sip._sctp.${fqdn}`, (r) => r.srv.length === BACKENDS.length);
    expect(
      srv.srv.map((s) => s.port),
      srv.raw,
    ).to.deep.equal([TARGET, TARGET]);

    // connect to what DNS returned: each A address, and each SRV target name:port
    const byIp = Object.fromEntries(BACKENDS.map((b) => [ips[b]!, b]));
    for (const addr of a.addresses) {
      await eventuallyAnsweredBy(f, `SCTP client -> headless A record ${addr}:${TARGET}`, byIp[addr]!, () =>
        probeHostname(f, { from: 'client', host: addr, port: TARGET }),
      );
    }
    const reached = new Set<string>();
    for (const s of srv.srv) {
      const target = s.target.replace(/\.$/, '');
      const r = await f.eventually(`SCTP client -> SRV target ${target}:${s.port}`, {
        timeout: timeouts.proxySync,
        probe: () => probeHostname(f, { from: 'client', host: target, port: s.port }),
        until: (p) => p.state === 'allowed',
        describe: (p) => p.render(),
      });
      expect(BACKENDS, `SRV target ${target}:${s.port} answered by a pod that is not a backend\n${r.render()}\n${srv.raw}`).to.include(r.reply);
      reached.add(r.reply);
    }
    expect([...reached].sort(), `the SRV targets of _sip._sctp.${fqdn} lead to every backend\n${srv.raw}`).to.deep.equal(BACKENDS);
  });

  f.it('A pod can connect via SCTP to a Service without selector through a hand-made EndpointSlice', async () => {
    f.budget({ proxySync: 3 });
    const svc = await f.createService({ name: 'sctp-manual', ports: [{ name: 'sip', protocol: 'SCTP', port: PORT, targetPort: TARGET }] });
    await f.createEndpointSlice({
      name: 'sctp-manual-1',
      serviceName: 'sctp-manual',
      addresses: [ips['backend-b']!],
      ports: [{ name: 'sip', protocol: 'SCTP', port: TARGET }],
    });
    const vip = svc.spec!.clusterIP!;
    // only backend-b is in the slice: every answer must come from it
    const r = await expectEveryBackend(
      f,
      `SCTP client -> selector-less Service ${vip}:${PORT} (EndpointSlice -> ${ips['backend-b']}:${TARGET})`,
      ['backend-b'],
      () => probeHostname(f, { from: 'client', host: vip, port: PORT }),
    );
    for (let i = 0; i < 3; i++) {
      const p = await probeHostname(f, { from: 'client', host: vip, port: PORT });
      expect(p.reply, `only backend-b is in the EndpointSlice of ${vip}:${PORT}\n${p.render()}\n${r.render()}`).to.equal('backend-b');
    }
  });
});
