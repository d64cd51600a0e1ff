import { expect } from 'chai';
import { chooseNodeAccess } from './e2e-node.ts';

describe('node access choice', () => {
  const base = { requested: 'auto' as const, env: {}, nodes: [{ name: 'n1' }], localClusterSsh: false };
  it('an explicit request wins, with that as the reason', () => {
    expect(chooseNodeAccess({ ...base, requested: 'none' })).to.deep.equal({ mode: 'none', reason: 'requested with --node-access none' });
  });
  it('kind nodes -> docker exec', () => {
    const c = chooseNodeAccess({ ...base, nodes: [{ name: 'kind-control-plane', providerID: 'kind://docker/kind/kind-control-plane' }] });
    expect(c.mode).to.equal('docker');
    expect(c.reason).to.contain('kind://');
  });
  it('local cluster with SSH params -> ssh; KUBE_SSH_KEY_PATH -> ssh; otherwise host pod', () => {
    expect(chooseNodeAccess({ ...base, localClusterSsh: true }).mode).to.equal('ssh');
    expect(chooseNodeAccess({ ...base, env: { KUBE_SSH_KEY_PATH: '/k' } }).reason).to.contain('/k');
    const hp = chooseNodeAccess(base);
    expect(hp.mode).to.equal('hostpod');
    expect(hp.reason).to.contain('KUBE_SSH_KEY_PATH unset');
  });
});
