// Benchmark (not a test): upstream's SCTP specs and ours, side by side on ONE cluster in one run, phase by
// phase (basic first for both, then connectivity, then NetworkPolicy): verdicts, cases, wall time, ratios.
//   tsx bench/upstream-compare.ts [--phases basic,connectivity] [--upstream-specs ID,...] [--out DIR] [--kubeconfig K]
//        [--ours-args '--flavor agnhost ...'] [--version v1.34.4] [--image-source local|upstream] [--label TEXT]
// Writes DIR/compare.json and DIR/compare.md (default DIR: artifacts/compare-<time>), plus each suite's JUnit.
// Exit 1 when one of OUR tests failed (upstream's verdicts are reported, not required), 0 otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type JUnitCase, parseJUnit } from '../cluster/lab/junit.ts';
import { findKubeconfig, readLocalCluster } from '../lib/framework/config.ts';
import { ExitCode, UserError } from '../lib/framework/errors.ts';
import { runMain, usageOnError } from '../lib/framework/main.ts';
import { buildUpstream, loadImageIntoLocalCluster, parsePhases, runUpstream, type UpstreamRun } from '../upstream/run.ts';
import { selectSpecs, UPSTREAM_SPECS, type UpstreamPhase } from '../upstream/specs.ts';

const repo = resolve(new URL('..', import.meta.url).pathname);
const log = (s: string) => process.stderr.write(`[compare ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Our selection for each upstream phase. */
export const OURS_SELECTION: Record<UpstreamPhase, string[]> = {
  basic: ['--tag', 'SCTP', '--skip-tag', 'NetworkPolicy'], // the SCTP-policy TCP/UDP test sits with upstream's in netpol
  connectivity: ['--tag', 'SCTPConnectivity', '--skip-tag', 'NetworkPolicy', '--skip-tag', 'LoadBalancer'],
  netpol: ['--tag', 'NetworkPolicy', '--skip-tag', 'LoadBalancer'],
  dualstack: ['--tag', 'IPv6DualStack'],
};

interface OursRun {
  phase: UpstreamPhase;
  wallSeconds: number;
  exitCode: number | null;
  cases: JUnitCase[];
  junit: string;
  capabilities?: Capabilities;
  command: string;
}
interface Capabilities {
  nodes: Array<{ node: string; kernelSctp: string; schedulable: boolean; ready: boolean }>;
  rows: Array<{ capability: string; status: string; detail: string }>;
}

function runOurs(phase: UpstreamPhase, out: string, kubeconfig: string, extra: string[]): OursRun {
  const junit = join(out, `ours-${phase}.xml`);
  const artifacts = join(out, `ours-${phase}`);
  const args = [
    'bin/sctp-e2e.ts',
    'run',
    '--no-cluster-up',
    '--kubeconfig',
    kubeconfig,
    ...OURS_SELECTION[phase],
    ...extra,
    '--junit',
    junit,
    '--artifacts',
    artifacts,
  ];
  log(`ours, ${phase}: tsx ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync('tsx', args, {
    cwd: repo,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PATH: `${repo}/node_modules/.bin:${process.env.PATH}` },
  });
  const wallSeconds = (Date.now() - t0) / 1000;
  const cases = existsSync(junit) ? parseJUnit(readFileSync(junit, 'utf8')).filter((c) => !c.name.startsWith('run notes')) : [];
  let capabilities: Capabilities | undefined;
  for (const d of existsSync(artifacts) ? readdirSync(artifacts) : []) {
    const p = join(artifacts, d, 'capabilities.json');
    if (existsSync(p)) capabilities = JSON.parse(readFileSync(p, 'utf8')) as Capabilities;
  }
  return { phase, wallSeconds, exitCode: r.status, cases, junit, capabilities, command: `npm run e2e -- ${args.slice(2).join(' ')}` };
}

const count = (cs: Array<{ outcome: string }>, o: string) => cs.filter((c) => c.outcome === o).length;
const verdicts = (cs: Array<{ outcome: string }>) => `${count(cs, 'passed')} passed, ${count(cs, 'failed')} failed, ${count(cs, 'skipped')} skipped`;

/** What the cluster lacks of a spec's needs, from our capability probe of the same cluster. */
export function unmetNeeds(needs: string[], caps: Capabilities | undefined, netpolWorks: boolean | undefined): string[] {
  if (!caps) return [];
  const kernelNodes = caps.nodes.filter((n) => n.ready && n.schedulable && ['loadable', 'loaded', 'built in'].includes(n.kernelSctp));
  const out: string[] = [];
  for (const n of needs) {
    if (n.startsWith('kernel SCTP on at least 2') && kernelNodes.length < 2)
      out.push(`kernel SCTP on 2 schedulable nodes (this cluster: ${kernelNodes.length}: ${caps.nodes.map((x) => `${x.node} ${x.kernelSctp}`).join(', ')})`);
    else if (n.startsWith('kernel SCTP on the nodes') && kernelNodes.length < caps.nodes.filter((x) => x.ready && x.schedulable).length)
      out.push(`kernel SCTP on every schedulable node (${caps.nodes.map((x) => `${x.node} ${x.kernelSctp}`).join(', ')})`);
    else if (n === 'a NetworkPolicy implementation' && netpolWorks === false) out.push('a NetworkPolicy implementation (our NetworkPolicy tests found none)');
    else if (n.startsWith('a dual-stack cluster')) out.push('a dual-stack cluster');
  }
  return out;
}

export interface Comparison {
  label: string;
  cluster: { kubeconfig: string; k8sVersion: string; nodes: Capabilities['nodes'] | undefined };
  upstreamImage: string;
  upstreamImageDigest: string;
  phases: Array<{
    phase: UpstreamPhase;
    ours: { cases: number; verdicts: string; wallSeconds: number; command: string };
    upstream: { cases: number; verdicts: string; wallSeconds: number; command: string };
    wallRatio: number;
    perCaseRatio: number;
    caseRatio: number;
  }>;
  specs: Array<{
    id: string;
    phase: UpstreamPhase;
    upstream: string;
    upstreamSeconds: number;
    upstreamMessage?: string;
    environmental: string[];
    ours: Array<{ name: string; outcome: string; seconds?: number }>;
    beyond: string;
  }>;
}

export function render(c: Comparison): string {
  const L: string[] = [
    `# Upstream e2e.test vs this suite, SCTP, on one cluster — ${c.label}`,
    '',
    `Cluster: Kubernetes ${c.cluster.k8sVersion}; nodes ${c.cluster.nodes?.map((n) => `${n.node} (kernel SCTP: ${n.kernelSctp})`).join(', ') ?? '?'}.`,
    `Upstream: e2e.test ${c.cluster.k8sVersion} built from k8s.io/kubernetes, image ${c.upstreamImage} (${c.upstreamImageDigest}).`,
    '',
    '## Per phase',
    '',
    '| phase | upstream cases | upstream verdicts | upstream wall | our cases | our verdicts | our wall | wall ours/upstream ' +
      '| per case ours/upstream | cases ours/upstream |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of c.phases)
    L.push(
      `| ${p.phase} | ${p.upstream.cases} | ${p.upstream.verdicts} | ${p.upstream.wallSeconds.toFixed(1)} s | ${p.ours.cases} ` +
        `| ${p.ours.verdicts} | ${p.ours.wallSeconds.toFixed(1)} s | ${p.wallRatio.toFixed(2)}× | ${p.perCaseRatio.toFixed(2)}× ` +
        `| ${p.caseRatio.toFixed(1)}× |`,
    );
  L.push(
    '',
    'Wall times are whole processes (start-up, capability probe, cleanup included).',
    '',
    '## Each upstream spec and the tests of ours that cover it',
    '',
    '| upstream spec | upstream verdict | environment lacks | our tests (verdict) | ours checks beyond |',
    '|---|---|---|---|---|',
  );
  for (const s of c.specs) {
    const title = UPSTREAM_SPECS.find((x) => x.id === s.id)!.title;
    const up = `${s.upstream}${s.upstreamSeconds ? ` (${s.upstreamSeconds.toFixed(1)} s)` : ''}${s.upstreamMessage ? `: ${s.upstreamMessage.replace(/\|/g, '\\|').slice(0, 160)}` : ''}`;
    const ours = s.ours.length
      ? s.ours.map((o) => `${o.name.replace(/\|/g, '\\|')} (**${o.outcome}**${o.seconds !== undefined ? `, ${o.seconds.toFixed(1)} s` : ''})`).join('<br>')
      : '(not run in this comparison)';
    L.push(`| ${title} | ${up} | ${s.environmental.join('; ') || '—'} | ${ours} | ${s.beyond || '—'} |`);
  }
  return L.join('\n') + '\n';
}

async function main(): Promise<number> {
  const { values } = usageOnError(() =>
    parseArgs({
      options: {
        phases: { type: 'string', default: 'basic,connectivity' },
        'upstream-specs': { type: 'string' },
        out: { type: 'string' },
        kubeconfig: { type: 'string' },
        'ours-args': { type: 'string', default: '' },
        version: { type: 'string', default: 'v1.34.4' },
        'image-source': { type: 'string' },
        label: { type: 'string', default: '' },
        timeout: { type: 'string', default: '60m' },
      },
    }),
  );
  const phases = parsePhases(values.phases!);
  const kc = values.kubeconfig ? { path: values.kubeconfig } : findKubeconfig();
  if (!kc) throw new UserError('no kubeconfig: pass --kubeconfig or bring up the local cluster (npm run cluster:up)', ExitCode.kubeconfig);
  const local = readLocalCluster();
  const isLocal = !!local && local.kubeconfig === kc.path;
  const imageSource = (values['image-source'] ?? (isLocal ? 'local' : 'upstream')) as 'local' | 'upstream';
  const out = resolve(values.out ?? join('artifacts', `compare-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15).toLowerCase()}`));
  mkdirSync(out, { recursive: true });
  const build = buildUpstream(values.version!);
  if (imageSource === 'local') log(`imported ${build.image} into ${loadImageIntoLocalCluster(build).join(', ')}`);
  const oursExtra = values['ours-args']!.split(/\s+/).filter(Boolean);
  const ours: OursRun[] = [];
  const ups: UpstreamRun[] = [];
  for (const phase of phases) {
    ours.push(runOurs(phase, out, kc.path, oursExtra));
    ups.push(
      await runUpstream({
        build,
        kubeconfig: kc.path,
        phases: [phase],
        ids: values['upstream-specs']?.split(','),
        out: join(out, `upstream-${phase}`),
        imageSource,
        timeout: values.timeout!,
        extra: [],
      }),
    );
  }
  const caps = ours.find((o) => o.capabilities)?.capabilities;
  const netpolCases = ours.find((o) => o.phase === 'netpol')?.cases ?? [];
  const netpolWorks = netpolCases.length ? netpolCases.some((c) => c.outcome === 'passed') : undefined;
  const allOurs = ours.flatMap((o) => o.cases);
  const c: Comparison = {
    label: values.label || phases.join(' + '),
    cluster: { kubeconfig: kc.path, k8sVersion: build.k8sVersion, nodes: caps?.nodes },
    upstreamImage: ups[0]?.image ?? '',
    upstreamImageDigest: ups[0]?.imageDigest ?? '',
    phases: phases.map((phase, i) => {
      const o = ours[i]!;
      const u = ups[i]!;
      const perCase = (w: number, n: number) => (n ? w / n : NaN);
      return {
        phase,
        ours: { cases: o.cases.length, verdicts: verdicts(o.cases), wallSeconds: o.wallSeconds, command: o.command },
        upstream: { cases: u.results.length, verdicts: verdicts(u.results), wallSeconds: u.wallSeconds, command: u.command },
        wallRatio: o.wallSeconds / u.wallSeconds,
        perCaseRatio: perCase(o.wallSeconds, o.cases.length) / perCase(u.wallSeconds, u.results.length),
        caseRatio: o.cases.length / Math.max(1, u.results.length),
      };
    }),
    specs: selectSpecs(phases, values['upstream-specs']?.split(',')).map((s) => {
      const u = ups.flatMap((x) => x.results).find((r) => r.id === s.id);
      return {
        id: s.id,
        phase: s.phase,
        upstream: u?.outcome ?? 'not run',
        upstreamSeconds: u?.seconds ?? 0,
        upstreamMessage: u?.message,
        environmental: u?.outcome === 'failed' ? unmetNeeds(s.needs, caps, netpolWorks) : [],
        ours: allOurs.filter((c) => s.ours.some((re) => new RegExp(re).test(c.name))).map((c) => ({ name: c.name, outcome: c.outcome, seconds: c.seconds })),
        beyond: s.beyond,
      };
    }),
  };
  writeFileSync(join(out, 'compare.json'), JSON.stringify(c, null, 2) + '\n');
  writeFileSync(join(out, 'compare.md'), render(c));
  process.stdout.write(render(c));
  log(`wrote ${join(out, 'compare.md')} and compare.json`);
  const oursFailed = allOurs.filter((x) => x.outcome === 'failed');
  if (oursFailed.length) {
    log(`OUR suite failed ${oursFailed.length} test(s) on this cluster: ${oursFailed.map((x) => x.name).join('; ')}`);
    return ExitCode.testsFailed;
  }
  return ExitCode.ok;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  runMain('compare', main);
}
