// Network namespaces, veths and processes for agnhost-sctp's integration tests and benchmark.
// Every name carries the run prefix (agt-<pid>-…); cleanup() kills started processes by PID
// and deletes the namespaces (which takes their links, bridges and netfilter rules with them),
// LIFO, collecting errors instead of throwing on the first.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AGNHOST_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const AGNHOST_BIN = join(AGNHOST_DIR, 'out', 'agnhost-sctp');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  command: string;
}

export function run(argv: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 16 << 20, env: env ?? process.env }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: performance.now() - t0, command: argv.join(' ') });
    });
  });
}

export async function must(argv: string[], timeoutMs = 30_000): Promise<string> {
  const r = await run(argv, timeoutMs);
  if (r.code !== 0) throw new Error(`${r.command} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Why the lab cannot run here, or undefined. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return `needs root for network namespaces (uid ${process.getuid?.()})`;
  for (const bin of ['/usr/sbin/ip', '/usr/sbin/iptables']) if (!existsSync(bin) && !existsSync(bin.replace('/usr/sbin', '/sbin'))) return `${bin} missing`;
  return undefined;
}

/** Builds the binary with build.sh when it is missing or older than a source file. */
export async function ensureBinary(): Promise<void> {
  const src = join(AGNHOST_DIR, 'src');
  const newest = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs), statSync(join(AGNHOST_DIR, 'VERSION')).mtimeMs);
  if (existsSync(AGNHOST_BIN) && statSync(AGNHOST_BIN).mtimeMs >= newest) return;
  await must(['bash', join(AGNHOST_DIR, 'build.sh')], 300_000);
}

export class Lab {
  readonly prefix: string;
  private readonly cleanups: Array<{ what: string; fn: () => Promise<void> }> = [];
  private readonly procs = new Set<ChildProcess>();

  constructor(tag: string) {
    this.prefix = `agt-${process.pid}-${tag}`;
  }

  defer(what: string, fn: () => Promise<void>): void {
    this.cleanups.push({ what, fn });
  }

  ns(short: string): string {
    return `${this.prefix}-${short}`;
  }

  async addNetns(short: string): Promise<string> {
    const name = this.ns(short);
    await must(['ip', 'netns', 'add', name]);
    this.defer(`netns ${name}`, async () => {
      await must(['ip', 'netns', 'del', name]);
    });
    await must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair created directly inside the two namespaces (no names in the root netns). */
  async link(nsA: string, ifA: string, cidrA: string | null, nsB: string, ifB: string, cidrB: string | null): Promise<void> {
    await must(['ip', 'link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    if (cidrA) await must(['ip', '-n', nsA, 'addr', 'add', cidrA, 'dev', ifA]);
    if (cidrB) await must(['ip', '-n', nsB, 'addr', 'add', cidrB, 'dev', ifB]);
    await must(['ip', '-n', nsA, 'link', 'set', ifA, 'up']);
    await must(['ip', '-n', nsB, 'link', 'set', ifB, 'up']);
  }

  sh(ns: string, cmd: string, timeoutMs = 30_000): Promise<string> {
    return must(['ip', 'netns', 'exec', ns, 'sh', '-c', cmd], timeoutMs);
  }

  /** Runs agnhost-sctp in ns and waits for it to exit. */
  agnhost(ns: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', ns, AGNHOST_BIN, ...args], timeoutMs);
  }

  /** Starts a long-running agnhost-sctp in ns; resolves once stderr shows every `ready` pattern. */
  async serve(
    ns: string,
    args: string[],
    ready: RegExp[],
    env: Record<string, string> = {},
    timeoutMs = 10_000,
  ): Promise<{ proc: ChildProcess; log: () => string }> {
    const proc = spawn('ip', ['netns', 'exec', ns, AGNHOST_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.procs.add(proc);
    this.defer(`agnhost-sctp ${args.join(' ')} in ${ns} (pid ${proc.pid})`, async () => {
      await this.stop(proc);
    });
    let log = '';
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
    });
    proc.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const t0 = Date.now();
    while (!ready.every((r) => r.test(log))) {
      if (proc.exitCode !== null) throw new Error(`agnhost-sctp ${args.join(' ')} exited ${proc.exitCode} before ready:\n${log}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`agnhost-sctp ${args.join(' ')} not ready within ${timeoutMs}ms:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { proc, log: () => log };
  }

  async stop(proc: ChildProcess): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null || !proc.pid) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM'); // `ip netns exec` execs the binary: this PID is agnhost-sctp itself
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
    this.procs.delete(proc);
  }

  async cleanup(): Promise<string[]> {
    const errors: string[] = [];
    while (this.cleanups.length) {
      const c = this.cleanups.pop()!;
      try {
        await Promise.race([c.fn(), new Promise((_, rej) => setTimeout(() => rej(new Error('timed out after 10s')), 10_000))]);
      } catch (e) {
        errors.push(`cleanup ${c.what}: ${(e as Error).message}`);
      }
    }
    return errors;
  }
}
