// useFramework: per-test namespace with the run label, one cleanup stack, skips that carry their reason,
// and artifacts on failure. The only file besides reporter.ts that touches mocha globals.
// The core imports no optional part: the cluster comes in through NamespaceHost (lib/e2e.ts supplies it).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Capability, MissingCapability, requiredCapabilities } from './capabilities.ts';
import { CleanupStack, installSignalCleanup } from './cleanup.ts';
import { getRunConfig, type RunConfig } from './config.ts';
import { errorMessage } from './errors.ts';
import { type EventuallyOptions, eventually } from './eventually.ts';
import { RUN_LABEL, SUITE_LABEL } from './run-label.ts';
import { addRunNote } from './run-notes.ts';
import { convertSkips, isSkip, SkipError } from './skip.ts';
import { type TagValue, tagged } from './tags.ts';
import { budget, timeouts, type Waits } from './timeouts.ts';

export { type Phase, registerPhaseEnd } from './runner.ts';
export { isSkip, SkipError };

/** describe() with ginkgo-style tags appended to the title. */
export function describeE2E(title: string, tags: readonly TagValue[], fn: () => void): void {
  describe(tagged(title, tags), fn);
}

export type Evidence = (dir: string) => Promise<void>;

/**
 * Resources shared by the tests of a describe (host-exec pods, SSH connections): cleaned when the
 * describe that uses the framework ends (and on SIGINT), then created again on demand.
 */
export const runCleanup = new CleanupStack('shared');
function installRunHook(): void {
  after(async function () {
    this.timeout(budget({ cleanup: 2 }));
    await runCleanup.run((l) => process.stderr.write(`    ${l}\n`));
  });
}

/**
 * What the framework needs from a cluster, supplied by whoever uses it with a namespace (lib/e2e.ts, over
 * lib/k8s): each call has its own deadline and throws on failure (the framework retries where it waits).
 */
export interface NamespaceHost {
  /** Creates a namespace named `<base>-<random>` with these labels; returns its name. */
  createNamespace(base: string, labels: Record<string, string>): Promise<string>;
  /** Deletes it; a namespace already gone counts as deleted. */
  deleteNamespace(name: string): Promise<void>;
  /** Resolves once pods can be created in it (its default ServiceAccount exists); throws until then. */
  namespaceReady(name: string): Promise<void>;
  /** The namespace's state for the artifacts of a failed test: file name -> what to write (as JSON). */
  dumps(ns: string): Record<string, () => Promise<unknown>>;
}

export interface Framework {
  readonly name: string;
  readonly config: RunConfig;
  /** The test's namespace (valid inside it/before/after hooks of the describe). */
  readonly ns: string;
  log(line: string): void;
  defer(what: string, fn: (signal: AbortSignal) => Promise<unknown> | unknown, timeout?: number): void;
  eventually<T>(what: string, o: EventuallyOptions<T>): Promise<T>;
  /**
   * Skip with the reason the reporter shows: throws SkipError. Escaping a test body it skips that test; escaping
   * a before() hook it skips every test of the describe; caught by code (a guard) it skips nothing.
   */
  skipIf(cond: boolean, reason: string): void;
  skip(reason: string): never;
  /**
   * The cluster lacks `capability` (reason = the evidence): skips like f.skip, unless the user declared the
   * capability required (--require / SCTP_E2E_REQUIRE / config file `require:`): then throws MissingCapability
   * and the test FAILS with the same evidence.
   */
  skipFor(capability: Capability, reason: string): never;
  /** Create another namespace (labelled, deleted at cleanup). Returns its name. */
  createNamespace(base: string, labels?: Record<string, string>): Promise<string>;
  /** Collect node or cluster evidence into the artifacts dir when the test fails (once per `what` and test). */
  onFailure(what: string, fn: Evidence): void;
  /**
   * Register a check around every test declared with f.it(): `before` runs before the test body,
   * `after` after it (also when it failed) and before cleanup; an error from `after` fails that test.
   */
  aroundEach<T>(what: string, before: (title: string) => Promise<T>, after: (state: T, title: string) => Promise<void>): void;
  /** mocha's it(), with the aroundEach checks run inside the test (their failure fails this test). */
  it(title: string, fn: (this: Mocha.Context) => Promise<void>): Mocha.Test;
  /** mocha's before() for the describe (f.budget works inside). */
  before(fn: (this: Mocha.Context) => Promise<void>): void;
  /** mocha's afterEach() for the describe (f.budget works inside). */
  afterEach(fn: (this: Mocha.Context) => Promise<void>): void;
  /**
   * Declares what the running f.it test (or f.before / f.afterEach hook) waits for, by name
   * (lib/framework/timeouts.ts): its mocha timeout becomes their sum plus the margin, counted from now.
   * The first line of the body; called again when a count is only known later (nodes, policies).
   * Returns the budget in ms.
   */
  budget(...waits: Waits[]): number;
}

interface Check {
  what: string;
  before: (title: string) => Promise<unknown>;
  after: (state: unknown, title: string) => Promise<void>;
}

export interface FrameworkOptions {
  /** false: no namespace is created (f.ns throws); for specs that only read cluster or node state. Default true. */
  namespace?: boolean;
  /** 'each' (default): a namespace per test; 'all': one for the whole describe (heavier setup shared). */
  scope?: 'each' | 'all';
  /** Pod Security level of the namespace (default privileged: host pods and NET_RAW). */
  podSecurity?: 'privileged' | 'baseline' | 'restricted';
  /** The cluster the namespaces live in; required unless `namespace: false` (lib/e2e.ts's useE2E supplies it). */
  host?: NamespaceHost;
}

type MochaCtx = Mocha.Context & { currentTest?: Mocha.Test; test?: Mocha.Runnable };
type WithSkip = { skipReason?: string; pending?: boolean };

export function useFramework(name: string, opts: FrameworkOptions = {}): Framework {
  installRunHook();
  const scope = opts.scope ?? 'each';
  let ns = '';
  let stack: CleanupStack | undefined;
  let evidence: Array<{ what: string; fn: Evidence }> = [];
  const checks: Check[] = [];
  const withNamespace = opts.namespace ?? true;
  const host = (): NamespaceHost => {
    if (!opts.host) throw new Error(`framework ${name}: no NamespaceHost to create namespaces in (use useE2E from lib/e2e.ts, or { namespace: false })`);
    return opts.host;
  };

  // First hook of the describe: from here on a SkipError from any hook or test of it is converted where it
  // escapes (the runner does the same for the whole tree; this covers a plain `mocha` run).
  before(function () {
    if (this.test?.parent) convertSkips(this.test.parent);
  });

  // the test or hook running inside f.it / f.before / f.afterEach, for f.budget
  let running: Mocha.Context | undefined;
  const within = (fn: (this: Mocha.Context) => Promise<void>) =>
    async function (this: Mocha.Context) {
      const outer = running;
      running = this;
      try {
        await fn.call(this);
      } finally {
        running = outer;
      }
    };

  const f: Framework = {
    name,
    get config() {
      return getRunConfig();
    },
    get ns() {
      if (!withNamespace) throw new Error(`framework ${name}: created with { namespace: false }, so there is no f.ns`);
      if (!ns) throw new Error(`framework ${name}: no namespace yet (use f.ns inside it() or hooks)`);
      return ns;
    },
    log: (line) => process.stderr.write(`    [${new Date().toISOString().slice(11, 19)}] ${line}\n`),
    defer(what, fn, timeout) {
      if (!stack) throw new Error(`framework ${name}: defer(${what}) outside a test`);
      stack.defer(what, fn, timeout);
    },
    eventually: (what, o) => eventually(what, { onProgress: f.log, ...o }),
    skipIf(cond, reason) {
      if (cond) f.skip(reason);
    },
    skip(reason): never {
      // only throws: whoever the error escapes from (test, before hook) is marked; a catch marks nothing
      throw new SkipError(reason);
    },
    skipFor(capability, reason): never {
      if (requiredCapabilities().has(capability)) throw new MissingCapability(capability, reason);
      throw new SkipError(`${reason} (capability "${capability}" missing; --require ${capability} makes this a failure)`, capability);
    },
    async createNamespace(base, labels = {}) {
      const cfg = getRunConfig();
      const level = opts.podSecurity ?? 'privileged';
      const nsName = await host().createNamespace(base, {
        [RUN_LABEL]: cfg.runId,
        [SUITE_LABEL]: name,
        'pod-security.kubernetes.io/enforce': level,
        ...labels,
      });
      // retried within the cleanup deadline: an API server that restarts during the test must not leak the
      // namespace (lab:interrupts apiserver-restart found one deletion refused with ECONNREFUSED)
      stack!.defer(`delete namespace ${nsName}`, (signal) =>
        eventually(`namespace ${nsName} deletion accepted`, {
          timeout: timeouts.cleanup - timeouts.apiCall,
          signal,
          probe: async () => {
            await host().deleteNamespace(nsName);
            return true;
          },
          until: (done) => done,
        }),
      );
      // pods can only be created once the default ServiceAccount exists
      await eventually(`default ServiceAccount in ${nsName}`, {
        timeout: timeouts.namespace,
        interval: 200,
        probe: () => host().namespaceReady(nsName),
        until: () => true,
      });
      return nsName;
    },
    onFailure(what, fn) {
      if (!evidence.some((e) => e.what === what)) evidence.push({ what, fn });
    },
    aroundEach<T>(what: string, before: (title: string) => Promise<T>, after: (state: T, title: string) => Promise<void>) {
      checks.push({ what, before, after: after as (s: unknown, title: string) => Promise<void> });
    },
    it(title, fn) {
      return it(title, async function () {
        const test = this.test as (Mocha.Runnable & WithSkip) | undefined;
        const markSkipped = (e: SkipError): never => {
          // this test, and only this one, is skipped with the reason (mocha checks pending before the error)
          if (test) {
            test.skipReason = e.reason;
            test.pending = true;
          }
          f.log(`SKIP: ${e.reason}`);
          throw e;
        };
        const states: Array<{ c: Check; v: unknown }> = [];
        let bodyError: unknown;
        try {
          const title = this.test?.title ?? '';
          for (const c of checks) states.push({ c, v: await c.before(title) });
          await within(fn).call(this);
        } catch (e) {
          bodyError = e;
        }
        // The checks run even when the body failed or skipped: a module load is a finding either way.
        const problems: string[] = [];
        for (const { c, v } of states.reverse()) {
          try {
            await c.after(v, this.test?.title ?? '');
          } catch (e) {
            problems.push(`${c.what}: ${errorMessage(e)}`);
          }
        }
        if (bodyError) {
          // mocha's own this.skip() (not used by specs) has already marked the test pending
          const pending = (bodyError as { constructor?: { name?: string } })?.constructor?.name === 'Pending';
          if (problems.length && (isSkip(bodyError) || pending)) {
            // the test skipped, but what happened around it is a finding of its own: fail with both
            const reason = isSkip(bodyError) ? bodyError.reason : (test?.skipReason ?? 'no reason recorded');
            if (test) {
              delete test.skipReason;
              test.pending = false; // mocha reports a pending test as skipped whatever it threw
            }
            throw new Error(`${problems.join('\n')}\n(the test body itself skipped: ${reason})`);
          }
          if (isSkip(bodyError)) markSkipped(bodyError);
          if (problems.length && bodyError instanceof Error) bodyError.message += `\n\nalso: ${problems.join('\n')}`;
          throw bodyError;
        }
        if (problems.length) throw new Error(problems.join('\n'));
      });
    },
    before: (fn) => before(within(fn)),
    afterEach: (fn) => afterEach(within(fn)),
    budget(...waits) {
      if (!running) throw new Error(`framework ${name}: f.budget() outside an f.it / f.before / f.afterEach body`);
      const ms = budget(...waits);
      running.timeout(ms);
      return ms;
    },
  };

  async function setUp(this: MochaCtx) {
    installSignalCleanup();
    stack = new CleanupStack(name);
    evidence = [];
    if (withNamespace) ns = await f.createNamespace(name);
  }

  async function tearDown(this: MochaCtx, failed: boolean, title: string) {
    if (!stack) return;
    if (failed && ns) await collectArtifacts(title, host().dumps(ns), evidence, f.log);
    const failures = await stack.run(f.log);
    stack.dispose();
    stack = undefined;
    ns = '';
    if (failures.length) {
      // never replaces the test's own error: reported as a log line and in the artifacts
      f.log(`${failures.length} cleanup step(s) failed: ${failures.map((x) => `${x.what}: ${x.error}`).join('; ')}`);
      addRunNote(
        'cleanup',
        `${title}: ${failures.map((x) => `${x.what} failed (${x.error})`).join('; ')} — \`npm run e2e:sweep\` removes what is left`,
        'warning',
      );
    }
  }

  if (scope === 'each') {
    beforeEach(async function () {
      this.timeout(budget({ namespace: 1, apiCall: 1 }));
      await setUp.call(this as MochaCtx);
    });
    afterEach(async function () {
      this.timeout(budget({ cleanup: 2 }));
      const t = this.currentTest;
      await tearDown.call(this as MochaCtx, t?.state === 'failed', t?.fullTitle() ?? name);
    });
  } else {
    let anyFailed = false;
    before(async function () {
      this.timeout(budget({ namespace: 1, apiCall: 1 }));
      await setUp.call(this as MochaCtx);
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') anyFailed = true;
    });
    after(async function () {
      this.timeout(budget({ cleanup: 2 }));
      await tearDown.call(this as MochaCtx, anyFailed, name);
    });
  }
  return f;
}

async function collectArtifacts(
  title: string,
  dumps: Record<string, () => Promise<unknown>>,
  evidence: Array<{ what: string; fn: Evidence }>,
  log: (l: string) => void,
): Promise<void> {
  const cfg = getRunConfig();
  const dir = join(cfg.artifactsDir, cfg.runId, title.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120));
  try {
    mkdirSync(dir, { recursive: true });
    for (const [file, fn] of Object.entries(dumps)) {
      try {
        writeFileSync(join(dir, file), JSON.stringify(await fn(), null, 2));
      } catch (e) {
        writeFileSync(join(dir, file), `error: ${errorMessage(e)}\n`);
      }
    }
    for (const e of evidence) {
      try {
        await e.fn(dir);
      } catch (err) {
        writeFileSync(join(dir, `evidence-error-${e.what.replace(/\W+/g, '_')}.txt`), errorMessage(err));
      }
    }
    log(`artifacts: ${dir}`);
  } catch (e) {
    log(`could not write artifacts to ${dir}: ${errorMessage(e)}`);
  }
}
