// The run's own faults: `npm run lab:interrupts [-- --only sigint,kill9]` against the running local cluster.
//   sigint: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) in the middle of a test: the
//           run must exit 130 within the cleanup deadline and leave no namespace of its run behind.
//   kill9:  kill -9 of the whole process group mid-run: what is left must carry the run label, and
//           `npm run e2e:sweep` must remove all of it.
//   apiserver-restart: kube-apiserver stopped mid-test for 15 s and started again: the run must end within its
//           deadline with a pass or a failure that says what it was waiting for (never mocha's bare timeout,
//           never a hang), and leave nothing behind.
// Prints one verdict line per case (same columns as lab:verdicts); exits 1 if any is wrong.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { formatDuration } from '../../lib/framework/duration.ts';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { apiserverArgs, type Layout, layout, nodeSpec } from '../render.ts';
import { alive, ClusterError, log, run, sleep } from '../run.ts';
import { readState } from '../state.ts';
import { restartDaemon } from './faults.ts';
import { type Cell, renderMatrix } from './verdicts.ts';

const GREP = 'A pod can connect to another pod via SCTP via a Service IP \\(port'; // one test: not the dual-stack ones ("… over IPv4 (port")
const RUN_LABEL = 'sctp-e2e.io/run';

interface Ns {
  name: string;
  terminating: boolean;
}

async function namespacesOf(kubectl: string, kubeconfig: string, runId: string): Promise<Ns[]> {
  const r = await execa(
    kubectl,
    [
      '--kubeconfig',
      kubeconfig,
      '--request-timeout=10s',
      'get',
      'ns',
      '-l',
      `${RUN_LABEL}=${runId}`,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}',
    ],
    { reject: false, timeout: 20_000 },
  );
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, phase] = l.split(' ');
      return { name: name!, terminating: phase === 'Terminating' };
    });
}

/** Starts a run in its own process group; resolves once a namespace of the run exists and a test is underway. */
async function startRun(
  runId: string,
  logFile: string,
  kubectl: string,
  kubeconfig: string,
  o: { early?: boolean } = {},
): Promise<{ pgid: number; exited: Promise<number | null> }> {
  const fd = openSync(logFile, 'w');
  const child = spawn('tsx', ['bin/sctp-e2e.ts', 'run', '--no-cluster-up', '--grep', GREP, '--junit', `${logFile}.xml`], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, SCTP_E2E_RUN_ID: runId },
  });
  closeSync(fd);
  const exited = new Promise<number | null>((res) => child.on('exit', (code, sig) => res(code ?? (sig ? 128 : null))));
  const t0 = Date.now();
  for (;;) {
    const ns = await namespacesOf(kubectl, kubeconfig, runId);
    // early: as soon as the run's namespace exists (the test is creating its pods); else once the test is underway
    if (ns.length && (o.early || /✓|SCTPConnectivity Services/.test(readFileSync(logFile, 'utf8')))) break;
    if (Date.now() - t0 > 120_000) throw new ClusterError(`the run ${runId} created no namespace within 120s (log ${logFile})`);
    await sleep(1_000);
  }
  await sleep(o.early ? 1_000 : 5_000); // inside the test: pods being created / probes running
  return { pgid: child.pid!, exited };
}

/** Stops kube-apiserver, waits `downMs`, starts it again with the same arguments, waits for /readyz. */
async function bounceApiserver(l: Layout, kubectl: string, downMs: number): Promise<void> {
  log('apiserver-restart: stopping kube-apiserver');
  const d = await restartDaemon(l, 'kube-apiserver', apiserverArgs(l, nodeSpec(1)), nodeSpec(1).netns, { downMs });
  const t0 = Date.now();
  for (;;) {
    const r = await run(kubectl, ['--kubeconfig', l.adminKubeconfig, '--request-timeout=5s', 'get', '--raw', '/readyz'], {
      allowFail: true,
      timeoutMs: 10_000,
    });
    if (r.code === 0 && alive(d.pid)) break;
    if (Date.now() - t0 > 120_000 || !alive(d.pid))
      throw new ClusterError(`kube-apiserver did not become ready within 120s after the restart (PID ${d.pid}, log ${join(l.logs, 'kube-apiserver.log')})`);
    await sleep(1_000);
  }
  log(`apiserver-restart: kube-apiserver (PID ${d.pid}) ready again after ${formatDuration(Date.now() - t0)} (down ${formatDuration(downMs)})`);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let only: string[] | undefined;
  let out = 'artifacts/lab-interrupts';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') only = (argv[++i] ?? '').split(',');
    else if (argv[i] === '--out') out = argv[++i] ?? out;
    else throw new UsageError(`unknown argument ${argv[i]}`);
  }
  const stateDir = process.env.SCTP_E2E_CLUSTER_DIR ?? '/var/lib/sctp-e2e/cluster';
  const l = layout(stateDir);
  const st = readState(l.stateJson);
  if (!st?.binDir) throw new ClusterError(`no local cluster state in ${stateDir}: run \`npm run cluster:up\` first`);
  const kubectl = join(st.binDir, 'kubectl');
  mkdirSync(out, { recursive: true });
  const cells: Cell[] = [];
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(4, 14);

  if (!only || only.includes('sigint')) {
    const runId = `lab-sigint-${stamp}`;
    const logFile = join(out, 'run-sigint.log');
    log(`sigint: starting run ${runId} (${GREP})`);
    const r = await startRun(runId, logFile, kubectl, l.adminKubeconfig);
    const before = await namespacesOf(kubectl, l.adminKubeconfig, runId);
    log(`sigint: SIGINT to process group ${r.pgid} with ${before.length} namespace(s) of the run live`);
    const t0 = Date.now();
    process.kill(-r.pgid, 'SIGINT');
    const code = await Promise.race([r.exited, sleep(180_000).then(() => 'hung' as const)]);
    if (code === 'hung') process.kill(-r.pgid, 'SIGKILL');
    const took = formatDuration(Date.now() - t0);
    const left = (await namespacesOf(kubectl, l.adminKubeconfig, runId)).filter((n) => !n.terminating);
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' / ');
    cells.push({
      fault: 'sigint',
      test: 'Ctrl-C mid-test: exit 130, nothing of the run left',
      expected: 'exit 130, 0 left',
      observed: `${code === 'hung' ? 'HUNG' : `exit ${code}`} in ${took}, ${left.length} left`,
      names: '-',
      ok: code === 130 && left.length === 0,
      evidence: `${left.map((n) => n.name).join(', ') || 'no namespace left'}; log: ${tail}`,
    });
  }

  if (!only || only.includes('kill9')) {
    const runId = `lab-kill9-${stamp}`;
    const logFile = join(out, 'run-kill9.log');
    log(`kill9: starting run ${runId} (${GREP})`);
    const r = await startRun(runId, logFile, kubectl, l.adminKubeconfig);
    process.kill(-r.pgid, 'SIGKILL');
    await r.exited;
    const left = (await namespacesOf(kubectl, l.adminKubeconfig, runId)).filter((n) => !n.terminating);
    log(`kill9: killed; ${left.length} namespace(s) of the run left: ${left.map((n) => n.name).join(', ')}; sweeping`);
    const sw = await execa('tsx', ['bin/sctp-e2e.ts', 'sweep', '--run', runId], { reject: false, all: true, timeout: 120_000 });
    const after = (await namespacesOf(kubectl, l.adminKubeconfig, runId)).filter((n) => !n.terminating);
    cells.push({
      fault: 'kill9',
      test: 'kill -9 mid-test, then e2e:sweep: nothing of the run left',
      expected: '0 left after sweep',
      observed: `${left.length} left, sweep exit ${sw.exitCode}, ${after.length} left after`,
      names: '-',
      ok: left.length > 0 && sw.exitCode === 0 && after.length === 0,
      evidence: `${(sw.all ?? '').trim().split('\n').slice(-2).join(' / ')}`,
    });
  }
  if (!only || only.includes('apiserver-restart')) {
    const runId = `lab-apiserver-${stamp}`;
    const logFile = join(out, 'run-apiserver-restart.log');
    log(`apiserver-restart: starting run ${runId} (${GREP})`);
    const r = await startRun(runId, logFile, kubectl, l.adminKubeconfig, { early: true });
    const t0 = Date.now();
    await bounceApiserver(l, kubectl, 15_000);
    // the test's own deadlines (proxySync, endpoints, cleanup) bound it; 10 minutes is far beyond them
    const code = await Promise.race([r.exited, sleep(600_000).then(() => 'hung' as const)]);
    if (code === 'hung') process.kill(-r.pgid, 'SIGKILL');
    const took = formatDuration(Date.now() - t0);
    const text = readFileSync(logFile, 'utf8');
    const bareTimeout = /Timeout of \d+ms exceeded/.test(text);
    const left = (await namespacesOf(kubectl, l.adminKubeconfig, runId)).filter((n) => !n.terminating);
    const verdictLine =
      text
        .trim()
        .split('\n')
        .filter((x) => /passed, .* failed/.test(x))
        .pop() ?? '(no summary line)';
    const failure = text.split('\n').find((x) => /✗/.test(x));
    cells.push({
      fault: 'apiserver-restart',
      test: 'API server down 15s mid-test: ends in time, clear verdict, nothing left',
      expected: 'exit 0|1, no bare timeout',
      observed: `${code === 'hung' ? 'HUNG' : `exit ${code}`} after ${took}, ${left.length} left${bareTimeout ? ', BARE MOCHA TIMEOUT' : ''}`,
      names: '-',
      ok: (code === 0 || code === 1) && !bareTimeout && left.length === 0,
      evidence: `${verdictLine}${failure ? `; ${failure.trim()}` : ''}`,
    });
  }
  process.stdout.write(`\nRun interruptions\n${renderMatrix(cells)}\n`);
  return cells.every((c) => c.ok) ? 0 : 1;
}

runMain('lab:interrupts', main, { usage: 'usage: npm run lab:interrupts [-- --only sigint,kill9,apiserver-restart] [--out DIR]' });
