// The fault lane: `npm run lab:verdicts [-- --healthy a.xml,b.xml] [-- --only f1,f2]`. For each fault: break the
// running local cluster (cluster/lab/faults.ts), run the tests that must catch it, heal, and check each
// test's verdict (fail/pass/exit code) and that its failure message names the fault. The healthy half
// comes from the JUnit files of the ordinary run on the same cluster (--healthy), where each of these
// tests must have passed. Prints the verdict matrix; exits 1 if any cell is not as expected.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { formatDuration } from '../../lib/framework/duration.ts';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { layout } from '../render.ts';
import { ClusterError, log } from '../run.ts';
import { readState } from '../state.ts';
import { type Expectation, VERDICT_CASES } from './cases.ts';
import { breakFault, findFault, healFault, labContext, readApplied } from './faults.ts';
import { type JUnitCase, parseJUnit } from './junit.ts';

export interface Cell {
  fault: string;
  test: string;
  expected: string;
  observed: string;
  names: 'yes' | 'no' | '-';
  ok: boolean;
  evidence: string;
}

function firstLines(s: string, n = 3): string {
  return s
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, n)
    .join(' / ')
    .slice(0, 400);
}

/** Judges one expectation against a run's JUnit cases (or its exit for run-level expectations). */
export function judge(fault: string, e: Expectation, cases: JUnitCase[], exit: { code: number; stderr: string }): Cell {
  if (e.kind === 'exit') {
    const names = e.names.test(exit.stderr);
    return {
      fault,
      test: e.label,
      expected: `exit ${e.code}`,
      observed: `exit ${exit.code}`,
      names: names ? 'yes' : 'no',
      ok: exit.code === e.code && names,
      evidence: firstLines(exit.stderr),
    };
  }
  if (e.kind === 'any') {
    const hit = cases.find((c) => c.outcome === 'failed' && e.names.test(`${c.message ?? ''}\n${c.body ?? ''}`));
    const failed = cases.filter((c) => c.outcome === 'failed');
    return {
      fault,
      test: e.label,
      expected: 'a failure',
      observed: hit ? `failed: ${hit.name.slice(-50)}` : `${failed.length} failed, none naming it`,
      names: hit ? 'yes' : 'no',
      ok: !!hit,
      evidence: firstLines(hit ? hit.body || hit.message || '' : failed.map((c) => c.message).join('\n')),
    };
  }
  const matched = cases.filter((c) => e.test.test(c.name));
  if (!matched.length) return { fault, test: e.label, expected: e.outcome, observed: 'not run', names: '-', ok: false, evidence: `no test matched ${e.test}` };
  const worst = matched.find((c) => c.outcome !== e.outcome) ?? matched[0]!;
  const text = worst.body && worst.message && worst.body.startsWith(worst.message) ? worst.body : `${worst.message ?? ''}\n${worst.body ?? ''}`;
  const names = e.outcome === 'failed' && e.names ? e.names.test(text) : undefined;
  const ok = worst.outcome === e.outcome && names !== false;
  return {
    fault,
    test: e.label,
    expected: e.outcome,
    observed: worst.outcome + (matched.length > 1 ? ` (${matched.length} tests)` : ''),
    names: names === undefined ? '-' : names ? 'yes' : 'no',
    ok,
    evidence: worst.outcome === 'passed' ? '' : firstLines(text),
  };
}

export function renderMatrix(cells: Cell[]): string {
  const w = (k: keyof Cell, min: number) => Math.max(min, ...cells.map((c) => String(c[k]).length));
  const [wf, wt, we, wo] = [w('fault', 5), Math.min(w('test', 4), 70), w('expected', 8), w('observed', 8)];
  const row = (f: string, t: string, e: string, o: string, n: string, v: string) =>
    `${f.padEnd(wf)}  ${t.slice(0, 70).padEnd(wt)}  ${e.padEnd(we)}  ${o.padEnd(wo)}  ${n.padEnd(11)}  ${v}`;
  const lines = [row('fault', 'test', 'expected', 'observed', 'names fault', 'verdict'), '-'.repeat(wf + wt + we + wo + 30)];
  for (const c of cells) {
    lines.push(row(c.fault, c.test, c.expected, c.observed, c.names, c.ok ? 'ok' : 'WRONG'));
    if (c.evidence && (!c.ok || c.expected !== 'passed')) lines.push(`${' '.repeat(wf + 2)}└ ${c.evidence}`);
  }
  const bad = cells.filter((c) => !c.ok).length;
  lines.push('-'.repeat(wf + wt + we + wo + 30), `${cells.length - bad} of ${cells.length} verdicts as expected${bad ? `, ${bad} WRONG` : ''}`);
  return lines.join('\n');
}

function parseArgv(argv: string[]): { healthy: string[]; only?: string[]; out: string } {
  const o: { healthy: string[]; only?: string[]; out: string } = { healthy: [], out: 'artifacts/lab' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (!x) throw new UsageError(`${a} needs a value`);
      return x;
    };
    if (a === '--healthy') o.healthy.push(...v().split(',').filter(Boolean));
    else if (a === '--only') o.only = v().split(',').filter(Boolean);
    else if (a === '--out') o.out = v();
    else throw new UsageError(`unknown argument ${a}`);
  }
  return o;
}

async function main(): Promise<number> {
  const o = parseArgv(process.argv.slice(2));
  const stateDir = process.env.SCTP_E2E_CLUSTER_DIR ?? '/var/lib/sctp-e2e/cluster';
  const st = readState(layout(stateDir).stateJson);
  if (!st?.binDir) throw new ClusterError(`no local cluster state in ${stateDir}: run \`npm run cluster:up\` first`);
  const ctx = labContext(stateDir, join(st.binDir, 'kubectl'));
  if (readApplied(ctx).length)
    throw new ClusterError(
      `faults are still applied (${readApplied(ctx)
        .map((a) => a.name)
        .join(', ')}): npm run lab:heal`,
    );
  mkdirSync(o.out, { recursive: true });
  const cells: Cell[] = [];

  // The healthy half: the same tests passed on this cluster in the ordinary run.
  if (o.healthy.length) {
    const healthy = o.healthy.flatMap((f) => {
      if (!existsSync(f)) throw new UsageError(`--healthy ${f}: no such file`);
      return parseJUnit(readFileSync(f, 'utf8'));
    });
    for (const c of VERDICT_CASES) {
      if (o.only && !o.only.includes(c.fault)) continue;
      for (const e of c.healthy ?? []) cells.push(judge('(healthy)', e, healthy, { code: 0, stderr: '' }));
    }
  }

  for (const c of VERDICT_CASES) {
    if (o.only && !o.only.includes(c.fault)) continue;
    const fault = findFault(c.fault);
    if (!fault) throw new UsageError(`case names unknown fault ${c.fault}`);
    const junit = join(o.out, `junit-${c.fault}.xml`);
    const t0 = Date.now();
    log(`fault ${c.fault}: ${fault.breaks}`);
    let exit = { code: -1, stderr: '' };
    try {
      log(`  ${await breakFault(ctx, fault)}`);
      const args = ['bin/sctp-e2e.ts', 'run', '--no-cluster-up', '--grep', c.grep, '--junit', junit, ...(c.args ?? [])];
      log(`  running: tsx ${args.map((a) => (/[\s|()\\]/.test(a) ? `'${a}'` : a)).join(' ')}`);
      const r = await execa('tsx', args, {
        reject: false,
        all: true,
        timeout: 20 * 60_000,
        env: { SCTP_E2E_TIMEOUT_SCALE: process.env.SCTP_E2E_TIMEOUT_SCALE ?? '0.5', ...c.env },
      });
      writeFileSync(join(o.out, `run-${c.fault}.log`), r.all ?? '');
      exit = { code: r.exitCode ?? -1, stderr: String(r.stderr ?? '') };
      log(`  run ended with exit ${exit.code} after ${formatDuration(Date.now() - t0)} (log ${join(o.out, `run-${c.fault}.log`)})`);
    } finally {
      try {
        await healFault(ctx, fault);
        log(`  healed ${c.fault}`);
      } catch (e) {
        // the cluster is in an unknown state: say so in the matrix and stop here
        cells.push({ fault: c.fault, test: 'heal', expected: 'healed', observed: 'heal failed', names: '-', ok: false, evidence: (e as Error).message });
        process.stdout.write(`\nVerdict matrix (fault × test), stopped after a failed heal\n${renderMatrix(cells)}\n`);
        // biome-ignore lint/correctness/noUnsafeFinally: a failed heal must end the run, even over the run's own error
        throw e;
      }
    }
    const cases = existsSync(junit) && c.expect.some((e) => e.kind !== 'exit') ? parseJUnit(readFileSync(junit, 'utf8')) : [];
    for (const e of c.expect) cells.push(judge(c.fault, e, cases, exit));
  }

  const text = renderMatrix(cells);
  process.stdout.write(`\nVerdict matrix (fault × test)\n${text}\n`);
  writeFileSync(join(o.out, 'verdicts.txt'), text + '\n');
  writeFileSync(join(o.out, 'verdicts.json'), JSON.stringify(cells, null, 2) + '\n');
  return cells.every((c) => c.ok) ? 0 : 1;
}

if (process.argv[1]?.endsWith('verdicts.ts')) {
  runMain('lab:verdicts', main, { usage: 'usage: npm run lab:verdicts [-- --healthy a.xml,b.xml] [--only fault,...] [--out DIR]' });
}
