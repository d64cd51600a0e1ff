// Kernel lane CLI: build | up | down | status   (npm run vm:build / vm:up / vm:down / vm:status)
//
//   build   build the VM image into ~/.cache/sctp-e2e/vm-<hash> unless it is cached (hash of vm/build.sh,
//           vm/prune-modules.sh, vm/packages.txt and the Debian kernel version)
//   up      build if needed, boot a throwaway qcow2 overlay under QEMU TCG with user-mode networking
//           (restrict=on, ssh forwarded on a free 127.0.0.1 port), wait for ssh, write vm.json
//   down    poweroff over ssh, kill the QEMU pid if it does not exit, remove the state dir; also cleans
//           up after a crashed `up`
//   status  print vm.json and whether QEMU and ssh answer (exit 0 up, 3 down)
//   up --join-cluster   also a NIC on tap sctpe2e-vm0 in the cluster bridge, then vm/join.ts up (node sctp-e2e-vm)
//   reboot  reboot the guest and wait for ssh (the only way to unload sctp.ko on this kernel; no npm script)
//
// Environment: SCTP_E2E_VM_DIR (state, default /var/lib/sctp-e2e/vm), SCTP_E2E_CACHE_DIR (default
// ~/.cache/sctp-e2e), SCTP_E2E_VM_PORT (fixed ssh port; default: a free one), SCTP_E2E_VM_MEM (MiB, 1024),
// SCTP_E2E_VM_BOOT_TIMEOUT (seconds, 300).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration, roundSeconds } from '../lib/framework/duration.ts';
import { ExitCode, UsageError } from '../lib/framework/errors.ts';
import { runMain } from '../lib/framework/main.ts';
import { createTap, deleteTap, joinDown, joinProxyModeArg, joinUp, qemuTapArgs, TAP } from './join.ts';
import { cacheRoot, imageComplete, imageInputs, qemuState, readPidFile, readVmJson, VM_SRC_DIR, VmError, type VmJson, vmStateDir } from './vm.ts';

const QEMU = 'qemu-system-x86_64';
const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new VmError(`vm ${what} must run as root (mmdebstrap, QEMU state under /var/lib); rerun with sudo.`, 2);
}

function requireTool(tool: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new VmError(`${tool} is not installed; run: bash .ci/install-deps.sh`, 2);
}

// ---------------------------------------------------------------- build
export function build(): { dir: string; cached: boolean; seconds: number } {
  requireRoot('build');
  for (const t of ['mmdebstrap', 'mkfs.ext4', 'ssh-keygen']) requireTool(t);
  const inputs = imageInputs();
  if (imageComplete(inputs.dir)) {
    log(`vm build: cached image ${inputs.dir} (${inputs.kernel.pkg} ${inputs.kernel.version})`);
    return { dir: inputs.dir, cached: true, seconds: 0 };
  }
  log(`vm build: building ${inputs.dir} with ${inputs.kernel.pkg} ${inputs.kernel.version} (about 1-2 min)`);
  mkdirSync(cacheRoot(), { recursive: true });
  const t0 = performance.now();
  const r = spawnSync('bash', [join(VM_SRC_DIR, 'build.sh'), inputs.dir, inputs.kernel.pkg], { stdio: 'inherit', timeout: 20 * 60_000 });
  if (r.status !== 0) throw new VmError(`the image build failed (exit ${r.status ?? r.signal}); see the output above, then rerun npm run vm:build.`);
  const seconds = (performance.now() - t0) / 1000;
  // Drop images built from older inputs: they are ~1 GB each and can never be picked again.
  for (const d of readdirSync(cacheRoot())) {
    const p = join(cacheRoot(), d);
    if (/^vm-[0-9a-f]{12}$/.test(d) && p !== inputs.dir) {
      rmSync(p, { recursive: true, force: true });
      log(`vm build: removed stale image ${p}`);
    }
  }
  return { dir: inputs.dir, cached: false, seconds };
}

// ---------------------------------------------------------------- up
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function pickPort(): Promise<number> {
  const fixed = process.env.SCTP_E2E_VM_PORT;
  if (fixed) {
    const port = Number(fixed);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new VmError(`SCTP_E2E_VM_PORT=${fixed} is not a port number; set 1-65535 or unset it to pick a free port.`, 2);
    if (!(await portFree(port)))
      throw new VmError(`port ${port} on 127.0.0.1 is taken; set SCTP_E2E_VM_PORT to a free port or unset it to pick one automatically.`, 2);
    return port;
  }
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen({ host: '127.0.0.1', port: 0 }, () => {
        const a = s.address();
        const p = typeof a === 'object' && a ? a.port : 0;
        s.close(() => resolve(p));
      });
    });
    if (port !== 2222 && port > 0) return port;
  }
  throw new VmError('found no free port on 127.0.0.1; free one and set SCTP_E2E_VM_PORT.', 2);
}

function checkLeftovers(dir: string): void {
  const pid = readPidFile(dir) ?? readVmJson(dir)?.qemuPid;
  if (pid !== undefined && qemuState(pid, dir) === 'running') {
    const port = readVmJson(dir)?.ssh.port;
    throw new VmError(`a VM is already running from ${dir} (qemu pid ${pid}${port ? `, ssh 127.0.0.1:${port}` : ''}); stop it with npm run vm:down.`, 3);
  }
  const leftovers = existsSync(dir) ? readdirSync(dir) : [];
  if (leftovers.length > 0) {
    throw new VmError(`leftover state from an earlier run in ${dir} (${leftovers.join(', ')}); clean it with npm run vm:down.`, 3);
  }
}

function sshArgs(s: { port: number; keyPath: string; knownHostsPath: string }, connectTimeout = 5): string[] {
  return [
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${connectTimeout}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${s.knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-i',
    s.keyPath,
    '-p',
    String(s.port),
    'root@127.0.0.1',
  ];
}

function sshRun(s: { port: number; keyPath: string; knownHostsPath: string }, cmd: string, timeoutMs = 15_000) {
  return spawnSync('ssh', [...sshArgs(s), cmd], { encoding: 'utf8', timeout: timeoutMs });
}

function consoleTail(dir: string, lines = 15): string {
  const p = join(dir, 'console.log');
  if (!existsSync(p)) return '(no console log)';
  return readFileSync(p, 'utf8').split('\n').slice(-lines).join('\n');
}

/** `joinCluster`: a second NIC on tap sctpe2e-vm0 in the cluster bridge, then vm/join.ts makes the VM a node. */
export async function up(opts: { joinCluster?: boolean } = {}): Promise<VmJson> {
  requireRoot('up');
  requireTool(QEMU);
  requireTool('qemu-img');
  requireTool('ssh');
  const dir = vmStateDir();
  checkLeftovers(dir);
  const port = await pickPort();
  const img = build();
  const t0 = performance.now();
  let ok = false;
  const onSignal = (): void => {
    log('vm up: interrupted; cleaning up');
    void down({ quiet: true }).finally(() => process.exit(ExitCode.interrupted));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    mkdirSync(join(dir, 'ssh'), { recursive: true, mode: 0o700 });
    const keyPath = join(dir, 'ssh', 'id_ed25519');
    copyFileSync(join(img.dir, 'id_ed25519'), keyPath);
    chmodSync(keyPath, 0o600);
    const hostKey = readFileSync(join(img.dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const knownHostsPath = join(dir, 'ssh', 'known_hosts');
    writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostKey}\n`);
    if (opts.joinCluster) {
      createTap();
      log(`vm up: tap ${TAP} in the cluster bridge (guest 10.199.0.20)`);
    }
    const overlay = join(dir, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(img.dir, 'rootfs.img'), '-F', 'raw', overlay], { timeout: 30_000 });
    const memoryMiB = Number(process.env.SCTP_E2E_VM_MEM ?? (opts.joinCluster ? 2048 : 1024));
    const consoleLog = join(dir, 'console.log');
    const args = [
      '-name',
      'sctp-e2e-vm',
      '-accel',
      'tcg,thread=multi,tb-size=256',
      '-cpu',
      'max',
      '-m',
      String(memoryMiB),
      '-smp',
      '2',
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      `file:${consoleLog}`,
      '-kernel',
      join(img.dir, 'vmlinuz'),
      '-initrd',
      join(img.dir, 'initrd.img'),
      '-append',
      'root=/dev/vda rw console=ttyS0 panic=-1 quiet',
      '-drive',
      `file=${overlay},format=qcow2,if=virtio,cache=unsafe`,
      '-netdev',
      `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`,
      '-device',
      'virtio-net-pci,netdev=n0',
      ...(opts.joinCluster ? qemuTapArgs() : []),
      // No -no-reboot: a guest reboot is the only way back to "sctp.ko not loaded" (see reboot()).
      '-daemonize',
      '-pidfile',
      join(dir, 'qemu.pid'),
    ];
    const q = spawnSync(QEMU, args, { encoding: 'utf8', timeout: 60_000 });
    if (q.status !== 0) {
      const err = (q.stderr || q.error?.message || '').trim().split('\n')[0] ?? '';
      if (/host forwarding|Address already in use/i.test(err))
        throw new VmError(`port ${port} on 127.0.0.1 was taken when QEMU started (${err}); rerun npm run vm:up.`);
      throw new VmError(`QEMU failed to start: ${err}`);
    }
    const pid = readPidFile(dir);
    if (pid === undefined) throw new VmError(`QEMU started but wrote no pid file in ${dir}; run npm run vm:down and retry.`);
    log(`vm up: qemu pid ${pid}, ssh on 127.0.0.1:${port}; waiting for ssh`);
    const deadline = Date.now() + Number(process.env.SCTP_E2E_VM_BOOT_TIMEOUT ?? 300) * 1000;
    const ssh = { port, keyPath, knownHostsPath };
    let kernel = '';
    let last = '';
    for (;;) {
      if (qemuState(pid, dir) !== 'running') throw new VmError(`QEMU exited during boot; console tail:\n${consoleTail(dir)}`);
      if (/Kernel panic/.test(readFileSync(consoleLog, 'utf8'))) throw new VmError(`the guest kernel panicked during boot; console tail:\n${consoleTail(dir)}`);
      const r = sshRun(ssh, 'uname -r', 10_000);
      if (r.status === 0) {
        kernel = r.stdout.trim();
        break;
      }
      last = (r.stderr || '').trim().split('\n').pop() ?? '';
      if (/Host key verification failed|REMOTE HOST IDENTIFICATION/.test(last))
        throw new VmError(`the VM's ssh host key does not match the one baked into ${img.dir}; remove that dir and rerun npm run vm:up.`);
      if (Date.now() > deadline)
        throw new VmError(
          `ssh to 127.0.0.1:${port} not ready after ${process.env.SCTP_E2E_VM_BOOT_TIMEOUT ?? 300}s (last: ${last}); console tail:\n${consoleTail(dir)}`,
        );
      await sleep(1000);
    }
    const bootSeconds = roundSeconds(performance.now() - t0);
    const vm: VmJson = {
      ssh: { host: '127.0.0.1', port, user: 'root', keyPath, knownHostsPath },
      kernel,
      qemuPid: pid,
      consoleLog,
      image: img.dir,
      memoryMiB,
      startedAt: new Date().toISOString(),
      bootSeconds,
    };
    writeFileSync(join(dir, 'vm.json.tmp'), `${JSON.stringify(vm, null, 2)}\n`);
    renameSync(join(dir, 'vm.json.tmp'), join(dir, 'vm.json'));
    ok = true;
    log(`vm up: ready in ${bootSeconds}s: kernel ${kernel}, ssh -i ${keyPath} -o UserKnownHostsFile=${knownHostsPath} -p ${port} root@127.0.0.1`);
    return vm;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!ok) await down({ quiet: true });
  }
}

/** `vm up --join-cluster`: boot with the cluster NIC, then join (a failed join leaves the VM up for debugging). */
async function upJoined(): Promise<void> {
  const proxyMode = joinProxyModeArg(process.argv); // a bad value is a usage error before the VM boots
  await up({ joinCluster: true });
  await joinUp({ proxyMode });
}

// ---------------------------------------------------------------- down
async function waitGone(pid: number, dir: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (qemuState(pid, dir) !== 'running') return true;
    await sleep(200);
  }
  return qemuState(pid, dir) !== 'running';
}

/** After a crashed `up` there is no vm.json yet, but the key and known_hosts already name the port. */
function sshFromLeftovers(dir: string): { port: number; keyPath: string; knownHostsPath: string } | undefined {
  const knownHostsPath = join(dir, 'ssh', 'known_hosts');
  const keyPath = join(dir, 'ssh', 'id_ed25519');
  if (!existsSync(knownHostsPath) || !existsSync(keyPath)) return undefined;
  const m = /^\[127\.0\.0\.1\]:(\d+) /.exec(readFileSync(knownHostsPath, 'utf8'));
  return m?.[1] ? { port: Number(m[1]), keyPath, knownHostsPath } : undefined;
}

export async function down(opts: { quiet?: boolean } = {}): Promise<{ how: string; seconds: number }> {
  const say = opts.quiet ? (_: string) => {} : log;
  const dir = vmStateDir();
  const t0 = performance.now();
  if (!existsSync(dir)) {
    say(`vm down: nothing to do (${dir} does not exist)`);
    return { how: 'nothing', seconds: 0 };
  }
  if (process.getuid?.() !== 0) throw new VmError('vm down must run as root; rerun with sudo.', 2);
  const vm = readVmJson(dir);
  const pid = readPidFile(dir) ?? vm?.qemuPid;
  let how = 'not running';
  if (
    await joinDown({ quiet: opts.quiet }).catch((e: unknown) => {
      say(`vm down: leaving the cluster failed: ${(e as Error).message}`);
      return false;
    })
  )
    say('vm down: left the cluster');
  if (pid !== undefined) {
    const st = qemuState(pid, dir);
    if (st === 'foreign') say(`vm down: pid ${pid} is not a QEMU of ${dir}; leaving it alone`);
    if (st === 'running') {
      how = 'killed';
      const ssh = vm?.ssh ?? sshFromLeftovers(dir);
      if (ssh) {
        // The connection drops as the guest goes down; the exit code of ssh means nothing here.
        const r = sshRun(ssh, 'systemctl poweroff', 10_000);
        const accepted = r.status === 0 || /closed by remote host|Connection to \S+ closed/.test(r.stderr ?? '');
        if (accepted && (await waitGone(pid, dir, 30_000))) how = 'poweroff';
      }
      if (how !== 'poweroff') {
        process.kill(pid, 'SIGTERM');
        if (!(await waitGone(pid, dir, 5_000))) {
          process.kill(pid, 'SIGKILL');
          await waitGone(pid, dir, 5_000);
        }
      }
    }
  }
  if (deleteTap()) say(`vm down: removed tap ${TAP}`);
  for (const f of ['vm.json', 'vm.json.tmp', 'qemu.pid', 'overlay.qcow2', 'console.log', 'ssh', 'join']) rmSync(join(dir, f), { recursive: true, force: true });
  const rest = readdirSync(dir);
  if (rest.length === 0) rmSync(dir, { recursive: true, force: true });
  else say(`vm down: left unknown files in ${dir}: ${rest.join(', ')}`);
  const seconds = roundSeconds(performance.now() - t0);
  say(`vm down: ${how === 'not running' ? 'removed leftover state' : `stopped qemu pid ${pid} (${how})`} in ${formatDuration(seconds * 1000)}`);
  return { how, seconds };
}

// ---------------------------------------------------------------- reboot
/**
 * Reboots the guest (QEMU, port and host key stay) and waits for ssh with a new boot id. Needed because
 * Debian 6.1's sctp.ko cannot be unloaded once loaded: each netns's SCTP control sockets hold module
 * references (refcnt 2 with no user sockets; +2 per extra netns), so `modprobe -r sctp` says "in use".
 */
export async function reboot(timeoutS = Number(process.env.SCTP_E2E_VM_BOOT_TIMEOUT ?? 300)): Promise<{ seconds: number; bootId: string }> {
  const dir = vmStateDir();
  const vm = readVmJson(dir);
  if (!vm || qemuState(vm.qemuPid, dir) !== 'running') throw new VmError(`no running VM in ${dir}; start one with npm run vm:up.`, 3);
  const bootId = (s: string): string => s.trim();
  const before = sshRun(vm.ssh, 'cat /proc/sys/kernel/random/boot_id');
  if (before.status !== 0) throw new VmError(`ssh to the VM failed before reboot (${before.stderr.trim()}); check npm run vm:status.`);
  const t0 = performance.now();
  sshRun(vm.ssh, 'systemctl reboot', 10_000);
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    if (qemuState(vm.qemuPid, dir) !== 'running') throw new VmError(`QEMU exited during the reboot; console tail:\n${consoleTail(dir)}`);
    const r = sshRun(vm.ssh, 'cat /proc/sys/kernel/random/boot_id', 10_000);
    if (r.status === 0 && bootId(r.stdout) !== bootId(before.stdout)) {
      const seconds = roundSeconds(performance.now() - t0);
      log(`vm reboot: back in ${formatDuration(seconds * 1000)} (boot id ${bootId(r.stdout)})`);
      return { seconds, bootId: bootId(r.stdout) };
    }
    if (Date.now() > deadline) throw new VmError(`the VM did not come back within ${timeoutS}s after reboot; console tail:\n${consoleTail(dir)}`);
    await sleep(1000);
  }
}

// ---------------------------------------------------------------- status
function status(): number {
  const dir = vmStateDir();
  const vm = readVmJson(dir);
  const pid = readPidFile(dir) ?? vm?.qemuPid;
  const st = pid !== undefined ? qemuState(pid, dir) : 'gone';
  if (!vm) {
    log(
      st === 'running'
        ? `vm status: QEMU pid ${pid} runs but ${dir}/vm.json is missing (up still booting or crashed); npm run vm:down cleans it.`
        : existsSync(dir)
          ? `vm status: down, with leftover state in ${dir}; npm run vm:down cleans it.`
          : 'vm status: down',
    );
    return 3;
  }
  const r = st === 'running' ? sshRun(vm.ssh, 'uname -r; cut -d" " -f1 /proc/uptime', 15_000) : undefined;
  process.stdout.write(`${JSON.stringify(vm, null, 2)}\n`);
  log(`vm status: qemu ${st}${pid ? ` (pid ${pid})` : ''}, ssh ${r?.status === 0 ? `ok (${r.stdout.trim().replace('\n', ', up ')}s)` : 'unreachable'}`);
  return st === 'running' && r?.status === 0 ? 0 : 3;
}

async function main(): Promise<number> {
  const cmd = process.argv[2];
  switch (cmd) {
    case 'build': {
      const b = build();
      if (!b.cached) log(`vm build: done in ${formatDuration(b.seconds * 1000)}`);
      return 0;
    }
    case 'up':
      if (process.argv.includes('--join-cluster')) await upJoined();
      else await up();
      return 0;
    case 'down':
      await down();
      return 0;
    case 'status':
      return status();
    case 'reboot':
      await reboot();
      return 0;
    default:
      throw new UsageError(cmd ? `unknown command ${JSON.stringify(cmd)}` : 'missing command');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(`vm ${process.argv[2] ?? ''}`.trim(), main, {
    usage: 'usage: tsx vm/cli.ts build | up [--join-cluster [--proxy-mode iptables|nftables|ipvs]] | down | status | reboot',
  });
}
