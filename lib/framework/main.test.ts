import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { ExitCode, exitCodeOf, UsageError, UserError } from './errors.ts';
import { renderMainError } from './main.ts';

describe('runMain: one exit path', () => {
  it('a usage error: one line, then the usage (not twice when the message is the usage, as for --help)', () => {
    expect(renderMainError('lb', new UsageError('missing command'), { usage: 'usage: lb up|down' })).to.equal('lb: missing command\nusage: lb up|down\n');
    expect(renderMainError('lb', new UsageError('usage: lb up|down'), { usage: 'usage: lb up|down' })).to.equal('lb: usage: lb up|down\n');
    expect(exitCodeOf(new UsageError('x'))).to.equal(ExitCode.usage);
  });

  it('an expected error: one line and its own code; anything else: the stack and 70', () => {
    expect(renderMainError('sctp-e2e', new UserError('no kubeconfig', ExitCode.kubeconfig))).to.equal('sctp-e2e: no kubeconfig\n');
    expect(exitCodeOf(new UserError('no kubeconfig', ExitCode.kubeconfig))).to.equal(3);
    const bug = new TypeError('x is undefined');
    expect(renderMainError('cluster', bug)).to.match(/^cluster: internal error: TypeError: x is undefined\n {4}at /);
    expect(exitCodeOf(bug)).to.equal(ExitCode.internal);
  });

  it('exits the process with main’s code or the error’s', () => {
    const run = (body: string) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { runMain } = await import('./lib/framework/main.ts'); const e = await import('./lib/framework/errors.ts'); ${body}`,
        ],
        { encoding: 'utf8' },
      );
    expect(run('runMain("t", async () => 8);').status).to.equal(8);
    expect(run('runMain("t", () => {});').status).to.equal(0);
    const r = run('runMain("t", () => { throw new e.UserError("forbidden", e.ExitCode.forbidden); });');
    expect([r.status, r.stderr]).to.deep.equal([5, 't: forbidden\n']);
  });
});
