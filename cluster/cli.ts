// Entry point: `npm run cluster:up [-- --proxy-mode nftables]`, `npm run cluster:down`, `npm run cluster:status`.
// User faults and component failures end as one sentence on stderr and a non-zero exit.

import { formatDuration } from '../lib/framework/duration.ts';
import { runMain } from '../lib/framework/main.ts';
import { parseArgs, USAGE } from './args.ts';
import { down } from './down.ts';
import { log, requestAbort } from './run.ts';
import { renderStatus, status } from './status.ts';
import { up } from './up.ts';

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2), process.env);
  switch (o.command) {
    case 'up': {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        process.on(sig, () => {
          log(`${sig}: up stops at the next step and tears down what it started`);
          requestAbort(sig);
        });
      }
      await up(o);
      return 0;
    }
    case 'down': {
      const r = await down(o);
      process.stdout.write(
        `cluster down in ${formatDuration(r.seconds * 1000)}: stopped ${r.stopped.length} processes, unmounted ${r.unmounted}, ` +
          `removed ${r.removed.length} items${r.removed.length ? ` (${r.removed.filter((x) => !x.startsWith('/sys/')).join(', ')})` : ''}\n`,
      );
      if (r.stopped.length) process.stdout.write(`  stopped: ${r.stopped.join(' ')}\n`);
      return 0;
    }
    case 'status': {
      const s = await status(o);
      process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : renderStatus(s) + '\n');
      return s.up ? 0 : 1;
    }
  }
}

runMain('cluster', main, { usage: USAGE });
