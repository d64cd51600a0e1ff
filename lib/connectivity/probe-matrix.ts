// Runs one probe per cell of a truth table, concurrently with a bound, then retries only the cells
// whose observation differs from the expectation (policy programming lags; a transient exec error
// recovers), until the retries or the retry deadline run out.
//
// Cost: with concurrency >= cells, the first pass takes about one probe's duration; a deny matrix
// that is right the first time (every probe times out, as expected) therefore costs about one
// probe timeout, not cells × timeout as upstream's 3 workers do. Retried cells wait
// retryIntervalMs and queue behind first-pass probes, so retries never starve the first pass.
//
// Evidence rule: a cell is blocked only when its probe returned state 'blocked' with a blockedBy of
// timeout, refused or prohibited (see classifyConnect). A probe that throws, hangs past timeoutMs,
// or reports blocked without that classification is an error, never blocked.
import { formatDuration } from '../framework/timeouts.ts';
import { type BlockedBy, type Cell, type CellObservation, Observed, type Reachability, type Verdict } from './truth-table.ts';

export type ProbeResult =
  | { state: 'allowed' | 'error'; detail: string; command: string }
  | { state: 'blocked'; blockedBy: BlockedBy; detail: string; command: string };

export interface ProbeMatrixOptions {
  cells: readonly Cell[];
  /** Measures one cell; must honour the signal (aborted at timeoutMs or when the matrix is aborted). */
  probe: (cell: Cell, signal: AbortSignal) => Promise<ProbeResult>;
  expected: Reachability | ((cell: Cell) => Verdict);
  /** Probes in flight at most (default 96: a 9×9 matrix's 72 cells in one wave). */
  concurrency?: number;
  /** Per probe call; past it the call is aborted and the attempt is an error. Set it above the connect timeout. */
  timeoutMs: number;
  /** Extra attempts per differing cell (default 3). */
  retries?: number;
  /** No retry starts later than this after the matrix started (default 10s, upstream's poll). */
  retryDeadlineMs?: number;
  /** Pause before a cell is re-probed (default 1s). */
  retryIntervalMs?: number;
  /** Stops the matrix: in-flight probes are aborted, unfinished cells stay as last observed (or not-probed). */
  signal?: AbortSignal;
  /** Progress hook, e.g. for a log line per attempt. */
  onAttempt?: (cell: Cell, attempt: number, result: CellObservation) => void;
}

export interface ProbeMatrixResult {
  observed: Observed;
  /** Probe calls made (first pass + retries). */
  probes: number;
  elapsedMs: number;
  aborted: boolean;
}

const BLOCKED_BY = new Set<string>(['timeout', 'refused', 'prohibited']);

/** A FIFO counting semaphore. */
class Bound {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Validates what a probe returned; anything that is not clear evidence becomes an error. */
export function checkProbeResult(r: unknown): ProbeResult {
  const x = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
  const detail = typeof x.detail === 'string' ? x.detail : '';
  const command = typeof x.command === 'string' ? x.command : '';
  if (x.state === 'allowed' || x.state === 'error') return { state: x.state, detail, command };
  if (x.state === 'blocked') {
    if (typeof x.blockedBy === 'string' && BLOCKED_BY.has(x.blockedBy)) return { state: 'blocked', blockedBy: x.blockedBy as BlockedBy, detail, command };
    return { state: 'error', detail: `probe said blocked without a timeout/refused/prohibited classification (blockedBy ${JSON.stringify(x.blockedBy)}): ${detail}`, command };
  }
  return { state: 'error', detail: `probe returned no valid state (${JSON.stringify(x.state)})${detail ? `: ${detail}` : ''}`, command };
}

async function attempt(o: ProbeMatrixOptions, cell: Cell, outer: AbortSignal | undefined): Promise<ProbeResult> {
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      ac.abort(new Error(`probe timed out after ${formatDuration(o.timeoutMs)}`));
      resolve({ state: 'error', detail: `the probe returned nothing within ${formatDuration(o.timeoutMs)} (a hung probe is not a verdict)`, command: '' });
    }, o.timeoutMs);
  });
  try {
    const run = Promise.resolve()
      .then(() => o.probe(cell, ac.signal))
      .then(checkProbeResult, (e: unknown): ProbeResult => ({ state: 'error', detail: `probe failed: ${(e as Error)?.message ?? String(e)}`, command: '' }));
    return await Promise.race([run, timedOut]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

export async function probeMatrix(o: ProbeMatrixOptions): Promise<ProbeMatrixResult> {
  const concurrency = o.concurrency ?? 96;
  const retries = o.retries ?? 3;
  const retryDeadlineMs = o.retryDeadlineMs ?? 10_000;
  const retryIntervalMs = o.retryIntervalMs ?? 1_000;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`probeMatrix: concurrency must be a positive integer, got ${concurrency}`);
  if (!(o.timeoutMs > 0)) throw new Error(`probeMatrix: timeoutMs must be positive, got ${o.timeoutMs}`);
  if (!(Number.isInteger(retries) && retries >= 0)) throw new Error(`probeMatrix: retries must be a non-negative integer, got ${retries}`);
  const expectOf = typeof o.expected === 'function' ? o.expected : (c: Cell) => (o.expected as Reachability).get(c.from, c.to);

  const observed = new Observed();
  const bound = new Bound(concurrency);
  const started = Date.now();
  let probes = 0;
  const aborted = () => o.signal?.aborted === true;

  const runCell = async (cell: Cell) => {
    const want = expectOf(cell);
    let attempts = 0;
    let first = 0;
    for (;;) {
      await bound.acquire();
      let r: ProbeResult;
      try {
        if (aborted()) return;
        if (attempts === 0) first = Date.now();
        probes++;
        r = await attempt(o, cell, o.signal);
      } finally {
        bound.release();
      }
      if (aborted()) return; // an attempt cut short by the abort is not an observation
      attempts++;
      const obs: CellObservation = {
        state: r.state,
        attempts,
        elapsedMs: Date.now() - first,
        detail: r.detail,
        command: r.command,
        ...(r.state === 'blocked' ? { blockedBy: r.blockedBy } : {}),
      };
      observed.set(cell.from, cell.to, obs);
      o.onAttempt?.(cell, attempts, obs);
      if (r.state === want) return;
      if (attempts > retries) return;
      if (Date.now() - started + retryIntervalMs > retryDeadlineMs) return;
      await sleep(retryIntervalMs, o.signal);
      if (aborted()) return;
    }
  };

  await Promise.all(o.cells.map(runCell));
  return { observed, probes, elapsedMs: Date.now() - started, aborted: aborted() };
}
