// Benchmark (not a test): which fault-lab breakages each suite catches. For each fault: break the local cluster
// (cluster/lab), run our phase and upstream's same phase on it, heal; a suite "catches" a fault when a test of
// the phase fails under it (on a cluster where the same phase passed healthy, checked first).
//   tsx bench/upstream-faults.ts --faults dnat-to-tcp,portmap-removed [--phase basic] [--out DIR] [--ours-args '...']
// Writes DIR/faults.json and DIR/faults.md. SCTP_E2E_CLUSTER_DIR selects the cluster as for the lab.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseJUnit } from '../cluster/lab/junit.ts';
import { findKubeconfig } from '../lib/framework/config.ts';
import { ExitCode, UsageError, UserError } from '../lib/framework/errors.ts';
import { runMain, usageOnError } from '../lib/framework/main.ts';
import { buildUpstream, loadImageIntoLocalCluster, parsePhases, runUpstream } from '../upstream/run.ts';
import { OURS_SELECTION } from './upstream-compare.ts';

const repo = resolve(new URL('..', import.meta.url).pathname);
const env = { ...process.env, PATH: `${repo}/node_modules/.bin:${process.env.PATH}` };
const log = (s: string) => process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

interface Verdict {
  failed: string[];
  passed: number;
  skipped: number;
}
interface Row {
  fault: string;
  ours: Verdict;
  upstream: Verdict;
}

function lab(cmd: 'break' | 'heal', fault: string): void {
  const r = spawnSync('tsx', ['cluster/lab/cli.ts', cmd, fault], { cwd: repo, env, encoding: 'utf8' });
  if (r.status !== 0) throw new UserError(`lab ${cmd} ${fault}: ${(r.stderr || r.stdout).trim()}`, ExitCode.failed);
  log(r.stdout.trim().split('\n')[0]!);
}

function verdictOf(cases: Array<{ name: string; outcome: string; message?: string }>): Verdict {
  return {
    failed: cases.filter((c) => c.outcome === 'failed').map((c) => `${c.name.replace(/^.*\] /, '')}: ${(c.message ?? '').split('\n')[0]!.slice(0, 200)}`),
    passed: cases.filter((c) => c.outcome === 'passed').length,
    skipped: cases.filter((c) => c.outcome === 'skipped').length,
  };
}

async function main(): Promise<void> {
  const { values } = usageOnError(() =>
    parseArgs({
      options: {
        faults: { type: 'string' },
        phase: { type: 'string', default: 'basic' },
        out: { type: 'string' },
        'ours-args': { type: 'string', default: '' },
        version: { type: 'string', default: 'v1.34.4' },
      },
    }),
  );
  if (!values.faults) throw new UsageError('--faults a,b,c is required (npm run lab:list)');
  const [phase] = parsePhases(values.phase!);
  const kc = findKubeconfig();
  if (!kc) throw new UserError('no local cluster kubeconfig', ExitCode.kubeconfig);
  const out = resolve(values.out ?? join('artifacts', `upstream-faults-${Date.now()}`));
  mkdirSync(out, { recursive: true });
  const build = buildUpstream(values.version!);
  log(`imported ${build.image} into ${loadImageIntoLocalCluster(build).join(', ')}`);
  const runBoth = async (tag: string): Promise<Row> => {
    const junit = join(out, `ours-${tag}.xml`);
    spawnSync(
      'tsx',
      [
        'bin/sctp-e2e.ts',
        'run',
        '--no-cluster-up',
        ...OURS_SELECTION[phase!],
        ...values['ours-args']!.split(/\s+/).filter(Boolean),
        '--junit',
        junit,
        '--artifacts',
        join(out, 'artifacts'),
      ],
      { cwd: repo, env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const ours = verdictOf(existsSync(junit) ? parseJUnit(readFileSync(junit, 'utf8')).filter((c) => !c.name.startsWith('run notes')) : []);
    const up = await runUpstream({
      build,
      kubeconfig: kc.path,
      phases: [phase!],
      out: join(out, `upstream-${tag}`),
      imageSource: 'local',
      timeout: '30m',
      extra: [],
    });
    return { fault: tag, ours, upstream: verdictOf(up.results) };
  };
  const rows: Row[] = [await runBoth('(healthy)')];
  for (const fault of values.faults.split(',')) {
    lab('break', fault);
    try {
      rows.push(await runBoth(fault));
    } finally {
      lab('heal', fault);
    }
  }
  const caught = (v: Verdict) => (v.failed.length ? `**caught** (${v.failed.length} failed)` : `missed (${v.passed} passed)`);
  const md =
    [
      `# Which breakages each suite catches — phase ${phase}`,
      '',
      '| fault | ours | upstream e2e.test |',
      '|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.fault} | ${r.fault === '(healthy)' ? `${r.ours.passed} passed, ${r.ours.failed.length} failed` : caught(r.ours)} ` +
          `| ${r.fault === '(healthy)' ? `${r.upstream.passed} passed, ${r.upstream.failed.length} failed` : caught(r.upstream)} |`,
      ),
      '',
      '## Failure messages',
      '',
      ...rows.flatMap((r) => [...r.ours.failed.map((m) => `- ${r.fault}, ours: ${m}`), ...r.upstream.failed.map((m) => `- ${r.fault}, upstream: ${m}`)]),
    ].join('\n') + '\n';
  writeFileSync(join(out, 'faults.json'), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(out, 'faults.md'), md);
  process.stdout.write(md);
}

runMain('upstream-faults', main);
