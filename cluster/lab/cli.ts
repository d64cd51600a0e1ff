// `npm run lab:break -- <fault>`, `npm run lab:heal [-- <fault>]`, `npm run lab:list`, `npm run lab:status`:
// apply one named breakage to the running local cluster, and undo it (cluster/lab/faults.ts).
import { join } from 'node:path';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { layout } from '../render.ts';
import { ClusterError } from '../run.ts';
import { readState } from '../state.ts';
import { breakFault, FAULTS, findFault, healFault, labContext, readApplied } from './faults.ts';

const USAGE = `usage: npm run lab:break -- FAULT      apply one named breakage to the running local cluster
       npm run lab:heal [-- FAULT]    undo it (no FAULT: every applied fault, last first)
       npm run lab:list               the faults and what each breaks
       npm run lab:status             the faults applied now
state dir: $SCTP_E2E_CLUSTER_DIR or /var/lib/sctp-e2e/cluster`;

async function main(): Promise<number> {
  const [cmd, name, ...rest] = process.argv.slice(2);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (cmd === 'list') {
    for (const f of FAULTS) process.stdout.write(`${f.name.padEnd(22)} ${f.breaks}\n`);
    return 0;
  }
  const stateDir = process.env.SCTP_E2E_CLUSTER_DIR ?? '/var/lib/sctp-e2e/cluster';
  const st = readState(layout(stateDir).stateJson);
  if (!st?.binDir) throw new ClusterError(`no local cluster state in ${stateDir}: run \`npm run cluster:up\` first`);
  const ctx = labContext(stateDir, join(st.binDir, 'kubectl'));
  const pick = (n: string | undefined) => {
    if (!n) throw new UsageError('name a fault (npm run lab:list)');
    const f = findFault(n);
    if (!f) throw new UsageError(`unknown fault ${JSON.stringify(n)}; known: ${FAULTS.map((x) => x.name).join(', ')}`);
    return f;
  };
  switch (cmd) {
    case 'break': {
      const f = pick(name);
      const done = await breakFault(ctx, f);
      process.stdout.write(`lab: broke ${f.name} — ${f.breaks}\n  ${done}\n  undo: npm run lab:heal -- ${f.name}\n`);
      return 0;
    }
    case 'heal': {
      const targets = name
        ? [pick(name)]
        : readApplied(ctx)
            .reverse()
            .map((a) => pick(a.name));
      for (const f of targets) {
        await healFault(ctx, f);
        process.stdout.write(`lab: healed ${f.name}\n`);
      }
      if (!targets.length) process.stdout.write('lab: nothing applied\n');
      return 0;
    }
    case 'status': {
      const a = readApplied(ctx);
      process.stdout.write(
        a.length ? a.map((x) => `${x.name} since ${x.at}${x.done ? `: ${x.done}` : ' (apply did not finish)'}`).join('\n') + '\n' : 'lab: no fault applied\n',
      );
      return 0;
    }
    default:
      throw new UsageError(cmd ? `unknown command ${JSON.stringify(cmd)}` : 'no command');
  }
}

runMain('lab', main, { usage: USAGE });
