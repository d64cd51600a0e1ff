// The one wait primitive: poll a probe until a condition holds or a deadline passes.
// A probe error is retried; StopTrying is not. On timeout the error says what was awaited, for how
// long, how many attempts, the last observation and the last error.

import { formatDuration } from './duration.ts';
import { errorMessage, StopTrying } from './errors.ts';
import { timeouts } from './timeouts.ts';

export interface EventuallyOptions<T> {
  probe: (signal: AbortSignal) => Promise<T>;
  until: (value: T) => boolean;
  timeout: number;
  interval?: number;
  /** Render an observation for the error message (default: JSON, truncated). */
  describe?: (value: T) => string;
  signal?: AbortSignal;
  /** Called with a progress line at most every progressEvery ms (default 15 s). */
  onProgress?: (line: string) => void;
  progressEvery?: number;
}

export class EventuallyTimeout<T = unknown> extends Error {
  override name = 'EventuallyTimeout';
  constructor(
    message: string,
    readonly attempts: number,
    readonly last: T | undefined,
    readonly lastError: unknown,
  ) {
    super(message);
  }
}

export function defaultDescribe(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? v : JSON.stringify(v, null, 1);
  } catch {
    s = String(v);
  }
  return s.length > 4000 ? `${s.slice(0, 4000)}… (${s.length} chars)` : s;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export async function eventually<T>(what: string, o: EventuallyOptions<T>): Promise<T> {
  const start = Date.now();
  const deadline = start + o.timeout;
  const interval = o.interval ?? timeouts.poll;
  const describe = o.describe ?? defaultDescribe;
  const progressEvery = o.progressEvery ?? 15_000;
  let lastProgress = start;
  let attempts = 0;
  let last: T | undefined;
  let haveLast = false;
  let lastError: unknown;
  for (;;) {
    if (o.signal?.aborted) throw new Error(`waiting for ${what} was aborted after ${formatDuration(Date.now() - start)}`);
    attempts++;
    const ac = new AbortController();
    const remaining = Math.max(1, deadline - Date.now());
    const timer = setTimeout(() => ac.abort(), remaining);
    const onAbort = () => ac.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const v = await o.probe(ac.signal);
      last = v;
      haveLast = true;
      lastError = undefined;
      if (o.until(v)) return v;
    } catch (e) {
      if (e instanceof StopTrying) {
        throw new Error(`gave up waiting for ${what} after ${attempts} attempt(s): ${e.message}`, { cause: e });
      }
      lastError = e;
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
    const now = Date.now();
    if (now >= deadline) break;
    if (o.onProgress && now - lastProgress >= progressEvery) {
      lastProgress = now;
      o.onProgress(`still waiting for ${what} (${formatDuration(now - start)} of ${formatDuration(o.timeout)}, ${attempts} attempts)`);
    }
    await sleep(Math.min(interval, deadline - now), o.signal);
  }
  const parts = [`timed out after ${formatDuration(Date.now() - start)} waiting for ${what} (${attempts} attempts)`];
  if (haveLast) parts.push(`last observation:\n${indent(describe(last as T))}`);
  if (lastError !== undefined) parts.push(`last error: ${errorMessage(lastError)}`);
  throw new EventuallyTimeout(parts.join('\n'), attempts, last, lastError);
}

export function indent(s: string, by = '  '): string {
  return s
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}
