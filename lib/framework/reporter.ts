// The suite's reporter: progress lines, a one-screen summary (pass/fail/skip by tag, each skip with its
// reason), JUnit XML, and a closing line "N passed, N failed, N skipped".

import Mocha from 'mocha';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tagsOf } from './tags.ts';
import { formatDuration } from './timeouts.ts';

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
}

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_TEST_BEGIN } = Mocha.Runner.constants;

export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderJUnit(results: Result[], name = 'sctp-e2e'): string {
  const bySuite = new Map<string, Result[]>();
  for (const r of results) {
    const list = bySuite.get(r.suite) ?? [];
    list.push(r);
    bySuite.set(r.suite, list);
  }
  const count = (rs: Result[], o: Outcome) => rs.filter((r) => r.outcome === o).length;
  const secs = (rs: Result[]) => (rs.reduce((n, r) => n + r.durationMs, 0) / 1000).toFixed(3);
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${xmlEscape(name)}" tests="${results.length}" failures="${count(results, 'failed')}" skipped="${count(results, 'skipped')}" time="${secs(results)}">`];
  for (const [suite, rs] of bySuite) {
    out.push(`  <testsuite name="${xmlEscape(suite)}" tests="${rs.length}" failures="${count(rs, 'failed')}" skipped="${count(rs, 'skipped')}" time="${secs(rs)}">`);
    for (const r of rs) {
      const open = `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(r.fullTitle)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
      if (r.outcome === 'passed') out.push(`${open}/>`);
      else if (r.outcome === 'skipped') out.push(`${open}>\n      <skipped message="${xmlEscape(r.reason ?? 'skipped')}"/>\n    </testcase>`);
      else out.push(`${open}>\n      <failure message="${xmlEscape((r.message ?? '').split('\n')[0] ?? '')}">${xmlEscape(r.message ?? '')}</failure>\n    </testcase>`);
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** The one-screen summary. */
export function renderSummary(results: Result[], wallMs: number): string {
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
  for (const [t, c] of [...tags].sort()) lines.push(`  ${t.padEnd(w)}  ${String(c.passed).padStart(6)}  ${String(c.failed).padStart(6)}  ${String(c.skipped).padStart(7)}`);
  const skipped = results.filter((r) => r.outcome === 'skipped');
  if (skipped.length) {
    lines.push('', 'Skipped:');
    for (const r of skipped) lines.push(`  - ${r.fullTitle}\n      reason: ${r.reason ?? '(no reason given: a skip without a reason is a bug in the spec)'}`);
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length) {
    lines.push('', 'Failed:');
    for (const r of failed) {
      const msg = (r.message ?? '').split('\n');
      lines.push(`  - ${r.fullTitle}`, ...msg.slice(0, 12).map((l) => `      ${l}`), ...(msg.length > 12 ? [`      … (${msg.length - 12} more lines in the JUnit report)`] : []));
    }
  }
  const n = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  lines.push('='.repeat(72), `${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`);
  return lines.join('\n');
}

function topSuite(t: Mocha.Runnable): string {
  let s: Mocha.Suite | undefined = t.parent;
  let top = s?.title ?? '';
  while (s && s.parent && !s.parent.root) s = s.parent;
  top = s?.title || top;
  return top || '(root)';
}

export interface ReporterOptions {
  junit?: string;
  suiteName?: string;
}

export class SuiteReporter extends Mocha.reporters.Base {
  /** The instance of the latest run (mocha does not hand the reporter back to the caller). */
  static last: SuiteReporter | undefined;
  readonly results: Result[] = [];
  constructor(runner: Mocha.Runner, options: { reporterOptions?: ReporterOptions } = {}) {
    super(runner, options as Mocha.MochaOptions);
    SuiteReporter.last = this;
    const ro = options.reporterOptions ?? {};
    const started = Date.now();
    let testStart = Date.now();
    let depth = 0;
    const out = (s: string) => process.stdout.write(s + '\n');
    runner.on(EVENT_SUITE_BEGIN, (s: Mocha.Suite) => {
      if (s.root) return;
      depth = s.titlePath().length;
      out(`${'  '.repeat(depth - 1)}${s.title}`);
    });
    runner.on(EVENT_TEST_BEGIN, () => { testStart = Date.now(); });
    const add = (t: Mocha.Runnable, outcome: Outcome, extra: Partial<Result> = {}) => {
      this.results.push({
        title: t.title,
        fullTitle: t.fullTitle(),
        suite: topSuite(t),
        file: t.file,
        outcome,
        durationMs: outcome === 'skipped' ? 0 : (t.duration ?? Date.now() - testStart),
        ...extra,
      });
    };
    runner.on(EVENT_TEST_PASS, (t: Mocha.Test) => {
      add(t, 'passed');
      out(`${'  '.repeat(depth)}✓ ${t.title} (${formatDuration(t.duration ?? 0)})`);
    });
    runner.on(EVENT_TEST_FAIL, (t: Mocha.Runnable, err: Error) => {
      const message = err?.message ?? String(err);
      if ((t as { type?: string }).type === 'hook') {
        // a failed hook fails the tests it guards: report them all, with the hook's error
        const tests = (t.parent?.tests ?? []).filter((x) => !this.results.some((r) => r.fullTitle === x.fullTitle()));
        const hookTitle = t.title.replace(/^"(.*)" hook.*$/, '$1 hook');
        for (const x of tests.length ? tests : [t]) {
          add(x, 'failed', { message: `${hookTitle} failed: ${message}` });
          out(`${'  '.repeat(depth)}✗ ${x.title}\n${indentBlock(`${hookTitle} failed: ${message}`, depth + 2)}`);
        }
        return;
      }
      add(t, 'failed', { message });
      out(`${'  '.repeat(depth)}✗ ${t.title}\n${indentBlock(message, depth + 2)}`);
    });
    runner.on(EVENT_TEST_PENDING, (t: Mocha.Test & { skipReason?: string }) => {
      add(t, 'skipped', { reason: t.skipReason });
      out(`${'  '.repeat(depth)}- ${t.title}  SKIPPED${t.skipReason ? `: ${t.skipReason}` : ''}`);
    });
    runner.once(EVENT_RUN_END, () => {
      out(renderSummary(this.results, Date.now() - started));
      if (ro.junit) {
        mkdirSync(dirname(ro.junit), { recursive: true });
        writeFileSync(ro.junit, renderJUnit(this.results, ro.suiteName));
        out(`JUnit: ${ro.junit}`);
      }
    });
  }
}

function indentBlock(s: string, depth: number): string {
  return s.split('\n').slice(0, 40).map((l) => '  '.repeat(depth) + l).join('\n');
}
