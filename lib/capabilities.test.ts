import type * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { dualStackFromNodes } from './capabilities.ts';

// node addresses as the local dual-stack cluster's API server reports them (kubectl get nodes -o json, 2026-12-05)
const node = (name: string, ...ips: string[]): k8s.V1Node => ({
  metadata: { name },
  status: { addresses: [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }] },
});

describe('capabilities: dual-stack from node addresses', () => {
  it('every node with both families: proven per test (Services and pods decide)', () => {
    const r = dualStackFromNodes([node('sctp-e2e-node1', '10.199.0.2', 'fd00:199::2'), node('sctp-e2e-node2', '10.199.0.3', 'fd00:199::3')]);
    expect(r.status).to.equal('per test');
    expect(r.detail).to.include('sctp-e2e-node1 10.199.0.2 fd00:199::2; sctp-e2e-node2 10.199.0.3 fd00:199::3');
  });
  it('a node with one family: no, naming the addresses', () => {
    const r = dualStackFromNodes([node('sctp-e2e-node1', '10.199.0.2', 'fd00:199::2'), node('sctp-e2e-node2', '10.199.0.3')]);
    expect(r).to.deep.equal({
      status: 'no',
      detail: 'not every node has an InternalIP of each family (sctp-e2e-node1 10.199.0.2 fd00:199::2; sctp-e2e-node2 10.199.0.3)',
    });
  });
});
