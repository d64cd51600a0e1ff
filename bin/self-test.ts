// Entry point of `npm test` (see lib/cli/self-test-main.ts).
import { requireNode } from '../lib/cli/node-version.ts';

requireNode(24, 'self-test');
await import('../lib/cli/self-test-main.ts');
