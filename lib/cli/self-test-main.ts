// `npm test`: the suite's own tests (unit tests of pure logic + integration tests against real local
// parts: sshd, iptables/nft in network namespaces, the agnhost-sctp binary). Never needs a cluster.
// Without arguments it first runs the lint (Biome and the import boundaries, lib/lint/): a finding fails the
// self-test, after the tests have run. With test files as arguments only those run.
import { ExitCode } from '../framework/errors.ts';
import { runMain } from '../framework/main.ts';
import { runMocha } from '../framework/runner.ts';
import { lint, renderLint } from '../lint/lint.ts';

runMain('self-test', async () => {
  const only = process.argv.slice(2);
  const steps = only.length ? [] : lint(process.cwd());
  if (steps.length) process.stdout.write(renderLint(steps));
  const { failures, files } = await runMocha({
    patterns: only.length
      ? only
      : [
          'lib/**/*.test.ts',
          'cluster/**/*.test.ts',
          'kind-config/**/*.test.ts',
          'agnhost-sctp/**/*.test.ts',
          'upstream/**/*.test.ts',
          'bench/**/*.test.ts',
          'suite-image/**/*.test.ts',
          'test/integration/**/*.test.ts',
          'test/runner/**/*.test.ts',
        ],
    timeout: 120_000,
    junit: process.env.SCTP_E2E_SELF_JUNIT ?? 'artifacts/self-test-junit.xml',
    suiteName: 'sctp-e2e self-tests',
  });
  if (files.length === 0) {
    process.stderr.write('self-test: no test files found\n');
    return ExitCode.usage;
  }
  const lintFailed = steps.filter((s) => !s.ok);
  if (lintFailed.length) process.stderr.write(`self-test: lint failed (${lintFailed.map((s) => s.name).join(', ')}; output above; \`npm run lint\`)\n`);
  return failures || lintFailed.length ? ExitCode.testsFailed : ExitCode.ok;
});
