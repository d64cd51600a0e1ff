import { expect } from 'chai';
import { aggregate, renderSoak } from './soak.ts';

describe('soak aggregation', () => {
  it('counts verdicts per test, takes min/median/max of the runs that ran, and flags pass+fail as flaky', () => {
    const rows = aggregate([
      [
        { name: 'A', outcome: 'passed', seconds: 3 },
        { name: 'B', outcome: 'skipped', seconds: 0, message: 'no ipvs' },
      ],
      [
        { name: 'A', outcome: 'failed', seconds: 9, message: 'SCTP client -> 10.0.0.1:5060: TIMEOUT\nmore' },
        { name: 'B', outcome: 'skipped', seconds: 0 },
      ],
      [
        { name: 'A', outcome: 'passed', seconds: 4 },
        { name: 'B', outcome: 'skipped', seconds: 0 },
      ],
    ]);
    const a = rows.find((r) => r.test === 'A')!;
    expect(a).to.include({ passed: 2, failed: 1, skipped: 0, min: 3, median: 4, max: 9, flaky: true });
    expect(a.failures).to.deep.equal(['SCTP client -> 10.0.0.1:5060: TIMEOUT']);
    expect(rows.find((r) => r.test === 'B')).to.include({ skipped: 3, flaky: false, min: 0, max: 0 });
    const md = renderSoak(rows, { runs: 3, args: ['--skip-tag', 'NetworkPolicy'], wall: [100, 120, 110] });
    expect(md).to.match(/Flaky tests \(passed and failed\): \*\*1\*\*/);
    expect(md).to.match(/\| \*\*FLAKY\*\* A \| 2 \| 1 \| 0 \| 3\.0 \| 4\.0 \| 9\.0 \|/);
    expect(md).to.match(/median 110 s/);
  });
});
