// Process helpers for the local cluster: commands with deadlines, detached daemons tracked by PID,
// polling with progress. Every error is a ClusterError whose message is one sentence.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { formatDuration } from '../lib/framework/duration.ts';
import { ExitCode, UserError } from '../lib/framework/errors.ts';

/** A step of the local cluster failed: one sentence (runMain prints it, exit 1), details for the log. */
export class ClusterError extends UserError {
  constructor(
    message: string,
    readonly details?: string,
  ) {
    super(message, ExitCode.failed);
    this.name = 'ClusterError';
  }
}

let abortReason: string | undefined;
/** Makes the next run()/waitFor() step throw, so that `up` tears down what it started (SIGINT/SIGTERM). */
let abortable = true;
export function requestAbort(reason: string): void {
  if (abortable) abortReason = reason;
}
/** From here on (teardown) signals no longer abort commands. */
export function stopAborting(): void {
  abortable = false;
  abortReason = undefined;
}
function checkAbort(): void {
  if (abortReason) throw new ClusterError(`cluster up was interrupted (${abortReason})`);
}

/** A stderr logger whose lines start with "[component HH:MM:SS +elapsed]" (elapsed since this call). */
export function stampedLog(component: string): (msg: string) => void {
  const t0 = Date.now();
  return (msg) => process.stderr.write(`[${component} ${new Date().toISOString().slice(11, 19)} +${formatDuration(Date.now() - t0)}] ${msg}\n`);
}

export const log = stampedLog('cluster');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOpts {
  timeoutMs?: number;
  input?: string;
  netns?: string;
  allowFail?: boolean;
  env?: Record<string, string>;
}

export function netnsPrefix(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['nsenter', [`--net=/run/netns/${netns}`, '--', cmd, ...args]] : [cmd, args];
}

/** Runs a command with a deadline; throws ClusterError on failure unless allowFail. */
export async function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<RunResult> {
  checkAbort();
  const [c, a] = netnsPrefix(opts.netns, cmd, args);
  const timeout = opts.timeoutMs ?? 30_000;
  const r = await execa(c, a, {
    reject: false,
    timeout,
    input: opts.input,
    env: opts.env,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  const res: RunResult = { code: r.exitCode ?? null, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  if (!opts.allowFail && (r.timedOut || r.exitCode !== 0 || r.failed)) {
    const where = opts.netns ? ` in netns ${opts.netns}` : '';
    const why = r.timedOut
      ? `timed out after ${formatDuration(timeout)}`
      : r.exitCode === undefined
        ? `could not start (${(r.message ?? '').split('\n')[0]})`
        : `exited ${r.exitCode}`;
    const err = lastLine(res.stderr) || lastLine(res.stdout);
    throw new ClusterError(`\`${[cmd, ...args].join(' ')}\`${where} ${why}${err ? `: ${err}` : ''}`);
  }
  return res;
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop()?.trim() ?? '';
}

export interface Daemon {
  name: string;
  pid: number;
  bin: string;
  logFile: string;
}

/** Starts a long-running process detached, in a netns with nsenter (same mount namespace), logging to a file. */
export function startDaemon(
  name: string,
  bin: string,
  args: string[],
  o: { netns?: string; logFile: string; pidDir: string; env?: NodeJS.ProcessEnv },
): Daemon {
  const [c, a] = netnsPrefix(o.netns, bin, args);
  const fd = openSync(o.logFile, 'a');
  try {
    const child = spawn(c, a, { detached: true, stdio: ['ignore', fd, fd], env: o.env ?? process.env });
    if (child.pid === undefined) throw new ClusterError(`could not start ${name} (${bin})`);
    child.unref();
    writeFileSync(`${o.pidDir}/${name}.pid`, `${child.pid}\n${bin}\n`);
    return { name, pid: child.pid, bin, logFile: o.logFile };
  } finally {
    closeSync(fd);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is not alive.
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export function exePath(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

export function tail(file: string, n = 25): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    return lines
      .slice(-n - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return `(no log at ${file})`;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sends SIGTERM, waits, then SIGKILL. Returns how it ended. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<'gone' | 'terminated' | 'killed'> {
  if (!alive(pid)) return 'gone';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const end = Date.now() + graceMs;
  while (Date.now() < end) {
    if (!alive(pid)) return 'terminated';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  return 'killed';
}

/** PIDs of processes whose network namespace is the given one (inode compare). */
export function pidsInNetns(netnsPath: string): number[] {
  let ino: number;
  try {
    ino = statSync(netnsPath).ino;
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (statSync(`/proc/${e}/ns/net`).ino === ino && Number(e) !== process.pid) out.push(Number(e));
    } catch {
      /* raced */
    }
  }
  return out;
}

export interface WaitOpts<T> {
  timeoutMs: number;
  intervalMs?: number;
  probe: () => Promise<T>;
  until: (v: T) => boolean;
  describe?: (v: T | undefined, err: unknown) => string;
  /** Throws if a component died; called on every attempt. */
  watch?: () => void;
}

/** Polls until `until` holds; prints progress every 10 s; a timeout says what, how long, and the last observation. */
export async function waitFor<T>(what: string, o: WaitOpts<T>): Promise<T> {
  const start = Date.now();
  let lastReport = start;
  let last: T | undefined;
  let lastErr: unknown;
  let attempts = 0;
  for (;;) {
    checkAbort();
    o.watch?.();
    attempts++;
    try {
      last = await o.probe();
      lastErr = undefined;
      if (o.until(last)) return last;
    } catch (e) {
      if (e instanceof ClusterError && e.details !== undefined) throw e;
      lastErr = e;
    }
    const now = Date.now();
    if (now - start > o.timeoutMs) {
      const seen = o.describe ? o.describe(last, lastErr) : lastErr ? (lastErr as Error).message : JSON.stringify(last);
      throw new ClusterError(`timed out after ${formatDuration(o.timeoutMs)} (${attempts} attempts) waiting for ${what}; last seen: ${seen}`);
    }
    if (now - lastReport >= 10_000) {
      lastReport = now;
      log(`still waiting for ${what} (${formatDuration(now - start)})`);
    }
    await sleep(o.intervalMs ?? 500);
  }
}

export function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
