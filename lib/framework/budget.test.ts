import { spawnSync } from 'node:child_process';
import { expect } from 'chai';

describe('f.budget (in its own mocha process)', () => {
  it('sets the timeout of the running f.it test and f.before / f.afterEach hook, and only there', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'node_modules/mocha/bin/mocha.js', '--config', '.mocharc.self.yml', 'lib/framework/testdata/budget-fixture.spec.ts'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout).to.match(/1 passing/);
  });
});
