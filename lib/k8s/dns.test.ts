import { expect } from 'chai';
import { parseNslookup } from './dns.ts';

// Outputs of busybox 1.35 nslookup (Debian busybox-static), as printed in a pod.
const srv = `Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

_sip._sctp.sctp-headless.ns.svc.cluster.local\tservice = 0 50 5060 10-244-0-7.sctp-headless.ns.svc.cluster.local
_sip._sctp.sctp-headless.ns.svc.cluster.local\tservice = 0 50 5060 10-244-0-8.sctp-headless.ns.svc.cluster.local

`;
const a = `Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

Name:\tsctp-headless.ns.svc.cluster.local
Address: 10.244.0.7
Name:\tsctp-headless.ns.svc.cluster.local
Address: 10.244.0.8

`;
const nx = `Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

** server can't find _sip._tcp.x.ns.svc.cluster.local: NXDOMAIN

`;

describe('parseNslookup', () => {
  it('reads SRV answers', () => {
    const r = parseNslookup(srv);
    expect(r.srv).to.deep.equal([
      { priority: 0, weight: 50, port: 5060, target: '10-244-0-7.sctp-headless.ns.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5060, target: '10-244-0-8.sctp-headless.ns.svc.cluster.local' },
    ]);
    expect(r.addresses).to.deep.equal([]);
  });
  it('reads A answers and not the server address', () => {
    expect(parseNslookup(a).addresses).to.deep.equal(['10.244.0.7', '10.244.0.8']);
  });
  it('NXDOMAIN gives no records', () => {
    const r = parseNslookup(nx);
    expect(r.nxdomain).to.equal(true);
    expect(r.srv).to.deep.equal([]);
    expect(r.addresses).to.deep.equal([]);
  });
});
