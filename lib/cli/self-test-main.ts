// `npm test`: the suite's own tests (unit tests of pure logic + integration tests against real local
// parts: sshd, iptables/nft in network namespaces, the agnhost-sctp binary). Never needs a cluster.
import { runMocha } from '../framework/runner.ts';

const only = process.argv.slice(2);
const { failures, files } = await runMocha({
  patterns: only.length ? only : ['lib/**/*.test.ts', 'cluster/**/*.test.ts', 'kind-config/**/*.test.ts', 'agnhost-sctp/**/*.test.ts', 'upstream/**/*.test.ts', 'bench/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/runner/**/*.test.ts'],
  timeout: 120_000,
  junit: process.env.SCTP_E2E_SELF_JUNIT ?? 'artifacts/self-test-junit.xml',
  suiteName: 'sctp-e2e self-tests',
});
if (files.length === 0) {
  console.error('self-test: no test files found');
  process.exit(2);
}
process.exit(failures ? 1 : 0);
