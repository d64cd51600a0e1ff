import { expect } from 'chai';
import { classifyConnect, connectArgv, probeOutcome } from './probe.ts';

const r = (code: number | null, stdout = '', stderr = '') => ({ code, stdout, stderr, durationMs: 1 });

describe('connect probe classification', () => {
  it('agnhost-sctp exit codes', () => {
    expect(classifyConnect(r(0))).to.deep.equal({ state: 'allowed', cls: 'ok' });
    expect(classifyConnect(r(2))).to.deep.equal({ state: 'blocked', cls: 'timeout' });
    expect(classifyConnect(r(3))).to.deep.equal({ state: 'blocked', cls: 'refused' });
    expect(classifyConnect(r(4))).to.deep.equal({ state: 'blocked', cls: 'prohibited' });
  });
  it('a probe error is never blocked', () => {
    for (const code of [null, 1, 5, 7, 64, 126, 127]) expect(classifyConnect(r(code)).state, `exit ${code}`).to.equal('error');
    expect(probeOutcome('x', 'ns', 'p', ['a'], new Error('exec timed out'), 'agnhost-sctp').state).to.equal('error');
  });
  it('upstream agnhost names the class on stderr', () => {
    expect(classifyConnect(r(1, '', 'TIMEOUT\n'), 'agnhost')).to.deep.equal({ state: 'blocked', cls: 'timeout' });
    expect(classifyConnect(r(1, '', 'REFUSED'), 'agnhost').state).to.equal('blocked');
    expect(classifyConnect(r(1, '', 'OTHER: boom'), 'agnhost').state).to.equal('error');
  });
  it('argv brackets IPv6 and renders whole seconds; the outcome carries a reproduce command', () => {
    expect(connectArgv('/agnhost-sctp', 'fd00::1', 80, 'SCTP', 2500)).to.deep.equal(['/agnhost-sctp', 'connect', '[fd00::1]:80', '--protocol=sctp', '--timeout=3s']);
    const o = probeOutcome('TCP client -> 10.0.0.1:80', 'ns1', 'client', ['/agnhost-sctp', 'connect', '10.0.0.1:80'], r(2, 'timeout\n'), 'agnhost-sctp');
    expect(o.render()).to.contain('blocked — timeout (exit 2: timeout)');
    expect(o.render()).to.contain('reproduce: kubectl exec -n ns1 client -- /agnhost-sctp connect 10.0.0.1:80');
  });
});
