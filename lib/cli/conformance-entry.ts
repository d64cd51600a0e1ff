// The conformance-image contract (the entrypoint of registry.local/sctp-e2e-suite, suite-image/README.md):
// what upstream's conformance image (kubernetes test/conformance/image go-runner) reads from its environment,
// mapped onto `sctp-e2e run` flags, and the results handed over the way Sonobuoy's worker and hydrophone
// expect them.
//
//   E2E_FOCUS            → --grep (a regex over full titles). Upstream's default `\[Conformance\]` (what
//                          `hydrophone --conformance` and Sonobuoy's e2e plugin send) selects the whole suite:
//                          this suite is the SCTP conformance suite and carries no [Conformance] tag.
//   E2E_SKIP             → --skip (the negative regex; both apply: ^(?=.*FOCUS)(?!.*SKIP))
//   E2E_PARALLEL, --procs/--nodes in E2E_EXTRA_GINKGO_ARGS
//                        → accepted and logged: the suite runs serially (its tests share node state)
//   E2E_DRYRUN           → --dry-run
//   E2E_EXTRA_ARGS       → appended flags: split on E2E_EXTRA_ARGS_SEP when set (upstream), else shell words
//                          ('…', "…", \ escapes; nothing is expanded). Later flags override ours.
//   KUBE_TEST_REPO       → --image-repo; KUBE_TEST_REPO_LIST is read by the suite itself
//   E2E_PROVIDER, E2E_VERBOSITY, E2E_USE_GO_RUNNER, other E2E_EXTRA_GINKGO_ARGS → accepted, no effect (logged)
//   RESULTS_DIR          (default /tmp/results) receives:
//     e2e.log            the whole console output (stdout and stderr of the suite and of this entrypoint);
//                        its first line is "Will run N of M specs" and each finished test prints a "•" line
//                        (hydrophone parses both out of e2e.log for its progress)
//     junit_01.xml       JUnit (--junit); artifacts/ (--artifacts: summary.json, capabilities.json, failure
//                        dumps); report/ (--report: report.html, report.json)
//     e2e.tar.gz         every file above, at the end
//     done               the tarball's absolute path, no newline, written last (Sonobuoy's worker waits for
//                        it and reads it verbatim)
//   SONOBUOY_PROGRESS_PORT  progress POSTs after each test (lib/framework/progress.ts, in the suite process)
// The exit code is the suite's (0, 1 tests failed, 2 usage, 5 forbidden, 8 nothing verified, …); the last
// line before the results line carries "Ginkgo ran 1 suite", which hydrophone waits for in the pod's log.
// Credentials: the pod's service account; node access: host pods (lib/framework/config.ts, in-cluster).

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { formatDuration } from '../framework/duration.ts';
import { ExitCode, errorMessage, exitCodeMeaning, exitCodeOf, UserError } from '../framework/errors.ts';
import { type TarEntry, writeTar } from '../image/archive.ts';

export const DEFAULT_RESULTS_DIR = '/tmp/results';
export const LOG_FILE = 'e2e.log';
export const JUNIT_FILE = 'junit_01.xml';
export const TARBALL = 'e2e.tar.gz';
export const DONE_FILE = 'done';
/** Upstream's default focus; hydrophone sends it for --conformance and when no --focus is given. */
export const UPSTREAM_DEFAULT_FOCUS = '\\[Conformance\\]';
/** Hydrophone (v0.8.0 pkg/conformance/client/logs.go) waits for this in the last 30 lines of the pod's log. */
export const HYDROPHONE_DONE_MARKER = 'Ginkgo ran 1 suite';

/** Splits like a POSIX shell without expansion: blanks separate, '…' literal, "…" with \" \\ \$ \`, \x outside. */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new UserError(`E2E_EXTRA_ARGS has an unterminated ' quote: ${s}`);
      cur += s.slice(i + 1, j);
      i = j;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length && '"\\$`'.includes(s[j + 1]!)) j++;
        cur += s[j];
      }
      if (j >= s.length) throw new UserError(`E2E_EXTRA_ARGS has an unterminated " quote: ${s}`);
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < s.length) cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

export interface Plan {
  resultsDir: string;
  /** Arguments after `sctp-e2e run`. */
  argv: string[];
  dryRun: boolean;
  /** What was mapped, accepted or ignored, one line each (logged at the start). */
  notes: string[];
}

const truthy = (v: string | undefined) => !!v && /^(y|yes|true|1)$/i.test(v.trim());

export function planFromEnv(env: NodeJS.ProcessEnv): Plan {
  const resultsDir = resolve(env.RESULTS_DIR || DEFAULT_RESULTS_DIR);
  const notes: string[] = [];
  const argv = [
    '--junit',
    join(resultsDir, JUNIT_FILE),
    '--artifacts',
    join(resultsDir, 'artifacts'),
    '--report',
    join(resultsDir, 'report'),
    '--no-cluster-up', // never bring up an embedded cluster from inside a pod
  ];
  const focus = env.E2E_FOCUS ?? '';
  if (focus === UPSTREAM_DEFAULT_FOCUS) {
    notes.push(
      `E2E_FOCUS=${focus} is upstream's default (hydrophone --conformance, Sonobuoy's e2e plugin); this suite has no ` +
        `[Conformance] tag and every test in it is SCTP conformance: no focus, the whole suite`,
    );
  } else if (focus) {
    argv.push('--grep', focus);
    notes.push(`E2E_FOCUS → --grep ${focus}`);
  }
  if (env.E2E_SKIP) {
    argv.push('--skip', env.E2E_SKIP);
    notes.push(`E2E_SKIP → --skip ${env.E2E_SKIP}`);
  }
  const ginkgo = (env.E2E_EXTRA_GINKGO_ARGS ?? '').split(/\s+/).filter(Boolean);
  const procs = ginkgo.find((a) => /^--?(procs|nodes)(=|$)/.test(a));
  const parallel = env.E2E_PARALLEL;
  // upstream: "y", "Y" or "true" run ginkgo in parallel; its default is "1"
  if ((parallel && (/^(y|yes|true)$/i.test(parallel.trim()) || Number(parallel) > 1)) || procs) {
    notes.push(
      `parallel run requested (${[parallel ? `E2E_PARALLEL=${parallel}` : '', procs ?? ''].filter(Boolean).join(', ')}): ` +
        `the suite runs its tests serially, one process (its [Serial] and [Disruptive] tests share node state)`,
    );
  } else if (parallel) {
    notes.push(`E2E_PARALLEL=${parallel}: serial run`);
  }
  const otherGinkgo = ginkgo.filter((a) => a !== procs);
  if (otherGinkgo.length) notes.push(`E2E_EXTRA_GINKGO_ARGS ${otherGinkgo.join(' ')}: ginkgo flags, no effect on this suite (mocha)`);
  for (const k of ['E2E_PROVIDER', 'E2E_VERBOSITY', 'E2E_USE_GO_RUNNER']) {
    if (env[k]) notes.push(`${k}=${env[k]}: accepted, no effect on this suite`);
  }
  const dryRun = truthy(env.E2E_DRYRUN);
  if (dryRun) {
    argv.push('--dry-run');
    notes.push(`E2E_DRYRUN=${env.E2E_DRYRUN} → --dry-run (list the selection, run nothing)`);
  }
  if (env.KUBE_TEST_REPO) {
    argv.push('--image-repo', env.KUBE_TEST_REPO);
    notes.push(`KUBE_TEST_REPO → --image-repo ${env.KUBE_TEST_REPO}`);
  }
  if (env.KUBE_TEST_REPO_LIST) notes.push(`KUBE_TEST_REPO_LIST=${env.KUBE_TEST_REPO_LIST}: read by the suite (registry mirrors)`);
  if (env.E2E_EXTRA_ARGS?.trim()) {
    const sep = env.E2E_EXTRA_ARGS_SEP;
    const extra = sep ? env.E2E_EXTRA_ARGS.split(sep).filter(Boolean) : shellWords(env.E2E_EXTRA_ARGS);
    argv.push(...extra);
    notes.push(`E2E_EXTRA_ARGS → ${JSON.stringify(extra)}${sep ? ` (split on E2E_EXTRA_ARGS_SEP ${JSON.stringify(sep)})` : ' (shell words)'}`);
  }
  return { resultsDir, argv, dryRun, notes };
}

/** ustar (lib/image/archive.ts) holds a path of ≤100 bytes, or a name ≤100 and a prefix ≤155 split at a "/". */
function ustarFits(p: string): boolean {
  if (Buffer.byteLength(p) <= 100) return true;
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
    if (Buffer.byteLength(p.slice(i + 1)) <= 100 && Buffer.byteLength(p.slice(0, i)) <= 155) return true;
  }
  return false;
}

/**
 * Tars every regular file under dir (paths relative to it, sorted, reproducible headers) into dir/e2e.tar.gz,
 * leaving out the tarball and the done file, then writes the done file: the tarball's absolute path, no
 * newline (Sonobuoy's worker reads the file verbatim). Returns what was left out (paths too long for ustar).
 */
export function saveResults(dir: string): { tarball: string; done: string; files: number; skipped: string[] } {
  const tarball = resolve(dir, TARBALL);
  const done = resolve(dir, DONE_FILE);
  const entries: TarEntry[] = [];
  const skipped: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const rel = relative(dir, full);
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (ustarFits(`${rel}/`)) entries.push({ path: `${rel}/`, type: 'dir', mode: 0o755 });
        walk(full);
      } else if (st.isFile() && full !== tarball && full !== done) {
        if (!ustarFits(rel)) {
          skipped.push(rel);
          continue;
        }
        entries.push({ path: rel, type: 'file', mode: 0o644, data: readFileSync(full) });
      }
    }
  };
  walk(dir);
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  writeFileSync(tarball, gzipSync(writeTar(entries)));
  writeFileSync(done, tarball);
  return { tarball, done, files: entries.filter((e) => e.type === 'file').length, skipped };
}

/** The suite's command: $SCTP_E2E_CONFORMANCE_SUITE (a JSON array, for the entrypoint's own tests), else bin/sctp-e2e.ts under tsx. */
export function suiteCommand(env: NodeJS.ProcessEnv, root: string): string[] {
  if (env.SCTP_E2E_CONFORMANCE_SUITE) {
    const c = JSON.parse(env.SCTP_E2E_CONFORMANCE_SUITE) as unknown;
    if (!Array.isArray(c) || !c.length || !c.every((x) => typeof x === 'string'))
      throw new UserError('SCTP_E2E_CONFORMANCE_SUITE must be a JSON array of strings');
    return c;
  }
  return [process.execPath, '--import', 'tsx', join(root, 'bin', 'sctp-e2e.ts')];
}

export const USAGE = `usage: conformance-entry     (the image's entrypoint; configured by the environment)

Runs \`sctp-e2e run\` the way upstream's conformance image runs e2e.test, for Sonobuoy and hydrophone:
  E2E_FOCUS → --grep (upstream's default \\[Conformance\\] = the whole suite)   E2E_SKIP → --skip
  E2E_PARALLEL accepted (the suite runs serially)   E2E_DRYRUN → --dry-run   KUBE_TEST_REPO → --image-repo
  E2E_EXTRA_ARGS appended (shell words; E2E_EXTRA_ARGS_SEP splits on a separator instead)
  RESULTS_DIR (default ${DEFAULT_RESULTS_DIR}): ${LOG_FILE}, ${JUNIT_FILE}, artifacts/, report/, then ${TARBALL} and
  the file ${DONE_FILE} holding the tarball's path; SONOBUOY_PROGRESS_PORT: progress POSTs after each test.
Exit code: the suite's (sctp-e2e run --help).
`;

export async function main(argv = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const started = Date.now();
  let plan: Plan | undefined;
  let resultsDir = resolve(env.RESULTS_DIR || DEFAULT_RESULTS_DIR);
  let logFd: number | undefined;
  const log = (line: string, stream: NodeJS.WriteStream = process.stdout) => {
    stream.write(`${line}\n`);
    if (logFd !== undefined) writeSync(logFd, `${line}\n`);
  };
  let code: number = ExitCode.usage;
  try {
    mkdirSync(resultsDir, { recursive: true });
    logFd = openSync(join(resultsDir, LOG_FILE), 'w');
    plan = planFromEnv(env);
    resultsDir = plan.resultsDir;
    const cmd = suiteCommand(env, root);
    const childEnv = { ...env, SCTP_E2E_PROGRESS: 'ginkgo' };
    // The selection first (no cluster), so that e2e.log opens with ginkgo's "Will run N of M specs": hydrophone
    // polls e2e.log from the start and gives up on a log without it.
    if (!plan.dryRun) {
      const pre = await runChild(
        [...cmd, 'run', ...plan.argv, '--dry-run'],
        root,
        childEnv,
        () => {},
        () => {},
      );
      const line = /Will run \d+ of \d+ specs.*/.exec(pre.stdout)?.[0];
      if (pre.code !== 0 || !line) {
        log(`sctp-e2e conformance: the selection could not be made (exit ${pre.code}):`);
        for (const l of `${pre.stdout}${pre.stderr}`.trimEnd().split('\n')) log(l, process.stderr);
        code = pre.code || ExitCode.usage;
        return code;
      }
      log(`sctp-e2e conformance: ${line}`);
    }
    for (const n of plan.notes) log(`sctp-e2e conformance: ${n}`);
    const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
    log(`sctp-e2e conformance: results in ${resultsDir}; running ${[...cmd.slice(-1), 'run', ...plan.argv].map(q).join(' ')}`);
    const stop = (sig: NodeJS.Signals) => {
      log(`sctp-e2e conformance: got ${sig}, passing it to the suite (it runs its cleanup)`);
      child?.kill(sig);
    };
    let child: ReturnType<typeof spawn> | undefined;
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    const r = await runChild(
      [...cmd, 'run', ...plan.argv],
      root,
      childEnv,
      (b) => {
        process.stdout.write(b);
        if (logFd !== undefined) writeSync(logFd, b);
      },
      (b) => {
        process.stderr.write(b);
        if (logFd !== undefined) writeSync(logFd, b);
      },
      (c) => {
        child = c;
      },
    );
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    code = r.code;
    return code;
  } catch (e) {
    log(`sctp-e2e conformance: ${errorMessage(e)}`, process.stderr);
    code = exitCodeOf(e);
    return code;
  } finally {
    log(
      `sctp-e2e conformance: finished after ${formatDuration(Date.now() - started)}, exit ${code} (${exitCodeMeaning(code)}); ` +
        `for hydrophone, which waits for this marker: ${HYDROPHONE_DONE_MARKER}`,
    );
    if (logFd !== undefined) closeSync(logFd);
    try {
      const s = saveResults(resultsDir);
      process.stdout.write(
        `sctp-e2e conformance: results ${s.tarball} (${s.files} files${s.skipped.length ? `; left out, path too long for tar: ${s.skipped.join(', ')}` : ''}); ` +
          `${s.done} names it\n`,
      );
    } catch (e) {
      process.stderr.write(`sctp-e2e conformance: could not save the results in ${resultsDir}: ${errorMessage(e)}\n`);
    }
  }
}

/** Runs cmd, streaming its output to out/err; keeps the output only when asked (the dry-run pre-pass). */
function runChild(
  cmd: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  out: (b: Buffer) => void,
  err: (b: Buffer) => void,
  started?: (c: ReturnType<typeof spawn>) => void,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const keep = !started;
  return new Promise((res) => {
    // stdin: a pipe closed at once rather than 'ignore' (which opens /dev/null, absent in a bare chroot)
    const c = spawn(cmd[0]!, cmd.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    c.stdin.on('error', () => {});
    c.stdin.end();
    started?.(c);
    let failed: Error | undefined;
    const so: Buffer[] = [];
    const se: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => {
      if (keep) so.push(b);
      out(b);
    });
    c.stderr.on('data', (b: Buffer) => {
      if (keep) se.push(b);
      err(b);
    });
    c.on('error', (e) => {
      failed = e;
      const b = Buffer.from(`sctp-e2e conformance: cannot start ${cmd[0]} (cwd ${cwd}): ${e.message}\n`);
      se.push(b);
      err(b);
    });
    c.on('close', (code, signal) => {
      const sigs: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
      const exit = failed ? 127 : (code ?? (signal ? 128 + (sigs[signal] ?? 1) : 70));
      res({ code: exit, stdout: Buffer.concat(so).toString('utf8'), stderr: Buffer.concat(se).toString('utf8') });
    });
  });
}
