// One LIFO cleanup stack per test (and one per run). Each entry has its own timeout and a fresh abort
// signal; errors are collected and never replace the test's own error. SIGINT/SIGTERM run every
// live stack before the process exits.

import { formatDuration } from './duration.ts';
import { errorMessage } from './errors.ts';
import { timeouts } from './timeouts.ts';

interface Entry {
  what: string;
  fn: (signal: AbortSignal) => Promise<unknown> | unknown;
  timeout: number;
}

export interface CleanupFailure {
  what: string;
  error: string;
}

const live = new Set<CleanupStack>();

export class CleanupStack {
  private entries: Entry[] = [];
  constructor(readonly name: string) {
    live.add(this);
  }

  defer(what: string, fn: (signal: AbortSignal) => Promise<unknown> | unknown, timeout: number = timeouts.cleanup): void {
    this.entries.push({ what, fn, timeout });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Run all entries, newest first. Returns the failures (never throws). */
  async run(log: (line: string) => void = () => {}): Promise<CleanupFailure[]> {
    const failures: CleanupFailure[] = [];
    while (this.entries.length) {
      const e = this.entries.pop()!;
      const ac = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const started = Date.now();
      try {
        await Promise.race([
          Promise.resolve().then(() => e.fn(ac.signal)),
          new Promise((_, reject) => {
            timer = setTimeout(() => {
              ac.abort();
              reject(new Error(`timed out after ${formatDuration(e.timeout)}`));
            }, e.timeout);
          }),
        ]);
      } catch (err) {
        failures.push({ what: e.what, error: errorMessage(err) });
        log(`cleanup failed: ${e.what}: ${errorMessage(err)} (${formatDuration(Date.now() - started)})`);
      } finally {
        clearTimeout(timer);
      }
    }
    return failures;
  }

  dispose(): void {
    live.delete(this);
  }
}

let installed = false;
let interrupted = false;

/** Run every live stack on SIGINT/SIGTERM (once), then exit 130/143. A second signal exits at once. */
export function installSignalCleanup(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): void {
  if (installed) return;
  installed = true;
  const handler = (sig: NodeJS.Signals) => {
    const code = sig === 'SIGINT' ? 130 : 143;
    if (interrupted) {
      log(`${sig} again: exiting without finishing cleanup; run \`npm run e2e:sweep\` to remove leftovers`);
      process.exit(code);
    }
    interrupted = true;
    log(`${sig}: cleaning up ${[...live].reduce((n, s) => n + s.size, 0)} resource(s) before exit (press Ctrl-C again to skip)`);
    const stacks = [...live].reverse();
    void (async () => {
      for (const s of stacks) await s.run(log);
      process.exit(code);
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export function wasInterrupted(): boolean {
  return interrupted;
}
