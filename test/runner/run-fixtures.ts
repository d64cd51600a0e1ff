// The child process of runner.test.ts: the real runner (runMocha, phases on, as `npm run e2e` runs it) over
// fixture specs that need no cluster, ending with the run's verdict as exit code (as lib/cli/e2e-main.ts).
//   node --import tsx test/runner/run-fixtures.ts [--grep RE] [--junit PATH] --summary PATH FILE...
// Without --junit the paths are chosen as `npm run e2e` chooses them (lib/framework/report-paths.ts): JUnit
// beside the summary, or under $ARTIFACTS when that is set.
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { reportPaths } from '../../lib/framework/report-paths.ts';
import { runMocha } from '../../lib/framework/runner.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { grep: { type: 'string' }, junit: { type: 'string' }, summary: { type: 'string' } },
});
const paths = values.summary ? reportPaths({ junit: values.junit, defaultJunit: join(dirname(values.summary), 'junit.xml'), runSummary: values.summary }) : undefined;
if (paths?.prow) process.stdout.write(`fixtures: ${paths.prow}\n`);
const r = await runMocha({
  patterns: positionals,
  grep: values.grep,
  timeout: 20_000,
  junit: paths?.junit ?? values.junit,
  summaryJson: paths?.summaryJson,
  suiteName: 'fixtures',
  phases: true,
});
if (r.verdict.sentence) process.stderr.write(`fixtures: ${r.verdict.sentence}\n`);
process.exit(r.verdict.exitCode);
