// A private containerd for integration tests: own root/state/socket in a temp dir, CRI and the
// /opt plugin disabled, stopped by PID and removed by stop(). The runc state directory of our
// containerd namespace (/run/containerd/runc/<ns>) is removed; the shared parents under
// /run/containerd are left alone, since another containerd on the machine may be using them.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface PrivateContainerd {
  dir: string;
  socket: string;
  namespace: string;
  ctr(args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startPrivateContainerd(namespace: string): Promise<PrivateContainerd> {
  const dir = mkdtempSync(join(tmpdir(), 'agt-containerd-'));
  const socket = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",',
      '  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",',
      '  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
      `[grpc]\n  address = "${socket}"`,
      `[ttrpc]\n  address = "${socket}.ttrpc"`,
      '[debug]\n  address = ""',
      '[metrics]\n  address = ""',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));

  const ctr = async (args: string[], timeoutMs = 30_000) => {
    try {
      return await execFileP('ctr', ['--address', socket, '-n', namespace, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`ctr ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`);
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    try {
      rmdirSync(`/run/containerd/runc/${namespace}`);
    } catch {
      /* absent */
    }
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await ctr(['version'], 3000);
      break;
    } catch (e) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`private containerd did not come up within 15s: ${(e as Error).message}\n${log.split('\n').slice(-5).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { dir, socket, namespace, ctr, stop };
}
