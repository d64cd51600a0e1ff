// NodeExec: run a shell command on a Kubernetes node, whatever the transport (docs/CONTRACTS.md).
// This file holds the interface, the two errors, shared helpers, and the `local` transport
// (execa on this machine, optionally inside a network namespace via nsenter).
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { formatDuration } from '../framework/duration.ts';
import type { Transport } from '../framework/node-access.ts';

export interface ExecResult {
  command: string;
  node: string;
  transport: string;
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type { Transport };

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface NodeExec {
  readonly node: string; // Kubernetes node name
  readonly transport: Transport;
  readonly description: string; // e.g. "ssh root@10.199.0.2:22 (known_hosts)"
  // Never throws for a non-zero exit; throws NodeExecError (transport failure) or
  // NodeExecTimeout past the deadline.
  run(command: string, opts?: RunOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** Default deadline for one node command (the framework's `nodeExec` timeout may override it). */
export const DEFAULT_NODE_EXEC_TIMEOUT_MS = 30_000;

/** Shortens a command for messages: first line, at most 80 characters. */
export function shortCommand(command: string): string {
  const first = command.trim().split('\n')[0] ?? '';
  const multi = command.trim().includes('\n');
  const s = first.length > 80 ? `${first.slice(0, 77)}...` : first;
  return multi ? `${s} ...` : s;
}

/** A transport failure: the command could not be run (connection, auth, API error...). */
export class NodeExecError extends Error {
  override readonly name = 'NodeExecError';
  constructor(
    message: string,
    readonly node: string,
    readonly description: string,
    readonly command?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The command did not finish before its deadline. Message: "nodeExec timed out after 30s: CMD on NODE (DESC)". */
export class NodeExecTimeout extends Error {
  override readonly name = 'NodeExecTimeout';
  constructor(
    readonly command: string,
    readonly node: string,
    readonly description: string,
    readonly timeoutMs: number,
    readonly partial?: { stdout: string; stderr: string },
  ) {
    super(`nodeExec timed out after ${formatDuration(timeoutMs)}: ${shortCommand(command)} on ${node} (${description})`);
  }
}

/** Quote one argument for a POSIX shell. */
export function shQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_/.:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface LocalExecOptions {
  /** Kubernetes node name reported in results and errors (default: "local" or the netns name). */
  node?: string;
  /** Run inside this network namespace (a name under /run/netns, or an absolute path). */
  netns?: string;
  /** Default deadline per run (ms). */
  timeoutMs?: number;
}

/** argv that runs `command` with sh, optionally inside a netns. Exported for tests. */
export function localArgv(command: string, netns?: string): string[] {
  if (!netns) return ['sh', '-c', command];
  const path = netns.startsWith('/') ? netns : `/run/netns/${netns}`;
  return ['nsenter', `--net=${path}`, '--', 'sh', '-c', command];
}

/** Runs commands on this machine (for integration tests and the local cluster, whose nodes are netns). */
export function localExec(opts: LocalExecOptions = {}): NodeExec {
  const node = opts.node ?? opts.netns ?? 'local';
  const description = opts.netns ? `local nsenter --net=${opts.netns}` : 'local sh';
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_NODE_EXEC_TIMEOUT_MS;
  let closed = false;
  return {
    node,
    transport: 'local',
    description,
    async run(command, ro = {}) {
      if (closed) throw new NodeExecError(`nodeExec on ${node} (${description}) was used after close()`, node, description, command);
      const nsPath = localArgv('', opts.netns)[1]?.replace(/^--net=/, '');
      if (opts.netns && nsPath && !existsSync(nsPath)) {
        throw new NodeExecError(`nodeExec on ${node}: network namespace ${nsPath} does not exist (${description})`, node, description, command);
      }
      const timeoutMs = ro.timeoutMs ?? defaultTimeout;
      const [file, ...args] = localArgv(command, opts.netns);
      const started = Date.now();
      // Own process group, so a deadline or abort kills the whole command tree (a pipeline, a
      // `sleep` under `sh -c`), not just the shell.
      const sub = execa(file!, args, {
        reject: false,
        detached: true,
        stdin: 'ignore',
        stripFinalNewline: false,
        encoding: 'utf8',
      });
      let timedOut = false;
      let aborted = false;
      const killGroup = () => {
        try {
          if (sub.pid) process.kill(-sub.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      const onAbort = () => {
        aborted = true;
        killGroup();
      };
      ro.signal?.addEventListener('abort', onAbort, { once: true });
      if (ro.signal?.aborted) onAbort();
      const r = await sub;
      clearTimeout(timer);
      ro.signal?.removeEventListener('abort', onAbort);
      if (timedOut) throw new NodeExecTimeout(command, node, description, timeoutMs, { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') });
      if (aborted) throw new NodeExecError(`nodeExec aborted: ${shortCommand(command)} on ${node} (${description})`, node, description, command);
      const durationMs = Date.now() - started;
      if (r.failed && r.exitCode === undefined && r.signal === undefined) {
        // spawn failure (ENOENT...), not a non-zero exit
        throw new NodeExecError(`nodeExec could not start ${file} on ${node} (${description}): ${r.shortMessage ?? r.message}`, node, description, command, {
          cause: r.cause,
        });
      }
      return {
        command,
        node,
        transport: 'local',
        code: r.exitCode ?? null,
        stdout: String(r.stdout ?? ''),
        stderr: String(r.stderr ?? '') + (r.signal ? `[killed by ${r.signal}]\n` : ''),
        durationMs,
      };
    },
    async close() {
      closed = true;
    },
  };
}
