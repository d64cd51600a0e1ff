import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type Comparison, render, unmetNeeds } from './upstream-compare.ts';

// a real comparison: both suites on the local 2-node cluster (nodes without kernel SCTP), 2026-12-05
const real = JSON.parse(readFileSync(new URL('results/upstream-compare-2node.json', import.meta.url), 'utf8')) as Comparison;

describe('upstream comparison report', () => {
  it("one row per phase with both suites' cases, verdicts, wall times and the ratios", () => {
    const md = render(real);
    expect(md).to.match(
      /\| basic \| 2 \| 2 passed, 0 failed, 0 skipped \| 22\.2 s \| 19 \| 16 passed, 0 failed, 3 skipped \| 35\.0 s \| 1\.58× \| 0\.17× \| 9\.5× \|/,
    );
    expect(md).to.match(/\| connectivity \| 5 \| 0 passed, 3 failed, 2 skipped \| 902\.0 s \|/);
  });

  it('each upstream spec of the phases run, with what the environment lacks for a failed one', () => {
    const md = render(real);
    const rows = md
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| phase') && !l.startsWith('| upstream spec') && !/^\| (basic|connectivity) \|/.test(l));
    expect(rows).to.have.length(7);
    expect(md).to.match(
      /\| Granular Checks: Pods should function for intra-pod communication: sctp \| failed \(300\.1 s\) \| kernel SCTP on 2 schedulable nodes \(this cluster: 0: sctp-e2e-node1 none, sctp-e2e-node2 none\) \|/,
    );
  });

  it('environmental needs are judged from the capability probe of the same cluster', () => {
    const caps = {
      nodes: [
        { node: 'a', kernelSctp: 'loadable', ready: true, schedulable: true },
        { node: 'b', kernelSctp: 'none', ready: true, schedulable: true },
      ],
      rows: [],
    };
    const two = 'kernel SCTP on at least 2 schedulable nodes (agnhost opens kernel SCTP sockets; NewNetworkingTestConfig needs 2 nodes)';
    expect(unmetNeeds([two], caps, undefined)).to.deep.equal(['kernel SCTP on 2 schedulable nodes (this cluster: 1: a loadable, b none)']);
    expect(unmetNeeds([two], { ...caps, nodes: caps.nodes.map((n) => ({ ...n, kernelSctp: 'loaded' })) }, undefined)).to.deep.equal([]);
    expect(unmetNeeds(['a NetworkPolicy implementation'], caps, false)).to.deep.equal(['a NetworkPolicy implementation (our NetworkPolicy tests found none)']);
    expect(unmetNeeds(['a NetworkPolicy implementation'], caps, true)).to.deep.equal([]);
  });
});
