import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseNslookup } from './dns.ts';

// Real outputs of busybox nslookup (the agnhost-sctp image's) in a pod of the local cluster, against CoreDNS
// 1.14.7: testdata/nslookup-*.txt (service sctp-demo: ClusterIP, sctp-hl: headless; named SCTP port "sip").
const fixture = (name: string) => readFileSync(new URL(`./testdata/nslookup-${name}.txt`, import.meta.url), 'utf8');

describe('parseNslookup (captured busybox nslookup output)', () => {
  it('SRV of a ClusterIP Service: one record naming the Service', () => {
    const r = parseNslookup(fixture('srv-clusterip'));
    expect(r.srv).to.deep.equal([{ priority: 0, weight: 100, port: 5060, target: 'sctp-demo.note-demo.svc.cluster.local' }]);
    expect(r.addresses).to.deep.equal([]);
  });
  it('SRV of a headless Service: one record per pod, named after its IP', () => {
    expect(parseNslookup(fixture('srv-headless')).srv).to.deep.equal([
      { priority: 0, weight: 100, port: 5060, target: '10-244-1-6.sctp-hl.note-demo.svc.cluster.local' },
    ]);
  });
  it('A of a headless Service: the pod IPs, not the DNS server address', () => {
    expect(parseNslookup(fixture('a-headless')).addresses).to.deep.equal(['10.244.1.6']);
  });
  it('NXDOMAIN (the _tcp name of an SCTP-only port) gives no records', () => {
    const r = parseNslookup(fixture('srv-nxdomain'));
    expect(r.nxdomain).to.equal(true);
    expect(r.srv).to.deep.equal([]);
    expect(r.addresses).to.deep.equal([]);
  });
  it('dual-stack headless Service (captured on the dual-stack local cluster): AAAA gives the IPv6 pod address, SRV one record per family', () => {
    expect(parseNslookup(fixture('aaaa-headless-dual')).addresses).to.deep.equal(['fd00:244:2::5']);
    expect(parseNslookup(fixture('srv-headless-dual')).srv.map((s) => s.target.split('.')[0])).to.deep.equal(['10-244-2-5', 'fd00-244-2--5']);
  });
  it('an IPv6 answer that ends in :53 is an answer, not the server line', () => {
    const out = fixture('aaaa-headless-dual').replace('fd00:244:2::5', 'fd00:244:2::53');
    expect(parseNslookup(out).addresses).to.deep.equal(['fd00:244:2::53']);
  });
});
