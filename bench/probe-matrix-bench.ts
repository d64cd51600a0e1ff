// Benchmark (not a test): what a deny matrix costs in wall time, as a ratio to one probe timeout, for several
// concurrency bounds. Pure logic with a simulated probe that always times out after T ms.
// Run: npx tsx bench/probe-matrix-bench.ts [T_ms=200]
import { newModel, podKeys } from '../lib/connectivity/model.ts';
import { probeMatrix } from '../lib/connectivity/probe-matrix.ts';
import { Reachability } from '../lib/connectivity/truth-table.ts';

const T = Number(process.argv[2] ?? 200);
const pods = podKeys(newModel());
const expected = new Reachability(pods, false);
const cells = expected.allCells();
const sleep = (ms: number, s?: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    s?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        r();
      },
      { once: true },
    );
  });

console.log(`deny matrix: ${cells.length} cells (${pods.length} pods), every probe times out after ${T} ms`);
console.log('bound  wall ms  ratio to one timeout  (sequential would be ' + cells.length + 'x)');
for (const concurrency of [1, 8, 24, 96]) {
  const r = await probeMatrix({
    cells,
    expected,
    concurrency,
    timeoutMs: T * 3,
    probe: async (_c, s) => {
      await sleep(T, s);
      return { state: 'blocked', blockedBy: 'timeout', detail: 'TIMEOUT (simulated)', command: '-' };
    },
  });
  console.log(`${String(concurrency).padStart(5)}  ${String(Math.round(r.elapsedMs)).padStart(7)}  ${(r.elapsedMs / T).toFixed(2).padStart(20)}`);
}
