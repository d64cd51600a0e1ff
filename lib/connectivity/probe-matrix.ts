// Runs one probe per cell of a truth table, concurrently with a bound, then re-probes the cells whose
// observation is not yet the expected one (policy programming lags; a transient exec error recovers),
// until the retries or the retry deadline run out.
//
// Verdicts you can trust (STYLE.md "Verdicts both ways"):
// - A cell's observation is accepted only when two consecutive observations agree: "blocked" from one
//   sample would pass a UDP leak with one lost datagram, "allowed" from one sample would pass a cell that
//   the policy blocks a moment later. An unaccepted cell is wrong (compare()).
// - "allowed" only once the change under test is proven in force: a matrix that expects some cell
//   blocked holds its expected-allowed cells back (they are not probed at all) until one expected-blocked
//   cell is accepted as blocked. Without that, the first probe after a policy is created (taken before the
//   plugin programmed anything) passes every allowed cell: an egress rule whose SCTP port the plugin
//   ignores would pass. A matrix that expects no blocked cell cannot prove it and must say how it is
//   proven instead (inForce: "no policy is applied", "proven by the TCP matrix: ..."). If no blocked cell
//   is ever accepted, the allowed cells stay held back, not probed, and the result says so.
//
// Cost: with concurrency >= cells, a deny matrix that is right the first time costs about two probe
// timeouts (two observations per cell), and a mixed matrix two more fast probes for the allowed cells.
// Re-probes wait retryIntervalMs and queue behind first probes, so retries never starve anything.
//
// Evidence rule: a cell is blocked only when its probe returned state 'blocked' with a blockedBy of
// timeout, refused or prohibited (see classifyConnect). A probe that throws, hangs past timeoutMs,
// or reports blocked without that classification is an error, never blocked.
import { formatDuration } from '../framework/duration.ts';
import { timeouts } from '../framework/timeouts.ts';
import type { ProbeResult } from './probe.ts';
import {
  type BlockedBy,
  type Cell,
  type CellObservation,
  cellKey,
  type InForce,
  Observed,
  type ProbeState,
  type Reachability,
  renderSequence,
  type Verdict,
} from './truth-table.ts';

export type { ProbeResult };

export interface ProbeMatrixOptions {
  cells: readonly Cell[];
  /** Measures one cell; must honour the signal (aborted at timeoutMs or when the matrix is aborted). */
  probe: (cell: Cell, signal: AbortSignal) => Promise<ProbeResult>;
  expected: Reachability | ((cell: Cell) => Verdict);
  /** Probes in flight at most (default 96: a 9×9 matrix's 72 cells in one wave). */
  concurrency?: number;
  /** Per probe call; past it the call is aborted and the attempt is an error. Set it above the connect timeout. */
  timeoutMs: number;
  /**
   * Attempts per cell beyond the two an acceptance needs (default 3): a cell not yet accepted as its
   * expected state is re-probed until these run out or the retry deadline passes.
   */
  retries?: number;
  /**
   * No attempt after a cell's second starts later than this (default 10s, upstream's poll), counted from
   * the start of the matrix, or for held-back cells from the moment the policy was proven in force.
   * A cell's first two attempts always run.
   */
  retryDeadlineMs?: number;
  /** Pause between two attempts on a cell (default 1s): consecutive observations are taken apart. */
  retryIntervalMs?: number;
  /**
   * Only for a matrix that expects no blocked cell (and then required): how the change under test is
   * proven in force, for the failure message — e.g. "no policy is applied" or "proven by the TCP matrix of
   * the same policy: x/b -> x/a observed X X". A matrix that expects a blocked cell proves it itself.
   */
  inForce?: string;
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
  /** Whether, and by which cell, the change under test was proven in force before any "allowed" was accepted. */
  inForce: InForce;
}

/**
 * The retry settings every matrix of the suite uses: a cell is re-probed every poll interval for up to one
 * sync period, each attempt bounded by its connect timeout plus one exec. Worst case: timeouts.cellsSettle
 * with the connect timeout timeouts.probe; half of timeouts.matrix with timeouts.matrixProbe.
 */
export function settleOptions(connectTimeoutMs: number): Pick<ProbeMatrixOptions, 'timeoutMs' | 'retries' | 'retryIntervalMs' | 'retryDeadlineMs'> {
  return {
    timeoutMs: connectTimeoutMs + timeouts.nodeExec,
    retries: Math.ceil(timeouts.proxySync / timeouts.poll),
    retryIntervalMs: timeouts.poll,
    retryDeadlineMs: timeouts.proxySync,
  };
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
    return {
      state: 'error',
      detail: `probe said blocked without a timeout/refused/prohibited classification (blockedBy ${JSON.stringify(x.blockedBy)}): ${detail}`,
      command,
    };
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

/** The state two consecutive observations agree on, if the last two do. */
export function acceptedState(seq: readonly ProbeState[]): ProbeState | undefined {
  const n = seq.length;
  return n >= 2 && seq[n - 1] === seq[n - 2] ? seq[n - 1] : undefined;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export async function probeMatrix(o: ProbeMatrixOptions): Promise<ProbeMatrixResult> {
  const concurrency = o.concurrency ?? 96;
  const retries = o.retries ?? 3;
  const retryDeadlineMs = o.retryDeadlineMs ?? 10_000;
  const retryIntervalMs = o.retryIntervalMs ?? 1_000;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`probeMatrix: concurrency must be a positive integer, got ${concurrency}`);
  if (!(o.timeoutMs > 0)) throw new Error(`probeMatrix: timeoutMs must be positive, got ${o.timeoutMs}`);
  if (!(Number.isInteger(retries) && retries >= 0)) throw new Error(`probeMatrix: retries must be a non-negative integer, got ${retries}`);
  const expectOf = typeof o.expected === 'function' ? o.expected : (c: Cell) => (o.expected as Reachability).get(c.from, c.to);
  const want = new Map(o.cells.map((c) => [cellKey(c.from, c.to), expectOf(c)]));
  const gates = o.cells.filter((c) => want.get(cellKey(c.from, c.to)) === 'blocked');
  const heldCells = o.cells.length - gates.length;
  if (gates.length && o.inForce !== undefined) {
    throw new Error(
      `probeMatrix: inForce is only for a matrix that expects no blocked cell; this one expects ${plural(gates.length, 'blocked cell')} and proves the policy in force itself`,
    );
  }
  if (!gates.length && heldCells && !o.inForce) {
    throw new Error(
      'probeMatrix: the expectation has no blocked cell, so this matrix cannot prove the policy in force itself: pass inForce saying how it is proven (e.g. "no policy is applied", "proven by the TCP matrix of the same policy: ...")',
    );
  }

  const observed = new Observed();
  const bound = new Bound(concurrency);
  const started = Date.now();
  let probes = 0;
  const aborted = () => o.signal?.aborted === true;

  // The gate: open once an expected-blocked cell is accepted as blocked (or at once, with a given proof);
  // closed for good when every expected-blocked cell finished without that, or on abort.
  let inForce: InForce | undefined = gates.length
    ? undefined
    : { proven: true, how: 'given', heldBack: 0, text: `not provable by this matrix (it expects no blocked cell): ${o.inForce}` };
  let settleGate!: (open: boolean) => void;
  const gate = new Promise<boolean>((resolve) => (settleGate = resolve));
  if (!gates.length) settleGate(true);
  let gatesLeft = gates.length;
  const onAbort = () => settleGate(false);
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const runCell = async (cell: Cell) => {
    const expected = want.get(cellKey(cell.from, cell.to))!;
    let from = started;
    if (expected === 'allowed') {
      const open = await gate;
      if (aborted()) return;
      if (!open) {
        observed.set(cell.from, cell.to, {
          state: 'not-probed',
          attempts: 0,
          elapsedMs: 0,
          command: '',
          detail:
            'held back: the policy was never proven in force (no expected-blocked cell was observed blocked twice in a row), so no "allowed" here could mean anything',
        });
        return;
      }
      if (inForce?.how === 'observed') from = started + inForce.atMs!;
    }
    const seq: ProbeState[] = [];
    let lastError: CellObservation['lastError'];
    let first = 0;
    for (;;) {
      await bound.acquire();
      let r: ProbeResult;
      try {
        if (aborted()) return;
        if (seq.length === 0) first = Date.now();
        probes++;
        r = await attempt(o, cell, o.signal);
      } finally {
        bound.release();
      }
      if (aborted()) return; // an attempt cut short by the abort is not an observation
      seq.push(r.state);
      if (r.state === 'error') lastError = { attempt: seq.length, detail: r.detail, command: r.command };
      const accepted = acceptedState(seq);
      const obs: CellObservation = {
        state: r.state,
        attempts: seq.length,
        elapsedMs: Date.now() - first,
        detail: r.detail,
        command: r.command,
        ...(r.state === 'blocked' ? { blockedBy: r.blockedBy } : {}),
        sequence: [...seq],
        accepted: accepted !== undefined,
        ...(lastError ? { lastError } : {}),
      };
      observed.set(cell.from, cell.to, obs);
      o.onAttempt?.(cell, seq.length, obs);
      if (accepted === expected) {
        if (expected === 'blocked' && !inForce) {
          const atMs = Date.now() - started;
          inForce = {
            proven: true,
            how: 'observed',
            cell,
            atMs,
            heldBack: 0,
            text: `proven in force by ${cellKey(cell.from, cell.to)}: observed ${renderSequence(seq)} (accepted blocked after ${formatDuration(atMs)}); the expected-allowed cells were probed only after that`,
          };
          settleGate(true);
        }
        return;
      }
      if (seq.length >= 2 + retries) return;
      if (seq.length >= 2 && Date.now() - from + retryIntervalMs > retryDeadlineMs) return;
      await sleep(retryIntervalMs, o.signal);
      if (aborted()) return;
    }
  };

  const runGated = async (cell: Cell) => {
    try {
      await runCell(cell);
    } finally {
      if (want.get(cellKey(cell.from, cell.to)) === 'blocked' && --gatesLeft === 0) settleGate(false);
    }
  };

  try {
    await Promise.all(o.cells.map(runGated));
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (!inForce) {
    const seen = gates.map((c) => `${cellKey(c.from, c.to)}: ${renderSequence(observed.get(c.from, c.to).sequence ?? []) || 'not probed'}`);
    const shown = seen.slice(0, 4).join(', ') + (seen.length > 4 ? `, and ${seen.length - 4} more` : '');
    inForce = {
      proven: false,
      how: 'not-proven',
      heldBack: heldCells,
      text: `NOT proven — no expected-blocked cell was observed blocked twice in a row (${shown}); ${plural(heldCells, 'expected-allowed cell')} held back, not probed`,
    };
  }
  return { observed, probes, elapsedMs: Date.now() - started, aborted: aborted(), inForce };
}
