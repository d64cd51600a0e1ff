// lib/node/sctp-module.ts against a real kernel with a loadable sctp.ko (Debian 6.1 in the kernel-lane VM),
// through lib/node/ssh.ts. sctp.ko cannot be unloaded on this kernel (its per-netns control sockets
// pin it: `modprobe -r sctp` says "in use"), so a VM where it is already loaded is rebooted first.
import { expect } from 'chai';
import { compareSctpModule, probeSctpModule, type SctpModuleState } from '../../lib/node/sctp-module.ts';
import { reboot } from '../../vm/cli.ts';
import { type Lane, must, openLane, skipWith, VM_NODE } from './lane.ts';

const OPEN_SCTP_SOCKET = `python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132).close()'`;

const show = (label: string, s: SctpModuleState) => console.log(`      ${label}: ${s.state} — ${s.evidence}`);

describe('kernel lane: sctp module probe on a kernel with loadable sctp.ko (integration)', function () {
  this.timeout(600_000); // a TCG reboot takes 20-40 s, more while the machine is busy
  let lane: Lane | undefined;
  let fresh: SctpModuleState;

  before(async function () {
    let l = await openLane();
    if (typeof l === 'string') skipWith(this, l);
    const first = await probeSctpModule(l.exec, { timeoutMs: 30_000 });
    if (first.state === 'loaded') {
      console.log(`      sctp.ko already loaded (${first.evidence}); rebooting the VM for a fresh kernel`);
      await l.exec.close();
      await reboot();
      l = await openLane();
      if (typeof l === 'string') throw new Error(`after reboot: ${l}`);
    }
    lane = l;
    fresh = await probeSctpModule(lane.exec, { timeoutMs: 30_000 });
  });

  after(async () => {
    await lane?.exec.close();
  });

  it("reports 'not-loaded' on a freshly booted VM, with the kernel config as evidence", () => {
    show('fresh VM', fresh);
    expect(fresh.state, fresh.output).to.equal('not-loaded');
    expect(fresh.code).to.equal(0);
    expect(fresh.evidence).to.include('CONFIG_IP_SCTP=m').and.include(VM_NODE).and.include('ssh');
  });

  it('probing twice loads nothing: no violation, and /proc/modules still has no sctp (checked with lsmod)', async () => {
    const again = await probeSctpModule(lane!.exec, { timeoutMs: 30_000 });
    expect(again.state, again.output).to.equal('not-loaded');
    expect(compareSctpModule(fresh, again)).to.equal(undefined);
    const lsmod = await must(lane!.exec, 'lsmod');
    expect(
      lsmod.split('\n').some((l) => /^sctp\s/.test(l)),
      lsmod,
    ).to.equal(false);
  });

  it("reports 'loaded' after a step opened an SCTP socket, and the comparison is a violation naming the node and the evidence", async () => {
    await must(lane!.exec, OPEN_SCTP_SOCKET); // the "step": what any SCTP workload does
    const after = await probeSctpModule(lane!.exec, { timeoutMs: 30_000 });
    show('after socket(AF_INET, SOCK_STREAM, 132)', after);
    expect(after.state, after.output).to.equal('loaded');
    expect(after.evidence).to.match(/\/proc\/modules has "sctp \d+ \d+ - Live/);
    const lsmod = await must(lane!.exec, 'lsmod');
    expect(lsmod, 'lsmod agrees').to.match(/^sctp\s/m);
    const v = compareSctpModule(fresh, after);
    expect(v, 'a violation').to.not.equal(undefined);
    console.log(`      violation: ${v!.message}`);
    expect(v!.kind).to.equal('loaded-during-test');
    expect(v!.node).to.equal(VM_NODE);
    expect(v!.message).to.include(`sctp.ko was loaded on node ${VM_NODE}`).and.include('CONFIG_IP_SCTP=m').and.include('/proc/modules has "sctp');
  });

  it('cannot unload sctp.ko on this kernel: `modprobe -r sctp` fails with "in use" (why the lane reboots)', async () => {
    const r = await lane!.exec.run('modprobe -r sctp', { timeoutMs: 30_000 });
    const probe = await probeSctpModule(lane!.exec, { timeoutMs: 30_000 });
    // If a future kernel does unload it, this test fails and the reboot in before() can go.
    expect(r.code, r.stderr).to.not.equal(0);
    expect(r.stderr).to.include('in use');
    expect(probe.state).to.equal('loaded');
  });
});
