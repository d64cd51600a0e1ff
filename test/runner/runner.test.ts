// The real runner (lib/framework/runner.ts runMocha, in a child process) over fixture specs that need no
// cluster: skips never mask verdicts, skipFor honours --require, a run that verified nothing is not green,
// and the basic phase runs first whatever the file names.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { ExitCode } from '../../lib/framework/errors.ts';
import { PROW_JUNIT, PROW_SUMMARY, reportPaths } from '../../lib/framework/report-paths.ts';
import type { Result } from '../../lib/framework/reporter.ts';
import type { RunNote } from '../../lib/framework/run-notes.ts';
import type { ReportModel } from '../../lib/report/model.ts';

const FIX = 'test/runner/fixtures';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  junit: string;
  results: Result[];
  notes: RunNote[];
  /** With o.report: report.json and report.html of the run. */
  report?: { model: ReportModel; html: string };
  outcome(title: string): Result;
}

function runFixtures(files: string[], o: { env?: Record<string, string>; grep?: string; report?: { capabilities?: string }; late?: string } = {}): Run {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-runner-'));
  try {
    const env = { ...process.env, ...o.env };
    if (!o.env?.SCTP_E2E_REQUIRE) delete env.SCTP_E2E_REQUIRE;
    const args = ['--import', 'tsx', 'test/runner/run-fixtures.ts', '--junit', join(dir, 'junit.xml'), '--summary', join(dir, 'summary.json')];
    if (o.grep) args.push('--grep', o.grep);
    if (o.late) args.push('--late', o.late);
    if (o.report) args.push('--report', join(dir, 'report'), ...(o.report.capabilities ? ['--capabilities', o.report.capabilities] : []));
    const p = spawnSync(process.execPath, [...args, ...files], { env, encoding: 'utf8', timeout: 60_000 });
    let summary = { results: [] as Result[], notes: [] as RunNote[] };
    let junit = '';
    let report: Run['report'];
    try {
      summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
      if (o.report)
        report = { model: JSON.parse(readFileSync(join(dir, 'report/report.json'), 'utf8')), html: readFileSync(join(dir, 'report/report.html'), 'utf8') };
    } catch {
      throw new Error(`the runner wrote no summary (exit ${p.status})\nstdout:\n${p.stdout}\nstderr:\n${p.stderr}`);
    }
    return {
      code: p.status,
      stdout: p.stdout,
      stderr: p.stderr,
      junit,
      results: summary.results,
      notes: summary.notes,
      report,
      outcome(title) {
        const r = summary.results.find((x) => x.title === title);
        if (!r) throw new Error(`no result "${title}" among ${summary.results.map((x) => x.title).join(', ')}\n${p.stdout}`);
        return r;
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('runner over fixture specs (no cluster)', function () {
  this.timeout(120_000);

  describe('skips', () => {
    let run: Run;
    before(() => {
      run = runFixtures([`${FIX}/skips.spec.ts`]);
    });

    it('a skip in a before() hook skips every test of the describe (nested too), each with the reason', () => {
      for (const t of ['first test', 'second test', 'third test']) {
        expect(run.outcome(t), t).to.include({ outcome: 'skipped', reason: 'no widget controller in this cluster' });
      }
      expect(run.junit).to.contain('<skipped message="no widget controller in this cluster"/>');
      expect(run.stdout).to.match(/Skipped:[\s\S]*before-hook skip \[Feature:SCTP\] nested third test\n\s+reason: no widget controller in this cluster/);
    });

    it('a skip inside one test skips exactly that test', () => {
      expect(run.outcome('skips itself')).to.include({ outcome: 'skipped', reason: 'this node has no widget' });
      expect(run.outcome('runs before the skipped one').outcome).to.equal('passed');
      expect(run.outcome('runs after the skipped one').outcome).to.equal('passed');
    });

    it('a SkipError caught by a guard marks nothing: the tests keep their own verdicts', () => {
      expect(run.outcome('passes under a guard that could not check').outcome).to.equal('passed');
      expect(run.outcome('passes too').outcome).to.equal('passed');
      expect(run.outcome('fails on its own')).to.include({ outcome: 'failed' });
      expect(run.outcome('fails on its own').message).to.contain('observed 0 rules');
    });

    it('no skip without a reason; the one real failure is the only failure, and makes the exit code 1', () => {
      expect(run.results.filter((r) => r.outcome === 'skipped' && !r.reason)).to.deep.equal([]);
      expect(run.results.filter((r) => r.outcome === 'failed').map((r) => r.title)).to.deep.equal(['fails on its own']);
      expect(run.code, run.stderr).to.equal(ExitCode.testsFailed);
    });
  });

  describe('f.skipFor and declared capabilities', () => {
    it('without --require the missing capability skips the test, saying how to make it a failure', () => {
      const run = runFixtures([`${FIX}/skip-for.spec.ts`]);
      const r = run.outcome('reaches a LoadBalancer');
      expect(r.outcome).to.equal('skipped');
      expect(r.reason).to.contain('got no ingress address within 2m').and.contain('--require loadbalancer');
      expect(run.code, run.stderr).to.equal(ExitCode.ok);
    });

    it('with SCTP_E2E_REQUIRE=loadbalancer the same absence fails the test with the evidence', () => {
      const run = runFixtures([`${FIX}/skip-for.spec.ts`], { env: { SCTP_E2E_REQUIRE: 'dns,loadbalancer' } });
      const r = run.outcome('reaches a LoadBalancer');
      expect(r.outcome).to.equal('failed');
      expect(r.message).to.contain('required capability "loadbalancer" is missing').and.contain('got no ingress address within 2m');
      expect(run.junit).to.match(/<failure message="required capability &quot;loadbalancer&quot; is missing/);
      expect(run.code).to.equal(ExitCode.testsFailed);
    });
  });

  describe('a run that verified nothing is not green', () => {
    it('every selected test skipped: exit nothingVerified with one sentence', () => {
      const run = runFixtures([`${FIX}/all-skipped.spec.ts`]);
      expect(run.results.map((r) => r.outcome)).to.deep.equal(['skipped', 'skipped']);
      expect(run.code).to.equal(ExitCode.nothingVerified);
      expect(run.stderr).to.contain('every one of the 2 selected tests skipped, so nothing was verified');
    });

    it('no test matched the selection: exit nothingVerified', () => {
      const run = runFixtures([`${FIX}/all-skipped.spec.ts`], { grep: 'matches no title' });
      expect(run.results).to.deep.equal([]);
      expect(run.code).to.equal(ExitCode.nothingVerified);
      expect(run.stderr).to.contain('no test ran');
    });
  });

  describe('phases', () => {
    const files = [`${FIX}/phases/*.spec.ts`];
    const ran = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('RAN '))
        .map((l) => l.slice(4));

    it('basic tests run first, then untagged, then connectivity, whatever the file names; one line says so', () => {
      const run = runFixtures(files);
      expect(ran(run.stdout)).to.deep.equal(['basic-1', 'basic-2', 'phase-end', 'other-1', 'connectivity-1', 'connectivity-2']);
      expect(run.stdout).to.contain(
        'phase 1: 2 basic tests ([Feature:SCTP]) before phase 2: 2 connectivity tests ([Feature:SCTPConnectivity]); 1 untagged tests in between',
      );
      expect(run.outcome('[Feature:SCTP] basic phase: fixture module check at end of phase')).to.include({ outcome: 'passed', kind: 'phase-check' });
      expect(run.code, run.stderr).to.equal(ExitCode.ok);
    });

    it('a failing phase-end check is a failed result in summary and JUnit, counted in the failures; later phases still run', () => {
      const run = runFixtures(files, { env: { FIXTURE_PHASE_END: 'fail' } });
      const title = '[Feature:SCTP] basic phase: fixture module check at end of phase';
      expect(run.outcome(title).outcome).to.equal('failed');
      expect(run.outcome(title).message).to.contain('sctp.ko was loaded on node-1');
      expect(run.stdout).to.match(/Failed:\n {2}- \[Feature:SCTP\] basic phase: fixture module check at end of phase\n\s+sctp\.ko was loaded/);
      expect(run.junit).to.contain(`name="${title}"`).and.contain('<failure message="sctp.ko was loaded on node-1');
      expect(run.junit).to.match(/<testsuites name="fixtures" tests="6" failures="1"/);
      expect(run.junit).to.contain(`<testsuite name="[Feature:SCTP] basic phase" tests="1" failures="1"`);
      expect(ran(run.stdout)).to.include('connectivity-2');
      expect(run.code).to.equal(ExitCode.testsFailed);
    });

    it('a phase-end check that cannot run is a skipped result with its reason and a warning run note', () => {
      const run = runFixtures(files, { env: { FIXTURE_PHASE_END: 'skip' } });
      expect(run.outcome('[Feature:SCTP] basic phase: fixture module check at end of phase')).to.include({
        outcome: 'skipped',
        reason: 'no node access: --node-access none',
      });
      expect(run.notes).to.deep.include({
        topic: 'basic phase',
        text: 'fixture module check not performed: no node access: --node-access none',
        level: 'warning',
      });
      expect(run.stdout).to.match(/Run notes:\n[\s\S]*basic phase\n\s+! warning: fixture module check not performed/);
      expect(run.junit).to.contain(
        '<property name="note:basic phase" value="warning: fixture module check not performed: no node access: --node-access none"/>',
      );
      expect(run.code, run.stderr).to.equal(ExitCode.ok);
    });

    it('each test line ends with its position in the selection, the elapsed time and an ETA', () => {
      const run = runFixtures(files);
      const tags = run.stdout
        .split('\n')
        .filter((l) => /^\s*[✓✗-] /.test(l) && / \(\d+m?s\)/.test(l))
        .map((l) =>
          l
            .match(/\[(\d+)\/(\d+) · [^\]]+\]/)
            ?.slice(1, 3)
            .join('/'),
        );
      expect(tags).to.deep.equal(['1/5', '2/5', '3/5', '4/5', '5/5']);
      expect(run.stdout).to.match(/✓ .* \[1\/5 · \S+ · ETA ~\S+\]/);
      expect(run.stdout).to.match(/\[5\/5 · [^·\]]+\]/); // no ETA on the last one
    });

    describe('a late group (the lab brings up its NetworkPolicy implementation before those tests only)', () => {
      const withLate = [...files, `${FIX}/late/netpol.spec.ts`];
      it('its describes run last, after one setup that precedes their own hooks, then one teardown; the basic-phase check stays after the other basic tests', () => {
        const run = runFixtures(withLate, { late: '[Feature:NetworkPolicy]' });
        expect(ran(run.stdout)).to.deep.equal([
          'basic-1',
          'basic-2',
          'phase-end',
          'other-1',
          'connectivity-1',
          'connectivity-2',
          'late-setup',
          'np-basic-before',
          'np-basic',
          'np-connectivity',
          'late-teardown',
        ]);
        expect(run.stdout).to.contain('the 2 [Feature:NetworkPolicy] tests last (fixture setup before them)');
        expect(run.code, run.stderr).to.equal(ExitCode.ok);
      });
      it('a failed setup fails every test of the group with its message, and nothing else; the teardown still undoes what it did', () => {
        const run = runFixtures(withLate, { late: '[Feature:NetworkPolicy]', env: { FIXTURE_LATE: 'fail' } });
        expect(ran(run.stdout)).to.deep.equal([
          'basic-1',
          'basic-2',
          'phase-end',
          'other-1',
          'connectivity-1',
          'connectivity-2',
          'late-setup',
          'late-teardown',
        ]);
        for (const t of ['declares a policy', 'enforces a policy']) {
          expect(run.outcome(t).outcome).to.equal('failed');
          expect(run.outcome(t).message).to.contain(
            'before all hook "fixture setup (before the [Feature:NetworkPolicy] tests)" failed: the fixture add-on did not come up (agent not ready on node-2)',
          );
        }
        expect(run.outcome('sends SCTP one').outcome).to.equal('passed');
        expect(run.code).to.equal(ExitCode.testsFailed);
      });
      it('without the group the same files keep the phase order', () => {
        const run = runFixtures(withLate);
        expect(ran(run.stdout).indexOf('np-basic')).to.be.lessThan(ran(run.stdout).indexOf('phase-end'));
      });
    });

    it('a selection of connectivity tests only: no phase line, no phase-end check', () => {
      const run = runFixtures(files, { grep: 'SCTPConnectivity' });
      expect(ran(run.stdout)).to.deep.equal(['connectivity-1', 'connectivity-2']);
      expect(run.stdout).not.to.contain('phase 1:');
    });
  });

  describe('Prow: $ARTIFACTS', () => {
    it("without --junit, JUnit goes to $ARTIFACTS/junit_sctp-e2e.xml and the summary beside it (and to the run's own path)", () => {
      const dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-prow-'));
      try {
        const prow = join(dir, 'prow-artifacts');
        const own = join(dir, 'run', 'summary.json');
        const env: NodeJS.ProcessEnv = { ...process.env, ARTIFACTS: prow };
        delete env.SCTP_E2E_REQUIRE;
        const p = spawnSync(process.execPath, ['--import', 'tsx', 'test/runner/run-fixtures.ts', '--summary', own, `${FIX}/skips.spec.ts`], {
          env,
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(p.stdout).to.contain(`$ARTIFACTS is set: JUnit to ${join(prow, PROW_JUNIT)}`);
        expect(readdirSync(prow).sort()).to.deep.equal(['junit_sctp-e2e.xml', 'sctp-e2e-summary.json']);
        expect(PROW_JUNIT).to.match(/^junit_.*\.xml$/); // the name TestGrid collects
        const junit = readFileSync(join(prow, PROW_JUNIT), 'utf8');
        expect(junit).to.contain('<testsuites name="fixtures"').and.contain('<skipped message="no widget controller in this cluster"/>');
        const copy = JSON.parse(readFileSync(join(prow, PROW_SUMMARY), 'utf8')) as { results: Result[]; verdict: { exitCode: number } };
        expect(readFileSync(own, 'utf8')).to.equal(readFileSync(join(prow, PROW_SUMMARY), 'utf8'));
        expect(copy.results.find((r) => r.title === 'skips itself')).to.include({ outcome: 'skipped', reason: 'this node has no widget' });
        expect(copy.verdict.exitCode).to.equal(p.status);
        expect(existsSync(join(dirname(own), 'junit.xml')), 'no JUnit at the default path when $ARTIFACTS chose it').to.equal(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('an explicit --junit wins over $ARTIFACTS', () => {
      expect(
        reportPaths({ junit: 'out/j.xml', defaultJunit: 'artifacts/junit.xml', runSummary: 'artifacts/r/summary.json' }, { ARTIFACTS: '/logs/artifacts' }),
      ).to.deep.equal({ junit: 'out/j.xml', summaryJson: ['artifacts/r/summary.json'] });
      expect(reportPaths({ defaultJunit: 'artifacts/junit.xml', runSummary: 'artifacts/r/summary.json' }, {})).to.deep.equal({
        junit: 'artifacts/junit.xml',
        summaryJson: ['artifacts/r/summary.json'],
      });
    });
  });

  describe('the report card (--report DIR)', () => {
    let run: Run;
    before(() => {
      run = runFixtures([`${FIX}/report/*.spec.ts`], { report: { capabilities: 'lib/report/testdata/capabilities-20261204t215606.json' } });
    });

    it('report.json holds every fixture test with its verdict, the failure message in full and the skip reason', () => {
      const m = run.report!.model;
      expect(m.tests.map((t) => [t.title, t.verdict])).to.deep.equal([
        ['declares an SCTP port', 'passed'],
        ['finds the SCTP rule', 'failed'],
        ['reads the nftables rules', 'skipped'],
        ['connects pod to pod', 'passed'],
        ['is not written yet', 'pending'],
      ]);
      const byTitle = (t: string) => m.tests.find((x) => x.title === t)!;
      expect(byTitle('finds the SCTP rule').message).to.equal(
        'expected <script>alert("x")</script> & an SCTP DNAT rule on node-1\nobserved: -A KUBE-SEP-X -p tcp -j DNAT --to-destination 10.244.1.5:5060',
      );
      expect(byTitle('reads the nftables rules').reason).to.equal('no ready node runs kube-proxy in nftables mode');
      expect(byTitle('is not written yet').reason).to.equal('pending: declared without a body (not written yet)');
      expect(m.counts).to.deep.equal({ passed: 2, failed: 1, skipped: 1, pending: 1, total: 5 });
    });

    it('the same run as summary.json: results, notes, verdict; per-tag counts; the capability table from the file', () => {
      const m = run.report!.model;
      expect(m.tests.map((t) => t.fullTitle)).to.deep.equal(run.results.map((r) => r.fullTitle));
      expect(m.notes).to.deep.equal(run.notes);
      expect(m.run).to.include({ exitCode: ExitCode.testsFailed, status: 'failed', exitMeaning: 'tests failed', id: 'fixtures' });
      expect(m.run.command).to.match(
        /run-fixtures\.ts --junit \S+ --summary \S+ --report \S+ --capabilities lib\/report\/testdata\/capabilities-20261204t215606\.json 'test\/runner\/fixtures\/report\/\*\.spec\.ts'$/,
      );
      expect(m.run.wallMs).to.be.greaterThan(0);
      expect(Date.now() - Date.parse(m.run.startedAt)).to.be.within(0, 120_000);
      expect(m.tags).to.deep.equal([
        { tag: '[Feature:SCTP]', passed: 1, failed: 1, skipped: 1, pending: 0 },
        { tag: '[Feature:SCTPConnectivity]', passed: 1, failed: 0, skipped: 0, pending: 1 },
      ]);
      expect(m.capabilities.rows.map((r) => r.capability)).to.include.members(['node-access', 'kernel-sctp', 'iptables', 'loadbalancer']);
      expect(m.cluster).to.include({ version: 'unknown', server: 'unknown' });
      expect(run.code, run.stderr).to.equal(ExitCode.testsFailed);
    });

    it('report.html: red banner, the message escaped', () => {
      expect(run.report!.html).to.contain('<h1>SCTP conformance: FAILED</h1>');
      expect(run.report!.html).to.contain('expected &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; an SCTP DNAT rule on node-1');
    });
  });
});
