// Progress of a run for the tools that drive a conformance image (suite-image/README.md), fed by the runner
// (runMocha) after the selection is known and after each result. Two sinks, each switched on by the
// environment, neither ever failing the run:
//
//  - SCTP_E2E_PROGRESS=ginkgo (set by the conformance entrypoint, lib/cli/conformance-entry.ts): ginkgo-style
//    console lines, because hydrophone reads progress from e2e.log with ginkgo's wording:
//      "Will run N of M specs"   once, when the selection is known (hydrophone's total)
//      "• [PASSED] <title> …"    once per finished test (hydrophone counts the "•")
//  - SONOBUOY_PROGRESS_PORT=P (set by Sonobuoy's worker sidecar): after each test a POST of
//      {"msg","total","completed","failures":[…]} to http://localhost:P/progress
//    (Sonobuoy's plugin progress contract; like its Go helper, a failed test goes to failures and does not
//    count as completed; passed and skipped do).

import { formatDuration } from './duration.ts';
import { errorMessage } from './errors.ts';
import type { Outcome } from './reporter.ts';

export interface ProgressUpdate {
  msg: string;
  total: number;
  completed: number;
  failures?: string[];
}

export interface ProgressSink {
  /** The selection is known: `selected` of `all` tests will run. */
  start(selected: number, all: number): void;
  /** One test finished (phase-end checks are not tests: `kind: 'phase-check'`). */
  result(r: { fullTitle: string; outcome: Outcome; durationMs: number; kind?: 'test' | 'phase-check' }): void;
  /** The run ended; resolves when every pending update was delivered or given up (bounded). */
  end(sentence: string): Promise<void>;
}

/** Ginkgo's wording (hydrophone parses "Will run (\d+) of (\d+) specs" and counts "•"). */
export function willRunLine(selected: number, all: number): string {
  return `Will run ${selected} of ${all} specs`;
}

export function ginkgoLines(write: (line: string) => void): ProgressSink {
  let total = 0;
  let done = 0;
  return {
    start(selected, all) {
      total = selected;
      write(`sctp-e2e progress: ${willRunLine(selected, all)}`);
    },
    result(r) {
      if (r.kind === 'phase-check') {
        write(`  [${r.outcome.toUpperCase()}] ${r.fullTitle} (run-level check, not a spec)`);
        return;
      }
      done++;
      write(`• [${r.outcome.toUpperCase()}] ${r.fullTitle} (${formatDuration(r.durationMs)}) ${done}/${total}`);
    },
    async end() {},
  };
}

/** POSTs Sonobuoy progress updates; delivery is serialised, each POST has its own deadline. */
export function sonobuoyProgress(port: string, o: { log?: (line: string) => void; timeoutMs?: number; host?: string } = {}): ProgressSink {
  const url = `http://${o.host ?? 'localhost'}:${port}/progress`;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const timeoutMs = o.timeoutMs ?? 5_000;
  let total = 0;
  let completed = 0;
  const failures: string[] = [];
  let chain: Promise<void> = Promise.resolve();
  let complained = false;
  const post = (msg: string) => {
    const body: ProgressUpdate = { msg, total, completed, ...(failures.length ? { failures: [...failures] } : {}) };
    chain = chain.then(async () => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        if (!complained) log(`sctp-e2e: progress update to ${url} failed (${errorMessage(e)}); the run goes on, further failures are not reported`);
        complained = true;
      }
    });
  };
  return {
    start(selected) {
      total = selected;
      post(`starting: ${selected} tests selected`);
    },
    result(r) {
      if (r.kind === 'phase-check') {
        if (r.outcome === 'failed') failures.push(r.fullTitle);
        post(`run-level check ${r.outcome}: ${r.fullTitle}`);
        return;
      }
      if (r.outcome === 'failed') failures.push(r.fullTitle);
      else completed++;
      post(`Test ${r.outcome}: ${r.fullTitle}`);
    },
    async end(sentence) {
      post(`finished: ${sentence}`);
      await Promise.race([chain, new Promise((res) => setTimeout(res, timeoutMs + 1_000).unref())]);
    },
  };
}

/** The sinks the environment asks for (none: a sink that does nothing). */
export function progressFromEnv(env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): ProgressSink {
  const sinks: ProgressSink[] = [];
  if (env.SCTP_E2E_PROGRESS === 'ginkgo') sinks.push(ginkgoLines(write));
  if (env.SONOBUOY_PROGRESS_PORT) sinks.push(sonobuoyProgress(env.SONOBUOY_PROGRESS_PORT));
  return {
    start: (s, a) => {
      for (const x of sinks) x.start(s, a);
    },
    result: (r) => {
      for (const x of sinks) x.result(r);
    },
    end: async (s) => {
      await Promise.all(sinks.map((x) => x.end(s)));
    },
  };
}
