// Soak (not a test, not in CI): the suite N times against the same cluster; per test: passed/failed/skipped
// counts and durations (min/median/max), and every failure message once. A test that both passed and failed
// is FLAKY. Use the same selection flags as `npm run e2e`.
//   tsx bench/soak.ts [--runs 10] [--out DIR] [-- <npm run e2e flags, e.g. --skip-tag NetworkPolicy>]
// Writes DIR/soak.json and DIR/soak.md (default DIR: artifacts/soak-<time>), and each run's JUnit.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseJUnit } from '../cluster/lab/junit.ts';
import { UsageError } from '../lib/framework/errors.ts';
import { runMain, usageOnError } from '../lib/framework/main.ts';

export interface SoakRow {
  test: string;
  passed: number;
  failed: number;
  skipped: number;
  min: number;
  median: number;
  max: number;
  flaky: boolean;
  failures: string[];
}

export function aggregate(runs: Array<Array<{ name: string; outcome: string; seconds?: number; message?: string }>>): SoakRow[] {
  const by = new Map<string, { o: string[]; t: number[]; m: Set<string> }>();
  for (const cases of runs)
    for (const c of cases) {
      const e = by.get(c.name) ?? { o: [], t: [], m: new Set<string>() };
      e.o.push(c.outcome);
      if (c.outcome !== 'skipped' && c.seconds !== undefined) e.t.push(c.seconds);
      if (c.outcome === 'failed' && c.message) e.m.add(c.message.split('\n')[0]!.slice(0, 240));
      by.set(c.name, e);
    }
  return [...by].map(([test, e]) => {
    const t = [...e.t].sort((a, b) => a - b);
    const n = (o: string) => e.o.filter((x) => x === o).length;
    return {
      test,
      passed: n('passed'),
      failed: n('failed'),
      skipped: n('skipped'),
      min: t[0] ?? 0,
      median: t.length ? t[Math.floor((t.length - 1) / 2)]! : 0,
      max: t[t.length - 1] ?? 0,
      flaky: n('passed') > 0 && n('failed') > 0,
      failures: [...e.m],
    };
  });
}

export function renderSoak(rows: SoakRow[], meta: { runs: number; args: string[]; wall: number[] }): string {
  const sorted = [...meta.wall].sort((a, b) => a - b);
  const L = [
    `# Soak: ${meta.runs} runs of \`npm run e2e -- ${meta.args.join(' ')}\``,
    '',
    `Run wall time: min ${sorted[0]?.toFixed(0)} s, median ${sorted[Math.floor((sorted.length - 1) / 2)]?.toFixed(0)} ` +
      `s, max ${sorted[sorted.length - 1]?.toFixed(0)} s.`,
    `Flaky tests (passed and failed): **${rows.filter((r) => r.flaky).length}**; always failed: ${rows.filter((r) => r.failed && !r.passed).length}; ` +
      `tests: ${rows.length}.`,
    '',
    '| test | passed | failed | skipped | min s | median s | max s |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows)
    L.push(
      `| ${r.flaky ? '**FLAKY** ' : ''}${r.test.replace(/\|/g, '\\|')} | ${r.passed} | ${r.failed} | ${r.skipped} | ` +
        `${r.min.toFixed(1)} | ${r.median.toFixed(1)} | ${r.max.toFixed(1)} |`,
    );
  const failing = rows.filter((r) => r.failures.length);
  if (failing.length) L.push('', '## Failure messages', '', ...failing.flatMap((r) => [`- ${r.test}`, ...r.failures.map((m) => `  - ${m}`)]));
  return L.join('\n') + '\n';
}

async function main(): Promise<void> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '10' }, out: { type: 'string' } } }),
  );
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, not ${values.runs}`);
  const repo = resolve(new URL('..', import.meta.url).pathname);
  const out = resolve(values.out ?? join('artifacts', `soak-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15).toLowerCase()}`));
  mkdirSync(out, { recursive: true });
  const all: ReturnType<typeof parseJUnit>[] = [];
  const wall: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const junit = join(out, `junit-${String(i).padStart(2, '0')}.xml`);
    const t0 = Date.now();
    const r = spawnSync('tsx', ['bin/sctp-e2e.ts', 'run', '--no-cluster-up', ...positionals, '--junit', junit, '--artifacts', join(out, 'artifacts')], {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PATH: `${repo}/node_modules/.bin:${process.env.PATH}` },
    });
    wall.push((Date.now() - t0) / 1000);
    const cases = existsSync(junit) ? parseJUnit(readFileSync(junit, 'utf8')) : [];
    all.push(cases);
    const n = (o: string) => cases.filter((c) => c.outcome === o).length;
    process.stderr.write(
      `[soak] run ${i}/${runs}: exit ${r.status}, ${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped in ${wall[i - 1]!.toFixed(0)}s\n`,
    );
    if (r.status === 130 || r.signal) break;
  }
  const rows = aggregate(all);
  writeFileSync(join(out, 'soak.json'), JSON.stringify({ runs: all.length, args: positionals, wall, rows }, null, 2) + '\n');
  const md = renderSoak(rows, { runs: all.length, args: positionals, wall });
  writeFileSync(join(out, 'soak.md'), md);
  process.stdout.write(md);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  runMain('soak', main);
}
