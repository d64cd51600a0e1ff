// Runs mocha in-process with the suite's reporter. Used by bin/self-test.ts and bin/sctp-e2e.ts.

import Mocha from 'mocha';
import { globSync } from 'node:fs';
import { SuiteReporter } from './reporter.ts';

export interface RunOptions {
  patterns: string[];
  grep?: string;
  invert?: boolean;
  timeout: number;
  junit?: string;
  suiteName: string;
  bail?: boolean;
}

export function expandPatterns(patterns: string[]): string[] {
  const files = new Set<string>();
  for (const p of patterns) for (const f of globSync(p, { exclude: (n) => n.includes('node_modules') })) files.add(f);
  return [...files].sort();
}

/** Returns the number of failures (0 = green). */
export async function runMocha(o: RunOptions): Promise<{ failures: number; files: string[]; results: SuiteReporter['results'] }> {
  const mocha = new Mocha({
    timeout: o.timeout,
    reporter: SuiteReporter as unknown as string,
    reporterOptions: { junit: o.junit, suiteName: o.suiteName },
    grep: o.grep,
    invert: o.invert,
    bail: o.bail,
  });
  const files = expandPatterns(o.patterns);
  for (const f of files) mocha.addFile(f);
  await mocha.loadFilesAsync();
  return await new Promise((resolve) => {
    mocha.run((failures) => resolve({ failures, files, results: SuiteReporter.last?.results ?? [] }));
  });
}
