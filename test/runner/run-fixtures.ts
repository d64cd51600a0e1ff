// The child process of runner.test.ts: the real runner (runMocha, phases on, as `npm run e2e` runs it) over
// fixture specs that need no cluster, ending with the run's verdict as exit code (as lib/cli/e2e-main.ts).
//   node --import tsx test/runner/run-fixtures.ts [--grep RE] [--junit PATH] [--summary PATH]
//     [--report DIR [--capabilities FILE]] [--late TAG] FILE...
// --report writes the report card as lib/cli/e2e-main.ts does (reportOfRun + writeReport), with the capability
// report read from FILE (a real capabilities.json) instead of a probe, and no cluster ("unknown").
import { readFileSync } from 'node:fs';
//   node --import tsx test/runner/run-fixtures.ts [--grep RE] [--junit PATH] --summary PATH FILE...
// Without --junit the paths are chosen as `npm run e2e` chooses them (lib/framework/report-paths.ts): JUnit
// beside the summary, or under $ARTIFACTS when that is set.
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { runMain } from '../../lib/framework/main.ts';
import { reportPaths } from '../../lib/framework/report-paths.ts';
import { runMocha } from '../../lib/framework/runner.ts';
import { commandLine, reportOfRun } from '../../lib/report/model.ts';
import { checkReportDir, writeReport } from '../../lib/report/write.ts';

runMain('fixtures', async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      grep: { type: 'string' },
      junit: { type: 'string' },
      summary: { type: 'string' },
      report: { type: 'string' },
      capabilities: { type: 'string' },
      late: { type: 'string' },
    },
  });
  if (values.report) checkReportDir(values.report);
  const paths = values.summary
    ? reportPaths({ junit: values.junit, defaultJunit: join(dirname(values.summary), 'junit.xml'), runSummary: values.summary })
    : undefined;
  if (paths?.prow) process.stdout.write(`fixtures: ${paths.prow}\n`);
  const r = await runMocha({
    patterns: positionals,
    grep: values.grep,
    timeout: 20_000,
    junit: paths?.junit ?? values.junit,
    summaryJson: paths?.summaryJson,
    suiteName: 'fixtures',
    phases: true,
    // --late TAG: the lab's late group; FIXTURE_LATE=fail makes its setup fail
    late: values.late
      ? {
          tag: values.late,
          what: 'fixture setup',
          setup: async () => {
            process.stdout.write('RAN late-setup\n');
            if (process.env.FIXTURE_LATE === 'fail') throw new Error('the fixture add-on did not come up (agent not ready on node-2)');
          },
          teardown: async () => {
            process.stdout.write('RAN late-teardown\n');
          },
        }
      : undefined,
  });
  if (values.report) {
    writeReport(
      values.report,
      reportOfRun(r, {
        runId: 'fixtures',
        command: commandLine(process.argv),
        capabilities: values.capabilities ? JSON.parse(readFileSync(values.capabilities, 'utf8')) : undefined,
        capabilitiesMissing: values.capabilities ? undefined : 'no capability probe in a fixture run',
      }),
    );
  }
  if (r.verdict.sentence) process.stderr.write(`fixtures: ${r.verdict.sentence}\n`);
  return r.verdict.exitCode;
});
