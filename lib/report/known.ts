// Known results of a network plugin: which tests a given CNI/proxy fails on purpose-built evidence, and the
// checker that holds a run to them. A known-results file (YAML, schema sctp-e2e/known-results/v1, one per
// plugin, e.g. cluster/netpol/known-results/cilium-v1.15.19.yaml) names each expected failure by its exact
// full title, with regexes its failure message must all match, why, evidence and a link. checkKnown gives every
// test of a run one verdict; the run is ok only when every failure is known and matched and every known
// failure failed as described. Pure, except readKnownResults/readRunResults (one file read each).

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseJUnit } from '../../cluster/lab/junit.ts';
import type { ReportKnownTest, ReportModel } from './model.ts';

export const KNOWN_SCHEMA = 'sctp-e2e/known-results/v1';

export interface KnownCause {
  id: string;
  /** A few words for the verdict line: "Services with port ≠ targetPort". */
  summary: string;
  why: string;
  evidence: string[];
  /** The plugin's own documentation of the limitation. */
  link: string;
  /** An upstream issue, when there is a real one. */
  issue?: string;
}

export interface KnownFailure {
  title: string;
  cause: KnownCause;
  /** Why this test meets the cause, one sentence. */
  why: string;
  service?: { port: number; targetPort: number };
  /** Every one must match the failure message. */
  message: RegExp[];
}

export interface KnownResults {
  file: string;
  plugin: { name: string; version: string; config: string; cni?: string };
  /** "Cilium v1.15.19" */
  label: string;
  causes: KnownCause[];
  failures: KnownFailure[];
}

export class KnownResultsError extends Error {}

type Obj = Record<string, unknown>;

/** Parses and checks a known-results file; the error names the file and the first wrong field. */
export function parseKnownResults(text: string, file = 'known-results'): KnownResults {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new KnownResultsError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const bad = (field: string, what: string): never => {
    throw new KnownResultsError(`${file}: ${field} ${what}`);
  };
  const obj = (v: unknown, field: string): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : bad(field, 'must be a mapping'));
  const str = (v: unknown, field: string): string => (typeof v === 'string' && v.trim() ? v.trim() : bad(field, 'must be a non-empty string'));
  const opt = (v: unknown, field: string): string | undefined => (v === undefined ? undefined : str(v, field));
  const list = (v: unknown, field: string): unknown[] => (Array.isArray(v) && v.length ? v : bad(field, 'must be a non-empty list'));

  const top = obj(doc, '(top level)');
  if (top.schema !== KNOWN_SCHEMA) bad('schema', `must be ${KNOWN_SCHEMA} (got ${JSON.stringify(top.schema)})`);
  const p = obj(top.plugin, 'plugin');
  const cni = opt(p.cni, 'plugin.cni');
  const plugin = {
    name: str(p.name, 'plugin.name'),
    version: str(p.version, 'plugin.version'),
    config: str(p.config, 'plugin.config'),
    ...(cni ? { cni } : {}),
  };

  // a plugin that passes everything says so: `failures: []` (then `causes: {}` or none); its lane is held to no failure
  if (!Array.isArray(top.failures)) bad('failures', 'must be a list (`failures: []` for a plugin with no known failure)');
  const noFailures = (top.failures as unknown[]).length === 0;
  const causesObj = noFailures && top.causes === undefined ? {} : obj(top.causes, 'causes');
  const causes: KnownCause[] = Object.entries(causesObj).map(([id, v]) => {
    const c = obj(v, `causes.${id}`);
    const f = (k: string) => `causes.${id}.${k}`;
    const issue = opt(c.issue, f('issue'));
    const link = str(c.link, f('link'));
    if (!/^https?:\/\//.test(link)) bad(f('link'), `must be a URL (got ${JSON.stringify(link)})`);
    return {
      id,
      summary: str(c.summary, f('summary')),
      why: str(c.why, f('why')),
      evidence: list(c.evidence, f('evidence')).map((e, i) => str(e, `${f('evidence')}[${i}]`)),
      link,
      ...(issue ? { issue } : {}),
    };
  });
  if (!causes.length && !noFailures) bad('causes', 'must name at least one cause');
  if (causes.length && noFailures) bad('causes', 'names causes, but failures is empty: list the failures, or drop the causes');

  const seen = new Set<string>();
  const failures = (top.failures as unknown[]).map((v, i): KnownFailure => {
    const x = obj(v, `failures[${i}]`);
    const f = (k: string) => `failures[${i}].${k}`;
    const title = str(x.title, f('title'));
    if (seen.has(title)) bad(f('title'), `is listed twice: ${title}`);
    seen.add(title);
    const causeId = str(x.cause, f('cause'));
    const cause =
      causes.find((c) => c.id === causeId) ?? bad(f('cause'), `names no cause under causes: (got ${causeId}; known: ${causes.map((c) => c.id).join(', ')})`);
    const message = list(x.message, f('message')).map((r, j) => {
      const src = str(r, `${f('message')}[${j}]`);
      try {
        return new RegExp(src);
      } catch (e) {
        return bad(`${f('message')}[${j}]`, `is not a valid regex: ${(e as Error).message}`);
      }
    });
    let service: KnownFailure['service'];
    if (x.service !== undefined) {
      const s = obj(x.service, f('service'));
      if (!Number.isInteger(s.port) || !Number.isInteger(s.targetPort)) bad(f('service'), 'must be {port: N, targetPort: M}');
      service = { port: s.port as number, targetPort: s.targetPort as number };
    }
    return { title, cause, why: str(x.why, f('why')), ...(service ? { service } : {}), message };
  });
  return { file, plugin, label: `${plugin.name} ${plugin.version}`, causes, failures };
}

export function readKnownResults(path: string): KnownResults {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KnownResultsError(`cannot read known-results file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseKnownResults(text, path);
}

// ---- a run's results, from JUnit, summary.json or report.json ----

export interface RunCase {
  title: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** Failures: the whole message; skips: the reason. */
  message?: string;
}

export interface RunResults {
  source: string;
  format: 'junit' | 'summary.json' | 'report.json';
  cases: RunCase[];
  /** The CNI the report card recognised (report.json only). */
  cni?: string;
}

/** A JUnit case's whole text: the body when it repeats the message attribute (the reporter's form), else both. */
function junitText(message = '', body = ''): string {
  return body?.startsWith(message) ? body : [message, body].filter(Boolean).join('\n');
}

/** The results of a run from the text of its JUnit XML, summary.json or report.json (told apart by content). */
export function parseRunResults(text: string, source = 'results'): RunResults {
  if (/^\s*</.test(text)) {
    const cases = parseJUnit(text).map(
      (c): RunCase => ({ title: c.name, outcome: c.outcome, ...(c.outcome === 'passed' ? {} : { message: junitText(c.message, c.body) }) }),
    );
    return { source, format: 'junit', cases };
  }
  let j: Obj;
  try {
    j = JSON.parse(text) as Obj;
  } catch (e) {
    throw new KnownResultsError(`${source} is neither JUnit XML nor JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(j.tests) && typeof j.schema === 'string' && j.schema.startsWith('sctp-e2e/report/')) {
    const cases = (j.tests as Obj[]).map((t): RunCase => {
      const v = t.verdict as string;
      const outcome = v === 'passed' || v === 'failed' ? v : 'skipped';
      const message = (outcome === 'failed' ? t.message : t.reason) as string | undefined;
      return { title: String(t.fullTitle), outcome, ...(message !== undefined ? { message } : {}) };
    });
    const cni = ((j.cluster as Obj | undefined)?.cni as Obj | undefined)?.name;
    return { source, format: 'report.json', cases, ...(typeof cni === 'string' ? { cni } : {}) };
  }
  if (Array.isArray(j.results)) {
    const cases = (j.results as Obj[]).map((r): RunCase => {
      const outcome = r.outcome as RunCase['outcome'];
      const message = (outcome === 'failed' ? r.message : r.reason) as string | undefined;
      return { title: String(r.fullTitle), outcome, ...(message !== undefined ? { message } : {}) };
    });
    return { source, format: 'summary.json', cases };
  }
  throw new KnownResultsError(`${source}: JSON with neither "results" (summary.json) nor "tests" of a report (report.json)`);
}

export function readRunResults(path: string): RunResults {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KnownResultsError(`cannot read results ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRunResults(text, path);
}

// ---- the check ----

export const KNOWN_VERDICTS = {
  passed: 'passed',
  skipped: 'skipped',
  known: 'known failure (matches)',
  unexpected: 'UNEXPECTED failure',
  didNotFail: 'known failure did not fail (now passes? update the list)',
  differentMessage: 'known failure failed with a different message',
  missing: 'known failure missing from the run',
} as const;
export type KnownVerdict = (typeof KNOWN_VERDICTS)[keyof typeof KNOWN_VERDICTS];

export interface CheckRow {
  title: string;
  verdict: KnownVerdict;
  ok: boolean;
  known?: KnownFailure;
  /** What went wrong, or the skip reason: one line. */
  detail?: string;
}

export interface CheckResult {
  plugin: string;
  file: string;
  rows: CheckRow[];
  ok: boolean;
  counts: Record<'passed' | 'skipped' | 'known' | 'unexpected' | 'didNotFail' | 'differentMessage' | 'missing', number>;
  /** Problems not tied to one test (the run's CNI is not this file's plugin). */
  problems: string[];
  /** "Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped" */
  line: string;
}

const firstLine = (s = '') =>
  s
    .split('\n')
    .find((l) => l.trim())
    ?.trim()
    .slice(0, 300) ?? '';
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One verdict per test of the run, then one row per known failure the run does not hold. */
export function checkKnown(run: RunResults, known: KnownResults): CheckResult {
  const byTitle = new Map(known.failures.map((k) => [k.title, k]));
  const rows: CheckRow[] = run.cases.map((c): CheckRow => {
    const k = byTitle.get(c.title);
    if (!k) {
      if (c.outcome === 'failed') return { title: c.title, verdict: KNOWN_VERDICTS.unexpected, ok: false, detail: firstLine(c.message) };
      return {
        title: c.title,
        verdict: c.outcome === 'passed' ? KNOWN_VERDICTS.passed : KNOWN_VERDICTS.skipped,
        ok: true,
        ...(c.outcome === 'skipped' ? { detail: firstLine(c.message) } : {}),
      };
    }
    if (c.outcome !== 'failed') {
      return {
        title: c.title,
        verdict: KNOWN_VERDICTS.didNotFail,
        ok: false,
        known: k,
        detail: c.outcome === 'passed' ? 'it passed' : `it was skipped: ${firstLine(c.message)}`,
      };
    }
    const text = c.message ?? '';
    const unmatched = k.message.filter((r) => !r.test(text));
    if (unmatched.length) {
      return {
        title: c.title,
        verdict: KNOWN_VERDICTS.differentMessage,
        ok: false,
        known: k,
        detail: `did not match ${unmatched.map((r) => `/${r.source}/`).join(', ')}; message: ${firstLine(text)}`,
      };
    }
    return {
      title: c.title,
      verdict: KNOWN_VERDICTS.known,
      ok: true,
      known: k,
      detail: `${k.cause.summary}${k.service ? ` (Service port ${k.service.port} -> targetPort ${k.service.targetPort})` : ''}`,
    };
  });
  const inRun = new Set(run.cases.map((c) => c.title));
  for (const k of known.failures) {
    if (!inRun.has(k.title))
      rows.push({
        title: k.title,
        verdict: KNOWN_VERDICTS.missing,
        ok: false,
        known: k,
        detail: `${run.source} has no test with this exact title (renamed? not selected?)`,
      });
  }
  const n = (v: KnownVerdict) => rows.filter((r) => r.verdict === v).length;
  const counts = {
    passed: n(KNOWN_VERDICTS.passed),
    skipped: n(KNOWN_VERDICTS.skipped),
    known: n(KNOWN_VERDICTS.known),
    unexpected: n(KNOWN_VERDICTS.unexpected),
    didNotFail: n(KNOWN_VERDICTS.didNotFail),
    differentMessage: n(KNOWN_VERDICTS.differentMessage),
    missing: n(KNOWN_VERDICTS.missing),
  };
  const problems: string[] = [];
  if (known.plugin.cni && run.cni !== undefined && !new RegExp(known.plugin.cni, 'i').test(run.cni)) {
    problems.push(`the run's CNI is "${run.cni}", but ${known.file} is for ${known.label} (plugin.cni /${known.plugin.cni}/i)`);
  }
  const summaries = [...new Set(rows.filter((r) => r.verdict === KNOWN_VERDICTS.known).map((r) => r.known!.cause.summary))];
  const parts = [
    `${counts.passed} passed`,
    `${plural(counts.known, 'known failure')}${summaries.length ? ` (${summaries.join('; ')})` : ''}`,
    `${counts.unexpected} unexpected`,
    ...(counts.didNotFail ? [`${plural(counts.didNotFail, 'known failure')} did not fail`] : []),
    ...(counts.differentMessage ? [`${plural(counts.differentMessage, 'known failure')} failed with a different message`] : []),
    ...(counts.missing ? [`${plural(counts.missing, 'known failure')} missing from the run`] : []),
    ...(counts.skipped ? [`${counts.skipped} skipped`] : []),
  ];
  const ok = rows.every((r) => r.ok) && problems.length === 0;
  return { plugin: known.label, file: known.file, rows, ok, counts, problems, line: `${known.label}: ${parts.join(', ')}` };
}

/** The table the checker prints: one row per test (verdict, title), a └ line with the detail where there is one. */
export function renderCheckTable(r: CheckResult): string {
  const w = Math.max(...Object.values(KNOWN_VERDICTS).map((v) => v.length));
  const lines = [`Known results of ${r.plugin} (${r.file})`, `${'verdict'.padEnd(w)}  test`, '-'.repeat(w + 2 + 60)];
  for (const row of r.rows) {
    lines.push(`${row.verdict.padEnd(w)}  ${row.title}`);
    if (row.detail && row.verdict !== KNOWN_VERDICTS.skipped) lines.push(`${' '.repeat(w)}  └ ${row.detail}`);
  }
  lines.push('-'.repeat(w + 2 + 60));
  for (const p of r.problems) lines.push(`! ${p}`);
  lines.push(
    r.line,
    r.ok
      ? 'ok: every failure is known and matched, every known failure failed as described'
      : 'NOT OK: see the rows above that are not "passed", "skipped" or "known failure (matches)"',
  );
  return lines.join('\n');
}

// ---- the report card ----

const REPORT_VERDICT: Partial<Record<KnownVerdict, ReportKnownTest['verdict']>> = {
  [KNOWN_VERDICTS.known]: 'matches',
  [KNOWN_VERDICTS.differentMessage]: 'different message',
  [KNOWN_VERDICTS.didNotFail]: 'did not fail',
};

/** The report card with the check in it: each listed test marked, and the per-plugin verdict (model.known). */
export function withKnownResults(m: ReportModel, r: CheckResult, known: KnownResults): ReportModel {
  const byTitle = new Map(r.rows.filter((x) => x.known).map((x) => [x.title, x]));
  const tests = m.tests.map((t) => {
    const row = byTitle.get(t.fullTitle);
    const verdict = row && REPORT_VERDICT[row.verdict];
    if (!row || !verdict) return t;
    const k = row.known!;
    const entry: ReportKnownTest = {
      plugin: known.label,
      verdict,
      cause: k.cause.summary,
      why: k.why,
      causeWhy: k.cause.why,
      evidence: k.cause.evidence,
      link: k.cause.link,
      ...(k.cause.issue ? { issue: k.cause.issue } : {}),
      ...(verdict === 'matches' ? {} : { detail: row.detail ?? '' }),
    };
    return { ...t, known: entry };
  });
  return {
    ...m,
    tests,
    known: {
      plugin: known.label,
      config: known.plugin.config,
      file: known.file,
      ok: r.ok,
      line: r.line,
      counts: r.counts,
      missing: r.rows.filter((x) => x.verdict === KNOWN_VERDICTS.missing).map((x) => x.title),
      problems: r.problems,
    },
  };
}
