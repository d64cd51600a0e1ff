// Run by budget.test.ts in its own mocha process: f.budget sets the running test's or hook's timeout.
import { expect } from 'chai';
import { describeE2E, useFramework } from '../framework.ts';
import { budget } from '../timeouts.ts';

describeE2E('budget fixture', [], () => {
  const f = useFramework('fx-budget', { namespace: false });
  let beforeMs = 0;
  f.before(async function () {
    beforeMs = f.budget({ apiCall: 1 });
    expect(this.timeout()).to.equal(beforeMs);
  });

  f.it('f.budget sets the test timeout from the declared waits', async function () {
    expect(beforeMs).to.equal(budget({ apiCall: 1 }));
    const ms = f.budget({ podStart: 2, probe: 4 });
    expect(ms).to.equal(budget({ podStart: 2, probe: 4 }));
    expect(this.timeout()).to.equal(ms);
    expect(f.budget({ ms: 1 })).to.be.lessThan(ms); // again, later: the new budget replaces the first
    expect(this.timeout()).to.equal(budget({ ms: 1 }));
  });

  f.afterEach(async function () {
    expect(f.budget({ cleanup: 1 })).to.equal(this.timeout());
  });

  after(() => {
    expect(() => f.budget({ apiCall: 1 })).to.throw('f.budget() outside an f.it / f.before / f.afterEach body');
  });
});
