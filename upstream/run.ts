// Runs upstream's SCTP specs (e2e.test built by upstream/build.sh) against a cluster and reads their verdicts.
//   tsx upstream/run.ts [--phase basic,connectivity,netpol] [--specs ID,...] [--kubeconfig K] [--out DIR] [--version v1.34.4]
//                       [--image-source local|upstream] [--timeout 40m] [-- extra e2e.test flags]
// local (default on the local cluster): our offline-built agnhost image, imported into every node of the local
// cluster (and the joined kernel-lane VM), selected with e2e.test's --kube-test-repo-list. upstream (default
// elsewhere): e2e.test pulls registry.k8s.io/e2e-test-images/agnhost as upstream CI does.
// Writes DIR/junit_01.xml (e2e.test's), DIR/e2e.log and DIR/upstream.json; prints one line per spec.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type JUnitCase, parseJUnit } from '../cluster/lab/junit.ts';
import { findKubeconfig, localClusterDir, readLocalCluster } from '../lib/framework/config.ts';
import { ExitCode, UsageError, UserError } from '../lib/framework/errors.ts';
import { runMain, usageOnError } from '../lib/framework/main.ts';
import { selectSpecs, specOf, type UpstreamPhase, upstreamFocus } from './specs.ts';

export interface UpstreamBuild {
  dir: string;
  k8sVersion: string;
  agnhostTag: string;
  image: string;
  imageDigest: string;
  archive: string;
  e2eTestSha256: string;
}

export interface UpstreamResult {
  id: string;
  phase: UpstreamPhase;
  name: string;
  outcome: JUnitCase['outcome'];
  seconds: number;
  message?: string;
}

export interface UpstreamRun {
  k8sVersion: string;
  image: string;
  imageDigest: string;
  phases: UpstreamPhase[];
  focus: string;
  wallSeconds: number;
  exitCode: number | null;
  results: UpstreamResult[];
  junit: string;
  log: string;
  command: string;
}

const here = new URL('.', import.meta.url).pathname;
const log = (s: string) => process.stderr.write(`[upstream ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

export function buildUpstream(version: string): UpstreamBuild {
  const r = spawnSync('bash', [join(here, 'build.sh'), version], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new UserError(`upstream/build.sh ${version} failed (exit ${r.status})`, ExitCode.failed);
  const dir = r.stdout.trim().split('\n').pop()!;
  return { dir, ...JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) } as UpstreamBuild;
}

/** The local cluster's containerd sockets (host nodes) and the kernel-lane VM node, if joined. */
export function loadImageIntoLocalCluster(b: UpstreamBuild): string[] {
  const cj = readLocalCluster();
  if (!cj) throw new UserError(`no local cluster at ${localClusterDir()}`, ExitCode.prerequisite);
  const done: string[] = [];
  for (const n of cj.nodes) {
    const sock = join('/var/lib/sctp-e2e/cluster', n.name, 'containerd', 'containerd.sock');
    if (existsSync(sock)) {
      const r = spawnSync('ctr', ['--address', sock, '-n', 'k8s.io', 'images', 'import', b.archive], { encoding: 'utf8', timeout: 180_000 });
      if (r.status !== 0) throw new UserError(`ctr import into ${n.name} failed: ${r.stderr.trim()}`, ExitCode.failed);
      done.push(n.name);
    } else if (n.ssh) {
      // a remote node (the kernel-lane VM): stream the archive over its ssh into its containerd
      // the kernel-lane node's containerd (vm/join.ts: /var/lib/sctpe2e/<node>/containerd), else the default one
      const cmd =
        `s=$(ls /var/lib/sctpe2e/${n.name}/containerd/containerd.sock 2>/dev/null || echo /run/containerd/containerd.sock); ` +
        `ctr --address "$s" -n k8s.io images import -`;
      const r = spawnSync(
        'ssh',
        [
          '-i',
          n.ssh.keyPath,
          '-o',
          `UserKnownHostsFile=${n.ssh.knownHostsPath}`,
          '-o',
          'StrictHostKeyChecking=yes',
          '-o',
          'BatchMode=yes',
          '-p',
          String(n.ssh.port),
          `${n.ssh.user}@${n.ssh.host}`,
          cmd,
        ],
        { input: readFileSync(b.archive), encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 20 },
      );
      if (r.status !== 0) throw new UserError(`image import into ${n.name} over ssh failed: ${(r.stderr || r.stdout).trim()}`, ExitCode.failed);
      done.push(n.name);
    }
  }
  return done;
}

export async function runUpstream(o: {
  build: UpstreamBuild;
  kubeconfig: string;
  phases: UpstreamPhase[];
  ids?: string[];
  out: string;
  imageSource: 'local' | 'upstream';
  timeout: string;
  extra: string[];
}): Promise<UpstreamRun> {
  mkdirSync(o.out, { recursive: true });
  const focus = upstreamFocus(o.phases, o.ids);
  const selected = selectSpecs(o.phases, o.ids).map((s) => s.id);
  const args = [
    '--kubeconfig',
    o.kubeconfig,
    '--provider',
    'skeleton',
    `--ginkgo.focus=${focus}`,
    '--ginkgo.no-color',
    '--ginkgo.v',
    '--ginkgo.silence-skips',
    `--ginkgo.timeout=${o.timeout}`,
    '--report-dir',
    o.out,
    ...(o.imageSource === 'local' ? ['--kube-test-repo-list', join(o.build.dir, 'repo-list.yaml')] : []),
    ...o.extra,
  ];
  const e2e = join(o.build.dir, 'e2e.test');
  const command = `${e2e} ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')}`;
  const logPath = join(o.out, 'e2e.log');
  const t0 = Date.now();
  log(`running ${selected.length} upstream spec(s) (${selected.join(', ')}); log ${logPath}`);
  const child = spawn(e2e, args, { cwd: o.out, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(logPath);
  let current = '';
  let lastStep = '';
  const onLine = (line: string) => {
    const spec = /^\[It\] (.*)$/.exec(line.trim()) ?? /^(\[sig-network\].*sctp.*|\[sig-network\].*SCTP.*)$/.exec(line.trim());
    if (spec && spec[1] !== current) {
      current = spec[1]!;
      log(`spec: ${current}`);
    }
    const step = /STEP: (.*) @/.exec(line);
    if (step) lastStep = step[1]!;
  };
  for (const s of [child.stdout, child.stderr]) {
    let buf = '';
    s.on('data', (d: Buffer) => {
      file.write(d);
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      lines.forEach(onLine);
    });
  }
  const tick = setInterval(() => log(`… ${Math.round((Date.now() - t0) / 1000)}s${lastStep ? `, ${lastStep}` : ''}`), 30_000);
  const stop = () => {
    child.kill('SIGINT');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const exitCode = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(tick);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  file.end();
  const wallSeconds = (Date.now() - t0) / 1000;
  const junit = join(o.out, 'junit_01.xml');
  const cases = existsSync(junit) ? parseJUnit(readFileSync(junit, 'utf8')) : [];
  const results: UpstreamResult[] = [];
  for (const c of cases) {
    const s = specOf(c.name);
    if (!s || !selected.includes(s.id)) continue;
    results.push({
      id: s.id,
      phase: s.phase,
      name: c.name.replace(/^\[It\] /, ''),
      outcome: c.outcome,
      seconds: c.seconds ?? 0,
      message: summarizeFailure(c.message, c.body),
    });
  }
  const run: UpstreamRun = {
    k8sVersion: o.build.k8sVersion,
    image: o.imageSource === 'local' ? o.build.image : `registry.k8s.io/e2e-test-images/agnhost:${o.build.agnhostTag}`,
    imageDigest: o.imageSource === 'local' ? o.build.imageDigest : '(pulled)',
    phases: o.phases,
    focus,
    wallSeconds,
    exitCode,
    results,
    junit,
    log: logPath,
    command,
  };
  writeFileSync(join(o.out, 'upstream.json'), JSON.stringify(run, null, 2) + '\n');
  for (const r of results)
    log(`${r.outcome.padEnd(7)} ${r.seconds.toFixed(1).padStart(6)}s  ${r.name}${r.message ? `\n          ${r.message.slice(0, 300)}` : ''}`);
  log(`${results.length} upstream spec(s) in ${wallSeconds.toFixed(1)}s (e2e.test exit ${exitCode})`);
  return run;
}

/**
 * One line for a ginkgo failure: its first two lines ("[FAILED] Timed out after 300.001s." + "expected pod to
 * be running and ready, …") and, from the pod dump in its body, the containers' waiting reasons and exit codes.
 */
export function summarizeFailure(message?: string, body?: string): string | undefined {
  const text = (message?.trim() || body || '').trim();
  if (!text) return undefined;
  const head = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join(' ')
    .replace(/^\[FAILED\] /, '')
    .replace(/, got instead:$/, '');
  const dump = body ?? '';
  const reasons = [
    ...new Set(
      [...dump.matchAll(/^\s*reason: (CrashLoopBackOff|ImagePullBackOff|ErrImagePull|CreateContainerError|RunContainerError|Error|OOMKilled)\s*$/gm)].map(
        (m) => m[1],
      ),
    ),
  ];
  const exits = [...new Set([...dump.matchAll(/^\s*exitCode: (\d+)\s*$/gm)].map((m) => m[1]))];
  const extra = reasons.length || exits.length ? ` (containers: ${[...reasons, ...exits.map((e) => `exit code ${e}`)].join(', ')})` : '';
  return head + extra;
}

export function parsePhases(v: string): UpstreamPhase[] {
  const all: UpstreamPhase[] = ['basic', 'connectivity', 'netpol', 'dualstack'];
  const out = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of out) if (!all.includes(p as UpstreamPhase)) throw new UsageError(`--phase: unknown phase ${JSON.stringify(p)} (known: ${all.join(', ')})`);
  return out as UpstreamPhase[];
}

async function main(): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      allowPositionals: true,
      options: {
        phase: { type: 'string', default: 'basic' },
        specs: { type: 'string' },
        kubeconfig: { type: 'string' },
        out: { type: 'string' },
        version: { type: 'string' },
        'image-source': { type: 'string' },
        timeout: { type: 'string', default: '40m' },
        help: { type: 'boolean' },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(
      readFileSync(new URL(import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('//'))
        .map((l) => l.slice(3))
        .join('\n') + '\n',
    );
    return ExitCode.ok;
  }
  const phases = parsePhases(values.phase!);
  const kc = values.kubeconfig ? { path: values.kubeconfig, source: '--kubeconfig' } : findKubeconfig();
  if (!kc) throw new UserError('no kubeconfig: pass --kubeconfig or bring up the local cluster (npm run cluster:up)', ExitCode.kubeconfig);
  const local = readLocalCluster();
  const isLocal = !!local && local.kubeconfig === kc.path;
  const imageSource = (values['image-source'] ?? (isLocal ? 'local' : 'upstream')) as 'local' | 'upstream';
  if (imageSource !== 'local' && imageSource !== 'upstream') throw new UsageError(`--image-source must be local or upstream, not ${imageSource}`);
  const build = buildUpstream(values.version ?? 'v1.34.4');
  if (imageSource === 'local') {
    if (!isLocal)
      throw new UsageError(`--image-source local: push ${build.image} (archive ${build.archive}) to your nodes first, or use --image-source upstream`);
    log(`imported ${build.image} (${build.imageDigest.slice(0, 19)}…) into ${loadImageIntoLocalCluster(build).join(', ')}`);
  }
  const out = resolve(values.out ?? join('artifacts', `upstream-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15).toLowerCase()}`));
  const run = await runUpstream({
    build,
    kubeconfig: kc.path,
    phases,
    ids: values.specs?.split(','),
    out,
    imageSource,
    timeout: values.timeout!,
    extra: positionals,
  });
  return run.results.length === 0 ? ExitCode.nothingVerified : run.results.some((r) => r.outcome === 'failed') ? ExitCode.testsFailed : ExitCode.ok;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  runMain('upstream', main);
}
