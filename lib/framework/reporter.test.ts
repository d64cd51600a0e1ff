import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ExitCode } from './errors.ts';
import { groupSkipEvidence, progressTag, type Result, renderJUnit, renderSummary, verdictOf, xmlEscape } from './reporter.ts';
import type { RunNote } from './run-notes.ts';
import { skipReasonOf } from './skip.ts';

const results: Result[] = [
  { title: 'a', fullTitle: 'Services a [Feature:SCTP]', suite: 'Services', outcome: 'passed', durationMs: 1200 },
  {
    title: 'b',
    fullTitle: 'Services b <x> & "y" [Feature:SCTP]',
    suite: 'Services',
    outcome: 'failed',
    durationMs: 50,
    message: 'expected 1 rule\nobserved 0',
  },
  { title: 'c', fullTitle: 'Pods c [Feature:SCTPConnectivity]', suite: 'Pods', outcome: 'skipped', durationMs: 0, reason: 'no LoadBalancer implementation' },
];

describe('reporter', () => {
  it('summary counts by tag, lists skip reasons and failures, ends with the closing line', () => {
    const s = renderSummary(results, 3000);
    expect(s).to.match(/\[Feature:SCTP\]\s+1\s+1\s+0/);
    expect(s).to.match(/\[Feature:SCTPConnectivity\]\s+0\s+0\s+1/);
    expect(s).to.contain('reason: no LoadBalancer implementation');
    expect(s).to.contain('observed 0');
    expect(s.trim().split('\n').pop()).to.equal('1 passed, 1 failed, 1 skipped');
  });

  it('JUnit is well-formed, escaped, with skipped messages', () => {
    const x = renderJUnit(results);
    expect(x).to.contain('<testsuites name="sctp-e2e" tests="3" failures="1" skipped="1"');
    expect(x).to.contain('name="Services b &lt;x&gt; &amp; &quot;y&quot; [Feature:SCTP]"');
    expect(x).to.contain('<skipped message="no LoadBalancer implementation"/>');
    expect(x).to.contain('<failure message="expected 1 rule">expected 1 rule\nobserved 0</failure>');
    // balanced elements
    expect((x.match(/<testcase /g) ?? []).length).to.equal(3);
    expect((x.match(/<testsuite /g) ?? []).length).to.equal((x.match(/<\/testsuite>/g) ?? []).length);
  });
});

describe('reporter: skip evidence printed once', () => {
  // A real run (testdata/README.md): nftables and ipvs skips share the proxy-mode evidence, five NetworkPolicy skips the control's.
  const real = JSON.parse(readFileSync(new URL('./testdata/summary-20261204t213718.json', import.meta.url), 'utf8')) as { results: Result[] };
  const skips = real.results.filter((r) => r.outcome === 'skipped');
  const count = (s: string, part: string) => s.split(part).length - 1;

  it('the summary prints each shared evidence block once, numbered, and each skip refers to it', () => {
    const s = renderSummary(real.results, 0);
    const node1 = 'answered "iptables" on sctp-e2e-node1 via ssh root@10.199.0.2:22 (known_hosts)';
    expect(skips.filter((r) => r.reason!.includes(node1))).to.have.length(2);
    expect(count(s, node1)).to.equal(1);
    expect(count(s, 'stayed allowed in every observation (56 observations in 59.4s')).to.equal(1);
    expect(s).to.contain(
      'reason: no ready node runs kube-proxy in nftables mode; proxy mode per node: [E1] (capability "nftables" missing; ' +
        '--require nftables makes this a failure)',
    );
    expect(s).to.contain(
      'reason: no ready node runs kube-proxy in ipvs mode; proxy mode per node: [E1] (capability "ipvs" missing; --require ipvs makes this a failure)',
    );
    expect(count(s, 'reason: no NetworkPolicy implementation enforces policies in this cluster: [E2] (capability "networkpolicy" missing;')).to.equal(5);
    expect(s).to.contain(
      `Skip evidence (each block once; the reasons above refer to it):\n  [E1]\n      sctp-e2e-node1: iptables — kube-proxy ` +
        `http://127.0.0.1:10249/proxyMode ${node1}\n      sctp-e2e-node2: iptables`,
    );
    expect(s).to.match(/\n {2}\[E2\] with a deny-all ingress policy on netpol-x-4k2wq\/a \(control-deny-all\)/);
    // evidence no other skip shares stays in its reason
    expect(s).to.contain(
      'reason: no NetworkPolicy implementation enforces policies in this cluster: with a deny-all ingress policy on sctp-netpol-basic-m6f2r/server',
    );
    expect(s).to.contain('reason: needs two ready schedulable nodes with different kernels; all run 6.18.44-fc-v1272 (sctp-e2e-node1, sctp-e2e-node2)');
    expect(s.split('\n').length, 'the whole summary').to.be.below(60);
  });

  it("JUnit keeps every skip's full reason: a case stands alone", () => {
    const x = renderJUnit(real.results);
    for (const r of skips) expect(x).to.contain(`<skipped message="${xmlEscape(r.reason!)}"/>`);
    expect(x).to.not.contain('[E1]');
  });

  it('a reason without a shared part is left whole; a missing reason is said', () => {
    expect(groupSkipEvidence(['no LoadBalancer implementation', 'a: x', 'b: y'])).to.deep.equal({
      reasons: ['no LoadBalancer implementation', 'a: x', 'b: y'],
      evidence: [],
    });
    expect(groupSkipEvidence(['a: same', 'b: same', 'c: other'])).to.deep.equal({ reasons: ['a: [E1]', 'b: [E1]', 'c: other'], evidence: ['same'] });
  });
});

describe('reporter: verdicts and run notes', () => {
  const r = (title: string, outcome: Result['outcome'], extra: Partial<Result> = {}): Result => ({
    title,
    fullTitle: `S ${title} [Feature:SCTP]`,
    suite: 'S',
    outcome,
    durationMs: 1,
    ...extra,
  });

  it('a failure wins; no test, or every test skipped, is nothingVerified with one sentence; else ok', () => {
    expect(verdictOf([r('a', 'passed'), r('b', 'failed')]).exitCode).to.equal(ExitCode.testsFailed);
    expect(verdictOf([r('a', 'passed')], 1).exitCode, 'a hook failure counted by mocha').to.equal(ExitCode.testsFailed);
    expect(verdictOf([])).to.deep.equal({
      exitCode: ExitCode.nothingVerified,
      sentence: 'no test ran: the selection matched no test, so nothing was verified',
    });
    const all = verdictOf([r('a', 'skipped'), r('b', 'skipped')]);
    expect(all.exitCode).to.equal(ExitCode.nothingVerified);
    expect(all.sentence).to.equal('every one of the 2 selected tests skipped, so nothing was verified (reasons under Skipped: above)');
    expect(verdictOf([r('a', 'passed'), r('b', 'skipped')])).to.deep.equal({ exitCode: ExitCode.ok });
  });

  it('a passing phase-end check verifies no test; a failing one fails the run', () => {
    const check = (outcome: Result['outcome']) => r('[Feature:SCTP] basic phase: sctp.ko module check at end of phase', outcome, { kind: 'phase-check' });
    expect(verdictOf([r('a', 'skipped'), check('passed')]).exitCode).to.equal(ExitCode.nothingVerified);
    expect(verdictOf([r('a', 'skipped'), check('failed')]).exitCode).to.equal(ExitCode.testsFailed);
    expect(ExitCode.nothingVerified).to.equal(8);
  });

  const notes: RunNote[] = [
    { topic: 'sctp.ko module check', text: 'not performed on node worker-2: no node access', level: 'warning' },
    { topic: 'phases', text: 'phase 1: 3 basic tests before phase 2: 4 connectivity tests', level: 'info' },
    { topic: 'sctp.ko module check', text: 'checked 2 nodes', level: 'info' },
  ];

  it('the summary shows run notes grouped by topic, warnings marked, before the closing line', () => {
    const s = renderSummary(results, 1000, notes);
    expect(s).to.contain(
      [
        'Run notes:',
        '  sctp.ko module check',
        '    ! warning: not performed on node worker-2: no node access',
        '    - checked 2 nodes',
        '  phases',
        '    - phase 1: 3 basic tests before phase 2: 4 connectivity tests',
      ].join('\n'),
    );
    expect(s.trim().split('\n').pop()).to.equal('1 passed, 1 failed, 1 skipped');
    expect(renderSummary(results, 1000)).not.to.contain('Run notes');
  });

  it('JUnit carries run notes as properties of a "run notes" testsuite (and as its system-out)', () => {
    const x = renderJUnit(results, 'sctp-e2e', notes);
    expect(x).to.contain('<testsuites name="sctp-e2e" tests="3" failures="1" skipped="1"');
    expect(x).to.contain('<testsuite name="run notes" tests="0" failures="0" skipped="0" time="0.000">');
    expect(x).to.contain('<property name="note:sctp.ko module check" value="warning: not performed on node worker-2: no node access"/>');
    expect(x).to.contain('<property name="note:phases" value="phase 1: 3 basic tests before phase 2: 4 connectivity tests"/>');
    expect(x).to.match(/<system-out>Run notes:\n {2}sctp\.ko module check\n/);
    expect((x.match(/<testsuite /g) ?? []).length).to.equal((x.match(/<\/testsuite>/g) ?? []).length);
    expect(renderJUnit(results)).not.to.contain('run notes');
  });

  it("a skipped test takes its own reason, else the nearest describe's (a before() hook skip)", () => {
    const root = { skipReason: 'outer' };
    const inner = { parent: root };
    expect(skipReasonOf({ parent: inner })).to.equal('outer');
    expect(skipReasonOf({ parent: { parent: root, skipReason: 'inner' } })).to.equal('inner');
    expect(skipReasonOf({ skipReason: 'own', parent: inner })).to.equal('own');
    expect(skipReasonOf({ parent: {} })).to.equal(undefined);
  });
});

describe('reporter: the progress tag on each test line', () => {
  it('gives the position, the elapsed time and an ETA from the mean time per finished test', () => {
    expect(progressTag(1, 4, 30_000)).to.equal('[1/4 · 30s · ETA ~90s]');
    expect(progressTag(3, 39, 125_000)).to.equal('[3/39 · 2m5s · ETA ~25m0s]');
  });
  it('has no ETA before a test finished or after the last one', () => {
    expect(progressTag(0, 4, 2_000)).to.equal('[0/4 · 2s]');
    expect(progressTag(4, 4, 61_000)).to.equal('[4/4 · 61s]');
  });
});
