// Parsers checked against output captured on this machine with a two-node cluster up (testdata/*-up.txt)
// and after `cluster down` (testdata/*-down.txt).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { findAddressClash, findClusterLinks, parseMountPoints } from './parse.ts';

const td = (f: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'testdata', f), 'utf8');

describe('cluster/parse', () => {
  it('parseMountPoints finds every mount below the state dir and nothing else', () => {
    const mi = td('mountinfo-up.txt');
    const all = parseMountPoints(mi, '/var/lib/sctp-e2e/cluster');
    expect(all, 'mounts under the state dir in testdata/mountinfo-up.txt').to.have.length(
      mi.split('\n').filter((l) => l.includes(' /var/lib/sctp-e2e/cluster/')).length,
    );
    expect(
      all.some((p) => p.includes('/io.containerd.grpc.v1.cri/netns/cni-')),
      'pod netns bind mounts',
    ).to.equal(true);
    expect(
      all.some((p) => p.includes('/kubelet/pods/') && p.includes('kube-api-access-')),
      'kubelet projected volumes',
    ).to.equal(true);
    expect(
      all.some((p) => p.endsWith('/shm')),
      'sandbox shm',
    ).to.equal(true);
    const n1 = parseMountPoints(mi, '/var/lib/sctp-e2e/cluster/sctp-e2e-node1');
    expect(n1.length).to.be.greaterThan(0);
    expect(
      n1.filter((p) => p.includes('sctp-e2e-node2')),
      'node1 prefix must not match node2 paths',
    ).to.deep.equal([]);
    expect(parseMountPoints(mi, '/var/lib/sctp-e2e/clust'), 'a prefix matches whole path components only').to.deep.equal([]);
    expect(parseMountPoints(mi, '/dev')).to.deep.equal(['/dev', '/dev/shm', '/dev/pts', '/dev/pts']);
  });

  it('parseMountPoints decodes octal escapes (\\040 is a space)', () => {
    const fields = td('mountinfo-up.txt')
      .split('\n')
      .find((l) => l.split(' ')[4]?.startsWith('/var/lib/sctp-e2e/cluster/'))!
      .split(' ');
    fields[4] = '/var/lib/sctp-e2e/cluster/a\\040b';
    const line = fields.join(' ');
    expect(parseMountPoints(line, '/var/lib/sctp-e2e/cluster')).to.deep.equal(['/var/lib/sctp-e2e/cluster/a b']);
  });

  it('findClusterLinks lists the bridge and host-side veths while up, none after down', () => {
    expect(findClusterLinks(td('ip-o-link-up.txt'))).to.deep.equal(['sctpe2e-br0', 'sctpe2e-n1', 'sctpe2e-n2', 'sctpe2e-out']);
    expect(findClusterLinks(td('ip-o-link-down.txt'))).to.deep.equal([]);
  });

  it('findAddressClash reports an existing 10.199.0.x address with its device', () => {
    expect(findAddressClash(td('ip-o-4-addr-up.txt'))).to.equal('sctpe2e-br0 inet 10.199.0.1/24');
    expect(findAddressClash(td('ip-o-4-addr-up.txt'), ['sctpe2e-br0'])).to.equal(undefined);
    expect(findAddressClash(td('ip-o-4-addr-down.txt'))).to.equal(undefined);
  });
});
