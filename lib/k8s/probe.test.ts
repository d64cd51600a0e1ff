import { expect } from 'chai';
import { probeArgv, probeOutcome } from './probe.ts';

const r = (code: number | null, stdout = '', stderr = '') => ({ code, stdout, stderr, durationMs: 1 });

describe('pod probe outcome', () => {
  it('an exec that failed is a probe error, never blocked', () => {
    const o = probeOutcome('TCP c -> s', 'ns', 'c', ['/agnhost-sctp'], new Error('exec timed out after 35s'), 'agnhost-sctp');
    expect(o.state).to.equal('error');
    expect(o.render()).to.contain('probe did not run: exec timed out');
  });
  it('renders the verdict and a reproduce command', () => {
    const argv = probeArgv('agnhost-sctp', '10.0.0.1', 80, 'TCP', 2000);
    const o = probeOutcome('TCP ns1/client -> 10.0.0.1:80', 'ns1', 'client', argv, r(2, 'TIMEOUT: no answer in 2s\n'), 'agnhost-sctp');
    expect(o.state).to.equal('blocked');
    expect(o.render()).to.match(/^TCP ns1\/client -> 10\.0\.0\.1:80: blocked — TIMEOUT: no answer in 2s/);
    expect(o.render()).to.contain('reproduce: kubectl exec -n ns1 client -- /agnhost-sctp connect 10.0.0.1:80 --protocol=tcp --timeout=2s');
  });
});
