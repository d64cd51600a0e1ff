// Stand-in for `bin/sctp-e2e.ts` under the conformance entrypoint's tests (test/runner/conformance-entry.test.ts):
// parses its argv with the real parser (lib/cli/e2e-options.ts, so a flag the entrypoint invents fails here as
// it would in the image), records it, and runs the real runner over the fixture specs in $FIXTURE_SPECS (a
// JSON array) instead of a cluster's suites: --grep/--skip selection, --dry-run, --junit, --artifacts, --report.
//   SCTP_E2E_CONFORMANCE_SUITE='["node","--import","tsx","test/runner/conformance-fixture-suite.ts"]'
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseE2eArgs } from '../../lib/cli/e2e-options.ts';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain, usageOnError } from '../../lib/framework/main.ts';
import { willRunLine } from '../../lib/framework/progress.ts';
import { dryRun, runMocha } from '../../lib/framework/runner.ts';
import { checkGrepPattern, selectionPattern } from '../../lib/framework/tags.ts';
import { commandLine, reportOfRun } from '../../lib/report/model.ts';
import { writeReport } from '../../lib/report/write.ts';

runMain('fixture suite', async () => {
  const argv = process.argv.slice(2);
  if (process.env.FIXTURE_ARGV_OUT) appendFileSync(process.env.FIXTURE_ARGV_OUT, JSON.stringify(argv) + '\n');
  const { values } = usageOnError(() => parseE2eArgs(argv));
  for (const p of [values.grep, values.skip]) {
    const bad = p && checkGrepPattern(p);
    if (bad) throw new UsageError(bad);
  }
  const patterns = JSON.parse(process.env.FIXTURE_SPECS ?? '[]') as string[];
  const grep = selectionPattern(values.grep ? [values.grep] : [], values.skip ? [values.skip] : []);
  if (values['dry-run']) {
    const d = await dryRun(patterns, grep);
    process.stdout.write(`${willRunLine(d.selected.length, d.all)}\n${d.selected.map((t) => `  ${t}\n`).join('')}`);
    return 0;
  }
  process.stdout.write('fixture suite: no cluster; the fixture specs stand in for suites/\n');
  process.stderr.write('fixture suite: a line on stderr (e2e.log holds both streams)\n');
  const r = await runMocha({
    patterns,
    grep,
    timeout: 20_000,
    junit: values.junit,
    summaryJson: values.artifacts ? join(values.artifacts, 'fixtures', 'summary.json') : undefined,
    suiteName: 'fixtures',
    phases: true,
  });
  if (values.report)
    writeReport(
      values.report,
      reportOfRun(r, { runId: 'fixtures', command: commandLine(process.argv), capabilitiesMissing: 'no capability probe in a fixture run' }),
    );
  if (r.verdict.sentence) process.stderr.write(`fixture suite: ${r.verdict.sentence}\n`);
  return r.verdict.exitCode;
});
