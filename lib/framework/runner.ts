// Runs mocha in-process with the suite's reporter. Used by bin/self-test.ts and bin/sctp-e2e.ts.
//
// Phases (RunOptions.phases, on for e2e runs): the [Feature:SCTP] basic tests send no SCTP and check that
// sctp.ko is not loaded by any of them, so they must run before anything that sends SCTP
// ([Feature:SCTPConnectivity]), whatever the selection and whatever the file names. The order is explicit:
// files by folder (suites/sctp/ before anything else before suites/sctp-connectivity/), then, after loading,
// the top-level describes by the tags of their selected tests (basic, untagged, connectivity; stable within
// a phase). When a selection holds both phases the runner prints one line saying so.
//
// End of the basic phase: registerPhaseEnd('basic', what, fn) (re-exported by framework.ts) registers a
// run-level check that the runner executes once, after the last selected basic test (as an `after` hook of
// the last basic top-level describe, i.e. after its cleanup) and before the first connectivity test. Call it
// at module level of lib code or in a describe body (registrations are de-duplicated by `what`):
//
//   registerPhaseEnd('basic', 'sctp.ko module check', async () => { ...throw new Error(evidence) on a violation });
//
// A throw is a failed result named "[Feature:SCTP] basic phase: sctp.ko module check at end of phase" in the
// summary and JUnit, counted in the failures; a SkipError (e.g. no node access) is a skipped result with its
// reason plus a warning run note. With no basic test selected the checks do not run. Only runs through
// runMocha execute them (a plain `mocha` run of one spec does not). The check runs after the last basic
// describe's own cleanup (and after the shared runCleanup of framework.ts ran): whatever it creates (node
// access, host pods) it must clean itself, e.g. `await runCleanup.run(log)` at its end.
//
// A late group (RunOptions.late, used by the embedded lab): the top-level describes whose selected tests
// carry one tag (e.g. [Feature:NetworkPolicy]) run after everything else, and `setup` runs once before the
// first of them (a `before all` hook of each: if it fails, every test of the group fails with its message);
// `teardown` runs once after the last. The lab uses it to bring up a NetworkPolicy implementation whose
// datapath would change the other tests' pods. The basic-phase check still runs after the last basic describe
// that is not in the group (a late basic test sends no SCTP either, but is not covered by that check).

import { globSync } from 'node:fs';
import Mocha from 'mocha';
import { progressFromEnv } from './progress.ts';
import { type PhaseEndMarker, SuiteReporter, type Verdict, verdictOf } from './reporter.ts';
import { addRunNote, type RunNote, runNotes } from './run-notes.ts';
import { convertSkips, handlesOwnSkips, isSkip } from './skip.ts';
import { Tag, tagsOf } from './tags.ts';

export interface RunOptions {
  patterns: string[];
  grep?: string;
  invert?: boolean;
  timeout: number;
  junit?: string;
  /** Also write the results, run notes and verdict as JSON here (each path of a list gets the same file). */
  summaryJson?: string | string[];
  suiteName: string;
  bail?: boolean;
  /** Order by phase, print the phase line, run the registered phase-end checks (e2e runs). */
  phases?: boolean;
  /** Run the describes with this tag last, with a setup before them and a teardown after (see the header). */
  late?: LateGroup;
}

export interface LateGroup {
  tag: string;
  /** What the setup does, for the phase line and the hook's title ("bring up Cilium"). */
  what: string;
  setup: () => Promise<void>;
  teardown?: () => Promise<void>;
  /** Deadline of the setup and of the teardown hook (default 10 minutes). */
  timeoutMs?: number;
}

export type Phase = 'basic' | 'other' | 'connectivity';
const RANK: Record<Phase, number> = { basic: 0, other: 1, connectivity: 2 };

/** A test's phase from its tags: [Feature:SCTPConnectivity] wins over [Feature:SCTP]. */
export function phaseOfTitle(fullTitle: string): Phase {
  const tags = tagsOf(fullTitle);
  if (tags.includes(Tag.SCTPConnectivity)) return 'connectivity';
  if (tags.includes(Tag.SCTP)) return 'basic';
  return 'other';
}

/** A spec file's phase from its folder: suites/sctp/ basic, suites/sctp-connectivity/ connectivity. */
export function phaseOfFile(path: string): Phase {
  const dirs = path.split(/[\\/]/).slice(0, -1);
  if (dirs.includes('sctp-connectivity')) return 'connectivity';
  if (dirs.includes('sctp')) return 'basic';
  return 'other';
}

/** Basic files first, connectivity files last, alphabetical within a phase. */
export function orderFiles(files: string[]): string[] {
  return [...files].sort().sort((a, b) => RANK[phaseOfFile(a)] - RANK[phaseOfFile(b)]);
}

export function expandPatterns(patterns: string[]): string[] {
  const files = new Set<string>();
  for (const p of patterns) for (const f of globSync(p, { exclude: (n) => n.includes('node_modules') })) files.add(f);
  return orderFiles([...files]);
}

function allTests(s: Mocha.Suite): Mocha.Test[] {
  return [...s.tests, ...s.suites.flatMap(allTests)];
}

export interface PhasePlan {
  /** Selected tests per phase (each test by its own tags). */
  counts: Record<Phase, number>;
  /** The top-level describe after which the basic phase ends (the last one with a selected basic test). */
  lastBasic?: Mocha.Suite;
  /** "phase 1: … before phase 2: …", when the selection holds both phases. */
  line?: string;
  /** The top-level describes of the late group, in run order (empty without one). */
  late: Mocha.Suite[];
}

/**
 * Reorders root.suites in place, stably: basic, untagged, connectivity. A describe's phase is the latest
 * phase of its selected tests (a describe holding both runs in phase 2, with a warning note).
 */
export function orderSuitesByPhase(root: Mocha.Suite, selected: (t: Mocha.Test) => boolean = () => true, lateTag?: string): PhasePlan {
  const counts: Record<Phase, number> = { basic: 0, other: 0, connectivity: 0 };
  const phaseOf = new Map<Mocha.Suite, Phase>();
  for (const s of root.suites) {
    const tests = allTests(s);
    const sel = tests.filter(selected);
    const phases = (sel.length ? sel : tests).map((t) => phaseOfTitle(t.fullTitle()));
    const p = phases.reduce<Phase>((a, b) => (RANK[b] > RANK[a] ? b : a), phases.length ? phases[0]! : 'other');
    phaseOf.set(s, p);
    for (const t of sel) counts[phaseOfTitle(t.fullTitle())]++;
    if (p === 'connectivity' && sel.some((t) => phaseOfTitle(t.fullTitle()) === 'basic')) {
      addRunNote('phases', `"${s.title}" holds both ${Tag.SCTP} and ${Tag.SCTPConnectivity} tests: its basic tests run in phase 2`, 'warning');
    }
  }
  const isLate = (s: Mocha.Suite) => !!lateTag && allTests(s).some((t) => selected(t) && t.fullTitle().includes(lateTag));
  const late = new Set(root.suites.filter(isLate));
  const rank = (s: Mocha.Suite) => RANK[phaseOf.get(s)!] + (late.has(s) ? 10 : 0);
  root.suites.sort((a, b) => rank(a) - rank(b));
  const lastBasic = [...root.suites].reverse().find((s) => !late.has(s) && phaseOf.get(s) === 'basic' && allTests(s).some(selected));
  const lateCount = [...late].reduce((n, s) => n + allTests(s).filter(selected).length, 0);
  const basicAndConnectivity =
    counts.basic && counts.connectivity
      ? `phase 1: ${counts.basic} basic tests (${Tag.SCTP}) before phase 2: ${counts.connectivity} connectivity tests (${Tag.SCTPConnectivity})${counts.other ? `; ${counts.other} untagged tests in between` : ''}`
      : undefined;
  const line = lateCount
    ? `${basicAndConnectivity ?? `${counts.basic + counts.other + counts.connectivity - lateCount} tests`}; the ${lateCount} ${lateTag} tests last`
    : basicAndConnectivity;
  return { counts, lastBasic, line, late: root.suites.filter((s) => late.has(s)) };
}

/** Setup once before the first late describe (every late describe waits for it), teardown after the last. */
function installLate(plan: PhasePlan, g: LateGroup): void {
  if (!plan.late.length) return;
  let once: Promise<void> | undefined;
  const timeout = g.timeoutMs ?? 600_000;
  for (const s of plan.late) {
    s.beforeAll(`${g.what} (before the ${g.tag} tests)`, async function () {
      this.timeout(timeout);
      once ??= g.setup();
      await once;
    });
    // first of the describe's own `before all` hooks: the describe's setup (pods) must see the lab's change
    const hooks = (s as unknown as { _beforeAll: Mocha.Hook[] })._beforeAll;
    hooks.unshift(hooks.pop()!);
  }
  const teardown = g.teardown;
  if (teardown) {
    plan.late[plan.late.length - 1]!.afterAll(`after the ${g.tag} tests: undo "${g.what}"`, async function () {
      this.timeout(timeout);
      if (once) await teardown();
    });
  }
}

interface PhaseEnd {
  phase: 'basic';
  what: string;
  fn: () => Promise<void> | void;
  timeoutMs?: number;
}
// On globalThis: mocha may load lib code a second time for the spec files (tsx's loaders), and the registry
// must be the one the runner reads.
const registry = globalThis as { [k: symbol]: PhaseEnd[] | undefined };
registry[Symbol.for('sctp-e2e.phase-ends')] ??= [];
const phaseEnds: PhaseEnd[] = registry[Symbol.for('sctp-e2e.phase-ends')]!;

/** The result title of a phase-end check. */
export function phaseEndTitle(what: string): string {
  return `${Tag.SCTP} basic phase: ${what} at end of phase`;
}

/** Run `fn` once after the last selected basic test (see the header comment). Same `what` twice: kept once. */
export function registerPhaseEnd(phase: 'basic', what: string, fn: () => Promise<void> | void, o: { timeoutMs?: number } = {}): void {
  if (phaseEnds.some((p) => p.phase === phase && p.what === what)) return;
  phaseEnds.push({ phase, what, fn, timeoutMs: o.timeoutMs });
}

/** For the suite's own tests. */
export function clearPhaseEnds(): void {
  phaseEnds.length = 0;
}

function installPhaseEnds(plan: PhasePlan): void {
  const suite = plan.lastBasic;
  if (!suite) return;
  for (const p of phaseEnds) {
    const marker: PhaseEndMarker = { title: phaseEndTitle(p.what), suite: `${Tag.SCTP} basic phase` };
    suite.afterAll(
      marker.title,
      handlesOwnSkips(async () => {
        try {
          await p.fn();
        } catch (e) {
          if (!isSkip(e)) throw e;
          marker.skipped = e.reason;
          addRunNote('basic phase', `${p.what} not performed: ${e.reason}`, 'warning');
        }
      }),
    );
    const hooks = (suite as unknown as { _afterAll: Mocha.Hook[] })._afterAll;
    const hook = hooks[hooks.length - 1]! as Mocha.Hook & { phaseEnd?: PhaseEndMarker };
    hook.phaseEnd = marker;
    if (p.timeoutMs) hook.timeout(p.timeoutMs);
  }
}

export interface RunResult {
  /** mocha's failure count (tests and hooks). */
  failures: number;
  files: string[];
  results: SuiteReporter['results'];
  /** The exit code and, when not green, one sentence saying why. */
  verdict: Verdict;
  /** The run notes as the reporter wrote them, and the run's start and wall time (what summary.json holds). */
  notes: readonly RunNote[];
  startedAt: Date;
  wallMs: number;
}

/**
 * The tests a selection holds, without running anything: the files are loaded (describe bodies run, hooks
 * are only registered) and the grep applied as mocha would. For `--list-images`.
 */
export async function selectTests(patterns: string[], grep?: string, invert = false): Promise<Array<{ fullTitle: string; file?: string }>> {
  const mocha = new Mocha({ grep, invert });
  for (const f of expandPatterns(patterns)) mocha.addFile(f);
  await mocha.loadFilesAsync();
  const re = mocha.options.grep as RegExp | undefined;
  const tests = allTests(mocha.suite).filter((t) => !re || re.test(t.fullTitle()) !== invert);
  return tests.map((t) => ({ fullTitle: t.fullTitle(), file: t.file }));
}

/** How many tests the loaded files hold and how many of them mocha's grep selects. */
function selectedOf(mocha: Mocha): { selected: number; all: number } {
  const re = mocha.options.grep as RegExp | undefined;
  const invert = !!mocha.options.invert;
  const all = allTests(mocha.suite);
  return { selected: all.filter((t) => !re || re.test(t.fullTitle()) !== invert).length, all: all.length };
}

/**
 * `--dry-run`: the selection as a run would make it (files loaded, grep applied, phase order), nothing run.
 * "Will run N of M specs" in ginkgo's words, then every selected test's full title in run order.
 */
export async function dryRun(patterns: string[], grep?: string): Promise<{ selected: string[]; all: number }> {
  const mocha = new Mocha({ grep });
  for (const f of expandPatterns(patterns)) mocha.addFile(f);
  await mocha.loadFilesAsync();
  const re = mocha.options.grep as RegExp | undefined;
  const pick = (t: Mocha.Test) => !re || re.test(t.fullTitle());
  orderSuitesByPhase(mocha.suite, pick);
  const all = allTests(mocha.suite);
  return { selected: all.filter(pick).map((t) => t.fullTitle()), all: all.length };
}

export async function runMocha(o: RunOptions): Promise<RunResult> {
  const progress = progressFromEnv();
  const selection = { total: 0 };
  const mocha = new Mocha({
    timeout: o.timeout,
    reporter: SuiteReporter as unknown as string,
    reporterOptions: { junit: o.junit, suiteName: o.suiteName, summaryJson: o.summaryJson, onResult: progress.result, selection },
    grep: o.grep,
    invert: o.invert,
    bail: o.bail,
  });
  const files = expandPatterns(o.patterns);
  for (const f of files) mocha.addFile(f);
  await mocha.loadFilesAsync();
  convertSkips(mocha.suite);
  if (o.phases) {
    const grep = mocha.options.grep as RegExp | undefined;
    const invert = !!mocha.options.invert;
    const plan = orderSuitesByPhase(mocha.suite, (t) => !grep || grep.test(t.fullTitle()) !== invert, o.late?.tag);
    if (plan.line) {
      process.stdout.write(`${plan.line}${plan.late.length ? ` (${o.late!.what} before them)` : ''}\n`);
      addRunNote('phases', `${plan.line}${plan.late.length ? ` (${o.late!.what} before them)` : ''}`);
    }
    installPhaseEnds(plan);
    if (o.late) installLate(plan, o.late);
  }
  const sel = selectedOf(mocha);
  selection.total = sel.selected;
  progress.start(sel.selected, sel.all);
  const r: RunResult = await new Promise((resolve) => {
    mocha.run((failures) => {
      const rep = SuiteReporter.last;
      const results = rep?.results ?? [];
      resolve({
        failures,
        files,
        results,
        verdict: rep?.verdict ?? verdictOf(results, failures),
        notes: [...runNotes()],
        startedAt: rep?.startedAt ?? new Date(),
        wallMs: rep?.wallMs ?? 0,
      });
    });
  });
  await progress.end(r.verdict.sentence ?? `${r.results.filter((x) => x.outcome === 'passed').length} passed, none failed`);
  return r;
}
