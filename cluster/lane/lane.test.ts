// A plugin lane's orchestration (lane.ts), on the Cilium lane's spec, with a fake runner: the order of the stages, which exit codes go
// on, the lane's exit code, and that teardown always runs for what was started (failure, Ctrl-C, a stage that
// could not start). No cluster, no process is started.

import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { type LaneDeps, type LaneSpec, lanePlan, npm, preflight, renderPlan, renderStages, runLane, type Step, spawnStep } from './lane.ts';
import { cilium } from './lanes/cilium.ts';
import { LANES } from './lanes.ts';

const plan = () => lanePlan(cilium, { stateDir: '/var/lib/sctp-e2e/cluster' });

/** A fake runner: exit codes by step name (default 0); `interruptAt` sets the interrupted flag while that step runs. */
function fake(codes: Record<string, number | Error> = {}, interruptAt?: string) {
  const ran: string[] = [];
  const removed: string[] = [];
  const logs: string[] = [];
  let t = 0;
  let interrupted = false;
  const deps: LaneDeps = {
    run: async (s: Step) => {
      ran.push(s.name);
      t += 1000;
      if (s.name === interruptAt) interrupted = true;
      const c = codes[s.name] ?? 0;
      if (c instanceof Error) throw c;
      return c;
    },
    remove: (p) => removed.push(p),
    now: () => t,
    log: (l) => logs.push(l),
    interrupted: () => interrupted,
  };
  return { deps, ran, removed, logs };
}

const ALL = ['cluster:up', 'lb:up', 'netpol:up', 'e2e', 'known-results', 'netpol:down', 'lb:down', 'cluster:down'];

describe('Cilium lane: the plan', () => {
  it('up the cluster (2 nodes), the LB and Cilium; the e2e against that cluster with JUnit and the report card; the checker; down in reverse', () => {
    const p = plan();
    expect(p.steps.map((s) => s.argv.join(' '))).to.deep.equal([
      'npm run --silent cluster:up -- --nodes 2',
      'npm run --silent lb:up',
      'npm run --silent netpol:up',
      'npm run --silent e2e -- --no-cluster-up --kubeconfig /var/lib/sctp-e2e/cluster/admin.kubeconfig --require multi-node,networkpolicy,loadbalancer --junit artifacts/lane-cilium/junit.xml --report artifacts/lane-cilium/report',
      'tsx lib/report/known-cli.ts --known cluster/netpol/known-results/cilium-v1.15.19.yaml --results artifacts/lane-cilium/junit.xml --report artifacts/lane-cilium/report',
    ]);
    expect(p.steps.find((s) => s.name === 'e2e')!.okCodes).to.deep.equal([0, 1]);
    expect(p.teardown.map((s) => s.argv.join(' '))).to.deep.equal([
      'npm run --silent netpol:down',
      'npm run --silent lb:down',
      'npm run --silent cluster:down',
    ]);
    expect(p.clean).to.deep.equal(['artifacts/lane-cilium/junit.xml', 'artifacts/lane-cilium/report', 'artifacts/lane-cilium/known-results.txt']);
    expect(renderPlan(p)).to.contain('always, in this order, for each add-on or cluster whose up was started (also after a failure or Ctrl-C):');
  });

  it('refuses to start over a local cluster that is already up (it would tear that one down)', () => {
    expect(preflight('/s', () => false)).to.equal(undefined);
    expect(preflight('/s', (p) => p === '/s/cluster.json')).to.match(
      /^a local cluster is already up or half torn down \(\/s\/cluster\.json\): .*run `npm run cluster:down` first$/,
    );
  });

  it('--dry-run prints the steps and exits 0 without running anything', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'cluster/lane/cli.ts', 'cilium', '--dry-run'], { encoding: 'utf8' });
    expect(out).to.match(
      /^cilium lane: Cilium v1\.15\.19 .* \(known results: cluster\/netpol\/known-results\/cilium-v1\.15\.19\.yaml; results under artifacts\/lane-cilium\)\n/,
    );
    expect(out).to.contain('  1. npm run --silent cluster:up -- --nodes 2\n');
    expect(out).to.contain('  known failures of Cilium v1.15.19: 6\n');
  });
});

describe('Cilium lane: running the plan (fake runner)', () => {
  it('the expected run: e2e exits 1 (the known failures), the checker 0: lane 0, every stage timed, teardown after', async () => {
    const f = fake({ e2e: 1 });
    const r = await runLane(plan(), f.deps);
    expect(f.ran).to.deep.equal(ALL);
    expect(f.removed).to.deep.equal(plan().clean);
    expect(r.exitCode).to.equal(0);
    expect(r.stages.map((s) => [s.name, s.code, s.ms])).to.deep.equal(ALL.map((n) => [n, n === 'e2e' ? 1 : 0, 1000]));
    expect(f.logs).to.include('---- e2e: exit 1 in 1s');
    const table = renderStages('cilium', r, 8000);
    expect(table).to.contain('  e2e            1        1s\n');
    expect(table.split('\n').slice(-2)).to.deep.equal([
      '  total                   8s',
      'lane exit 0: every failure is a known failure of the plugin, each failed as described',
    ]);
  });

  it('the checker says not as known: lane 1, teardown still runs', async () => {
    const f = fake({ e2e: 1, 'known-results': 1 });
    const r = await runLane(plan(), f.deps);
    expect(f.ran).to.deep.equal(ALL);
    expect(r).to.include({ exitCode: 1, sentence: 'the run is not as the known-results file says (see the table above)' });
  });

  it('netpol:up fails: e2e and checker skipped, netpol, LB and cluster torn down, lane exits with its code', async () => {
    const f = fake({ 'netpol:up': 1 });
    const r = await runLane(plan(), f.deps);
    expect(f.ran).to.deep.equal(['cluster:up', 'lb:up', 'netpol:up', 'netpol:down', 'lb:down', 'cluster:down']);
    expect(r.stages.filter((s) => s.code === 'skipped').map((s) => [s.name, s.why])).to.deep.equal([
      ['e2e', 'an earlier stage failed'],
      ['known-results', 'an earlier stage failed'],
    ]);
    expect(r).to.include({ exitCode: 1, sentence: 'netpol:up failed (exit 1)' });
  });

  it('cluster:up fails: only cluster:down runs (the add-ons were never started)', async () => {
    const f = fake({ 'cluster:up': 1 });
    const r = await runLane(plan(), f.deps);
    expect(f.ran).to.deep.equal(['cluster:up', 'cluster:down']);
    expect(r.stages.find((s) => s.name === 'netpol:down')).to.deep.include({ code: 'skipped', why: 'its up was never started' });
    expect(r.exitCode).to.equal(1);
  });

  it('the e2e run does not complete (exit 4, API server unreachable): nothing to check, lane 4, teardown', async () => {
    const f = fake({ e2e: 4 });
    const r = await runLane(plan(), f.deps);
    expect(f.ran).to.deep.equal(ALL.filter((n) => n !== 'known-results'));
    expect(r).to.include({ exitCode: 4, sentence: 'the e2e run did not complete (exit 4), so there is nothing to check' });
  });

  it('Ctrl-C during the e2e run: the checker is skipped, teardown runs, lane 130', async () => {
    const f = fake({ e2e: 130 }, 'e2e');
    const r = await runLane(plan(), f.deps);
    expect(f.ran).to.deep.equal(ALL.filter((n) => n !== 'known-results'));
    expect(r.stages.find((s) => s.name === 'known-results')).to.deep.include({ code: 'skipped', why: 'interrupted' });
    expect(r).to.include({ exitCode: 130, sentence: 'interrupted during e2e' });
  });

  it('a stage that cannot start (spawn error) fails the lane; a teardown step that fails makes a green lane red, the others still run', async () => {
    const f = fake({ 'lb:up': new Error('spawn npm ENOENT') });
    const r = await runLane(plan(), f.deps);
    expect(f.logs).to.include('lb:up could not run: spawn npm ENOENT');
    expect(f.ran).to.deep.equal(['cluster:up', 'lb:up', 'lb:down', 'cluster:down']);
    expect(r.exitCode).to.equal(1);

    const g = fake({ e2e: 1, 'lb:down': 1 });
    const s = await runLane(plan(), g.deps);
    expect(g.ran).to.deep.equal(ALL);
    expect(s).to.include({
      exitCode: 1,
      sentence: 'every failure is a known failure of the plugin, each failed as described; teardown failed: lb:down (run `npm run lb:down` by hand)',
    });
  });
});

describe('plugin lanes: the spec, the registry and the command', () => {
  const spec: LaneSpec = {
    name: 'x',
    title: 'a plugin',
    known: 'k.yaml',
    requires: 'networkpolicy',
    e2eArgs: ['--skip-tag', 'Y'],
    e2eEnv: { SCTP_E2E_CLUSTER_DIR: '/j' },
    setup: [
      { name: 'a:up', argv: npm('a:up', '--n', '1'), undo: { name: 'a:down', argv: npm('a:down') } },
      { name: 'mark', argv: ['true'] },
      { name: 'b:up', argv: npm('b:up'), undo: { name: 'b:down', argv: npm('b:down') } },
    ],
  };
  it('setup in order, undo steps in reverse for the setups that have one; e2eArgs before the JUnit and report; --known/--out override', () => {
    const p = lanePlan(spec, { stateDir: '/s', known: 'other.yaml', out: 'o' });
    expect(p.steps.map((s) => [s.name, s.role, s.undo])).to.deep.equal([
      ['a:up', 'setup', 'a:down'],
      ['mark', 'setup', undefined],
      ['b:up', 'setup', 'b:down'],
      ['e2e', 'run', undefined],
      ['known-results', 'check', undefined],
    ]);
    expect(p.steps[3]!.argv.join(' ')).to.equal(
      'npm run --silent e2e -- --no-cluster-up --kubeconfig /s/admin.kubeconfig --require networkpolicy --skip-tag Y --junit o/junit.xml --report o/report',
    );
    expect(p.steps[3]!.env).to.deep.equal({ SCTP_E2E_CLUSTER_DIR: '/j' });
    expect(renderPlan(p)).to.contain('  4. env SCTP_E2E_CLUSTER_DIR=/j npm run --silent e2e -- --no-cluster-up --kubeconfig /s/admin.kubeconfig');
    expect(p.steps[4]!.argv).to.include('other.yaml');
    expect(p.teardown.map((s) => s.name)).to.deep.equal(['b:down', 'a:down']);
    expect(lanePlan(spec, { stateDir: '/s' }).out).to.equal('artifacts/lane-x');
  });

  it('every registered lane has an npm script lane:<name> that runs it, and a known-results file that exists', async () => {
    const { existsSync, readFileSync } = await import('node:fs');
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const l of Object.values(LANES)) {
      expect(scripts[`lane:${l.name}`], l.name).to.equal(`tsx cluster/lane/cli.ts ${l.name}`);
      expect(existsSync(l.known), l.known).to.equal(true);
    }
  });

  it('an unknown lane or none: exit 2 naming the lanes', () => {
    let err: { status?: number; stderr?: string } = {};
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'cluster/lane/cli.ts', 'nope'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.status).to.equal(2);
    expect(err.stderr).to.match(/^lane: no lane named "nope" \(lanes: .*cilium.*\)\n/);
  });
});

describe('Cilium lane: the real step runner (sh, no npm)', () => {
  const step = (argv: string[], role: Step['role'] = 'setup'): Step => ({ name: 'x', argv, role, okCodes: [0] });
  it('an exit code as is; killed by a signal: 128+n; a command that does not exist: rejected', async () => {
    expect(await spawnStep(step(['sh', '-c', 'exit 3']))).to.equal(3);
    expect(await spawnStep(step(['sh', '-c', 'kill -TERM $$']))).to.equal(143);
    expect(await spawnStep(step(['sh', '-c', 'exit 0'], 'teardown'))).to.equal(0);
    expect(await spawnStep({ ...step(['sh', '-c', 'test "$LANE_X" = 1 && test -n "$PATH"']), env: { LANE_X: '1' } })).to.equal(0); // added to the lane's env
    let err: Error | undefined;
    await spawnStep(step(['/nonexistent/npm'])).catch((e: Error) => {
      err = e;
    });
    expect(err?.message).to.match(/ENOENT/);
  });
});
