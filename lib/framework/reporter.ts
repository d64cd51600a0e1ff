// The suite's reporter: progress lines, a one-screen summary (pass/fail/skip by tag, each skip with its
// reason, the run notes grouped by topic), JUnit XML, and a closing line "N passed, N failed, N skipped";
// verdictOf() turns the results into the exit code (a run that verified nothing is not green).
//
// Run notes in JUnit: one extra <testsuite name="run notes" tests="0"> (so the file stays valid for the
// usual JUnit schema, which allows properties only there) holding
//   <properties><property name="note:<topic>" value="[warning: ]<text>"/>…</properties>
// and the same notes as text in its <system-out>.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Mocha from 'mocha';
import { formatDuration } from './duration.ts';
import { ExitCode } from './errors.ts';
import { type RunNote, runNotes } from './run-notes.ts';
import { isSkip, skipReasonOf } from './skip.ts';
import { tagsOf } from './tags.ts';

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface Result {
  title: string;
  fullTitle: string;
  suite: string;
  file?: string;
  outcome: Outcome;
  durationMs: number;
  message?: string;
  reason?: string;
  /** 'phase-check': a run-level check (end of the basic phase), not a test of the selection. */
  kind?: 'test' | 'phase-check';
  /** A skipped test declared without a body (it('title') / it.skip): not written yet, rather than skipped by the cluster. */
  pending?: true;
}

/** Set by the runner on the hook that runs a phase-end check. */
export interface PhaseEndMarker {
  title: string;
  /** The JUnit testsuite / summary group, e.g. "[Feature:SCTP] basic phase". */
  suite: string;
  /** The reason, when the check raised a skip. */
  skipped?: string;
}

export interface Verdict {
  exitCode: number;
  /** One sentence when the run is not green. */
  sentence?: string;
}

/**
 * Failures first (exit 1); then a run that verified nothing (no test ran, or every selected test skipped) is
 * not green (exit 8); else 0. Phase-end checks count as failures but not as verified tests.
 */
export function verdictOf(results: readonly Result[], failures = 0): Verdict {
  const failed = results.filter((r) => r.outcome === 'failed').length;
  const tests = results.filter((r) => r.kind !== 'phase-check');
  if (failed || failures) {
    return { exitCode: ExitCode.testsFailed, sentence: `${Math.max(failed, failures)} of ${results.length} results failed (see Failed: above)` };
  }
  if (tests.length === 0) {
    return { exitCode: ExitCode.nothingVerified, sentence: 'no test ran: the selection matched no test, so nothing was verified' };
  }
  if (tests.every((r) => r.outcome === 'skipped')) {
    return {
      exitCode: ExitCode.nothingVerified,
      sentence: `every one of the ${tests.length} selected tests skipped, so nothing was verified (reasons under Skipped: above)`,
    };
  }
  return { exitCode: ExitCode.ok };
}

/** Notes grouped by topic, in first-seen order; warnings marked "!". */
export function renderRunNotes(notes: readonly RunNote[]): string[] {
  if (!notes.length) return [];
  const byTopic = new Map<string, RunNote[]>();
  for (const n of notes) byTopic.set(n.topic, [...(byTopic.get(n.topic) ?? []), n]);
  const lines = ['Run notes:'];
  for (const [topic, ns] of byTopic) {
    lines.push(`  ${topic}`);
    for (const n of ns) lines.push(`    ${n.level === 'warning' ? '! warning: ' : '- '}${n.text}`);
  }
  return lines;
}

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_TEST_BEGIN, EVENT_HOOK_END } = Mocha.Runner.constants;

function allTests(s: Mocha.Suite): Mocha.Test[] {
  return [...s.tests, ...s.suites.flatMap(allTests)];
}

export function xmlEscape(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these control characters; removing them is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}

export function renderJUnit(results: Result[], name = 'sctp-e2e', notes: readonly RunNote[] = []): string {
  const bySuite = new Map<string, Result[]>();
  for (const r of results) {
    const list = bySuite.get(r.suite) ?? [];
    list.push(r);
    bySuite.set(r.suite, list);
  }
  const count = (rs: Result[], o: Outcome) => rs.filter((r) => r.outcome === o).length;
  const secs = (rs: Result[]) => (rs.reduce((n, r) => n + r.durationMs, 0) / 1000).toFixed(3);
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${xmlEscape(name)}" tests="${results.length}" failures="${count(results, 'failed')}" skipped="${count(results, 'skipped')}" time="${secs(results)}">`,
  ];
  for (const [suite, rs] of bySuite) {
    out.push(
      `  <testsuite name="${xmlEscape(suite)}" tests="${rs.length}" failures="${count(rs, 'failed')}" skipped="${count(rs, 'skipped')}" time="${secs(rs)}">`,
    );
    for (const r of rs) {
      const open = `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(r.fullTitle)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
      if (r.outcome === 'passed') out.push(`${open}/>`);
      else if (r.outcome === 'skipped') out.push(`${open}>\n      <skipped message="${xmlEscape(r.reason ?? 'skipped')}"/>\n    </testcase>`);
      else
        out.push(
          `${open}>\n      <failure message="${xmlEscape((r.message ?? '').split('\n')[0] ?? '')}">${xmlEscape(r.message ?? '')}</failure>\n    </testcase>`,
        );
    }
    out.push('  </testsuite>');
  }
  if (notes.length) {
    out.push('  <testsuite name="run notes" tests="0" failures="0" skipped="0" time="0.000">', '    <properties>');
    for (const n of notes)
      out.push(`      <property name="${xmlEscape(`note:${n.topic}`)}" value="${xmlEscape(`${n.level === 'warning' ? 'warning: ' : ''}${n.text}`)}"/>`);
    out.push('    </properties>', `    <system-out>${xmlEscape(renderRunNotes(notes).join('\n'))}</system-out>`, '  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** The one-screen summary. */
export function renderSummary(results: Result[], wallMs: number, notes: readonly RunNote[] = []): string {
  const lines: string[] = [];
  const tags = new Map<string, Record<Outcome, number>>();
  for (const r of results) {
    const ts = tagsOf(r.fullTitle);
    for (const t of ts.length ? ts : ['(untagged)']) {
      const row = tags.get(t) ?? { passed: 0, failed: 0, skipped: 0 };
      row[r.outcome]++;
      tags.set(t, row);
    }
  }
  const w = Math.max(12, ...[...tags.keys()].map((k) => k.length));
  lines.push('', '='.repeat(72), `Summary (${formatDuration(wallMs)})`);
  lines.push(`  ${'tag'.padEnd(w)}  passed  failed  skipped`);
  for (const [t, c] of [...tags].sort())
    lines.push(`  ${t.padEnd(w)}  ${String(c.passed).padStart(6)}  ${String(c.failed).padStart(6)}  ${String(c.skipped).padStart(7)}`);
  const skipped = results.filter((r) => r.outcome === 'skipped');
  if (skipped.length) {
    const { reasons, evidence } = groupSkipEvidence(skipped.map((r) => r.reason ?? '(no reason given: a skip without a reason is a bug in the spec)'));
    lines.push('', 'Skipped:');
    for (const [i, r] of skipped.entries())
      lines.push(`  - ${r.fullTitle}`, ...reasons[i]!.split('\n').map((l, j) => (j ? `      ${l}` : `      reason: ${l}`)));
    if (evidence.length) {
      lines.push('', 'Skip evidence (each block once; the reasons above refer to it):');
      for (const [i, e] of evidence.entries()) {
        lines.push(`  [E${i + 1}]${e.includes('\n') ? '' : ` ${e}`}`, ...(e.includes('\n') ? e.split('\n').map((l) => `      ${l}`) : []));
      }
    }
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length) {
    lines.push('', 'Failed:');
    for (const r of failed) {
      const msg = (r.message ?? '').split('\n');
      lines.push(
        `  - ${r.fullTitle}`,
        ...msg.slice(0, 12).map((l) => `      ${l}`),
        ...(msg.length > 12 ? [`      … (${msg.length - 12} more lines in the JUnit report)`] : []),
      );
    }
  }
  if (notes.length) lines.push('', ...renderRunNotes(notes));
  const n = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  lines.push('='.repeat(72), `${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`);
  return lines.join('\n');
}

const CAPABILITY_SUFFIX = / \(capability "[^"]+" missing; --require \S+ makes this a failure\)$/;

/**
 * Skip reasons for the summary with the evidence shared by several skips printed once: a reason is a headline
 * plus evidence (the lines after the first, or what follows the first ": " of a one-line reason) and maybe the
 * capability suffix; evidence that two or more skips carry becomes "[En]" in each of them. A reason whose
 * evidence no other skip shares stays whole. JUnit and summary.json keep the full reasons (a case stands alone).
 */
export function groupSkipEvidence(reasons: readonly string[]): { reasons: string[]; evidence: string[] } {
  const parts = reasons.map((reason) => {
    const suffix = CAPABILITY_SUFFIX.exec(reason)?.[0] ?? '';
    const body = suffix ? reason.slice(0, -suffix.length) : reason;
    const nl = body.indexOf('\n');
    if (nl >= 0)
      return {
        head: body.slice(0, nl),
        evidence: body
          .slice(nl + 1)
          .split('\n')
          .map((l) => l.trim())
          .join('\n'),
        suffix,
      };
    const colon = body.indexOf(': ');
    return colon > 0 ? { head: body.slice(0, colon + 1), evidence: body.slice(colon + 2), suffix } : { head: body, evidence: '', suffix };
  });
  const count = new Map<string, number>();
  for (const p of parts) if (p.evidence) count.set(p.evidence, (count.get(p.evidence) ?? 0) + 1);
  const evidence: string[] = [];
  const grouped = parts.map((p, i) => {
    if (!p.evidence || count.get(p.evidence)! < 2) return reasons[i]!;
    let n = evidence.indexOf(p.evidence);
    if (n < 0) n = evidence.push(p.evidence) - 1;
    return `${p.head} [E${n + 1}]${p.suffix}`;
  });
  return { reasons: grouped, evidence };
}

function topSuite(t: Mocha.Runnable): string {
  let s: Mocha.Suite | undefined = t.parent;
  let top = s?.title ?? '';
  while (s?.parent && !s.parent.root) s = s.parent;
  top = s?.title || top;
  return top || '(root)';
}

export interface ReporterOptions {
  junit?: string;
  suiteName?: string;
  /** One path or several (e.g. artifacts/<run>/summary.json and $ARTIFACTS/sctp-e2e-summary.json). */
  summaryJson?: string | string[];
  /** Called with each result as it is recorded (the runner's progress sinks, lib/framework/progress.ts). */
  onResult?: (r: Result) => void;
  /**
   * How many tests the selection holds (set by the runner once the files are loaded): each test's line then
   * ends with its position, the run's elapsed time and an estimate of the time left, e.g. `[12/39 · 2m5s · ETA ~3m]`.
   */
  selection?: { total: number };
}

/**
 * `[n/total · elapsed · ETA ~left]`: the time left is the mean time per finished test so far times the tests
 * left (no estimate before the first test, none once the last one ended).
 */
export function progressTag(done: number, total: number, elapsedMs: number): string {
  const parts = [`${done}/${total}`, formatDuration(elapsedMs)];
  const left = total - done;
  if (done > 0 && left > 0) parts.push(`ETA ~${formatDuration(Math.round((elapsedMs / done) * left))}`);
  return `[${parts.join(' · ')}]`;
}

export class SuiteReporter extends Mocha.reporters.Base {
  /** The instance of the latest run (mocha does not hand the reporter back to the caller). */
  static last: SuiteReporter | undefined;
  readonly results: Result[] = [];
  verdict: Verdict | undefined;
  /** When the run started (the reporter's construction) and how long it took (set at the end of the run). */
  readonly startedAt = new Date();
  wallMs = 0;
  constructor(runner: Mocha.Runner, options: { reporterOptions?: ReporterOptions } = {}) {
    super(runner, options as Mocha.MochaOptions);
    SuiteReporter.last = this;
    const ro = options.reporterOptions ?? {};
    const started = this.startedAt.getTime();
    let testStart = Date.now();
    let depth = 0;
    const out = (s: string) => process.stdout.write(s + '\n');
    let finished = 0;
    /** The position/elapsed/ETA suffix of a test's line (nothing when the runner did not give the selection). */
    const tag = () => {
      finished++;
      const total = ro.selection?.total ?? 0;
      return total > 0 ? `  ${progressTag(finished, Math.max(total, finished), Date.now() - started)}` : '';
    };
    runner.on(EVENT_SUITE_BEGIN, (s: Mocha.Suite) => {
      if (s.root) return;
      depth = s.titlePath().length;
      out(`${'  '.repeat(depth - 1)}${s.title}`);
    });
    runner.on(EVENT_TEST_BEGIN, () => {
      testStart = Date.now();
    });
    const add = (t: Mocha.Runnable, outcome: Outcome, extra: Partial<Result> = {}) => {
      const n = this.results.push({
        title: t.title,
        fullTitle: t.fullTitle(),
        suite: topSuite(t),
        file: t.file,
        outcome,
        durationMs: outcome === 'skipped' ? 0 : (t.duration ?? Date.now() - testStart),
        ...extra,
      });
      ro.onResult?.(this.results[n - 1]!);
    };
    runner.on(EVENT_TEST_PASS, (t: Mocha.Test) => {
      add(t, 'passed');
      out(`${'  '.repeat(depth)}✓ ${t.title} (${formatDuration(t.duration ?? 0)})${tag()}`);
    });
    const phaseCheck = (t: Mocha.Runnable, outcome: Outcome, extra: Partial<Result>) => {
      const pe = (t as { phaseEnd?: PhaseEndMarker }).phaseEnd!;
      add(t, outcome, { title: pe.title, fullTitle: pe.title, suite: pe.suite, kind: 'phase-check', ...extra });
      const mark = outcome === 'passed' ? '✓' : outcome === 'failed' ? '✗' : '-';
      out(`${mark} ${pe.title}${extra.reason ? `  SKIPPED: ${extra.reason}` : ''}${extra.message ? `\n${indentBlock(extra.message, 2)}` : ''}`);
    };
    runner.on(EVENT_HOOK_END, (h: Mocha.Hook & { phaseEnd?: PhaseEndMarker }) => {
      if (!h.phaseEnd) return;
      if (h.phaseEnd.skipped) phaseCheck(h, 'skipped', { reason: h.phaseEnd.skipped });
      else phaseCheck(h, 'passed', {});
    });
    runner.on(EVENT_TEST_FAIL, (t: Mocha.Runnable, err: Error) => {
      const message = err?.message ?? String(err);
      if ((t as { type?: string }).type === 'hook') {
        if ((t as { phaseEnd?: PhaseEndMarker }).phaseEnd) return phaseCheck(t, 'failed', { message });
        // a failed hook fails the tests it guards (nested describes too): report them all, with the hook's error
        const guarded = /^"before all" hook/.test(t.title) && t.parent ? allTests(t.parent) : (t.parent?.tests ?? []);
        const tests = guarded.filter((x) => !this.results.some((r) => r.fullTitle === x.fullTitle()));
        // `"before all" hook` → before all hook; a named one (`"before all" hook: NAME for "t"`) keeps its NAME
        const hm = t.title.match(/^"(.*?)" hook(?:: (.*?))?(?: for ".*")?$/);
        const hookTitle = hm ? `${hm[1]} hook${hm[2] ? ` "${hm[2]}"` : ''}` : t.title;
        const outcome: Outcome = isSkip(err) ? 'skipped' : 'failed';
        for (const x of tests.length ? tests : [t]) {
          if (outcome === 'skipped') add(x, 'skipped', { reason: isSkip(err) ? err.reason : message });
          else add(x, 'failed', { message: `${hookTitle} failed: ${message}` });
          out(
            `${'  '.repeat(depth)}${outcome === 'skipped' ? '-' : '✗'} ${x.title}${tests.length ? tag() : ''}\n${indentBlock(`${hookTitle} ${outcome === 'skipped' ? 'skipped' : 'failed'}: ${message}`, depth + 2)}`,
          );
        }
        return;
      }
      add(t, 'failed', { message });
      out(`${'  '.repeat(depth)}✗ ${t.title}${tag()}\n${indentBlock(message, depth + 2)}`);
    });
    runner.on(EVENT_TEST_PENDING, (t: Mocha.Test) => {
      const reason = skipReasonOf(t);
      add(t, 'skipped', { reason, ...(t.fn ? {} : { pending: true as const }) });
      out(`${'  '.repeat(depth)}- ${t.title}${tag()}  SKIPPED${reason ? `: ${reason}` : ''}`);
    });
    runner.once(EVENT_RUN_END, () => {
      const notes = runNotes();
      this.verdict = verdictOf(this.results, runner.failures);
      this.wallMs = Date.now() - started;
      out(renderSummary(this.results, this.wallMs, notes));
      if (ro.junit) {
        mkdirSync(dirname(ro.junit), { recursive: true });
        writeFileSync(ro.junit, renderJUnit(this.results, ro.suiteName, notes));
        out(`JUnit: ${ro.junit}`);
      }
      for (const path of [ro.summaryJson ?? []].flat()) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(
          path,
          JSON.stringify({ startedAt: this.startedAt.toISOString(), wallMs: this.wallMs, results: this.results, notes, verdict: this.verdict }, null, 2) + '\n',
        );
      }
    });
  }
}

function indentBlock(s: string, depth: number): string {
  return s
    .split('\n')
    .slice(0, 40)
    .map((l) => '  '.repeat(depth) + l)
    .join('\n');
}
