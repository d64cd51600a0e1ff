// Entry point of `npm run e2e` / `npm run e2e:sweep` (see lib/cli/e2e-main.ts).
import { requireNode } from '../lib/cli/node-version.ts';

requireNode(24, 'sctp-e2e');
await import('../lib/cli/e2e-main.ts');
