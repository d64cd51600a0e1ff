// Skips that carry their reason and never mask a verdict.
//
// A skip is only ever *thrown* (SkipError, by f.skip / f.skipIf / f.skipFor). Nothing touches mocha until the
// error reaches the runnable that threw it: convertSkips() wraps every test and hook of a suite tree so that
//   - a SkipError escaping a test marks exactly that test pending, with the reason;
//   - a SkipError escaping a before() hook marks every test of that describe (nested ones too) pending, the
//     reason stored on the describe (skipReasonOf finds it);
//   - a SkipError escaping a beforeEach() hook marks the test it ran for;
//   - a SkipError escaping an after()/afterEach() hook changes no verdict (the test already has one): it
//     becomes a warning run note;
//   - a SkipError caught by code (a guard that cannot check something) marks nothing.
// The runner converts the whole tree after loading the spec files; useFramework also converts its own
// describe at run time, so a plain `mocha` run of one spec behaves the same.

import type Mocha from 'mocha';
import { addRunNote } from './run-notes.ts';

/** A skip the reporter shows with its reason. */
export class SkipError extends Error {
  override name = 'SkipError';
  constructor(
    readonly reason: string,
    readonly capability?: string,
  ) {
    super(reason);
  }
}

/** instanceof, or the same class loaded twice (by name). */
export function isSkip(e: unknown): e is SkipError {
  return e instanceof SkipError || (e instanceof Error && e.name === 'SkipError' && typeof (e as SkipError).reason === 'string');
}

type WithReason = { skipReason?: string; parent?: WithReason; type?: string; tests?: WithReason[] };

/** The reason of a skipped test: its own, else the nearest describe's (set by a skip in a before() hook). */
export function skipReasonOf(t: unknown): string | undefined {
  for (let x = t as WithReason | undefined; x; x = x.parent) if (x.skipReason) return x.skipReason;
  return undefined;
}

const CONVERTED = Symbol.for('sctp-e2e.skip-converted');
type Kind = 'test' | 'beforeAll' | 'beforeEach' | 'afterEach' | 'afterAll';
type Fn = (this: Mocha.Context) => unknown;
type Wrapped = Fn & { [CONVERTED]?: true };

/** Marks a function as handling its own skips (convertSkips leaves it alone). */
export function handlesOwnSkips<F extends Fn>(fn: F): F {
  (fn as Wrapped)[CONVERTED] = true;
  return fn;
}

function onSkip(r: Mocha.Runnable, kind: Kind, e: unknown): unknown {
  if (!isSkip(e)) throw e;
  const rr = r as Mocha.Runnable & WithReason & { ctx?: { currentTest?: WithReason & { pending?: boolean } } };
  switch (kind) {
    case 'test':
      rr.skipReason ??= e.reason;
      r.pending = true; // mocha checks test.pending before the error: the test is reported skipped
      throw e;
    case 'beforeAll':
      if (r.parent) (r.parent as unknown as WithReason).skipReason ??= e.reason;
      r.pending = true; // mocha marks the describe's tests and nested describes pending
      throw e;
    case 'beforeEach': {
      const t = rr.ctx?.currentTest;
      if (t) t.skipReason ??= e.reason;
      r.pending = true; // mocha marks the current test pending and re-arms the hook
      throw e;
    }
    default:
      addRunNote('skips after a verdict', `${r.fullTitle()}: ${e.reason} (no verdict changed)`, 'warning');
      return undefined;
  }
}

function wrap(r: Mocha.Runnable, kind: Kind): void {
  const orig = r.fn as Wrapped | undefined;
  // callback-style (done) runnables keep mocha's own handling
  if (!orig || orig[CONVERTED] || (r as { async?: unknown }).async) return;
  const wrapped: Wrapped = function (this: Mocha.Context) {
    let out: unknown;
    try {
      out = orig.call(this);
    } catch (e) {
      return onSkip(r, kind, e);
    }
    if (out && typeof (out as Promise<unknown>).then === 'function') return (out as Promise<unknown>).then(undefined, (e) => onSkip(r, kind, e));
    return out;
  };
  wrapped[CONVERTED] = true;
  r.fn = wrapped as Mocha.Func;
}

/** Wrap every test and hook of `suite` and its descendants (idempotent). */
export function convertSkips(suite: Mocha.Suite): void {
  const s = suite as unknown as Partial<Record<'_beforeAll' | '_beforeEach' | '_afterEach' | '_afterAll', Mocha.Hook[]>>;
  for (const h of s._beforeAll ?? []) wrap(h, 'beforeAll');
  for (const h of s._beforeEach ?? []) wrap(h, 'beforeEach');
  for (const h of s._afterEach ?? []) wrap(h, 'afterEach');
  for (const h of s._afterAll ?? []) wrap(h, 'afterAll');
  for (const t of suite.tests) wrap(t, 'test');
  for (const c of suite.suites) convertSkips(c);
}

// A skip from mocha's own this.skip() for the suite's own tests (*.test.ts), which do not use the framework.

type Ctx = { skip(): never; test?: unknown; currentTest?: unknown };

export function skipTest(ctx: Ctx, reason: string): never {
  const t = (ctx.currentTest ?? ctx.test) as WithReason | undefined;
  const runnable = ctx.test as (WithReason & { title?: string }) | undefined;
  if (runnable?.type === 'hook' && runnable.title?.startsWith('"before all" hook')) {
    if (runnable.parent) runnable.parent.skipReason ??= reason;
    for (const x of runnable.parent?.tests ?? []) x.skipReason = reason;
  } else if (t) {
    t.skipReason = reason;
  }
  return ctx.skip();
}
