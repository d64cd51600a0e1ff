// probeMatrix with fake probe functions (pure scheduling logic; short real timers).
import { expect } from 'chai';
import { newModel, podKeys } from './model.ts';
import { type ProbeResult, checkProbeResult, probeMatrix } from './probe-matrix.ts';
import { type Cell, Reachability, compare } from './truth-table.ts';

const pods = podKeys(newModel()); // 9 pods, 72 non-self cells
const key = (c: Cell) => `${c.from}>${c.to}`;
const allowed = (command = 'cmd'): ProbeResult => ({ state: 'allowed', detail: 'OK', command });
const timeout = (): ProbeResult => ({ state: 'blocked', blockedBy: 'timeout', detail: 'TIMEOUT: no SCTP association', command: 'cmd' });
const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
  });

describe('probeMatrix', () => {
  it('retries only the cells whose observation differs from the expectation', async () => {
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
    const retried = [...calls].filter(([, n]) => n > 1).map(([k, n]) => `${k}:${n}`).sort();
    expect(retried).to.deep.equal(['x/c>z/a:4', 'y/b>x/a:3']);
    expect(result.probes).to.equal(72 + 3 + 2);
    expect(result.observed.get('y/b', 'x/a')).to.include({ state: 'blocked', attempts: 3, blockedBy: 'timeout' });
    const cmp = compare(expected, result.observed);
    expect(cmp.wrong.map((w) => `${w.from}>${w.to}`)).to.deep.equal(['x/c>z/a']);
    expect(cmp.wrong[0]!.observed.attempts).to.equal(4);
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
      probe: async () => (calls++, allowed()),
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
      'x/a>y/b': async (s) => (await delay(10_000, s), timeout()),
      'x/b>x/a': async () => ({ state: 'blocked', detail: 'no idea', command: 'c4' }) as unknown as ProbeResult,
    };
    const r = await probeMatrix({
      cells: expected.allCells(),
      expected,
      timeoutMs: 60,
      retries: 0,
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
  // bound at or above the cell count every probe of a deny matrix is in flight at once (one wave, about one
  // probe timeout); with a bound of 24 the 72 cells take three waves.
  it('a deny matrix runs in ceil(cells / bound) waves: all cells at once when the bound allows it', async () => {
    const expected = new Reachability(pods, false); // default deny: every probe times out
    const waves = async (concurrency: number) => {
      let inFlight = 0;
      let peak = 0;
      const r = await probeMatrix({
        cells: expected.allCells(),
        expected,
        concurrency,
        timeoutMs: 5000,
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
    expect(await waves(96)).to.deep.equal({ probes: 72, peak: 72 });
    expect(await waves(24)).to.deep.equal({ probes: 72, peak: 24 });
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
