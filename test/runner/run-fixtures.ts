// The child process of runner.test.ts: the real runner (runMocha, phases on, as `npm run e2e` runs it) over
// fixture specs that need no cluster, ending with the run's verdict as exit code (as lib/cli/e2e-main.ts).
//   node --import tsx test/runner/run-fixtures.ts [--grep RE] [--junit PATH] [--summary PATH] FILE...
import { parseArgs } from 'node:util';
import { runMocha } from '../../lib/framework/runner.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { grep: { type: 'string' }, junit: { type: 'string' }, summary: { type: 'string' } },
});
const r = await runMocha({
  patterns: positionals,
  grep: values.grep,
  timeout: 20_000,
  junit: values.junit,
  summaryJson: values.summary,
  suiteName: 'fixtures',
  phases: true,
});
if (r.verdict.sentence) process.stderr.write(`fixtures: ${r.verdict.sentence}\n`);
process.exit(r.verdict.exitCode);
