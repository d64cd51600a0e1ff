// The conformance-image environment → `sctp-e2e run` flags (no process is started here; the whole entrypoint
// over fixture specs is test/runner/conformance-entry.test.ts).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { UserError } from '../framework/errors.ts';
import { readTar } from '../image/archive.ts';
import { planFromEnv, saveResults, shellWords, UPSTREAM_DEFAULT_FOCUS } from './conformance-entry.ts';
import { parseE2eArgs } from './e2e-options.ts';

/** argv holds flag followed by value. */
function expectFlag(argv: string[], flag: string, value: string) {
  const i = argv.indexOf(flag);
  expect(i, `${flag} in ${JSON.stringify(argv)}`).to.be.at.least(0);
  expect(argv[i + 1], `value of ${flag}`).to.equal(value);
}

describe('conformance entrypoint: environment → flags', () => {
  it('splits E2E_EXTRA_ARGS like a shell, without expanding anything', () => {
    expect(shellWords('')).to.deep.equal([]);
    expect(shellWords('  --a=1   --b  2 ')).to.deep.equal(['--a=1', '--b', '2']);
    expect(shellWords(`--grep 'a b' --x="c \\"d\\" $HOME" e\\ f ''`)).to.deep.equal(['--grep', 'a b', '--x=c "d" $HOME', 'e f', '']);
    expect(shellWords(`--grep '\\[Feature:SCTP\\]'`)).to.deep.equal(['--grep', '\\[Feature:SCTP\\]']);
    expect(() => shellWords(`--grep 'open`)).to.throw(UserError, /unterminated ' quote/);
    expect(() => shellWords(`--grep "open`)).to.throw(UserError, /unterminated " quote/);
  });

  it('defaults: results in /tmp/results (JUnit junit_01.xml, artifacts, report), never an embedded cluster', () => {
    const p = planFromEnv({});
    expect(p.resultsDir).to.equal('/tmp/results');
    expect(p.argv).to.deep.equal([
      '--junit',
      '/tmp/results/junit_01.xml',
      '--artifacts',
      '/tmp/results/artifacts',
      '--report',
      '/tmp/results/report',
      '--no-cluster-up',
    ]);
    expect(p.dryRun).to.equal(false);
  });

  it("E2E_FOCUS → --grep and E2E_SKIP → --skip; upstream's default focus \\[Conformance\\] means the whole suite", () => {
    const p = planFromEnv({ RESULTS_DIR: '/r', E2E_FOCUS: 'HostPort', E2E_SKIP: '\\[Disruptive\\]|LoadBalancer' });
    expectFlag(p.argv, '--grep', 'HostPort');
    expectFlag(p.argv, '--skip', '\\[Disruptive\\]|LoadBalancer');
    const d = planFromEnv({ E2E_FOCUS: UPSTREAM_DEFAULT_FOCUS });
    expect(d.argv).not.to.include('--grep');
    expect(d.notes.join('\n')).to.contain('no [Conformance] tag').and.contain('the whole suite');
  });

  it('E2E_PARALLEL and --procs are accepted and logged (serial run); provider/verbosity/go-runner accepted', () => {
    const p = planFromEnv({
      E2E_PARALLEL: 'y',
      E2E_EXTRA_GINKGO_ARGS: '--procs=4 -v',
      E2E_PROVIDER: 'skeleton',
      E2E_VERBOSITY: '4',
      E2E_USE_GO_RUNNER: 'true',
    });
    const notes = p.notes.join('\n');
    expect(notes).to.contain('parallel run requested (E2E_PARALLEL=y, --procs=4)').and.contain('serially');
    expect(notes).to.contain('E2E_EXTRA_GINKGO_ARGS -v: ginkgo flags, no effect');
    expect(notes).to.contain('E2E_PROVIDER=skeleton: accepted').and.contain('E2E_VERBOSITY=4').and.contain('E2E_USE_GO_RUNNER=true');
    expect(p.argv).not.to.include('--procs=4');
    expect(planFromEnv({ E2E_PARALLEL: '1' }).notes.join()).to.contain('E2E_PARALLEL=1: serial run');
  });

  it('E2E_EXTRA_ARGS are appended after our flags (so they override), split on E2E_EXTRA_ARGS_SEP when set', () => {
    const p = planFromEnv({ E2E_EXTRA_ARGS: `--node-access=ssh --require node-access,dns --image 'my reg/x:1'` });
    expect(p.argv.slice(-5)).to.deep.equal(['--node-access=ssh', '--require', 'node-access,dns', '--image', 'my reg/x:1']);
    const s = planFromEnv({ E2E_EXTRA_ARGS: '--tag=SCTP,--junit=/x.xml', E2E_EXTRA_ARGS_SEP: ',' });
    expect(s.argv.slice(-2)).to.deep.equal(['--tag=SCTP', '--junit=/x.xml']);
    // parseArgs: the last --junit wins
    expect(parseE2eArgs(['run', ...s.argv]).values.junit).to.equal('/x.xml');
  });

  it("E2E_DRYRUN → --dry-run, KUBE_TEST_REPO → --image-repo; every mapped flag is one the suite's parser knows", () => {
    const p = planFromEnv({
      E2E_DRYRUN: 'true',
      KUBE_TEST_REPO: 'mirror.local/e2e',
      KUBE_TEST_REPO_LIST: '/tmp/repo-list/repo-list.yaml',
      E2E_FOCUS: 'x',
      E2E_SKIP: 'y',
      E2E_EXTRA_ARGS: '--tag SCTP',
    });
    expect(p.dryRun).to.equal(true);
    expect(p.argv).to.include('--dry-run');
    expectFlag(p.argv, '--image-repo', 'mirror.local/e2e');
    expect(p.notes.join()).to.contain('KUBE_TEST_REPO_LIST=/tmp/repo-list/repo-list.yaml: read by the suite');
    const { values } = parseE2eArgs(['run', ...p.argv]); // throws on an unknown flag
    expect(values).to.include({ grep: 'x', skip: 'y', 'dry-run': true, 'image-repo': 'mirror.local/e2e', 'no-cluster-up': true });
  });

  it('saveResults: a reproducible e2e.tar.gz of every file (not itself, not done), then done = its absolute path, no newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-results-'));
    try {
      writeFileSync(join(dir, 'e2e.log'), 'log\n');
      writeFileSync(join(dir, 'junit_01.xml'), '<testsuites/>');
      mkdirSync(join(dir, 'artifacts', 'run1'), { recursive: true });
      writeFileSync(join(dir, 'artifacts', 'run1', 'summary.json'), '{}');
      writeFileSync(join(dir, 'done'), 'stale');
      const s = saveResults(dir);
      expect(readFileSync(join(dir, 'done'), 'utf8')).to.equal(join(dir, 'e2e.tar.gz'));
      expect(s.files).to.equal(3);
      const entries = readTar(gunzipSync(readFileSync(s.tarball)));
      expect(entries.map((e) => e.path)).to.deep.equal(['artifacts/', 'artifacts/run1/', 'artifacts/run1/summary.json', 'e2e.log', 'junit_01.xml']);
      expect(Buffer.from(entries.find((e) => e.path === 'e2e.log')!.data!).toString()).to.equal('log\n');
      const first = readFileSync(s.tarball);
      saveResults(dir); // the tarball of a previous save is not taken in; same files → same bytes
      expect(readFileSync(s.tarball).equals(first)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
