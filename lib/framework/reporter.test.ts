import { expect } from 'chai';
import { renderJUnit, renderSummary, type Result } from './reporter.ts';

const results: Result[] = [
  { title: 'a', fullTitle: 'Services a [Feature:SCTP]', suite: 'Services', outcome: 'passed', durationMs: 1200 },
  { title: 'b', fullTitle: 'Services b <x> & "y" [Feature:SCTP]', suite: 'Services', outcome: 'failed', durationMs: 50, message: 'expected 1 rule\nobserved 0' },
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
