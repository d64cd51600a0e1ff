// The VM tool's own failure paths (vm/cli.ts): one clear sentence, non-zero exit, nothing left behind,
// and `down` cleaning up after a crashed `up`. Each test uses its own temporary SCTP_E2E_VM_DIR, so a
// VM that is already running for the other tests is never touched.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { execa, type ResultPromise } from 'execa';
import { skipTest } from '../../lib/framework/skip.ts';
import { imageComplete, imageInputs, qemuState, readPidFile } from '../../vm/vm.ts';
import { REPO } from './lane.ts';

const NODE = process.execPath;

function cli(args: string[], env: Record<string, string>, extra: { uid?: number; gid?: number } = {}) {
  return execa(NODE, ['--import', 'tsx', join(REPO, 'vm', 'cli.ts'), ...args], {
    cwd: REPO,
    env,
    extendEnv: true,
    reject: false,
    timeout: 120_000,
    ...extra,
  });
}

/** stderr without npm/tsx noise: the tool's own lines start with "vm ". */
const toolLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('vm '));

describe('kernel lane: vm tool failure paths (integration)', function () {
  this.timeout(180_000);
  const made: string[] = [];
  let tmp: string;
  const stateDir = () => join(tmp, 'state');

  before(function () {
    if (process.getuid?.() !== 0) {
      skipTest(this, 'needs root (the tool refuses to run without it)');
    }
  });
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vm-cli-test-'));
    made.push(tmp);
  });
  after(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });

  it('refuses to run as non-root with one sentence and exit 2', async () => {
    const r = await cli(['up'], { SCTP_E2E_VM_DIR: stateDir() }, { uid: 65534, gid: 65534 });
    expect(r.exitCode, r.stderr).to.equal(2);
    expect(toolLines(r.stderr)).to.deep.equal(['vm up: vm up must run as root (mmdebstrap, QEMU state under /var/lib); rerun with sudo.']);
    expect(existsSync(stateDir())).to.equal(false);
  });

  it('says QEMU is missing and how to install it when qemu-system-x86_64 is not on PATH', async () => {
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    symlinkSync(NODE, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const r = await cli(['up'], { SCTP_E2E_VM_DIR: stateDir(), PATH: bin });
    expect(r.exitCode, r.stderr).to.equal(2);
    expect(toolLines(r.stderr)).to.deep.equal(['vm up: qemu-system-x86_64 is not installed; run: bash .ci/install-deps.sh']);
    expect(existsSync(stateDir())).to.equal(false);
  });

  it('rejects an ssh port that is already taken on 127.0.0.1, before starting anything', async () => {
    const srv: Server = createServer();
    await new Promise<void>((res) => srv.listen({ host: '127.0.0.1', port: 0 }, res));
    const port = (srv.address() as { port: number }).port;
    try {
      const r = await cli(['up'], { SCTP_E2E_VM_DIR: stateDir(), SCTP_E2E_VM_PORT: String(port) });
      expect(r.exitCode, r.stderr).to.equal(2);
      expect(toolLines(r.stderr)).to.deep.equal([
        `vm up: port ${port} on 127.0.0.1 is taken; set SCTP_E2E_VM_PORT to a free port or unset it to pick one automatically.`,
      ]);
      expect(existsSync(stateDir())).to.equal(false);
    } finally {
      await new Promise<void>((res) => srv.close(() => res()));
    }
  });

  it('refuses to start over leftover state, and `down` removes it', async () => {
    mkdirSync(stateDir());
    writeFileSync(join(stateDir(), 'qemu.pid'), '999999\n'); // no such process
    writeFileSync(join(stateDir(), 'overlay.qcow2'), '');
    const r = await cli(['up'], { SCTP_E2E_VM_DIR: stateDir() });
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(toolLines(r.stderr)).to.deep.equal([
      `vm up: leftover state from an earlier run in ${stateDir()} (overlay.qcow2, qemu.pid); clean it with npm run vm:down.`,
    ]);
    expect(readdirSync(stateDir()).sort()).to.deep.equal(['overlay.qcow2', 'qemu.pid']); // untouched by up
    const d = await cli(['down'], { SCTP_E2E_VM_DIR: stateDir() });
    expect(d.exitCode, d.stderr).to.equal(0);
    expect(toolLines(d.stderr)[0]).to.match(/^vm down: removed leftover state in (\d+ms|[\d.]+s)$/);
    expect(existsSync(stateDir())).to.equal(false);
  });

  it('`down` with nothing to do exits 0 and `status` exits 3', async () => {
    const d = await cli(['down'], { SCTP_E2E_VM_DIR: stateDir() });
    expect(d.exitCode, d.stderr).to.equal(0);
    expect(toolLines(d.stderr)).to.deep.equal([`vm down: nothing to do (${stateDir()} does not exist)`]);
    const s = await cli(['status'], { SCTP_E2E_VM_DIR: stateDir() });
    expect(s.exitCode, s.stderr).to.equal(3);
    expect(toolLines(s.stderr)).to.deep.equal(['vm status: down']);
  });

  it('`down` after a crashed `up` (killed while booting) stops that QEMU by pid and removes the state', async function () {
    const img = imageInputs();
    if (!imageComplete(img.dir)) {
      skipTest(this, `no cached image at ${img.dir} (run npm run vm:build)`);
    }
    const up: ResultPromise = execa(NODE, ['--import', 'tsx', join(REPO, 'vm', 'cli.ts'), 'up'], {
      cwd: REPO,
      env: { SCTP_E2E_VM_DIR: stateDir() },
      reject: false,
      timeout: 120_000,
    });
    let pid: number | undefined;
    for (let i = 0; i < 300 && pid === undefined; i++) {
      await sleep(100);
      pid = readPidFile(stateDir());
    }
    expect(pid, 'qemu.pid never appeared').to.be.a('number');
    up.kill('SIGKILL'); // the tool dies without its cleanup: QEMU and the state dir stay behind
    await up;
    expect(qemuState(pid!, stateDir())).to.equal('running');
    const s = await cli(['status'], { SCTP_E2E_VM_DIR: stateDir() });
    expect(s.exitCode).to.equal(3);
    const u = await cli(['up'], { SCTP_E2E_VM_DIR: stateDir() });
    expect(u.exitCode, u.stderr).to.equal(3);
    expect(toolLines(u.stderr)[0]).to.match(
      new RegExp(
        `^vm up: a VM is already running from .* \\(qemu pid ${pid}, ssh 127\\.0\\.0\\.1:\\d+\\)|^vm up: a VM is already running from .* \\(qemu pid ${pid}\\)`,
      ),
    );
    const d = await cli(['down'], { SCTP_E2E_VM_DIR: stateDir() });
    expect(d.exitCode, d.stderr).to.equal(0);
    expect(toolLines(d.stderr).join('\n')).to.match(new RegExp(`stopped qemu pid ${pid} \\((poweroff|killed)\\)`));
    expect(qemuState(pid!, stateDir())).to.equal('gone');
    expect(existsSync(stateDir())).to.equal(false);
  });
});
