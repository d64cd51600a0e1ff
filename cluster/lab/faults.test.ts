import { expect } from 'chai';
import { VERDICT_CASES } from './cases.ts';
import { ETH0_DROP_TABLE, eth0DropSctpScript, findFault, vxlanDropSctpRule, vxlanInnerProtoU32 } from './faults.ts';

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

// vxlan-drop-sctp: the rule it adds, and its u32 match evaluated on real packet layouts (an xt_u32 subset:
// `A>>B&C@D>>E=F`, as the kernel reads it: 32-bit big-endian words).
/** Evaluates `start>>s1&mask@offset>>s2=value` like xt_u32 does on an IPv4 packet. */
function u32Matches(expr: string, pkt: Uint8Array): boolean {
  const m = /^(\d+)>>(\d+)&(0x[0-9A-Fa-f]+|\d+)@(\d+)>>(\d+)=(\d+)$/.exec(expr);
  if (!m) throw new Error(`u32 expression outside the tested subset: ${expr}`);
  const word = (at: number) => (at + 4 > pkt.length ? undefined : ((pkt[at]! << 24) | (pkt[at + 1]! << 16) | (pkt[at + 2]! << 8) | pkt[at + 3]!) >>> 0);
  const w0 = word(Number(m[1]));
  if (w0 === undefined) return false;
  const base = (w0 >>> Number(m[2])) & Number(m[3]);
  const w1 = word(base + Number(m[4]));
  if (w1 === undefined) return false;
  return w1 >>> Number(m[5]) === Number(m[6]);
}

/** Outer IPv4 (with `options` 4-byte words) / UDP dport / VXLAN / Ethernet / inner IPv4 with protocol `inner` / 8 bytes. */
function vxlanPacket(inner: number, options = 0): Uint8Array {
  const ihl = 5 + options;
  const outer = new Uint8Array(ihl * 4);
  outer[0] = 0x40 | ihl;
  outer[9] = 17; // UDP
  const udp = new Uint8Array(8);
  udp[2] = 8472 >> 8;
  udp[3] = 8472 & 0xff;
  const vxlan = new Uint8Array([0x08, 0, 0, 0, 0, 0, 1, 0]); // VNI 1
  const eth = new Uint8Array(14);
  eth[12] = 0x08; // IPv4
  const ip = new Uint8Array(20);
  ip[0] = 0x45;
  ip[9] = inner;
  return new Uint8Array([...outer, ...udp, ...vxlan, ...eth, ...ip, ...new Uint8Array(8)]);
}

describe('cluster/lab faults: vxlan-drop-sctp', () => {
  it('its u32 match takes VXLAN-encapsulated SCTP (inner protocol 132) and nothing else', () => {
    const expr = vxlanInnerProtoU32(132);
    expect(u32Matches(expr, vxlanPacket(132))).to.equal(true);
    expect(u32Matches(expr, vxlanPacket(132, 2)), 'outer IP header with options').to.equal(true);
    expect(u32Matches(expr, vxlanPacket(6)), 'TCP inside').to.equal(false);
    expect(u32Matches(expr, vxlanPacket(17)), 'UDP inside').to.equal(false);
    expect(u32Matches(expr, vxlanPacket(132).slice(0, 40)), 'too short to hold an inner IP header').to.equal(false);
  });

  it('adds one DROP rule first in INPUT for UDP to the VXLAN port, named by its comment; deletes the same rule', () => {
    const add = vxlanDropSctpRule('-I', 8472);
    expect(add.slice(0, 4)).to.deep.equal(['-w', '-I', 'INPUT', '1']);
    expect(add.join(' ')).to.contain('-p udp --dport 8472 -m u32 --u32 0>>22&0x3C@39>>24=132 -m comment --comment sctp-e2e-lab:vxlan-drop-sctp -j DROP');
    const del = vxlanDropSctpRule('-D', 8472);
    expect(del.slice(0, 3)).to.deep.equal(['-w', '-D', 'INPUT']);
    expect(del.slice(3)).to.deep.equal(add.slice(4));
    expect(findFault('vxlan-drop-sctp')?.breaks).to.match(/VXLAN-encapsulated SCTP/);
  });

  it("the fault lane's case names it in the message the suite printed under it (2026-12-05, flannel v0.28.10)", () => {
    const c = VERDICT_CASES.find((x) => x.fault === 'vxlan-drop-sctp');
    const e = c?.expect[0];
    if (!e || e.kind === 'exit' || e.kind === 'any' || !e.names) throw new Error('vxlan-drop-sctp: no test expectation with a names regex');
    expect('A pod can connect directly to another pod via SCTP on another node').to.match(e.test);
    const seen = [
      '    control: TCP 10.244.101.3:5060 allowed, UDP 10.244.101.3:5060 allowed from the same client — only SCTP fails between these pods',
      '    rule counters (iptables-save -c, nft list ruleset) around one more SCTP probe (blocked):',
      '      sctp-e2e-node2: no SCTP, DROP or REJECT rule counted it',
      '      sctp-e2e-node1: ',
      '        +4 pkt  filter: -A INPUT -p udp -m udp --dport 8472 -m u32 --u32 "0x0>>0x16&0x3c@0x27>>0x18=0x84" -m comment --comment "sctp-e2e-lab:vxlan-drop-sctp" -j DROP',
    ].join('\n');
    expect(seen).to.match(e.names);
    expect(seen.replace('--dport 8472', '--dport 4789')).to.not.match(e.names);
  });
});
