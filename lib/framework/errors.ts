// Errors a user can act on: one sentence, a distinct exit code, no stack dump. The one table of exit codes of
// every program (npm run e2e and the others); runMain (main.ts) maps an error to its code.

import { formatDuration } from './duration.ts';

export const ExitCode = {
  ok: 0,
  testsFailed: 1,
  /** The other programs (cluster:*, vm:*, lab:*, …): the command did not do what it was asked (one sentence why). */
  failed: 1,
  usage: 2,
  kubeconfig: 3,
  unreachable: 4,
  forbidden: 5,
  nodeAccess: 6,
  prerequisite: 7,
  /** No test ran, or every selected test skipped: nothing was verified, so the run is not green. */
  nothingVerified: 8,
  /** A bug: an error nobody expected; the stack is printed. */
  internal: 70,
  interrupted: 130,
} as const;

/** What an exit code of `npm run e2e` means, in the words of its usage text. */
export function exitCodeMeaning(code: number): string {
  const meanings: Record<number, string> = {
    [ExitCode.ok]: 'every selected test passed or skipped, at least one passed',
    [ExitCode.testsFailed]: 'tests failed',
    [ExitCode.usage]: 'usage error',
    [ExitCode.kubeconfig]: 'kubeconfig missing or invalid',
    [ExitCode.unreachable]: 'API server unreachable',
    [ExitCode.forbidden]: 'forbidden (RBAC or credentials)',
    [ExitCode.nodeAccess]: 'node access failed',
    [ExitCode.prerequisite]: 'missing prerequisite',
    [ExitCode.nothingVerified]: 'nothing verified (no test ran, or every selected test skipped)',
    [ExitCode.internal]: 'internal error',
    [ExitCode.interrupted]: 'interrupted',
  };
  return meanings[code] ?? 'internal error';
}

/** An expected failure: runMain prints `name: message` (no stack) and exits with exitCode. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A wrong command line (exit 2): runMain prints the message and, when it has one, the program's usage. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/** The exit code for an error: its own when it is expected (UserError and subclasses), else internal (70). */
export function exitCodeOf(e: unknown): number {
  return e instanceof UserError ? e.exitCode : ExitCode.internal;
}

/** Thrown by a probe to make eventually() stop at once (the condition can never become true). */
export class StopTrying extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'StopTrying';
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Run fn with a deadline; the error names what timed out. */
export async function withDeadline<T>(what: string, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new DeadlineExceeded(`${what} timed out after ${formatDuration(ms)}`));
    }, ms);
  });
  try {
    return await Promise.race([fn(ac.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}
