// guessCni: the CNI named from the traces known CNIs leave, or "unknown" saying what was looked at.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type CniEvidence, guessCni, readLocalConflists } from './cni.ts';

const none: CniEvidence = { daemonSets: [], nodeAnnotationKeys: [], conflists: [], errors: [] };

describe('CNI detection (best effort)', () => {
  it('names Cilium from its DaemonSet and node annotation, with the evidence', () => {
    const g = guessCni({
      ...none,
      daemonSets: [
        { name: 'kube-system/cilium', images: ['quay.io/cilium/cilium:v1.15.19'] },
        { name: 'kube-system/kube-proxy', images: ['registry.k8s.io/kube-proxy:v1.34.4'] },
      ],
      nodeAnnotationKeys: ['network.cilium.io/ipv4-cilium-host', 'node.alpha.kubernetes.io/ttl'],
    });
    expect(g.name).to.equal('Cilium');
    expect(g.evidence).to.contain('Cilium: DaemonSet kube-system/cilium, node annotation network.cilium.io/ipv4-cilium-host');
  });

  it('kind (kindnet), Calico and Flannel from their DaemonSets; more than one is listed', () => {
    expect(guessCni({ ...none, daemonSets: [{ name: 'kube-system/kindnet', images: ['docker.io/kindest/kindnetd:v20250512'] }] }).name).to.equal('kindnet');
    expect(
      guessCni({
        ...none,
        daemonSets: [
          { name: 'calico-system/calico-node', images: [] },
          { name: 'kube-flannel/kube-flannel-ds', images: [] },
        ],
      }).name,
    ).to.equal('Calico, Flannel');
  });

  it('the embedded local cluster: the conflist plugin types', () => {
    const g = guessCni({ ...none, conflists: [{ path: '/s/sctp-e2e-node1/cni/net.d/10-sctpe2e.conflist', plugins: ['bridge', 'portmap'] }] });
    expect(g).to.deep.equal({
      name: 'bridge + portmap (CNI plugins)',
      evidence:
        'conflist /s/sctp-e2e-node1/cni/net.d/10-sctpe2e.conflist: bridge + portmap (looked at 0 DaemonSet(s), 0 node annotation key(s), 1 local conflist(s))',
    });
  });

  it('flannel on the local cluster: its annotations and 05-flannel.conflist, which shadows the bridge conflist', () => {
    const d = '/s/sctp-e2e-node1/cni/net.d';
    const g = guessCni({
      ...none,
      nodeAnnotationKeys: ['flannel.alpha.coreos.com/backend-type', 'flannel.alpha.coreos.com/public-ip'],
      conflists: [
        { path: `${d}/05-flannel.conflist`, plugins: ['flannel', 'portmap'] },
        { path: `${d}/10-sctpe2e.conflist`, plugins: ['bridge', 'portmap'] },
      ],
    });
    expect(g.name).to.equal('Flannel');
    expect(g.evidence).to.contain('Flannel: node annotation flannel.alpha.coreos.com/backend-type');
    expect(g.evidence).to.contain(`conflist ${d}/05-flannel.conflist: flannel + portmap;`);
    expect(g.evidence).to.contain(`conflist ${d}/10-sctpe2e.conflist: bridge + portmap (not loaded: ${d}/05-flannel.conflist sorts first)`);
    // the same with Cilium's conflist: the bridge conflist no longer adds "bridge + portmap (CNI plugins)"
    expect(
      guessCni({
        ...none,
        conflists: [
          { path: `${d}/05-cilium.conflist`, plugins: ['cilium-cni', 'portmap'] },
          { path: `${d}/10-sctpe2e.conflist`, plugins: ['bridge', 'portmap'] },
        ],
      }).name,
    ).to.equal('Cilium');
  });

  it("a NetworkPolicy agent beside the CNI is named after it: kube-network-policies from its DaemonSet or cluster/knp's node annotation", () => {
    const g = guessCni({
      ...none,
      nodeAnnotationKeys: ['sctp-e2e.io/kube-network-policies'],
      conflists: [{ path: '/s/sctp-e2e-node1/cni/net.d/10-sctpe2e.conflist', plugins: ['bridge', 'portmap'] }],
    });
    expect(g.name).to.equal('bridge + portmap (CNI plugins), kube-network-policies (NetworkPolicy)');
    expect(g.evidence).to.contain('kube-network-policies: node annotation sctp-e2e.io/kube-network-policies');
    const ds = guessCni({
      ...none,
      daemonSets: [
        { name: 'kube-system/kindnet', images: [] },
        { name: 'kube-system/kube-network-policies', images: ['registry.k8s.io/networking/kube-network-policies:v0.8.0'] },
      ],
    });
    expect(ds.name).to.equal('kindnet, kube-network-policies (NetworkPolicy)');
  });

  it('nothing known: "unknown", what was looked at and what could not be read', () => {
    const g = guessCni({ ...none, daemonSets: [{ name: 'kube-system/kube-proxy', images: [] }], errors: ['list nodes: HTTP 403: forbidden'] });
    expect(g).to.deep.equal({
      name: 'unknown',
      evidence: 'no known CNI found (looked at 1 DaemonSet(s), 0 node annotation key(s), 0 local conflist(s)); could not read: list nodes: HTTP 403: forbidden',
    });
  });

  it('readLocalConflists reads <state>/<node>/cni/net.d/*.conflist and skips what is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-cni-'));
    try {
      mkdirSync(join(dir, 'n1/cni/net.d'), { recursive: true });
      writeFileSync(
        join(dir, 'n1/cni/net.d/10-sctpe2e.conflist'),
        JSON.stringify({ cniVersion: '1.0.0', name: 'sctpe2e', plugins: [{ type: 'bridge' }, { type: 'portmap' }] }),
      );
      writeFileSync(join(dir, 'n1/cni/net.d/99-broken.conflist'), '{');
      expect(readLocalConflists(dir, ['n1', 'absent'])).to.deep.equal([
        { path: join(dir, 'n1/cni/net.d/10-sctpe2e.conflist'), plugins: ['bridge', 'portmap'] },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
