// Truth tables for connectivity, after upstream's netpol Reachability/TruthTable
// (test/e2e/network/netpol/reachability.go, truthtable.go) and cyclonus' four probe states:
// the expectation is allowed/blocked per (from, to) cell; an observation is allowed, blocked,
// error (the probe could not tell: exec failed, DNS, image missing...) or not-probed. An error is
// never counted as blocked. Self-pairs are left out of the count when they were not probed
// (CNIs disagree about hairpin to oneself, kubernetes#95879).
import { formatDuration } from '../framework/duration.ts';
import { parsePodKey } from './model.ts';

export type Verdict = 'allowed' | 'blocked';
export type ProbeState = Verdict | 'error' | 'not-probed';
/** Why a probe said blocked: the only three ways a probe may conclude "blocked". */
export type BlockedBy = 'timeout' | 'refused' | 'prohibited';

export const SYMBOL: Record<ProbeState, string> = { allowed: '.', blocked: 'X', error: '!', 'not-probed': '?' };
export const LEGEND = 'legend  . allowed  X blocked  ! probe error  ? not probed';

/** A pod pair; pods are model keys "x/a". */
export interface Cell {
  from: string;
  to: string;
}

export const cellKey = (from: string, to: string) => `${from} -> ${to}`;

/** Matches pods like upstream's Peer: an unset field matches anything. */
export interface Peer {
  namespace?: string;
  pod?: string;
}

function peerMatches(p: Peer, key: string): boolean {
  const { namespace, pod } = parsePodKey(key);
  return (p.namespace === undefined || p.namespace === namespace) && (p.pod === undefined || p.pod === pod);
}

/** The expectation: allowed or blocked for every ordered pair of pods. */
export class Reachability {
  readonly pods: readonly string[];
  private readonly cells = new Map<string, Verdict>();

  constructor(pods: readonly string[], defaultAllowed = true) {
    if (new Set(pods).size !== pods.length) throw new Error(`duplicate pods in ${pods.join(' ')}`);
    for (const p of pods) parsePodKey(p);
    this.pods = [...pods];
    for (const f of pods) for (const t of pods) this.cells.set(cellKey(f, t), defaultAllowed ? 'allowed' : 'blocked');
  }

  private check(pod: string) {
    if (!this.pods.includes(pod)) throw new Error(`pod ${pod} is not in this table (${this.pods.join(' ')})`);
  }

  get(from: string, to: string): Verdict {
    this.check(from);
    this.check(to);
    return this.cells.get(cellKey(from, to))!;
  }

  expect(from: string, to: string, allowed: boolean): this {
    this.check(from);
    this.check(to);
    this.cells.set(cellKey(from, to), allowed ? 'allowed' : 'blocked');
    return this;
  }

  /** Every pair whose source matches `from` and destination matches `to`. */
  expectPeer(from: Peer, to: Peer, allowed: boolean): this {
    for (const f of this.pods) if (peerMatches(from, f)) for (const t of this.pods) if (peerMatches(to, t)) this.expect(f, t, allowed);
    return this;
  }

  /** Everything into `to` (the pod selected by an ingress policy). */
  expectAllIngress(to: string, allowed: boolean): this {
    for (const f of this.pods) this.expect(f, to, allowed);
    return this;
  }

  /** Everything out of `from` (the pod selected by an egress policy). */
  expectAllEgress(from: string, allowed: boolean): this {
    for (const t of this.pods) this.expect(from, t, allowed);
    return this;
  }

  /** Every ordered pair, row by row; self-pairs only when asked for. */
  allCells(o: { includeSelf?: boolean } = {}): Cell[] {
    const out: Cell[] = [];
    for (const from of this.pods) for (const to of this.pods) if (o.includeSelf || from !== to) out.push({ from, to });
    return out;
  }
}

/** What the probes saw for one cell (the last attempt's state, with the attempt count). */
export interface CellObservation {
  state: ProbeState;
  /** Probes run for this cell (0 when not probed). */
  attempts: number;
  /** From the start of the first attempt to the end of the last. */
  elapsedMs: number;
  /** The last attempt's evidence, e.g. "TIMEOUT: no SCTP association with 10.96.44.3:80 within 1000ms". */
  detail: string;
  /** The last attempt's command, runnable by hand. */
  command: string;
  blockedBy?: BlockedBy;
  /** Every observation in order (probeMatrix sets it; hand-built observations may leave it out). */
  sequence?: ProbeState[];
  /**
   * false when the state is not a verdict: the last two observations differ (or there was only one).
   * Unset means accepted (a hand-built observation). compare() counts an unaccepted cell as wrong.
   */
  accepted?: boolean;
  /** The most recent probe error of the cell, when one happened before the last attempt too. */
  lastError?: { attempt: number; detail: string; command: string };
}

/** ". . X ." for a sequence of observations. */
export function renderSequence(seq: readonly ProbeState[]): string {
  return seq.map((s) => SYMBOL[s]).join(' ');
}

/**
 * How a matrix proved that the change under test (a policy, its removal) was in force before it
 * accepted any "allowed": by an expected-blocked cell of the same matrix accepted as blocked
 * ('observed'), by a proof the caller stated for a matrix that expects no blocked cell ('given'),
 * or not at all ('not-proven': the expected-allowed cells were held back and never probed).
 */
export interface InForce {
  proven: boolean;
  how: 'observed' | 'given' | 'not-proven';
  /** The cell that proved it ('observed'). */
  cell?: Cell;
  /** When it was proven, from the start of the matrix ('observed'). */
  atMs?: number;
  /** Expected-allowed cells never probed because it was not proven. */
  heldBack: number;
  /** One line for the failure message, e.g. "proven in force by x/b -> x/a: observed . X X (accepted blocked after 2.1s)". */
  text: string;
}

export const NOT_PROBED: CellObservation = Object.freeze({ state: 'not-probed', attempts: 0, elapsedMs: 0, detail: '', command: '' });

/** Observations per cell; a cell never set is not-probed. */
export class Observed {
  private readonly cells = new Map<string, CellObservation>();
  set(from: string, to: string, o: CellObservation): this {
    this.cells.set(cellKey(from, to), o);
    return this;
  }
  get(from: string, to: string): CellObservation {
    return this.cells.get(cellKey(from, to)) ?? NOT_PROBED;
  }
  get size(): number {
    return this.cells.size;
  }
}

export interface WrongCell extends Cell {
  expected: Verdict;
  observed: CellObservation;
}

export interface Comparison {
  /** Cells whose observation is not the expectation (errors and unprobed non-self cells included). */
  wrong: WrongCell[];
  /** Cells counted: all pairs minus the self-pairs that were not probed. */
  total: number;
  selfNotProbed: number;
}

/**
 * Wrong cells, row by row: observed state differs from the expectation, or it is not accepted (the last two
 * observations differ). A self-pair that was not probed is not counted; one that was, is.
 */
export function compare(expected: Reachability, observed: Observed): Comparison {
  const wrong: WrongCell[] = [];
  let total = 0;
  let selfNotProbed = 0;
  for (const { from, to } of expected.allCells({ includeSelf: true })) {
    const o = observed.get(from, to);
    if (from === to && o.state === 'not-probed') {
      selfNotProbed++;
      continue;
    }
    total++;
    const e = expected.get(from, to);
    if (o.state !== e || o.accepted === false) wrong.push({ from, to, expected: e, observed: o });
  }
  return { wrong, total, selfNotProbed };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function centre(s: string, width: number): string {
  const left = Math.floor((width - s.length) / 2);
  return ' '.repeat(left) + s + ' '.repeat(width - s.length - left);
}

/** One table as lines of equal width: a header of column names, then one row per source pod. */
function table(pods: readonly string[], cell: (from: string, to: string) => string): string[] {
  const w = Math.max(...pods.map((p) => p.length));
  const lines = [' '.repeat(w) + '  ' + pods.map((p) => centre(p, w)).join(' ')];
  for (const from of pods) lines.push(from.padEnd(w) + '  ' + pods.map((to) => centre(cell(from, to), w)).join(' '));
  return lines;
}

export interface RenderOptions {
  /** What was probed, e.g. "SCTP to :5060 via Service IP". */
  title: string;
  expected: Reachability;
  observed: Observed;
  /** The command that reproduces a wrong cell; defaults to the cell's last probe command. */
  reproduce?: (cell: WrongCell) => string | undefined;
  /** Whether, and by which cell, the change under test was proven in force (probeMatrix's result). */
  inForce?: InForce;
}

/**
 * One cell's observations, standing alone:
 *   x/a -> y/a expected X observed . (4 observations in 10s: . . X .)
 *   x/a -> y/a expected X observed X (3 observations in 6s: . X . X — not accepted: the last two observations differ)
 * then its detail, the last probe error when an earlier attempt had one, and the reproduce command.
 */
export function renderCell(what: string, expected: Verdict, ob: CellObservation, reproduce: string | undefined = ob.command): string[] {
  let timing = ' (not probed)';
  if (ob.attempts) {
    const seq = ob.sequence?.length ? `: ${renderSequence(ob.sequence)}` : '';
    const unaccepted =
      ob.accepted === false
        ? ob.attempts === 1
          ? ' — not accepted: one observation is not a verdict'
          : ' — not accepted: the last two observations differ'
        : '';
    timing = ` (${plural(ob.attempts, ob.sequence ? 'observation' : 'attempt')} in ${formatDuration(ob.elapsedMs)}${seq}${unaccepted})`;
  }
  const lines = [`${what} expected ${SYMBOL[expected]} observed ${SYMBOL[ob.state]}${timing}`];
  if (ob.detail) lines.push(`  detail: ${ob.detail}`);
  if (ob.lastError && ob.lastError.attempt !== ob.attempts) {
    lines.push(
      `  probe error at observation ${ob.lastError.attempt}: ${ob.lastError.detail}${ob.lastError.command && ob.lastError.command !== reproduce ? ` (${ob.lastError.command})` : ''}`,
    );
  }
  if (reproduce) lines.push(`  reproduce: ${reproduce}`);
  return lines;
}

/**
 * The failure message of a connectivity check (STYLE.md):
 *   <title> — N wrong of M (K self-pairs not probed)
 *   legend  . allowed  X blocked  ! probe error  ? not probed
 *   expected / observed / comparison tables side by side
 *   in force: proven in force by x/b -> x/a: observed . X X (accepted blocked after 2.1s)
 *   wrong: x/a -> y/a expected X observed . (3 observations in 10s: . X .)
 *     reproduce: <command>
 */
export function render(o: RenderOptions): string {
  const { wrong, total, selfNotProbed } = compare(o.expected, o.observed);
  const pods = o.expected.pods;
  const wrongKeys = new Set(wrong.map((c) => cellKey(c.from, c.to)));
  const exp = table(pods, (f, t) => SYMBOL[o.expected.get(f, t)]);
  const obs = table(pods, (f, t) => SYMBOL[o.observed.get(f, t).state]);
  const cmp = table(pods, (f, t) => (wrongKeys.has(cellKey(f, t)) ? 'X' : o.observed.get(f, t).state === 'not-probed' ? '?' : '.'));
  const gap = '    ';
  const width = Math.max(exp[0]!.length, 'comparison'.length);
  const side = (a: string, b: string, c: string) => (a.padEnd(width) + gap + b.padEnd(width) + gap + c).trimEnd();

  const lines = [
    `${o.title} — ${wrong.length} wrong of ${total}${selfNotProbed ? ` (${plural(selfNotProbed, 'self-pair')} not probed)` : ''}`,
    LEGEND,
    side('expected', 'observed', 'comparison'),
    ...exp.map((line, i) => side(line, obs[i]!, cmp[i]!)),
  ];
  if (o.inForce) lines.push(`in force: ${o.inForce.text}`);
  for (const c of wrong) lines.push(...renderCell(`wrong: ${c.from} -> ${c.to}`, c.expected, c.observed, o.reproduce ? o.reproduce(c) : c.observed.command));
  return lines.join('\n');
}

export interface ListOptions {
  /** What was probed, e.g. "TCP and UDP client -> server 10.244.0.9:5060 with allow-only-sctp". */
  title: string;
  /** Cells that are not a pod × pod table (e.g. one client, one server, one cell per protocol). */
  cells: readonly Cell[];
  expected: (cell: Cell) => Verdict;
  observed: Observed;
  inForce?: InForce;
}

/** The wrong cells of a list, as compare() counts them (a cell never probed is wrong). */
export function compareList(o: Omit<ListOptions, 'title'>): WrongCell[] {
  return o.cells
    .map((c) => ({ ...c, expected: o.expected(c), observed: o.observed.get(c.from, c.to) }))
    .filter((c) => c.observed.state !== c.expected || c.observed.accepted === false);
}

/**
 * The failure message for a list of cells: a title with the count, the legend, the in-force proof, then
 * every cell (ok: one line; wrong: with its detail and reproduce command).
 */
export function renderList(o: ListOptions): string {
  const wrong = compareList(o);
  const isWrong = new Set(wrong.map((c) => cellKey(c.from, c.to)));
  const lines = [`${o.title} — ${wrong.length} wrong of ${o.cells.length}`, LEGEND];
  if (o.inForce) lines.push(`in force: ${o.inForce.text}`);
  for (const c of o.cells) {
    const k = cellKey(c.from, c.to);
    const cell = renderCell(`${isWrong.has(k) ? 'wrong' : 'ok'}: ${k}`, o.expected(c), o.observed.get(c.from, c.to));
    lines.push(...(isWrong.has(k) ? cell : cell.slice(0, 1)));
  }
  return lines.join('\n');
}
