// Entry point of the suite image (suite-image/): the conformance-image contract, see lib/cli/conformance-entry.ts.
import { requireNode } from '../lib/cli/node-version.ts';

requireNode(24, 'conformance-entry');
const { runMain } = await import('../lib/framework/main.ts');
const { main } = await import('../lib/cli/conformance-entry.ts');
runMain('sctp-e2e conformance', () => main());
