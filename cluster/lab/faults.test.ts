import { expect } from 'chai';
import { VERDICT_CASES } from './cases.ts';
import { ETH0_DROP_TABLE, eth0DropSctpScript, findFault } from './faults.ts';

describe('cluster/lab eth0-drop-sctp (a fault for an eBPF datapath)', () => {
  it('drops SCTP on eth0 in both directions from netdev hooks, counted and named after the fault', () => {
    const s = eth0DropSctpScript();
    expect(s).to.match(new RegExp(`^table netdev ${ETH0_DROP_TABLE} \\{`));
    expect(s).to.contain('type filter hook ingress device "eth0"');
    // egress: before tc egress, where Cilium's cil_to_netdev runs, so eBPF-routed SCTP is dropped too
    expect(s).to.contain('type filter hook egress device "eth0"');
    expect(s.match(/meta l4proto sctp counter drop comment "sctp-e2e-lab:eth0-drop-sctp"/g)).to.have.length(2);
    expect(s, 'nothing but SCTP').not.to.match(/\b(tcp|udp)\b/);
  });

  it('is a lab fault with a verdict case whose failure names its nft rule', () => {
    expect(findFault('eth0-drop-sctp')?.breaks).to.match(/SCTP dropped on every node's eth0/);
    const c = VERDICT_CASES.find((x) => x.fault === 'eth0-drop-sctp');
    const names = c?.expect[0] && 'names' in c.expect[0] ? c.expect[0].names : undefined;
    expect(names?.test('+2 pkt  nft netdev sctpe2e_lab/eth0_egress: meta l4proto sctp counter drop comment "sctp-e2e-lab:eth0-drop-sctp"')).to.equal(true);
    expect(names?.test('no SCTP, DROP or REJECT rule counted it')).to.equal(false);
  });
});
