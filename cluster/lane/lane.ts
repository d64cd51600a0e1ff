// A plugin lane: `npm run lane:<name> [-- --dry-run] [--known FILE] [--out DIR]` (the lanes: lanes.ts). On a
// machine with no local cluster up: bring up what the lane's spec says (the local cluster and the plugin's add-ons,
// before the first test, so every test pod is on the plugin), run the whole suite with JUnit and the report card,
// then hold the run to the plugin's known-results file (lib/report/known-cli.ts: its exit code is the lane's).
// Always tears down what it brought up, in reverse order, also after a failure or Ctrl-C, and prints per-stage times.
// The plan (lanePlan) and its execution (runLane, with the runner injected) are pure enough to unit-test.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { formatDuration } from '../../lib/framework/duration.ts';
import { layout } from '../contract.ts';

/** One setup step of a lane and the teardown step that undoes it (run, in reverse order, if the setup was started). */
export interface LaneSetup {
  name: string;
  argv: string[];
  undo?: { name: string; argv: string[] };
}

/** A plugin lane: what it brings up, what the run must find, and the plugin's known results. */
export interface LaneSpec {
  /** `npm run lane:<name>`; results default to artifacts/lane-<name>. */
  name: string;
  /** One line for the plan and the stage table, e.g. "Cilium v1.15.19, 2 nodes, kube-proxy iptables". */
  title: string;
  /** The plugin's known-results file (lib/report/known.ts). */
  known: string;
  /** The --require list of the e2e run: what the lane brought up must be found, else the tests needing it FAIL. */
  requires: string;
  setup: LaneSetup[];
  /** Extra `npm run e2e` arguments. */
  e2eArgs?: string[];
  /** Environment of the e2e run only, e.g. SCTP_E2E_CLUSTER_DIR of the cluster.json merged by `vm join` (ssh to the VM node). */
  e2eEnv?: Record<string, string>;
}

export interface Step {
  /** The npm script (or, for `check`, the tsx script) and its arguments. */
  name: string;
  argv: string[];
  role: 'setup' | 'run' | 'check' | 'teardown';
  /** Exit codes that let the lane go on (the e2e run exits 1 on the known failures). */
  okCodes: number[];
  /** Environment added for this step only (shown in the plan as env K=V). */
  env?: Record<string, string>;
  /** For a setup step: the teardown step that undoes it (run if the setup step was started at all). */
  undo?: string;
}

export interface LanePlan {
  title: string;
  known: string;
  out: string;
  /** Removed before the run, so that the checker never reads an earlier lane's results. */
  clean: string[];
  steps: Step[];
  teardown: Step[];
}

export interface LaneOptions {
  /** Default: the spec's known-results file. */
  known?: string;
  /** Default: artifacts/lane-<name>. */
  out?: string;
  /** The local cluster's state dir ($SCTP_E2E_CLUSTER_DIR): the e2e run is pointed at its admin kubeconfig. */
  stateDir: string;
}

export const npm = (script: string, ...args: string[]) => ['npm', 'run', '--silent', script, ...(args.length ? ['--', ...args] : [])];

export const defaultOut = (spec: LaneSpec) => `artifacts/lane-${spec.name}`;

export function lanePlan(spec: LaneSpec, o: LaneOptions): LanePlan {
  const known = o.known ?? spec.known;
  const out = o.out ?? defaultOut(spec);
  const junit = join(out, 'junit.xml');
  const report = join(out, 'report');
  return {
    title: `${spec.name} lane: ${spec.title}`,
    known,
    out,
    clean: [junit, report, join(out, 'known-results.txt')],
    steps: [
      ...spec.setup.map((s): Step => ({ name: s.name, argv: s.argv, role: 'setup', okCodes: [0], undo: s.undo?.name })),
      // --kubeconfig: this lane's cluster, whatever KUBECONFIG or ~/.kube/config name; --require: what the lane brought
      // up must be there (its absence fails those tests instead of skipping them); exit 1 = tests failed (expected)
      {
        name: 'e2e',
        role: 'run',
        okCodes: [0, 1],
        ...(spec.e2eEnv ? { env: spec.e2eEnv } : {}),
        argv: npm(
          'e2e',
          '--no-cluster-up',
          '--kubeconfig',
          layout(o.stateDir).adminKubeconfig,
          '--require',
          spec.requires,
          ...(spec.e2eArgs ?? []),
          '--junit',
          junit,
          '--report',
          report,
        ),
      },
      {
        name: 'known-results',
        argv: ['tsx', 'lib/report/known-cli.ts', '--known', known, '--results', junit, '--report', report],
        role: 'check',
        okCodes: [0],
      },
    ],
    teardown: spec.setup
      .flatMap((s) => (s.undo ? [s.undo] : []))
      .reverse()
      .map((u): Step => ({ name: u.name, argv: u.argv, role: 'teardown', okCodes: [0] })),
  };
}

const shq = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
export const renderArgv = (argv: string[]) => argv.map(shq).join(' ');
/** A step as one shell line: its own environment first (env K=V …), then its argv. */
export const renderStep = (s: Pick<Step, 'argv' | 'env'>) =>
  renderArgv([...(s.env ? ['env', ...Object.entries(s.env).map(([k, v]) => `${k}=${v}`)] : []), ...s.argv]);

export function renderPlan(p: LanePlan): string {
  const lines = [`${p.title} (known results: ${p.known}; results under ${p.out})`, `  0. remove ${p.clean.join(', ')} (an earlier lane's results)`];
  for (const [i, s] of p.steps.entries()) {
    lines.push(
      `  ${i + 1}. ${renderStep(s)}${s.role === 'run' ? '   (exit 0 or 1 goes on: 1 = tests failed, the known failures)' : s.role === 'check' ? "   (its exit code is the lane's)" : ''}`,
    );
  }
  lines.push('  always, in this order, for each add-on or cluster whose up was started (also after a failure or Ctrl-C):');
  for (const s of p.teardown) lines.push(`     ${renderArgv(s.argv)}`);
  return lines.join('\n');
}

export interface StageRecord {
  name: string;
  code: number | 'skipped';
  ms: number;
  ok: boolean;
  why?: string;
}

export interface LaneDeps {
  /** Runs one step to its end; returns its exit code (128+n when killed by signal n, -1 when it could not start). */
  run(step: Step): Promise<number>;
  remove(path: string): void;
  now(): number;
  log(line: string): void;
  /** True once the lane was interrupted (Ctrl-C, SIGTERM): the stages left are skipped, teardown still runs. */
  interrupted(): boolean;
}

export interface LaneResult {
  exitCode: number;
  stages: StageRecord[];
  sentence: string;
}

/** Runs the plan: stages in order until one fails or the lane is interrupted, then the teardown of what was started. */
export async function runLane(p: LanePlan, d: LaneDeps): Promise<LaneResult> {
  const t0 = d.now();
  const stages: StageRecord[] = [];
  const started = new Set<string>();
  let exitCode: number | undefined;
  let sentence = '';

  const stage = async (s: Step): Promise<number> => {
    const t = d.now();
    d.log(`==== [${formatDuration(t - t0)}] ${s.name}: ${renderStep(s)}`);
    let code: number;
    try {
      code = await d.run(s);
    } catch (e) {
      d.log(`${s.name} could not run: ${(e as Error).message}`);
      code = -1;
    }
    const ok = s.okCodes.includes(code);
    stages.push({ name: s.name, code, ms: d.now() - t, ok });
    d.log(`---- ${s.name}: exit ${code} in ${formatDuration(d.now() - t)}${ok ? '' : ' (FAILED)'}`);
    return code;
  };

  for (const path of p.clean) d.remove(path);
  for (const s of p.steps) {
    if (exitCode !== undefined || d.interrupted()) {
      stages.push({ name: s.name, code: 'skipped', ms: 0, ok: false, why: d.interrupted() ? 'interrupted' : 'an earlier stage failed' });
      continue;
    }
    if (s.undo) started.add(s.undo);
    const code = await stage(s);
    if (d.interrupted()) {
      exitCode = 130;
      sentence = `interrupted during ${s.name}`;
    } else if (s.role === 'check') {
      exitCode = code;
      sentence =
        code === 0
          ? 'every failure is a known failure of the plugin, each failed as described'
          : code === 1
            ? 'the run is not as the known-results file says (see the table above)'
            : `the checker could not check (exit ${code})`;
    } else if (!s.okCodes.includes(code)) {
      exitCode = code > 0 ? code : 1;
      sentence = s.role === 'run' ? `the e2e run did not complete (exit ${code}), so there is nothing to check` : `${s.name} failed (exit ${code})`;
    }
  }

  d.log(`==== [${formatDuration(d.now() - t0)}] teardown${exitCode === 0 ? '' : ` (lane so far: ${sentence})`}`);
  const failedDowns: string[] = [];
  for (const s of p.teardown) {
    if (!started.has(s.name)) {
      stages.push({ name: s.name, code: 'skipped', ms: 0, ok: true, why: 'its up was never started' });
      continue;
    }
    if (!s.okCodes.includes(await stage(s))) failedDowns.push(s.name);
  }
  if (failedDowns.length) {
    sentence = `${sentence}; teardown failed: ${failedDowns.join(', ')} (run \`npm run ${failedDowns.at(-1)}\` by hand)`;
    if (!exitCode) exitCode = 1;
  }
  return { exitCode: exitCode ?? 1, stages, sentence };
}

export function renderStages(name: string, r: LaneResult, totalMs: number): string {
  const w = Math.max(5, ...r.stages.map((s) => s.name.length));
  const lines = [`${name} lane: stages`, `  ${'stage'.padEnd(w)}  exit     time`];
  for (const s of r.stages)
    lines.push(
      `  ${s.name.padEnd(w)}  ${String(s.code).padEnd(7)}  ${s.code === 'skipped' ? `- (${s.why})` : `${formatDuration(s.ms)}${s.ok ? '' : '  FAILED'}`}`,
    );
  lines.push(`  ${'total'.padEnd(w)}           ${formatDuration(totalMs)}`, `lane exit ${r.exitCode}: ${r.sentence}`);
  return lines.join('\n');
}

/**
 * Runs a step as a child process with the lane's stdio; its exit code, 128+n when killed by signal n; rejects
 * when it cannot start. Teardown steps run in their own process group, so a Ctrl-C at the terminal does not
 * cut them short.
 */
export function spawnStep(s: Step, track: (c: ChildProcess | undefined) => void = () => {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(s.argv[0]!, s.argv.slice(1), {
      stdio: 'inherit',
      detached: s.role === 'teardown',
      env: s.env ? { ...process.env, ...s.env } : process.env,
    });
    track(c);
    c.on('error', (e) => {
      track(undefined);
      reject(e);
    });
    c.on('exit', (code, signal) => {
      track(undefined);
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : -1));
    });
  });
}

/** Refuses to start when a local cluster is already up: this lane brings up its own and takes it down again. */
export function preflight(stateDir: string, exists: (p: string) => boolean = existsSync): string | undefined {
  const l = layout(stateDir);
  const found = [l.clusterJson, l.stateJson].filter(exists);
  return found.length
    ? `a local cluster is already up or half torn down (${found.join(', ')}): this lane brings up its own and tears it down, so it will not touch that one; run \`npm run cluster:down\` first`
    : undefined;
}
