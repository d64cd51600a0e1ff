// DNS for SCTP Services: named SCTP ports get `_name._sctp` SRV records, and a headless Service
// resolves to its pods' IPs. Lookups only: no SCTP packet is sent.
// Fault-lane recipe that must turn every test here red: `coredns-stopped` (npm run lab:break -- coredns-stopped).

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { parseNslookup } from '../../lib/k8s/dns.ts';

describeE2E('SCTP DNS', [Tag.SCTP, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-dns', { scope: 'all', sctpModuleGuard: true });
  let clientPod = '';
  const backends: Record<string, string> = {};

  f.before(async () => {
    f.budget({ podStart: 2 });
    f.skipIf(f.config.flavor !== 'agnhost-sctp', `DNS lookups use the busybox nslookup in agnhost-sctp; flavor ${f.config.flavor} has none`);
    const pods = await Promise.all(
      ['a', 'b'].map((n) =>
        f.runPod({
          name: `backend-${n}`,
          image: f.config.images.test,
          args: f.pauseArgs(),
          labels: { app: 'sctp-dns' },
          ports: [{ name: 'sip', protocol: 'SCTP', containerPort: 5060 }],
        }),
      ),
    );
    for (const p of pods) backends[p.metadata!.name!] = p.status!.podIP!;
    clientPod = (await f.runPod({ name: 'client', image: f.config.images.test, args: f.pauseArgs() })).metadata!.name!;
    await f.createService({ name: 'sctp-headless', headless: true, selector: { app: 'sctp-dns' }, ports: [{ name: 'sip', protocol: 'SCTP', port: 5060 }] });
    await f.createService({ name: 'sctp-clusterip', selector: { app: 'sctp-dns' }, ports: [{ name: 'sip', protocol: 'SCTP', port: 5060, targetPort: 5060 }] });
  });

  const lookup = (name: string, type: 'A' | 'SRV') =>
    f.eventually(`${type} records for ${name} from pod ${f.ns}/${clientPod}`, {
      timeout: timeouts.dns,
      probe: async () => {
        const r = await f.exec(clientPod, ['/bin/nslookup', `-type=${type}`, name]);
        return { ...parseNslookup(r.stdout), raw: `$ nslookup -type=${type} ${name}\nexit ${r.code}\n${r.stdout}${r.stderr}` };
      },
      until: (r) => (type === 'A' ? r.addresses.length >= Object.keys(backends).length : r.srv.length > 0),
      describe: (r) => r.raw,
    });

  f.it('a named SCTP port of a ClusterIP Service has a _sip._sctp SRV record', async () => {
    const fqdn = `sctp-clusterip.${f.ns}.svc.${f.config.clusterDomain}`;
    const r = await lookup(`_sip._sctp.${fqdn}`, 'SRV');
    expect(
      r.srv.map((s) => ({ port: s.port, target: s.target.replace(/\.$/, '') })),
      r.raw,
    ).to.deep.equal([{ port: 5060, target: fqdn }]);
  });

  f.it('a named SCTP port of a headless Service has one _sip._sctp SRV record per ready pod', async () => {
    const fqdn = `sctp-headless.${f.ns}.svc.${f.config.clusterDomain}`;
    const r = await f.eventually(`one SRV record per backend for _sip._sctp.${fqdn}`, {
      timeout: timeouts.dns,
      probe: async () => {
        const x = await f.exec(clientPod, ['/bin/nslookup', '-type=SRV', `_sip._sctp.${fqdn}`]);
        return { ...parseNslookup(x.stdout), raw: x.stdout + x.stderr };
      },
      until: (x) => x.srv.length === 2,
      describe: (x) => x.raw,
    });
    expect(
      r.srv.every((s) => s.port === 5060),
      r.raw,
    ).to.equal(true);
    expect(
      r.srv.every((s) => s.target.replace(/\.$/, '').endsWith(`.${fqdn}`)),
      `SRV targets are pod names under ${fqdn}\n${r.raw}`,
    ).to.equal(true);
  });

  f.it('the TCP SRV name of an SCTP-only port does not exist', async () => {
    // "does not exist" needs an answer that says so (NXDOMAIN); a lookup that timed out proves nothing.
    const fqdn = `sctp-clusterip.${f.ns}.svc.${f.config.clusterDomain}`;
    const r = await f.eventually(`an answer from cluster DNS for _sip._tcp.${fqdn} (NXDOMAIN expected; a DNS server that did not answer proves nothing)`, {
      timeout: timeouts.dns,
      probe: async () => {
        const x = await f.exec(clientPod, ['/bin/nslookup', '-type=SRV', `_sip._tcp.${fqdn}`]);
        return { ...parseNslookup(x.stdout), raw: `$ nslookup -type=SRV _sip._tcp.${fqdn}\nexit ${x.code}\n${x.stdout}${x.stderr}` };
      },
      until: (x) => x.nxdomain || x.srv.length > 0,
      describe: (x) => x.raw,
    });
    expect(r.srv, `_sip._tcp.${fqdn} must not resolve for an SCTP port\n${r.raw}`).to.be.empty;
  });

  f.it("a headless SCTP Service resolves to its pods' IPs", async () => {
    const fqdn = `sctp-headless.${f.ns}.svc.${f.config.clusterDomain}`;
    const r = await lookup(fqdn, 'A');
    expect([...r.addresses].sort(), r.raw).to.deep.equal(Object.values(backends).sort());
  });
});
