// The sctp module probe run for real through the `local` NodeExec, on this machine and inside a
// network namespace created here. Expected state is derived independently from /proc/config.gz.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { execa } from 'execa';
import { skipTest } from '../../lib/framework/skip.ts';
import { localExec, NodeExecError } from '../../lib/node/exec.ts';
import { classifySctpModule, probeSctpModule, SCTP_MODULE_PROBE_SCRIPT } from '../../lib/node/sctp-module.ts';
import { sshExec } from '../../lib/node/ssh.ts';

function kernelConfigIpSctp(): string | undefined {
  if (!existsSync('/proc/config.gz')) return undefined;
  const cfg = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  const m = /^CONFIG_IP_SCTP=([ym])$/m.exec(cfg);
  return m ? m[1] : 'not set';
}

describe('sctp module probe on this machine (integration)', () => {
  const ns = `sctpmod-${process.pid}`;
  let nsCreated = false;

  before(function () {
    if (process.platform !== 'linux') skipTest(this, `needs Linux (this is ${process.platform})`);
  });

  after(async () => {
    if (nsCreated) await execa('ip', ['netns', 'del', ns], { reject: false, timeout: 10_000 });
  });

  it('never loads anything: the script has no modprobe, insmod, lsmod or socket call', () => {
    expect(SCTP_MODULE_PROBE_SCRIPT).to.not.match(/modprobe|insmod|lsmod|socket|python|socat|ncat/);
  });

  it('answers from the kernel config with evidence (on this kernel: no-sctp, CONFIG_IP_SCTP is not set)', async function () {
    const expected = kernelConfigIpSctp();
    if (expected === undefined) skipTest(this, 'no /proc/config.gz: expectation cannot be derived independently');
    const s = await probeSctpModule(localExec({ node: 'this-machine' }), { timeoutMs: 10_000 });
    console.log(`      state=${s.state} evidence: ${s.evidence}`);
    expect(s.code).to.equal(0);
    if (expected === 'not set') {
      expect(s.state, s.output).to.equal('no-sctp');
      expect(s.evidence).to.include('# CONFIG_IP_SCTP is not set');
    } else if (expected === 'y') {
      expect(s.state, s.output).to.equal('builtin');
    } else {
      const loaded = /^sctp\s/m.test(readFileSync('/proc/modules', 'utf8'));
      expect(s.state, s.output).to.equal(loaded ? 'loaded' : 'not-loaded');
    }
    expect(s.evidence).to.include('this-machine');
  });

  it('gives the same answer from inside a network namespace entered with nsenter', async function () {
    if (process.getuid?.() !== 0) skipTest(this, 'creating a netns needs root');
    const host = await probeSctpModule(localExec({ node: 'this-machine' }), { timeoutMs: 10_000 });
    await execa('ip', ['netns', 'add', ns], { timeout: 10_000 });
    nsCreated = true;
    const inNs = await probeSctpModule(localExec({ netns: ns, node: 'netns-node' }), { timeoutMs: 10_000 });
    console.log(`      in netns ${ns}: state=${inNs.state} (${inNs.evidence})`);
    expect(inNs.state).to.equal(host.state);
    expect(inNs.evidence).to.include('local nsenter --net=' + ns);
  });
});

describe('sctp module probe through SSH in the kernel-lane VM (integration, when `npm run vm:up` is running)', function () {
  this.timeout(120_000);
  const vmJson = `${process.env.SCTP_E2E_VM_DIR ?? '/var/lib/sctp-e2e/vm'}/vm.json`;

  it('answers loaded/not-loaded on a modular kernel, agreeing with /proc/modules read separately', async function () {
    if (!existsSync(vmJson)) {
      skipTest(this, `${vmJson} does not exist (start the VM with npm run vm:up)`);
    }
    let e: ReturnType<typeof sshExec>;
    try {
      const vm = JSON.parse(readFileSync(vmJson, 'utf8')) as { ssh: { host: string; port: number; user: string; keyPath: string; knownHostsPath: string } };
      e = sshExec({ node: 'kernel-vm', ...vm.ssh, connectTimeoutMs: 60_000, timeoutMs: 60_000 });
    } catch (err) {
      skipTest(this, `the VM described by ${vmJson} is going away: ${(err as Error).message}`);
    }
    try {
      // One exec: the probe, then an independent look at /proc/modules (the shared VM may reboot between two execs).
      let r: Awaited<ReturnType<typeof e.run>>;
      try {
        r = await e.run(`${SCTP_MODULE_PROBE_SCRIPT}\necho "== crosscheck"; grep -c '^sctp ' /proc/modules || true`);
      } catch (err) {
        if (err instanceof NodeExecError) {
          skipTest(this, `the VM from ${vmJson} is not usable right now: ${err.message}`);
        }
        throw err;
      }
      const c = classifySctpModule(r.stdout, r.code);
      console.log(`      ${c.state}: ${c.evidence} via ${e.description}`);
      expect(c.facts.configIpSctp).to.equal('m');
      const cross = /== crosscheck\n(\d+)/.exec(r.stdout)?.[1];
      expect(c.state).to.equal(cross === '1' ? 'loaded' : 'not-loaded');
    } finally {
      await e.close();
    }
  });
});
