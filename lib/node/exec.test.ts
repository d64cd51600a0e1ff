// The local transport runs real processes (sh on this machine): exit codes, deadlines, abort.
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { localExec, NodeExecError, NodeExecTimeout, shQuote } from './exec.ts';

describe('local NodeExec', () => {
  it('returns exit code, stdout and stderr; a non-zero exit is not an error', async () => {
    const r = await localExec({ node: 'n1' }).run('echo out; echo err >&2; exit 3');
    expect(r).to.include({ node: 'n1', transport: 'local', code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('a deadline kills the whole command tree and says what timed out where', async () => {
    const marker = `sctp-e2e-exec-test-${process.pid}-${Date.now()}`;
    const t0 = Date.now();
    let err: unknown;
    try {
      await localExec({ node: 'n1' }).run(`sleep 30 & sleep 31; : ${marker}`, { timeoutMs: 300 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(NodeExecTimeout);
    expect((err as Error).message).to.equal(`nodeExec timed out after 300ms: sleep 30 & sleep 31; : ${marker} on n1 (local sh)`);
    expect(Date.now() - t0).to.be.lessThan(2000);
    await new Promise((r) => setTimeout(r, 100));
    let left = '';
    try {
      left = execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim();
    } catch {
      /* exit 1: none left */
    }
    expect(left, 'processes left behind').to.equal('');
  });

  it('an abort signal ends the run with NodeExecError', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    let err: unknown;
    try {
      await localExec().run('sleep 5', { signal: ac.signal });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(NodeExecError);
    expect((err as Error).message).to.match(/^nodeExec aborted: sleep 5 on local/);
  });

  it('a missing netns is a transport error, not an exit code', async () => {
    let err: unknown;
    try {
      await localExec({ netns: 'does-not-exist-sctp-e2e' }).run('true');
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal(
      'nodeExec on does-not-exist-sctp-e2e: network namespace /run/netns/does-not-exist-sctp-e2e does not exist (local nsenter --net=does-not-exist-sctp-e2e)',
    );
  });

  it('quotes for sh', () => {
    expect(execFileSync('sh', ['-c', `printf %s ${shQuote('it\'s a "test" $HOME')}`], { encoding: 'utf8' })).to.equal(`it's a "test" $HOME`);
  });
});
