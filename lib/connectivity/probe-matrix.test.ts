// probeMatrix with fake probe functions (pure scheduling logic; short real timers).
import { expect } from 'chai';
import { newModel, podKeys } from './model.ts';
import { checkProbeResult, type ProbeResult, probeMatrix } from './probe-matrix.ts';
import { type Cell, compare, Reachability, render } from './truth-table.ts';

const pods = podKeys(newModel()); // 9 pods, 72 non-self cells
const key = (c: Cell) => `${c.from}>${c.to}`;
const allowed = (command = 'cmd'): ProbeResult => ({ state: 'allowed', detail: 'OK', command });
const timeout = (): ProbeResult => ({ state: 'blocked', blockedBy: 'timeout', detail: 'TIMEOUT: no SCTP association', command: 'cmd' });
const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });

describe('probeMatrix', () => {
  it('re-probes only the cells not yet accepted as expected (two consecutive agreeing observations each)', async () => {
    const expected = new Reachability(pods, true).expectAllIngress('x/a', false);
    const cells = expected.allCells();
    const calls = new Map<string, number>();
    // Policy lag: x/a still reachable from y/b on the first two attempts; x/c -> z/a never works.
    const result = await probeMatrix({
      cells,
      expected,
      timeoutMs: 1000,
      retries: 3,
      retryIntervalMs: 5,
      retryDeadlineMs: 5000,
      probe: async (c) => {
        const n = (calls.get(key(c)) ?? 0) + 1;
        calls.set(key(c), n);
        if (c.to === 'x/a') return c.from === 'y/b' && n <= 2 ? allowed() : timeout();
        if (c.from === 'x/c' && c.to === 'z/a') return timeout();
        return allowed();
      },
    });
    const retried = [...calls]
      .filter(([, n]) => n > 1)
      .map(([k, n]) => `${k}:${n}`)
      .sort();
    const beyondTwo = [...calls]
      .filter(([, n]) => n > 2)
      .map(([k, n]) => `${k}:${n}`)
      .sort();
    expect(retried).to.have.lengthOf(72);
    expect(beyondTwo).to.deep.equal(['x/c>z/a:5', 'y/b>x/a:4']);
    expect(result.probes).to.equal(72 * 2 + 3 + 2);
    expect(result.observed.get('y/b', 'x/a')).to.include({ state: 'blocked', attempts: 4, blockedBy: 'timeout', accepted: true });
    expect(result.observed.get('y/b', 'x/a').sequence).to.deep.equal(['allowed', 'allowed', 'blocked', 'blocked']);
    const cmp = compare(expected, result.observed);
    expect(cmp.wrong.map((w) => `${w.from}>${w.to}`)).to.deep.equal(['x/c>z/a']);
    expect(cmp.wrong[0]!.observed.attempts).to.equal(5);
  });

  it('stops retrying at the retry deadline', async () => {
    const expected = new Reachability(['x/a', 'y/a'], false);
    let calls = 0;
    const r = await probeMatrix({
      cells: expected.allCells(),
      expected,
      timeoutMs: 1000,
      retries: 100,
      retryIntervalMs: 20,
      retryDeadlineMs: 110,
      probe: async () => {
        calls++;
        return allowed();
      },
    });
    // each differing cell is retried every ~20 ms until the 110 ms deadline, never 100 times; the exact count
    // depends on the machine's timers, so only the bounds are asserted
    expect(r.observed.get('x/a', 'y/a').attempts).to.be.within(2, 7);
    expect(calls).to.be.within(4, 14);
  });

  it('never turns a probe error, a throw, a hang or an unclassified "blocked" into blocked', async () => {
    const expected = new Reachability(['x/a', 'x/b', 'y/a', 'y/b'], false);
    const behaviour: Record<string, (s: AbortSignal) => Promise<ProbeResult>> = {
      'x/a>x/b': async () => ({ state: 'error', detail: 'DNS: lookup failed', command: 'c1' }),
      'x/a>y/a': async () => {
        throw new Error('exec failed: container not found');
      },
      'x/a>y/b': async (s) => {
        await delay(10_000, s);
        return timeout();
      },
      'x/b>x/a': async () => ({ state: 'blocked', detail: 'no idea', command: 'c4' }) as unknown as ProbeResult,
    };
    const r = await probeMatrix({
      cells: expected.allCells(),
      expected,
      timeoutMs: 60,
      retries: 0,
      retryIntervalMs: 1,
      probe: (c, s) => (behaviour[key(c)] ?? (async () => timeout()))(s),
    });
    for (const [k, re] of [
      ['x/a>x/b', /DNS: lookup failed/],
      ['x/a>y/a', /probe failed: exec failed: container not found/],
      ['x/a>y/b', /returned nothing within 60ms/],
      ['x/b>x/a', /blocked without a timeout\/refused\/prohibited classification/],
    ] as const) {
      const [from, to] = k.split('>') as [string, string];
      const o = r.observed.get(from, to);
      expect(o.state, k).to.equal('error');
      expect(o.detail, k).to.match(re);
    }
    expect(compare(expected, r.observed).wrong).to.have.lengthOf(4);
  });

  it('keeps at most `concurrency` probes in flight', async () => {
    const expected = new Reachability(pods, false);
    let inFlight = 0;
    let peak = 0;
    await probeMatrix({
      cells: expected.allCells(),
      expected,
      concurrency: 7,
      timeoutMs: 1000,
      retryIntervalMs: 1,
      probe: async () => {
        peak = Math.max(peak, ++inFlight);
        await delay(3);
        inFlight--;
        return timeout();
      },
    });
    expect(peak).to.equal(7);
  });

  // The wall-clock cost is measured by bench/probe-matrix-bench.ts; here the structure behind it: with the
  // bound at or above the cell count every probe of a deny matrix is in flight at once (two waves, one per
  // observation: about two probe timeouts); with a bound of 24 the 72 cells take 2 × 3 waves.
  it('a deny matrix runs in 2 × ceil(cells / bound) waves: all cells at once when the bound allows it', async () => {
    const expected = new Reachability(pods, false); // default deny: every probe times out
    const waves = async (concurrency: number) => {
      let inFlight = 0;
      let peak = 0;
      const r = await probeMatrix({
        cells: expected.allCells(),
        expected,
        concurrency,
        timeoutMs: 5000,
        retryIntervalMs: 1,
        probe: async (_c, s) => {
          peak = Math.max(peak, ++inFlight);
          await delay(5, s);
          inFlight--;
          return timeout();
        },
      });
      expect(compare(expected, r.observed).wrong).to.have.lengthOf(0);
      return { probes: r.probes, peak };
    };
    expect(await waves(96)).to.deep.equal({ probes: 144, peak: 72 });
    expect(await waves(24)).to.deep.equal({ probes: 144, peak: 24 });
  });

  it('stops on abort and leaves unfinished cells not-probed', async () => {
    const expected = new Reachability(pods, false);
    const ac = new AbortController();
    let finished = 0;
    const r = await probeMatrix({
      cells: expected.allCells(),
      expected,
      concurrency: 10,
      timeoutMs: 1000,
      signal: ac.signal,
      // the abort comes when the 10th probe finishes: whatever started after it is cut (no timers to race)
      probe: async (_c, s) => {
        await delay(5, s);
        if (s.aborted) return timeout();
        if (++finished === 10) ac.abort();
        return timeout();
      },
    });
    expect(r.aborted).to.equal(true);
    expect(r.probes).to.be.below(72);
    // 9: the probe whose completion triggered the abort is itself cut, like every probe still in flight
    expect(r.observed.size, 'only the cells that finished before the abort are observed').to.equal(9);
    const notProbed = compare(expected, r.observed).wrong.filter((w) => w.observed.state === 'not-probed').length;
    expect(notProbed).to.equal(72 - r.observed.size);
  });

  it('checkProbeResult accepts only the three blocked classifications', () => {
    expect(checkProbeResult({ state: 'blocked', blockedBy: 'refused', detail: 'd', command: 'c' }).state).to.equal('blocked');
    expect(checkProbeResult({ state: 'blocked', blockedBy: 'dns', detail: 'd', command: 'c' }).state).to.equal('error');
    expect(checkProbeResult({ state: 'open' }).state).to.equal('error');
    expect(checkProbeResult(undefined).state).to.equal('error');
  });

  it('rejects a nonsensical configuration with one clear sentence', async () => {
    const expected = new Reachability(['x/a', 'y/a']);
    let err: unknown;
    try {
      await probeMatrix({ cells: expected.allCells(), expected, timeoutMs: 100, concurrency: 0, probe: async () => allowed() });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal('probeMatrix: concurrency must be a positive integer, got 0');
  });
});

// Fakes that answer a script per cell: ". . X X" = allowed, allowed, blocked, blocked; "!" a probe error.
// After the script ends the last answer repeats. Deterministic: answers depend on call counts, not on time.
const answer = (s: string, command = 'cmd'): ProbeResult =>
  s === '.' ? allowed(command) : s === 'X' ? timeout() : { state: 'error', detail: 'exec failed: container not found', command };
function scripted(script: Record<string, string>, fallback = '.') {
  const calls = new Map<string, number>();
  const log: string[] = [];
  const probe = async (c: Cell): Promise<ProbeResult> => {
    const k = key(c);
    const steps = (script[k] ?? fallback).split(' ');
    const n = calls.get(k) ?? 0;
    calls.set(k, n + 1);
    const s = steps[Math.min(n, steps.length - 1)]!;
    log.push(`${k}#${n + 1}=${s}`);
    return answer(s);
  };
  return { probe, calls, log };
}
const fast = { timeoutMs: 1000, retryIntervalMs: 1, retryDeadlineMs: 10_000 };

describe('probeMatrix: verdicts you can trust', () => {
  const two = ['x/a', 'y/a'];

  it('does not accept "allowed" from one observation: allowed once, then blocked, is blocked', async () => {
    const expected = new Reachability(two, true).expect('x/a', 'y/a', false);
    const f = scripted({ 'x/a>y/a': 'X', 'y/a>x/a': '. X' });
    const r = await probeMatrix({ cells: expected.allCells(), expected, ...fast, retries: 3, probe: f.probe });
    const o = r.observed.get('y/a', 'x/a');
    expect(o.state).to.equal('blocked');
    expect(o.sequence).to.deep.equal(['allowed', 'blocked', 'blocked', 'blocked', 'blocked']); // 2 + 3 retries: wrong cells are retried
    expect(compare(expected, r.observed).wrong.map(key)).to.deep.equal(['y/a>x/a']);
  });

  it('does not accept "blocked" from one observation: one lost UDP datagram does not pass a leak', async () => {
    const expected = new Reachability(two, false);
    const f = scripted({ 'x/a>y/a': 'X', 'y/a>x/a': 'X . . .' });
    const r = await probeMatrix({ cells: expected.allCells(), expected, ...fast, retries: 3, probe: f.probe });
    const o = r.observed.get('y/a', 'x/a');
    expect(o.state).to.equal('allowed');
    expect(o.sequence).to.deep.equal(['blocked', 'allowed', 'allowed', 'allowed', 'allowed']);
    expect(compare(expected, r.observed).wrong.map(key)).to.deep.equal(['y/a>x/a']);
    expect(r.observed.get('x/a', 'y/a')).to.include({ state: 'blocked', attempts: 2, accepted: true });
  });

  it('never accepts a cell whose last two observations differ, and says so', async () => {
    const expected = new Reachability(two, false);
    const f = scripted({ 'x/a>y/a': 'X', 'y/a>x/a': '. X . X . X' });
    const r = await probeMatrix({ cells: expected.allCells(), expected, ...fast, retries: 2, probe: f.probe });
    const o = r.observed.get('y/a', 'x/a');
    expect(o).to.include({ state: 'blocked', attempts: 4, accepted: false });
    expect(compare(expected, r.observed).wrong.map(key)).to.deep.equal(['y/a>x/a']);
    expect(render({ title: 'T', expected, observed: r.observed, inForce: r.inForce }))
      .to.include('wrong: y/a -> x/a expected X observed X (4 observations in')
      .and.to.include(': . X . X — not accepted: the last two observations differ)');
  });

  it('holds back the allowed cells until an expected-blocked cell is accepted blocked (policy in force)', async () => {
    // The policy takes effect at the 4th probe of x/a -> y/a; before that everything is open.
    const expected = new Reachability(['x/a', 'x/b', 'y/a'], true).expect('x/a', 'y/a', false);
    const f = scripted({ 'x/a>y/a': '. . . X' });
    const r = await probeMatrix({ cells: expected.allCells(), expected, ...fast, retries: 5, probe: f.probe });
    expect(compare(expected, r.observed).wrong).to.have.lengthOf(0);
    const accepted = f.log.indexOf('x/a>y/a#5=X');
    expect(accepted, f.log.join(' ')).to.be.greaterThan(-1);
    const allowedProbes = f.log.map((l, i) => [l, i] as const).filter(([l]) => !l.startsWith('x/a>y/a'));
    expect(allowedProbes).to.have.lengthOf(10); // 5 allowed cells, twice each
    for (const [l, i] of allowedProbes) expect(i, `${l} ran before the policy was proven in force: ${f.log.join(' ')}`).to.be.greaterThan(accepted);
    expect(r.inForce).to.include({ proven: true, how: 'observed' });
    expect(r.inForce.cell).to.deep.equal({ from: 'x/a', to: 'y/a' });
    expect(r.inForce.text).to.match(/^proven in force by x\/a -> y\/a: observed \. \. \. X X \(accepted blocked after /);
  });

  it('an allowed cell that the policy in force blocks is wrong, however open it was before (an ignored egress port)', async () => {
    // World: the policy is programmed at the 3rd probe of the gate cell; from then on it also blocks y/a -> x/a,
    // which the expectation says stays allowed. Accepting the first "allowed" after creating the policy passes it.
    let programmed = false;
    const expected = new Reachability(two, true).expect('x/a', 'y/a', false);
    const gate = scripted({ 'x/a>y/a': '. . X' });
    const r = await probeMatrix({
      cells: expected.allCells(),
      expected,
      ...fast,
      retries: 5,
      probe: async (c) => {
        if (key(c) === 'x/a>y/a') {
          const res = await gate.probe(c);
          if (res.state === 'blocked') programmed = true;
          return res;
        }
        return programmed ? timeout() : allowed();
      },
    });
    const wrong = compare(expected, r.observed).wrong;
    expect(wrong.map(key)).to.deep.equal(['y/a>x/a']);
    expect(wrong[0]!.observed.sequence).to.deep.equal(Array(7).fill('blocked')); // never an 'allowed' taken before the policy was in force
  });

  it('when no expected-blocked cell is ever accepted blocked, the allowed cells stay held back and the message says why', async () => {
    const expected = new Reachability(two, true).expect('x/a', 'y/a', false);
    const f = scripted({ 'x/a>y/a': '.' });
    const r = await probeMatrix({ cells: expected.allCells(), expected, ...fast, retries: 2, probe: f.probe });
    expect(f.calls.get('y/a>x/a') ?? 0, 'an allowed cell was probed while the policy was not in force').to.equal(0);
    expect(r.inForce).to.include({ proven: false, how: 'not-proven', heldBack: 1 });
    const o = r.observed.get('y/a', 'x/a');
    expect(o.state).to.equal('not-probed');
    expect(o.detail).to.match(/held back: the policy was never proven in force/);
    const text = render({ title: 'T', expected, observed: r.observed, inForce: r.inForce });
    expect(text).to.include(
      'in force: NOT proven — no expected-blocked cell was observed blocked twice in a row (x/a -> y/a: . . . .); 1 expected-allowed cell held back, not probed',
    );
    expect(compare(expected, r.observed).wrong.map(key)).to.deep.equal(['x/a>y/a', 'y/a>x/a']);
  });

  it('a matrix that expects no blocked cell must say how the policy is proven in force', async () => {
    const expected = new Reachability(two, true);
    const f = scripted({});
    let err: unknown;
    await probeMatrix({ cells: expected.allCells(), expected, ...fast, probe: f.probe }).catch((e) => (err = e));
    expect((err as Error)?.message).to.match(
      /^probeMatrix: the expectation has no blocked cell, so this matrix cannot prove the policy in force itself: pass inForce/,
    );
    const r = await probeMatrix({ cells: expected.allCells(), expected, ...fast, probe: f.probe, inForce: 'no policy is applied' });
    expect(r.inForce).to.include({ proven: true, how: 'given', text: 'not provable by this matrix (it expects no blocked cell): no policy is applied' });
    expect(compare(expected, r.observed).wrong).to.have.lengthOf(0);
    expect(r.observed.get('x/a', 'y/a')).to.include({ attempts: 2, accepted: true });
  });
});
