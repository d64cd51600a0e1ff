// The report card's model (`npm run e2e -- --report DIR`): what a CNI vendor attaches to a release or a bug
// report. Built, by pure functions, from what the runner already holds — the reporter's results, run notes and
// verdict (the content of summary.json), the capability probe's report (capabilities.json) and the run's
// context (command line, cluster version, CNI). report.json is this model; report.html renders it (html.ts).

import type { CapabilityReport, CapabilityRow, NodeCapabilities } from '../capabilities.ts';
import { ExitCode, exitCodeMeaning } from '../framework/errors.ts';
import type { Result, Verdict } from '../framework/reporter.ts';
import type { RunNote } from '../framework/run-notes.ts';
import type { RunResult } from '../framework/runner.ts';
import { shq } from '../framework/shell.ts';
import { tagsOf } from '../framework/tags.ts';

export const REPORT_SCHEMA = 'sctp-e2e/report/v1';

export type TestVerdict = 'passed' | 'failed' | 'skipped' | 'pending';
export const VERDICTS: readonly TestVerdict[] = ['passed', 'failed', 'skipped', 'pending'];
export type VerdictCounts = Record<TestVerdict, number>;

/** The run as a whole: green, red, or nothing verified (exit 8, not green either). */
export type RunStatus = 'passed' | 'failed' | 'nothing-verified' | 'error';

export interface ReportTest {
  fullTitle: string;
  title: string;
  suite: string;
  file?: string;
  verdict: TestVerdict;
  durationMs: number;
  tags: string[];
  /** Failures: the whole stand-alone message. */
  message?: string;
  /** Skips: why (pending tests: that they are not written yet). */
  reason?: string;
  /** 'phase-check': a run-level check (end of the basic phase), not a test of the selection. */
  kind: 'test' | 'phase-check';
  /** Listed in the known-results file of the run's plugin (lib/report/known.ts); absent otherwise. */
  known?: ReportKnownTest;
}

/** How a test listed in a plugin's known-results file fared against it. */
export interface ReportKnownTest {
  /** "Cilium v1.15.19" */
  plugin: string;
  /** matches: failed as described (a known failure); the other two are not ok. */
  verdict: 'matches' | 'different message' | 'did not fail';
  /** The cause in a few words: "Services with port ≠ targetPort". */
  cause: string;
  /** Why this test fails on that plugin (one sentence), then the cause's why. */
  why: string;
  causeWhy: string;
  evidence: string[];
  link: string;
  issue?: string;
  /** What did not match, for the two verdicts that are not ok. */
  detail?: string;
}

/** The per-plugin verdict of a run checked against a known-results file. */
export interface ReportKnown {
  plugin: string;
  config: string;
  file: string;
  ok: boolean;
  /** "Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped" */
  line: string;
  counts: { passed: number; skipped: number; known: number; unexpected: number; didNotFail: number; differentMessage: number; missing: number };
  /** Known failures whose title is not in the run. */
  missing: string[];
  /** Problems not tied to a test (the run's CNI is not the file's plugin). */
  problems: string[];
}

export interface TagSummary extends VerdictCounts {
  tag: string;
}

export interface ReportModel {
  schema: typeof REPORT_SCHEMA;
  run: {
    id: string;
    /** The command line as typed (best effort: argv after the node binary). */
    command: string;
    startedAt: string;
    wallMs: number;
    exitCode: number;
    exitMeaning: string;
    status: RunStatus;
    /** Why the run is not green, in one sentence. */
    sentence?: string;
  };
  cluster: {
    server: string;
    version: string;
    cni: { name: string; evidence: string };
    nodeAccess: { mode: string; reason: string };
    nodes: NodeCapabilities[];
  };
  capabilities: { rows: CapabilityRow[]; probedInMs?: number; missing?: string };
  counts: VerdictCounts & { total: number };
  tags: TagSummary[];
  tests: ReportTest[];
  notes: RunNote[];
  /** Present when the run was checked against a plugin's known-results file (lib/report/known.ts). */
  known?: ReportKnown;
}

export interface ReportInput {
  /** What the reporter wrote to summary.json. */
  results: readonly Result[];
  notes: readonly RunNote[];
  verdict: Verdict;
  startedAt: Date | string;
  wallMs: number;
  runId: string;
  command: string;
  /** The capability probe's report; absent when the probe failed (say why in capabilitiesMissing). */
  capabilities?: CapabilityReport;
  capabilitiesMissing?: string;
  cluster?: { server?: string; version?: string; cni?: { name: string; evidence: string } };
}

const UNKNOWN = 'unknown';

export function verdictOfResult(r: Result): TestVerdict {
  return r.outcome === 'skipped' && r.pending ? 'pending' : r.outcome;
}

export function countVerdicts(tests: readonly ReportTest[]): VerdictCounts {
  const c: VerdictCounts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
  for (const t of tests) c[t.verdict]++;
  return c;
}

/** Counts per tag and verdict, tags sorted; a test without a known tag counts under "(untagged)". */
export function summarizeTags(tests: readonly ReportTest[]): TagSummary[] {
  const byTag = new Map<string, TagSummary>();
  for (const t of tests) {
    for (const tag of t.tags.length ? t.tags : ['(untagged)']) {
      const row = byTag.get(tag) ?? { tag, passed: 0, failed: 0, skipped: 0, pending: 0 };
      row[t.verdict]++;
      byTag.set(tag, row);
    }
  }
  return [...byTag.values()].sort((a, b) => a.tag.localeCompare(b.tag));
}

export function runStatusOf(exitCode: number): RunStatus {
  if (exitCode === ExitCode.ok) return 'passed';
  if (exitCode === ExitCode.testsFailed) return 'failed';
  if (exitCode === ExitCode.nothingVerified) return 'nothing-verified';
  return 'error';
}

export function buildReport(i: ReportInput): ReportModel {
  const tests: ReportTest[] = i.results.map((r) => {
    const verdict = verdictOfResult(r);
    return {
      fullTitle: r.fullTitle,
      title: r.title,
      suite: r.suite,
      ...(r.file ? { file: r.file } : {}),
      verdict,
      durationMs: r.durationMs,
      tags: tagsOf(r.fullTitle),
      kind: r.kind ?? 'test',
      ...(verdict === 'failed' ? { message: r.message ?? '(no message)' } : {}),
      ...(verdict === 'skipped' ? { reason: r.reason ?? '(no reason given: a skip without a reason is a bug in the spec)' } : {}),
      ...(verdict === 'pending' ? { reason: r.reason ?? 'pending: declared without a body (not written yet)' } : {}),
    };
  });
  const caps = i.capabilities;
  return {
    schema: REPORT_SCHEMA,
    run: {
      id: i.runId,
      command: i.command,
      startedAt: new Date(i.startedAt).toISOString(),
      wallMs: i.wallMs,
      exitCode: i.verdict.exitCode,
      exitMeaning: exitCodeMeaning(i.verdict.exitCode),
      status: runStatusOf(i.verdict.exitCode),
      ...(i.verdict.sentence ? { sentence: i.verdict.sentence } : {}),
    },
    cluster: {
      server: i.cluster?.server ?? UNKNOWN,
      version: i.cluster?.version ?? UNKNOWN,
      cni: i.cluster?.cni ?? { name: UNKNOWN, evidence: 'not detected' },
      nodeAccess: caps?.nodeAccess ?? { mode: UNKNOWN, reason: i.capabilitiesMissing ?? 'no capability report' },
      nodes: caps?.nodes ?? [],
    },
    capabilities: caps ? { rows: caps.rows, probedInMs: caps.probedInMs } : { rows: [], missing: i.capabilitiesMissing ?? 'no capability report' },
    counts: { ...countVerdicts(tests), total: tests.length },
    tags: summarizeTags(tests),
    tests,
    notes: [...i.notes],
  };
}

export function renderReportJson(m: ReportModel): string {
  return JSON.stringify(m, null, 2) + '\n';
}

/** The report of a finished runMocha run (the same results, notes, verdict and times summary.json holds). */
export function reportOfRun(r: RunResult, ctx: Omit<ReportInput, 'results' | 'notes' | 'verdict' | 'startedAt' | 'wallMs'>): ReportModel {
  return buildReport({ ...ctx, results: r.results, notes: r.notes, verdict: r.verdict, startedAt: r.startedAt, wallMs: r.wallMs });
}

/**
 * The command line as the user typed it, best effort: `npm run e2e -- --report out` when npm ran the script
 * (npm_lifecycle_event/_script say which, and the script's own arguments are left out), else the script and
 * its arguments. argv: process.argv.
 */
export function commandLine(argv: readonly string[], env: Record<string, string | undefined> = {}): string {
  const [, script = 'sctp-e2e', ...args] = argv;
  const npmScript = env.npm_lifecycle_event;
  const own = (env.npm_lifecycle_script ?? '').split(/\s+/).filter(Boolean);
  const at = own.findIndex((w) => script.endsWith(w));
  const ownArgs = at >= 0 ? own.slice(at + 1) : undefined;
  if (npmScript && ownArgs?.every((w, i) => args[i] === w)) {
    const rest = args.slice(ownArgs.length);
    return `npm run ${npmScript}${rest.length ? ` -- ${rest.map(shq).join(' ')}` : ''}`;
  }
  return [script, ...args].map(shq).join(' ');
}
