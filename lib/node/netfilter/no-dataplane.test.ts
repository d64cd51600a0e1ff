import { expect } from 'chai';
import { noNetfilterDataplane } from './no-dataplane.ts';

describe('netfilter: a node with no kube-proxy and no rule (nothing to judge)', () => {
  const none = { mode: 'none' as const, evidence: 'kube-proxy /proxyMode did not answer; no kube-proxy rules' };
  const empty = { node: 'n1', sctp: [], tcpOrUdp: [], other: [], dnatTargets: [], mismatches: [] };
  const why = ['hostPort 5072 of pod p', 'judged by the hostPort connectivity test'] as const;

  it('says why, naming the node, its proxy mode evidence and where the behaviour is judged instead', () => {
    const r = noNetfilterDataplane(none, empty, ...why);
    expect(r).to.match(/^no node runs kube-proxy where hostPort 5072 of pod p lives: n1 has proxy mode none \(kube-proxy \/proxyMode did not answer/);
    expect(r).to.match(/judged by the hostPort connectivity test$/);
  });

  it('gives no skip where kube-proxy runs (a missing rule is a failure there) or where any rule exists (it is judged)', () => {
    expect(noNetfilterDataplane({ mode: 'iptables', evidence: 'x' }, empty, ...why)).to.equal(undefined);
    expect(noNetfilterDataplane({ mode: 'unknown', evidence: 'x' }, empty, ...why)).to.equal(undefined);
    expect(noNetfilterDataplane(none, { ...empty, dnatTargets: ['10.0.0.1:5060'] }, ...why)).to.equal(undefined);
    expect(noNetfilterDataplane(none, { ...empty, tcpOrUdp: [{} as never] }, ...why)).to.equal(undefined);
  });
});
