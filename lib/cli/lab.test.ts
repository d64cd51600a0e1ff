import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { bringUpLab, labPlan, lateGroupOf, parseLabKind, readLab, stillUpLines } from './lab.ts';

describe('the embedded lab (lib/cli/lab.ts)', () => {
  let dir: string;
  let ran: string[];
  const log: string[] = [];
  const run = (fail?: RegExp) => async (argv: string[]) => {
    ran.push(argv.join(' '));
    if (fail?.test(argv.join(' '))) throw new Error('exit code 7\nmore output');
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-lab-'));
    ran = [];
    log.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('full: two nodes, the LoadBalancer controller, Cilium built before the run and brought up late; minimal: one node', () => {
    const full = labPlan('full');
    expect(full.steps.map((s) => s.argv.join(' '))).to.deep.equal([
      'npx tsx cluster/cli.ts up --nodes 2 --proxy-mode iptables,nftables',
      'npx tsx cluster/lb/cli.ts up',
      'bash cluster/netpol/build.sh',
    ]);
    expect(full.late?.up.join(' ')).to.equal('npx tsx cluster/netpol/cli.ts up');
    expect(labPlan('minimal').steps.map((s) => s.argv.join(' '))).to.deep.equal(['npx tsx cluster/cli.ts up']);
    expect(labPlan('minimal').late).to.equal(undefined);
  });

  it('--lab: full by default; anything else but full or minimal is an error naming the choices', () => {
    expect(parseLabKind(undefined)).to.equal('full');
    expect(parseLabKind('minimal')).to.equal('minimal');
    expect(() => parseLabKind('kernel')).to.throw('--lab must be one of full, minimal, not "kernel"');
  });

  it('brings the steps up in order, one line each, and records the lab once the cluster is up', async () => {
    await bringUpLab(labPlan('full'), dir, { run: run(), log: (l) => log.push(l) });
    expect(ran).to.have.length(3);
    expect(log[1]).to.equal('sctp-e2e: lab full 2/3: the LoadBalancer controller (npx tsx cluster/lb/cli.ts up)');
    expect(readLab(dir)).to.equal('full');
  });

  it('a step that fails stops the lab with a message naming the step and how to clean up', async () => {
    const err = await bringUpLab(labPlan('full'), dir, { run: run(/lb/), log: () => {} }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal(
      'lab full: the LoadBalancer controller did not come up (`npx tsx cluster/lb/cli.ts up`, output above); `npm run cluster:down` removes what was started',
    );
    expect(ran).to.deep.equal(['npx tsx cluster/cli.ts up --nodes 2 --proxy-mode iptables,nftables', 'npx tsx cluster/lb/cli.ts up']);
  });

  it('the late group: Cilium up before the NetworkPolicy tests, down after; taken down first when an earlier run left it up', async () => {
    mkdirSync(join(dir, 'netpol'));
    writeFileSync(join(dir, 'netpol', 'state.json'), '{}');
    const g = await lateGroupOf(labPlan('full'), dir, { run: run(), log: (l) => log.push(l) });
    expect(ran).to.deep.equal(['npx tsx cluster/netpol/cli.ts down']);
    expect(log[0]).to.contain('Cilium is up already').and.contain('run on the bridge CNI');
    expect(g?.tag).to.equal('[Feature:NetworkPolicy]');
    await g!.setup();
    await g!.teardown!();
    expect(ran.slice(1)).to.deep.equal(['npx tsx cluster/netpol/cli.ts up', 'npx tsx cluster/netpol/cli.ts down']);
    expect(await lateGroupOf(labPlan('minimal'), dir, { run: run() })).to.equal(undefined);
  });

  it('a Cilium that does not come up fails with the command, its first error line and where its logs are', async () => {
    const g = await lateGroupOf(labPlan('full'), dir, { run: run(/netpol\/cli.ts up/), log: () => {} });
    const err = await g!.setup().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal(
      `the lab's NetworkPolicy implementation did not come up: \`npx tsx cluster/netpol/cli.ts up\` failed (exit code 7); its log is under ${dir}/netpol/logs`,
    );
  });

  it('readLab: no lab.json (the cluster was brought up by hand) or a damaged one is no lab', () => {
    expect(readLab(dir)).to.equal(undefined);
    writeFileSync(join(dir, 'lab.json'), '{"kind":"huge"}');
    expect(readLab(dir)).to.equal(undefined);
  });

  it('the last words say the cluster is still up, how to use it and how to remove it', () => {
    const t = stillUpLines('full', '/var/lib/sctp-e2e/cluster', '/var/lib/sctp-e2e/cluster/admin.kubeconfig');
    expect(t)
      .to.contain(
        'the local cluster is still up (lab full: two nodes (kube-proxy iptables and nftables), the LoadBalancer controller, Cilium for the NetworkPolicy tests',
      )
      .and.contain('KUBECONFIG=/var/lib/sctp-e2e/cluster/admin.kubeconfig kubectl get nodes')
      .and.contain('remove it: npm run cluster:down');
  });
});
