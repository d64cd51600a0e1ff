import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { LocalClusterInfo } from '../lib/framework/config.ts';
import {
  type ClusterJson,
  ContractError,
  isNetnsNode,
  layout,
  nodeSpec,
  parseClusterJson,
  readClusterJson,
  readClusterState,
  renderClusterJson,
} from './contract.ts';

const here = dirname(fileURLToPath(import.meta.url));
const written = (): ClusterJson =>
  renderClusterJson(layout('/var/lib/sctp-e2e/cluster'), [nodeSpec(1), nodeSpec(2)], 'nftables', 'registry.local/agnhost-sctp:t');
const errorOf = (text: string): string => {
  try {
    parseClusterJson(text, '/d/cluster.json');
  } catch (e) {
    expect(e).to.be.instanceOf(ContractError);
    return (e as Error).message;
  }
  return 'no error';
};

describe('cluster/contract', () => {
  it('accepts what `up` writes and the example in docs/CONTRACTS.md', () => {
    expect(parseClusterJson(JSON.stringify(written()))).to.deep.equal(written());
    const doc = /## Local cluster state[\s\S]*?```json\n([\s\S]*?)```/.exec(readFileSync(join(here, '..', 'docs', 'CONTRACTS.md'), 'utf8'));
    expect(() => parseClusterJson(doc![1]!.replace('"iptables|nftables|none"', '"iptables"'), 'docs/CONTRACTS.md')).to.not.throw();
  });

  it('is a LocalClusterInfo (lib/framework/config.ts) as it stands', () => {
    const local: LocalClusterInfo = written(); // compiles only while the two stay compatible
    expect(local.nodes.length).to.equal(2);
  });

  it('names the file and the first missing or wrong field', () => {
    const without = (f: (j: Record<string, any>) => void): string => {
      const j = written() as unknown as Record<string, any>;
      f(j);
      return errorOf(JSON.stringify(j));
    };
    expect(without((j) => delete j.kubeconfig)).to.equal('/d/cluster.json: field kubeconfig is missing');
    expect(without((j) => delete j.nodes[1].ssh.keyPath)).to.equal('/d/cluster.json: field nodes[1].ssh.keyPath is missing');
    expect(
      without((j) => {
        j.nodes[0].ssh.port = '22';
      }),
    ).to.equal('/d/cluster.json: field nodes[0].ssh.port is not a number ("22")');
    expect(
      without((j) => {
        j.nodes = {};
      }),
    ).to.equal('/d/cluster.json: field nodes is not an array ({})');
    expect(
      without((j) => {
        j.proxyMode = 'ipvs';
      }),
    ).to.equal('/d/cluster.json: field proxyMode is "ipvs", not one of iptables, nftables, none');
    expect(without((j) => delete j.outside.ip)).to.equal('/d/cluster.json: field outside.ip is missing');
    expect(
      without((j) => {
        j.ipFamilies = ['IPv4', 'ipv6'];
      }),
    ).to.equal('/d/cluster.json: field ipFamilies is ["IPv4","ipv6"], not a list of IPv4 and/or IPv6');
    // files written before the families existed are still read (absent = IPv4 only)
    expect(
      without((j) => {
        delete j.ipFamilies;
        delete j.serviceCIDRs;
        delete j.podCIDRs;
      }),
    ).to.equal('no error');
    expect(errorOf('{"name": ')).to.match(/^\/d\/cluster\.json is not valid JSON: /);
  });

  it('a node without netns (the joined kernel-lane VM) is valid and is not a netns node', () => {
    const j = written();
    const vm = { name: 'sctp-e2e-vm', ip: '10.199.0.20', ssh: { ...j.nodes[0]!.ssh, host: '10.199.0.20' } };
    const cj = parseClusterJson(JSON.stringify({ ...j, nodes: [...j.nodes, vm] }));
    expect(cj.nodes.filter(isNetnsNode).map((n) => n.name)).to.deep.equal(['sctp-e2e-node1', 'sctp-e2e-node2']);
  });

  it('reads a state dir: nothing there is undefined, not an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'contract-'));
    try {
      expect([readClusterJson(dir), readClusterState(dir)]).to.deep.equal([undefined, undefined]);
      writeFileSync(join(dir, 'cluster.json'), JSON.stringify(written()));
      writeFileSync(join(dir, 'state.json'), JSON.stringify({ startedAt: '2026-01-01T00:00:00Z', binDir: '/b', savedSysctls: {} }));
      expect(readClusterJson(dir)?.proxyMode).to.equal('nftables');
      expect(readClusterState(dir)?.binDir).to.equal('/b');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
