// Errors a user can act on: one sentence, a distinct exit code, no stack dump.

import { formatDuration } from './duration.ts';

export const ExitCode = {
  ok: 0,
  testsFailed: 1,
  usage: 2,
  kubeconfig: 3,
  unreachable: 4,
  forbidden: 5,
  nodeAccess: 6,
  prerequisite: 7,
  /** No test ran, or every selected test skipped: nothing was verified, so the run is not green. */
  nothingVerified: 8,
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
    [ExitCode.interrupted]: 'interrupted',
  };
  return meanings[code] ?? 'internal error';
}

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Thrown by a probe to make eventually() stop at once (the condition can never become true). */
export class StopTrying extends Error {
  constructor(message: string, override readonly cause?: unknown) {
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
