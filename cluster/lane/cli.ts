// `tsx cluster/lane/cli.ts <lane> [--dry-run] [--known FILE] [--out DIR]` (npm run lane:<lane>): prints the lane's
// plan, refuses to start over a local cluster that is already up, runs the plan (lane.ts) and prints the stage table.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMain } from '../../lib/framework/main.ts';
import { KnownResultsError, readKnownResults } from '../../lib/report/known.ts';
import { clusterDir } from '../contract.ts';
import { defaultOut, lanePlan, preflight, renderPlan, renderStages, runLane, spawnStep } from './lane.ts';
import { LANES } from './lanes.ts';

const names = () => Object.keys(LANES).sort().join(', ');
const USAGE = `usage: npm run lane:<lane> [-- --dry-run] [--known FILE] [--out DIR]   (tsx cluster/lane/cli.ts <lane> ...)
  lanes: ${Object.values(LANES)
    .map((l) => `\n    ${l.name.padEnd(12)} ${l.title}`)
    .join('')}
  brings up the lane's cluster and plugin, runs the whole suite, checks it against the plugin's known-results file
  (or FILE), always tears down; results in DIR (default artifacts/lane-<lane>)`;

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  const spec = name === undefined || name.startsWith('-') ? undefined : LANES[name];
  const tag = `lane:${spec?.name ?? name ?? '?'}`;
  if (!spec) {
    if (name === '--help' || name === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    process.stderr.write(`lane: ${name === undefined ? 'which lane?' : `no lane named ${JSON.stringify(name)}`} (lanes: ${names()})\n${USAGE}\n`);
    return 2;
  }
  let values: { 'dry-run'?: boolean; known?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { 'dry-run': { type: 'boolean' }, known: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${tag}: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const plan = lanePlan(spec, { known: values.known, out: values.out ?? defaultOut(spec), stateDir: clusterDir() });
  try {
    const k = readKnownResults(plan.known); // a bad file ends the lane before anything is brought up
    process.stdout.write(`${renderPlan(plan)}\n  known failures of ${k.label}: ${k.failures.length}\n`);
  } catch (e) {
    if (e instanceof KnownResultsError) {
      process.stderr.write(`${tag}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (values['dry-run']) return 0;
  const busy = preflight(clusterDir());
  if (busy) {
    process.stderr.write(`${tag}: ${busy}\n`);
    return 2;
  }

  let interrupted = false;
  let tearingDown = false;
  let child: ChildProcess | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (tearingDown) {
      process.stderr.write(
        `${tag}: ${sig} during teardown: teardown goes on (it runs in its own process group); kill -9 ${process.pid} and \`npm run cluster:down\` to force\n`,
      );
      return;
    }
    if (!interrupted) process.stderr.write(`${tag}: ${sig}: the current stage stops, the stages left are skipped, then teardown\n`);
    interrupted = true;
    // Ctrl-C reached the stage's process group from the terminal already; a SIGTERM to us alone is passed on as
    // one SIGINT, so the e2e run cleans up its namespaces as on Ctrl-C (a second SIGINT would make it exit at once)
    if (sig === 'SIGTERM' && child?.pid) child.kill('SIGINT');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const t0 = Date.now();
  const result = await runLane(plan, {
    run: (s) => {
      if (s.role === 'teardown') tearingDown = true;
      return spawnStep(s, (c) => {
        child = c;
      });
    },
    remove: (p) => rmSync(p, { recursive: true, force: true }),
    now: Date.now,
    log: (l) => process.stdout.write(`${l}\n`),
    interrupted: () => interrupted,
  });
  process.stdout.write(`\n${renderStages(spec.name, result, Date.now() - t0)}\n`);
  return result.exitCode;
}

runMain('lane', main);
