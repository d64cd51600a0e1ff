// Issue 9, "verdicts you can trust": each rule is judged by its own protocol match, DNAT targets count
// for SCTP only when the DNAT rule itself can match SCTP, a DNAT without a port keeps the original port,
// and endpoints compare as ip:port / [ip6]:port. Fixtures: the captured dumps one directory up and their
// fault variants in fixtures/netfilter/variants/ (derive.sh, README.md there).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as nf from './index.ts';

const fx = (n: string) => readFileSync(new URL(`../fixtures/netfilter/${n}`, import.meta.url), 'utf8');
const ipt = (...names: string[]) => nf.mergeIptablesDumps(...names.map((n) => nf.parseIptablesSave(fx(n))));
const kp134 = (nat: string) => ipt(nat, 'real-kube-proxy-1.34-iptables-save-filter.txt');
const synthetic = (nat: string) => ipt(nat, 'iptables-save-filter.txt');
const nftOf = (n: string) => nf.parseNftJson(fx(n));

// what FoundRules carries beyond sctp/tcpOrUdp/dnatTargets (read loosely: the old code had none of it)
type Explained = nf.FoundRules & { mismatches?: { message: string; rule: nf.FoundRule }[]; explanations?: string[] };
const mismatchMessages = (f: nf.FoundRules) => ((f as Explained).mismatches ?? []).map((m) => m.message);

const KP134_CLUSTER = { ip: '10.96.189.87', port: 5060 };
const KP134_EXTERNAL = { ip: '10.199.0.50', port: 5060 };
const KP134_NODEPORT = { nodePort: 30060 };

describe('verdicts: the endpoint DNAT rewritten to TCP (fault dnat-to-tcp)', () => {
  const dump = kp134('variants/kp134-nat-dnat-to-tcp.txt');
  const dnatRule = '-A KUBE-SEP-IPSK7QDCB4DUOXYR -p tcp -m comment --comment "nodeprobe-demo/sctp:sctp" -m tcp -j DNAT --to-destination 10.244.0.77:5061';

  it('iptables (real kube-proxy 1.34 dump): no SCTP DNAT target; the DNAT rule is filed as TCP', () => {
    for (const q of [KP134_CLUSTER, KP134_EXTERNAL, KP134_NODEPORT]) {
      const f = nf.findIptablesServiceRules(dump, q);
      expect(f.dnatTargets, JSON.stringify(q)).to.deep.equal([]);
      expect(
        f.tcpOrUdp.map((r) => `${r.role} ${r.text}`),
        JSON.stringify(q),
      ).to.deep.equal([`dnat ${dnatRule}`]);
      expect(
        f.sctp.map((r) => r.text),
        JSON.stringify(q),
      ).to.not.include(dnatRule);
    }
  });

  it('the result names the rule, its chain, the SCTP path and what it means', () => {
    expect(mismatchMessages(nf.findIptablesServiceRules(dump, KP134_CLUSTER))).to.deep.equal([
      `rule \`${dnatRule}\` (nat KUBE-SEP-IPSK7QDCB4DUOXYR) on the path of SCTP 10.96.189.87:5060 matches tcp: SCTP is never DNATed to 10.244.0.77:5061`,
    ]);
    expect(mismatchMessages(nf.findIptablesServiceRules(dump, KP134_NODEPORT))[0]).to.include('on the path of SCTP NodePort 30060 matches tcp');
  });

  it('render() says it in the header part of the failure message', () => {
    const f = nf.findIptablesServiceRules(dump, KP134_CLUSTER);
    const text = nf
      .makeRuleSearch(f, { node: 'node-1', mode: 'iptables', query: 'Service 10.96.189.87:5060', commands: [], needles: ['10.96.189.87'] })
      .render();
    expect(text).to.include(
      `rule \`${dnatRule}\` (nat KUBE-SEP-IPSK7QDCB4DUOXYR) on the path of SCTP 10.96.189.87:5060 matches tcp: SCTP is never DNATed to 10.244.0.77:5061`,
    );
    expect(text.split('\n')[0]).to.include('DNAT targets: none');
  });

  it('iptables (synthetic capture, both endpoints rewritten): ClusterIP, externalIP and NodePort have no SCTP DNAT', () => {
    const d = synthetic('variants/nat-dnat-to-tcp.txt');
    for (const q of [{ ip: '10.96.44.3', port: 5060 }, { ip: '192.0.2.50', port: 5060 }, { nodePort: 30060 }]) {
      const f = nf.findIptablesServiceRules(d, q);
      expect(f.dnatTargets, JSON.stringify(q)).to.deep.equal([]);
      expect(
        f.tcpOrUdp.filter((r) => r.role === 'dnat'),
        JSON.stringify(q),
      ).to.have.length(2);
      expect(mismatchMessages(f), JSON.stringify(q)).to.have.length(2);
    }
    // the healthy mixed Service next to it is unaffected
    expect(nf.findIptablesServiceRules(d, { ip: '10.96.44.4', port: 5060 }).dnatTargets).to.deep.equal(['10.244.1.6:5061']);
  });

  it('nft (endpoint chains): `meta l4proto tcp dnat` is TCP, not an SCTP DNAT', () => {
    const rs = nftOf('variants/nft-dnat-to-tcp.json');
    for (const q of [{ ip: '10.96.44.3', port: 5060 }, { nodePort: 30060 }, { ip: '192.0.2.50', port: 5060 }]) {
      const f = nf.findNftServiceRules(rs, q);
      expect(f.dnatTargets, JSON.stringify(q)).to.deep.equal([]);
      expect(
        f.tcpOrUdp.map((r) => r.text),
        JSON.stringify(q),
      ).to.have.members(['meta l4proto tcp dnat to 10.244.1.5:5061', 'meta l4proto tcp dnat to 10.244.2.7:5061']);
    }
    expect(mismatchMessages(nf.findNftServiceRules(rs, { ip: '10.96.44.3', port: 5060 }))).to.deep.equal([
      'rule `meta l4proto tcp dnat to 10.244.1.5:5061` (ip kube-proxy endpoint-NM4N7EFS-sctp-test/sctp/sctp/sctp__10.244.1.5/5061) ' +
        'on the path of SCTP 10.96.44.3:5060 matches tcp: SCTP is never DNATed to 10.244.1.5:5061',
      'rule `meta l4proto tcp dnat to 10.244.2.7:5061` (ip kube-proxy endpoint-TKLXOEHC-sctp-test/sctp/sctp/sctp__10.244.2.7/5061) ' +
        'on the path of SCTP 10.96.44.3:5060 matches tcp: SCTP is never DNATed to 10.244.2.7:5061',
    ]);
  });

  it('nft (numgen dnat map): `meta l4proto tcp dnat ip to numgen ... map` is TCP', () => {
    const f = nf.findNftServiceRules(nftOf('variants/nft-dnat-map-to-tcp.json'), { ip: '10.96.44.3', port: 5060 });
    expect(f.dnatTargets).to.deep.equal([]);
    expect(f.tcpOrUdp.map((r) => r.role)).to.deep.equal(['dnat']);
    expect(mismatchMessages(f)[0]).to.match(/matches tcp: SCTP is never DNATed to 10\.244\.1\.5:5061, 10\.244\.2\.7:5061$/);
  });
});

describe('verdicts: DNAT without port translation (fault dnat-no-port) and to the wrong port', () => {
  it('iptables: `--to-destination IP` keeps the port the packet came to (5060 for the ClusterIP, 30060 for the NodePort)', () => {
    const d = kp134('variants/kp134-nat-dnat-no-port.txt');
    expect(nf.findIptablesServiceRules(d, KP134_CLUSTER).dnatTargets).to.deep.equal(['10.244.0.77:5060']);
    expect(nf.findIptablesServiceRules(d, KP134_NODEPORT).dnatTargets).to.deep.equal(['10.244.0.77:30060']);
    const f = nf.findIptablesServiceRules(d, KP134_CLUSTER);
    expect((f as Explained).explanations).to.deep.equal([
      'rule `-A KUBE-SEP-IPSK7QDCB4DUOXYR -p sctp -m comment --comment "nodeprobe-demo/sctp:sctp" -m sctp -j DNAT --to-destination ' +
        '10.244.0.77` (nat KUBE-SEP-IPSK7QDCB4DUOXYR) on the path of SCTP 10.96.189.87:5060 DNATs without a port: SCTP ' +
        'goes to 10.244.0.77:5060 (the destination port is kept)',
    ]);
  });

  it('iptables: a DNAT to the wrong port is reported with both ports', () => {
    const f = nf.findIptablesServiceRules(kp134('variants/kp134-nat-dnat-wrong-port.txt'), KP134_CLUSTER);
    expect(f.dnatTargets).to.deep.equal(['10.244.0.77:5062']);
    expect(nf.describeDnatExpectation(f, '10.244.0.77:5061')).to.equal(
      'expected an SCTP DNAT to 10.244.0.77:5061; observed SCTP DNAT targets: 10.244.0.77:5062 (10.244.0.77 is right, the port is 5062, not 5061)',
    );
  });

  it('nft: `dnat to IP` without a port keeps the Service port', () => {
    const rs = nftOf('variants/nft-dnat-no-port.json');
    const f = nf.findNftServiceRules(rs, { ip: '10.96.44.3', port: 5060 });
    expect(f.dnatTargets).to.deep.equal(['10.244.1.5:5060', '10.244.2.7:5060']);
    expect((f as Explained).explanations?.[0]).to.match(
      /^rule `meta l4proto sctp dnat to 10\.244\.1\.5` \(ip kube-proxy endpoint-NM4N7EFS-.*\) on the path of SCTP 10\.96\.44\.3:5060 DNATs without a port: SCTP goes to 10\.244\.1\.5:5060/,
    );
    expect(nf.describeDnatExpectation(f, '10.244.1.5:5061')).to.include('the port is 5060, not 5061').and.include('without a port');
  });
});

describe('verdicts: hostPort rules (CNI portmap)', () => {
  it('the portmap CNI-DN DNAT rule rewritten to TCP: no SCTP DNAT, the rule is TCP, the result says why', () => {
    const f = nf.findIptablesHostPortRules(synthetic('variants/nat-portmap-dn-tcp.txt'), { port: 5060 });
    expect(f.dnatTargets).to.deep.equal([]);
    expect(f.tcpOrUdp.map((r) => `${r.where} ${r.role}`)).to.deep.equal(['nat CNI-DN-ad0874a68f44dfe7390b6 dnat']);
    expect(mismatchMessages(f)).to.deep.equal([
      'rule `-A CNI-DN-ad0874a68f44dfe7390b6 -p tcp -m tcp --dport 5060 -j DNAT --to-destination 10.244.1.9:5060` (nat ' +
        'CNI-DN-ad0874a68f44dfe7390b6) on the path of SCTP hostPort 5060 matches tcp: SCTP is never DNATed to 10.244.1.9:5060',
    ]);
  });

  it('the portmap DNAT without a port: the hostPort is kept (visible as soon as hostPort != containerPort)', () => {
    const f = nf.findIptablesHostPortRules(synthetic('variants/nat-portmap-dn-no-port.txt'), { port: 5060 });
    expect(f.dnatTargets).to.deep.equal(['10.244.1.9:5060']);
    expect((f as Explained).explanations?.[0]).to.include('on the path of SCTP hostPort 5060 DNATs without a port: SCTP goes to 10.244.1.9:5060');
  });

  it('portmap removed (fault portmap-removed): nothing for the hostPort (the old code saw this too)', () => {
    const f = nf.findIptablesHostPortRules(synthetic('variants/nat-portmap-removed.txt'), { port: 5060 });
    expect(f.sctp).to.deep.equal([]);
    expect(f.dnatTargets).to.deep.equal([]);
    expect(nf.describeDnatExpectation(f, '10.244.1.9:5060')).to.equal('expected an SCTP DNAT to 10.244.1.9:5060; observed no SCTP DNAT at all');
  });

  it('the healthy captures are unchanged: SCTP rules, DNAT to the pod, no mismatch', () => {
    const f = nf.findIptablesHostPortRules(synthetic('iptables-save-nat.txt'), { port: 5060 });
    expect(f.dnatTargets).to.deep.equal(['10.244.1.9:5060']);
    expect(mismatchMessages(f)).to.deep.equal([]);
    expect(nf.describeDnatExpectation(f, '10.244.1.9:5060')).to.equal('SCTP DNAT to 10.244.1.9:5060 found');
  });
});

describe('verdicts: IPv6 endpoints compare as [ip]:port', () => {
  it('endpointKey brackets IPv6 (canonical RFC 5952 text), leaves IPv4 alone', () => {
    expect(nf.endpointKey('10.244.0.77', 5061)).to.equal('10.244.0.77:5061');
    expect(nf.endpointKey('fd00:10:244::4d', 5061)).to.equal('[fd00:10:244::4d]:5061');
    expect(nf.endpointKey('FD00:10:244:0:0:0:0:4D', 5061)).to.equal('[fd00:10:244::4d]:5061');
    expect(nf.endpointKey('[fd00:10:244::4d]', '5061')).to.equal('[fd00:10:244::4d]:5061');
    expect(nf.endpointKey('fd00:10:244::4d')).to.equal('fd00:10:244::4d');
    expect(nf.endpointKey('10.244.0.77')).to.equal('10.244.0.77');
  });

  it('parseEndpoint reads what iptables, nft and ipvsadm print', () => {
    expect(nf.parseEndpoint('[fd00:10:244::4d]:5061')).to.deep.equal({ ip: 'fd00:10:244::4d', port: 5061 });
    expect(nf.parseEndpoint('fd00:10:244::4d')).to.deep.equal({ ip: 'fd00:10:244::4d' });
    expect(nf.parseEndpoint('10.244.0.77:5061')).to.deep.equal({ ip: '10.244.0.77', port: 5061 });
    expect(nf.parseEndpoint('10.244.0.77')).to.deep.equal({ ip: '10.244.0.77' });
  });

  it('ip6tables-save (real kube-proxy 1.34 rules with IPv6 addresses): DNAT target [ip]:port for ClusterIP, externalIP, NodePort', () => {
    const d = ipt('variants/kp134-ip6tables-save-nat.txt');
    const want = nf.endpointKey('fd00:10:244:0:0:0:0:4d', 5061);
    for (const q of [{ ip: 'fd00:10:96::bd57', port: 5060 }, { ip: 'fd00:10:199::50', port: 5060 }, { nodePort: 30060 }]) {
      const f = nf.findIptablesServiceRules(d, q);
      expect(f.dnatTargets, JSON.stringify(q)).to.deep.equal([want]);
      expect(f.tcpOrUdp).to.deep.equal([]);
    }
  });

  it('nft ip6 table: dnat to [ip]:port and, without a port, [ip]:servicePort', () => {
    const f = nf.findNftServiceRules(nftOf('variants/nft-ip6-kube-proxy.json'), { ip: 'fd00:10:96::2c03', port: 5060 });
    expect(f.dnatTargets).to.deep.equal(['[fd00:10:244:1::5]:5061', '[fd00:10:244:2::7]:5060']);
    expect(nf.describeDnatExpectation(f, nf.endpointKey('fd00:10:244:2::7', 5061))).to.include('fd00:10:244:2::7 is right, the port is 5060, not 5061');
  });

  it('ipvs real servers use the same key', () => {
    const s = nf.parseIpvsadm(
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port ' +
        '          Forward Weight ActiveConn InActConn\nSCTP  [fd00:10:96::bd57]:5060 rr\n  -> [fd00:10:244::4d]:5061  ' +
        '      Masq    1      0          0\n',
    );
    expect(nf.findIpvsServiceRules(s, { ip: 'fd00:10:96::bd57', port: 5060 }).dnatTargets).to.deep.equal(['[fd00:10:244::4d]:5061']);
  });
});

describe('verdicts: an eBPF dataplane without kube-proxy rules is its own proxy mode', () => {
  const probe = (o: { chain: number; rules: number; nft: 'present' | 'absent' | 'missing'; ipvs: string }) =>
    `== proxyMode\ntool curl rc 7\nanswer \n== iptables\nkube-services-chain ${o.chain}\nkube-services-rules ${o.rules}\nipvs-ipsets ` +
    `0\n== nft\n${o.nft === 'missing' ? 'missing' : `kube-proxy-table ${o.nft}`}\n== ipvs\n${o.ipvs}\n== end\n`;

  it('no KUBE-SERVICES chain, no nft kube-proxy table, no IPVS services -> none', () => {
    const r = nf.parseProxyMode(probe({ chain: 0, rules: 0, nft: 'absent', ipvs: 'absent' }));
    expect(r.mode).to.equal('none');
    expect(r.evidence).to.include(
      'no kube-proxy rules (iptables KUBE-SERVICES absent, no nft table kube-proxy, no ipvs services): eBPF service dataplane or kube-proxy not running',
    );
    expect(nf.parseProxyMode(probe({ chain: 0, rules: 0, nft: 'absent', ipvs: 'services 0' })).mode).to.equal('none');
  });

  it('the real probe script, run in an empty network namespace (captured), says none', () => {
    const r = nf.parseProxyMode(fx('variants/proxy-mode-probe-empty-netns.txt'));
    expect(r.mode).to.equal('none');
    expect(r.evidence).to.match(/^kube-proxy \/proxyMode did not answer \(curl rc 7\); no kube-proxy rules/);
  });

  it('an IPv6-only node in iptables mode is iptables, not none (ip6tables is looked at too)', () => {
    const out = fx('variants/proxy-mode-probe-empty-netns.txt').replace(
      'kube-services-chain6 0\nkube-services-rules6 0',
      'kube-services-chain6 1\nkube-services-rules6 4',
    );
    expect(nf.parseProxyMode(out).mode).to.equal('iptables');
  });

  it('stays unknown when something could not be looked at or is half there', () => {
    expect(nf.parseProxyMode(probe({ chain: 0, rules: 0, nft: 'missing', ipvs: 'absent' })).mode).to.equal('unknown'); // no nft binary: a table may exist
    expect(nf.parseProxyMode(probe({ chain: 1, rules: 0, nft: 'absent', ipvs: 'absent' })).mode).to.equal('unknown'); // chain without rules
    expect(nf.parseProxyMode(probe({ chain: 0, rules: 0, nft: 'absent', ipvs: 'services 3' })).mode).to.equal('unknown');
    expect(
      nf.parseProxyMode('== proxyMode\ntool curl rc 7\nanswer \n== iptables\nmissing\n== nft\nkube-proxy-table absent\n== ipvs\nabsent\n== end\n').mode,
    ).to.equal('unknown');
  });
});
