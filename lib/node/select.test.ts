// The transport choice is a pure decision over facts; each branch states its reason.
import { expect } from 'chai';
import type { ClusterNode } from '../../cluster/contract.ts';
import { decideNodeAccess, type SelectFacts } from './select.ts';

// cluster.json node entry as docs/CONTRACTS.md specifies it
const localNodes: ClusterNode[] = [
  {
    name: 'sctp-e2e-node1',
    ip: '10.199.0.2',
    netns: 'sctpe2e-node1',
    ssh: { host: '10.199.0.2', port: 22, user: 'root', keyPath: '/x/ssh/id_ed25519', knownHostsPath: '/x/ssh/known_hosts' },
  },
];
const base: SelectFacts = { env: {}, nodes: [{ name: 'sctp-e2e-node1', internalIP: '10.199.0.2' }], hostPodPossible: true };
const kind = {
  nodes: [
    { name: 'kind-control-plane', providerID: 'kind://docker/kind/kind-control-plane' },
    { name: 'kind-worker', providerID: 'kind://docker/kind/kind-worker' },
  ],
};

describe('node access selection', () => {
  it('explicit option beats everything, env next; invalid values are one sentence', () => {
    expect(
      decideNodeAccess({ ...base, ...kind, dockerContainers: ['kind-control-plane', 'kind-worker'], explicit: { value: 'hostpod', from: '--node-access' } }),
    ).to.deep.equal({ mode: 'hostpod', reason: '--node-access=hostpod (explicit)' });
    expect(decideNodeAccess({ ...base, env: { SCTP_E2E_NODE_ACCESS: 'none', KUBE_SSH_KEY_PATH: '/k' } }).reason).to.equal(
      'SCTP_E2E_NODE_ACCESS=none (explicit)',
    );
    expect(() => decideNodeAccess({ ...base, env: { SCTP_E2E_NODE_ACCESS: 'telnet' } })).to.throw(
      'SCTP_E2E_NODE_ACCESS=telnet is not one of ssh|hostpod|docker|local|none',
    );
    expect(() => decideNodeAccess({ ...base, env: { SCTP_E2E_NODE_ACCESS: 'local' } })).to.throw(/needs the local cluster's cluster.json/);
    expect(decideNodeAccess({ ...base, clusterNodes: localNodes, env: { SCTP_E2E_NODE_ACCESS: 'local' } }).mode).to.equal('local');
  });

  it('kind: providerID kind:// plus a docker container per node -> docker', () => {
    const d = decideNodeAccess({ ...base, ...kind, dockerContainers: ['kind-control-plane', 'kind-worker', 'other'], env: { KUBE_SSH_KEY_PATH: '/k' } });
    expect(d.mode).to.equal('docker');
    expect(d.reason).to.equal(
      'kind detected: node kind-control-plane has providerID kind://docker/kind/kind-control-plane and every node has a docker container of the same name',
    );
  });

  it('kind-like names without docker do not pick docker, and the reason says so', () => {
    const d = decideNodeAccess({ ...base, ...kind, env: { KUBE_SSH_KEY_PATH: '/k' } });
    expect(d).to.deep.equal({ mode: 'ssh', reason: 'KUBE_SSH_KEY_PATH=/k is set (kind-like nodes seen, but docker is not available)' });
  });

  it('ssh from cluster.json when it covers every node', () => {
    const d = decideNodeAccess({ ...base, clusterNodes: localNodes, clusterJsonPath: '/var/lib/sctp-e2e/cluster/cluster.json' });
    expect(d).to.deep.equal({ mode: 'ssh', reason: "the local cluster's /var/lib/sctp-e2e/cluster/cluster.json gives ssh parameters for every node" });
    expect(decideNodeAccess({ ...base, nodes: [...base.nodes, { name: 'other' }], clusterNodes: localNodes }).mode).to.equal('hostpod');
  });

  it('otherwise a host pod, or none when that is not possible either', () => {
    expect(decideNodeAccess(base).mode).to.equal('hostpod');
    expect(decideNodeAccess({ ...base, hostPodPossible: false }).mode).to.equal('none');
  });
});
