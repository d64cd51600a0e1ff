// The conformance entrypoint (bin/conformance-entry.ts) end to end, without a cluster: the suite it starts is
// test/runner/conformance-fixture-suite.ts (the real parser and runner over fixture specs). Checks what
// Sonobuoy's worker and hydrophone read: e2e.log (first line "Will run N of M specs", one "•" per test, both
// streams), junit_01.xml, e2e.tar.gz, the done file, the exit code, the "Ginkgo ran 1 suite" marker in the
// last lines of the output, and the progress POSTs to a local server standing in for Sonobuoy's worker.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import type { ProgressUpdate } from '../../lib/framework/progress.ts';
import { readTar } from '../../lib/image/archive.ts';

const SPECS = JSON.stringify(['test/runner/fixtures/report/report.spec.ts']);
const SUITE = JSON.stringify([process.execPath, '--import', 'tsx', 'test/runner/conformance-fixture-suite.ts']);

interface Entry {
  code: number | null;
  stdout: string;
  stderr: string;
  dir: string;
  argv: string[][];
}

function entry(env: Record<string, string>): Promise<Entry> {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-conformance-'));
  const argvOut = join(dir, '..', `${dir.split('/').pop()}.argv`);
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'bin/conformance-entry.ts'], {
      env: { ...process.env, RESULTS_DIR: join(dir, 'results'), SCTP_E2E_CONFORMANCE_SUITE: SUITE, FIXTURE_SPECS: SPECS, FIXTURE_ARGV_OUT: argvOut, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b) => {
      stdout += b;
    });
    c.stderr.on('data', (b) => {
      stderr += b;
    });
    const t = setTimeout(() => c.kill('SIGKILL'), 90_000);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(t);
      const argv = existsSync(argvOut)
        ? readFileSync(argvOut, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as string[])
        : [];
      rmSync(argvOut, { force: true });
      resolve({ code, stdout, stderr, dir: join(dir, 'results'), argv });
    });
  });
}

describe('conformance entrypoint over fixture specs (no cluster)', function () {
  this.timeout(120_000);
  let server: Server;
  let port: number;
  const posts: Array<{ path: string; body: ProgressUpdate }> = [];
  const cleanup: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => {
        posts.push({ path: `${req.method} ${req.url}`, body: JSON.parse(b) as ProgressUpdate });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    for (const d of cleanup) rmSync(join(d, '..'), { recursive: true, force: true });
  });

  it("maps the environment, writes e2e.log/junit_01.xml/e2e.tar.gz/done, posts progress, exits with the suite's code", async () => {
    const r = await entry({
      E2E_FOCUS: 'report',
      E2E_SKIP: 'nftables',
      E2E_PARALLEL: 'y',
      E2E_EXTRA_ARGS: `--node-access=hostpod --image 'reg.local/x:1'`,
      SONOBUOY_PROGRESS_PORT: String(port),
    });
    cleanup.push(r.dir);
    expect(r.code, r.stdout + r.stderr).to.equal(1); // one fixture test fails
    // the suite got the mapped flags (dry-run pre-pass, then the run)
    expect(r.argv).to.have.length(2);
    expect(r.argv[0]).to.include('--dry-run');
    const run = r.argv[1]!;
    expect(run.slice(0, 1)).to.deep.equal(['run']);
    expect(run).to.include.members([
      '--grep',
      'report',
      '--skip',
      'nftables',
      '--junit',
      join(r.dir, 'junit_01.xml'),
      '--node-access=hostpod',
      '--image',
      'reg.local/x:1',
      '--no-cluster-up',
    ]);
    expect(run).not.to.include('--dry-run');

    const log = readFileSync(join(r.dir, 'e2e.log'), 'utf8');
    const lines = log.trimEnd().split('\n');
    expect(lines[0]).to.equal('sctp-e2e conformance: Will run 4 of 5 specs'); // before anything else (hydrophone)
    expect(log).to.contain('parallel run requested (E2E_PARALLEL=y)');
    expect(log.match(/•/g)).to.have.length(4);
    expect(log).to.match(/• \[FAILED\] report basic \[Feature:SCTP\] finds the SCTP rule .* 2\/4/);
    expect(log).to.contain('fixture suite: a line on stderr'); // stderr too
    expect(lines[lines.length - 1]).to.match(/finished after .*, exit 1 \(tests failed\); .*Ginkgo ran 1 suite/);
    // hydrophone's regexes (v0.8.0 pkg/conformance/client/logs.go)
    expect(/Will run (0|[1-9]\d{0,3}|10000) of (0|[1-9]\d{0,3}|10000) specs/.exec(log)?.slice(1)).to.deep.equal(['4', '5']);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .slice(-30)
        .some((l) => /Ginkgo ran (00|[1-9]\d{0,2}) suite/.test(l)),
    ).to.equal(true);

    const junit = readFileSync(join(r.dir, 'junit_01.xml'), 'utf8');
    expect(junit).to.contain('tests="4" failures="1" skipped="1"');
    const done = readFileSync(join(r.dir, 'done'), 'utf8');
    expect(done).to.equal(join(r.dir, 'e2e.tar.gz'));
    const files = readTar(gunzipSync(readFileSync(done)))
      .filter((e) => e.type === 'file')
      .map((e) => e.path);
    expect(files).to.include.members(['e2e.log', 'junit_01.xml', 'report/report.html', 'report/report.json', 'artifacts/fixtures/summary.json']);
    expect(files).not.to.include.members(['done', 'e2e.tar.gz']);

    // Sonobuoy progress: a start, one per test, the end; failures listed, not counted as completed
    expect(posts.every((p) => p.path === 'POST /progress')).to.equal(true);
    expect(posts.map((p) => p.body.msg)).to.deep.equal([
      'starting: 4 tests selected',
      'Test passed: report basic [Feature:SCTP] declares an SCTP port',
      'Test failed: report basic [Feature:SCTP] finds the SCTP rule',
      'Test passed: report connectivity [Feature:SCTPConnectivity] connects pod to pod',
      'Test skipped: report connectivity [Feature:SCTPConnectivity] is not written yet',
      'finished: 1 of 4 results failed (see Failed: above)',
    ]);
    const last = posts[posts.length - 1]!.body;
    expect(last).to.deep.equal({ msg: last.msg, total: 4, completed: 3, failures: ['report basic [Feature:SCTP] finds the SCTP rule'] });
    expect(posts[1]!.body).to.deep.equal({ msg: posts[1]!.body.msg, total: 4, completed: 1 });
  });

  it("E2E_DRYRUN lists the selection and runs nothing (exit 0); upstream's default focus selects the whole suite", async () => {
    const r = await entry({ E2E_DRYRUN: 'true', E2E_FOCUS: '\\[Conformance\\]' });
    cleanup.push(r.dir);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.argv).to.have.length(1);
    expect(r.argv[0]).to.include('--dry-run').and.not.include('--grep');
    const log = readFileSync(join(r.dir, 'e2e.log'), 'utf8');
    expect(log).to.contain('Will run 5 of 5 specs').and.contain('  report connectivity [Feature:SCTPConnectivity] connects pod to pod');
    expect(existsSync(join(r.dir, 'junit_01.xml'))).to.equal(false);
    expect(readFileSync(join(r.dir, 'done'), 'utf8')).to.equal(join(r.dir, 'e2e.tar.gz'));
  });

  it('a bad focus ends as a usage error (exit 2) with its sentence, and the results are still handed over', async () => {
    const r = await entry({ E2E_FOCUS: '[Feature:SCTP]' });
    cleanup.push(r.dir);
    expect(r.code).to.equal(2);
    const log = readFileSync(join(r.dir, 'e2e.log'), 'utf8');
    expect(log).to.contain('the selection could not be made (exit 2)').and.contain('unescaped');
    expect(log).to.match(/exit 2 \(usage error\); .*Ginkgo ran 1 suite/);
    expect(readFileSync(join(r.dir, 'done'), 'utf8')).to.equal(join(r.dir, 'e2e.tar.gz'));
  });

  it('E2E_EXTRA_ARGS with an open quote is a usage error, results still handed over', async () => {
    const r = await entry({ E2E_EXTRA_ARGS: `--grep 'open` });
    cleanup.push(r.dir);
    expect(r.code).to.equal(2);
    expect(r.argv).to.have.length(0);
    expect(readFileSync(join(r.dir, 'e2e.log'), 'utf8')).to.contain("unterminated ' quote");
    expect(existsSync(join(r.dir, 'e2e.tar.gz'))).to.equal(true);
  });
});
