// Issue 14, IPv6 and dual-stack SCTP: every finder reads the family it is asked for. Fixtures: REAL dumps of a
// dual-stack local cluster (`cluster:up -- --nodes 2 --proxy-mode iptables,nftables --ip-family dual`, kube-proxy
// v1.34.4), one SCTP Service dscap/sctp RequireDualStack 5060 -> 5061, NodePort 30060, one backend
// 10.244.2.3 / fd00:244:2::3; see fixtures/netfilter/real-dualstack.md.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as nf from './index.ts';

const fx = (n: string) => readFileSync(new URL(`../fixtures/netfilter/${n}`, import.meta.url), 'utf8');
const ipt = (n: string) => nf.parseIptablesSave(fx(n));
const V4 = { clusterIP: '10.96.29.201', pod: '10.244.2.3:5061' };
const V6 = { clusterIP: 'fd00:96::22af', pod: '[fd00:244:2::3]:5061' };

describe('dual-stack: address families', () => {
  it('ipFamilyOf reads 4 or 6 from the text, brackets and ports aside; pickFamily takes the first of a family', () => {
    expect(['10.96.0.1', 'fd00:96::1', '[fd00:96::1]', '[fd00:96::1]:5060', '::ffff:10.0.0.1'].map(nf.ipFamilyOf)).to.deep.equal([4, 6, 6, 6, 6]);
    expect(nf.pickFamily(['10.244.2.3', 'fd00:244:2::3'], 6)).to.equal('fd00:244:2::3');
    expect(nf.pickFamily(['fd00:244:2::3', '10.244.2.3'], 4)).to.equal('10.244.2.3');
    expect(nf.pickFamily(['10.244.2.3', undefined], 6)).to.equal(undefined);
    expect([nf.familyName(4), nf.familyName(6)]).to.deep.equal(['IPv4', 'IPv6']);
  });

  it('a query names its family when it is IPv6 or was asked for', () => {
    expect(nf.describeServiceQuery({ ip: V6.clusterIP, port: 5060 })).to.equal('[fd00:96::22af]:5060 over IPv6');
    expect(nf.describeServiceQuery({ nodePort: 30060, family: 6 })).to.equal('NodePort 30060 over IPv6');
    expect(nf.describeServiceQuery({ nodePort: 30060, family: 4 })).to.equal('NodePort 30060 over IPv4');
    expect(nf.describeServiceQuery({ ip: V4.clusterIP, port: 5060 })).to.equal('10.96.29.201:5060');
  });
});

describe('dual-stack: iptables mode, real iptables-save and ip6tables-save of one node', () => {
  const v4 = ipt('real-dualstack-1.34-iptables-save-nat.txt');
  const v6 = ipt('real-dualstack-1.34-ip6tables-save-nat.txt');

  it('the IPv4 ClusterIP and NodePort DNAT to the IPv4 pod address, the IPv6 ones to [ip6]:port', () => {
    expect(nf.findIptablesServiceRules(v4, { ip: V4.clusterIP, port: 5060 }).dnatTargets).to.deep.equal([V4.pod]);
    expect(nf.findIptablesServiceRules(v4, { nodePort: 30060, family: 4 }).dnatTargets).to.deep.equal([V4.pod]);
    expect(nf.findIptablesServiceRules(v6, { ip: V6.clusterIP, port: 5060 }).dnatTargets).to.deep.equal([V6.pod]);
    expect(nf.findIptablesServiceRules(v6, { nodePort: 30060, family: 6 }).dnatTargets).to.deep.equal([V6.pod]);
  });

  it('each family dump knows nothing of the other ClusterIP (the reader must pick ip6tables-save for IPv6)', () => {
    expect(nf.findIptablesServiceRules(v4, { ip: V6.clusterIP, port: 5060 }).sctp).to.deep.equal([]);
    expect(nf.findIptablesServiceRules(v6, { ip: V4.clusterIP, port: 5060 }).sctp).to.deep.equal([]);
  });

  it('a -d fd00:96::22af/128 rule matches the address however it is written', () => {
    const f = nf.findIptablesServiceRules(v6, { ip: 'FD00:96:0:0:0:0:0:22AF', port: 5060 });
    expect(f.dnatTargets).to.deep.equal([V6.pod]);
    expect(f.sctp.map((r) => r.where)).to.include('nat KUBE-SERVICES');
  });
});

describe('dual-stack: nftables mode, real `nft -j list ruleset` with ip and ip6 kube-proxy tables', () => {
  const rs = nf.parseNftJson(fx('real-dualstack-1.34-nft.json'));

  it('has both tables', () => {
    expect(rs.tables.filter((t) => t.name === 'kube-proxy').map((t) => t.family)).to.deep.equal(['ip', 'ip6']);
  });

  it('ClusterIP per family: the ip table DNATs to the IPv4 pod, the ip6 table to [ip6]:port', () => {
    const f4 = nf.findNftServiceRules(rs, { ip: V4.clusterIP, port: 5060 });
    const f6 = nf.findNftServiceRules(rs, { ip: V6.clusterIP, port: 5060 });
    expect(f4.dnatTargets).to.deep.equal([V4.pod]);
    expect(f6.dnatTargets).to.deep.equal([V6.pod]);
    expect(new Set(f6.sctp.map((r) => r.where.split(' ')[0]))).to.deep.equal(new Set(['ip6']));
  });

  it('NodePort (no address in the element): the family picks the table; without one both are read', () => {
    expect(nf.findNftServiceRules(rs, { nodePort: 30060, family: 4 }).dnatTargets).to.deep.equal([V4.pod]);
    expect(nf.findNftServiceRules(rs, { nodePort: 30060, family: 6 }).dnatTargets).to.deep.equal([V6.pod]);
    expect(nf.findNftServiceRules(rs, { nodePort: 30060 }).dnatTargets.sort()).to.deep.equal([V4.pod, V6.pod].sort());
  });
});

describe('dual-stack: an inet table (both families in one table, as non-kube-proxy implementations write)', () => {
  // REAL `nft -j list ruleset` of fixtures/netfilter/rules/inet-dual.nft loaded in a throw-away netns (nft 1.0.6)
  const rs = nf.parseNftJson(fx('nft-inet-dual.json'));
  it('the ip6 daddr rule DNATs SCTP to [ip6]:port; the TCP rule to the same address is filed as TCP; the ip rule only for IPv4', () => {
    const f6 = nf.findNftServiceRules(rs, { ip: 'fd00:96::2c03', port: 5060 });
    expect(f6.dnatTargets).to.deep.equal(['[fd00:244:1::5]:5061']);
    expect(f6.tcpOrUdp.map((r) => r.where)).to.deep.equal(['inet othernat prerouting']);
    expect(nf.findNftServiceRules(rs, { ip: '10.96.44.3', port: 5060 }).dnatTargets).to.deep.equal(['10.244.1.5:5061']);
  });
});

describe('dual-stack: ipvs NodePort per family', () => {
  // ipvsadm -Ln text shaped like ipvsadm 1.31's (this host has no IPVS to capture from; the VM lane is IPv4-only)
  const s = nf.parseIpvsadm(
    [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'SCTP  10.199.0.2:30060 rr',
      '  -> 10.244.2.3:5061               Masq    1      0          0',
      'SCTP  [fd00:199::2]:30060 rr',
      '  -> [fd00:244:2::3]:5061          Masq    1      0          0',
    ].join('\n'),
  );
  it('family 6 reads only the IPv6 virtual services', () => {
    expect(nf.findIpvsServiceRules(s, { nodePort: 30060, family: 6 }).dnatTargets).to.deep.equal([V6.pod]);
    expect(nf.findIpvsServiceRules(s, { nodePort: 30060, family: 4 }).dnatTargets).to.deep.equal([V4.pod]);
  });
});
