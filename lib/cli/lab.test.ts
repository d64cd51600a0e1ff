import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { bringUpLab, JOIN_CLUSTER_DIR, labDown, labPlan, lateGroupOf, parseLabKind, readLab, stillUpLines } from './lab.ts';

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

  const E = 'env SCTP_E2E_CLUSTER_DIR=/c';
  it('full: two nodes, the LoadBalancer controller, Cilium built before the run and brought up late; minimal: one node; kernel: full + the VM', () => {
    const full = labPlan('full', '/c');
    expect(full.steps.map((s) => s.argv.join(' '))).to.deep.equal([
      `${E} npx tsx cluster/cli.ts up --nodes 2 --proxy-mode iptables,nftables`,
      `${E} npx tsx cluster/lb/cli.ts up`,
      `${E} bash cluster/netpol/build.sh`,
    ]);
    expect(full.late?.up.join(' ')).to.equal(`${E} npx tsx cluster/netpol/cli.ts up`);
    expect(full.suiteDir('/c')).to.equal('/c');
    expect(labPlan('minimal', '/c').steps.map((s) => s.argv.join(' '))).to.deep.equal([`${E} npx tsx cluster/cli.ts up`]);
    expect(labPlan('minimal', '/c').late).to.equal(undefined);
    const kernel = labPlan('kernel', '/c');
    expect(kernel.steps.at(-1)!.argv.join(' ')).to.equal(`${E} npx tsx vm/cli.ts up --join-cluster --proxy-mode ipvs`);
    expect(kernel.late?.cordon).to.equal('sctp-e2e-vm');
    expect(kernel.suiteDir('/c')).to.equal(JOIN_CLUSTER_DIR);
  });

  it('--lab: full by default; anything else but full or minimal is an error naming the choices', () => {
    expect(parseLabKind(undefined)).to.equal('full');
    expect(parseLabKind('minimal')).to.equal('minimal');
    expect(parseLabKind('kernel')).to.equal('kernel');
    expect(() => parseLabKind('huge')).to.throw('--lab must be one of full, minimal, kernel, not "huge"');
  });

  it('brings the steps up in order, one line each, and records the lab once the cluster is up', async () => {
    await bringUpLab(labPlan('full', dir), dir, { run: run(), log: (l) => log.push(l) });
    expect(ran).to.have.length(3);
    expect(log[1]).to.equal(`sctp-e2e: lab full 2/3: the LoadBalancer controller (env SCTP_E2E_CLUSTER_DIR=${dir} npx tsx cluster/lb/cli.ts up)`);
    expect(readLab(dir)).to.equal('full');
  });

  it('a step that fails stops the lab with a message naming the step and how to clean up', async () => {
    const err = await bringUpLab(labPlan('full', '/c'), dir, { run: run(/lb/), log: () => {} }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal(
      `lab full: the LoadBalancer controller did not come up (\`${E} npx tsx cluster/lb/cli.ts up\`, output above); \`npm run cluster:down\` removes what was started`,
    );
    expect(ran).to.deep.equal([`${E} npx tsx cluster/cli.ts up --nodes 2 --proxy-mode iptables,nftables`, `${E} npx tsx cluster/lb/cli.ts up`]);
  });

  it('the late group: Cilium up before the NetworkPolicy tests, down after; taken down first when an earlier run left it up', async () => {
    mkdirSync(join(dir, 'netpol'));
    writeFileSync(join(dir, 'netpol', 'state.json'), '{}');
    const g = await lateGroupOf(labPlan('full', dir), dir, { run: run(), log: (l) => log.push(l) });
    const D = `env SCTP_E2E_CLUSTER_DIR=${dir}`;
    expect(ran).to.deep.equal([`${D} npx tsx cluster/netpol/cli.ts down`]);
    expect(log[0]).to.contain('Cilium is up already').and.contain('run on the bridge CNI');
    expect(g?.tag).to.equal('[Feature:NetworkPolicy]');
    await g!.setup();
    await g!.teardown!();
    expect(ran.slice(1)).to.deep.equal([`${D} npx tsx cluster/netpol/cli.ts up`, `${D} npx tsx cluster/netpol/cli.ts down`]);
    expect(await lateGroupOf(labPlan('minimal', dir), dir, { run: run() })).to.equal(undefined);
  });

  it('--lab kernel: the VM node is cordoned before Cilium comes up and uncordoned after it went; the lab is recorded in the join dir too', async () => {
    const cordoned: string[] = [];
    const g = await lateGroupOf(labPlan('kernel', dir), dir, {
      run: run(),
      log: () => {},
      cordon: async (n, on) => void cordoned.push(`${on ? '' : 'un'}cordon ${n}`),
    });
    await g!.setup();
    await g!.teardown!();
    expect(cordoned).to.deep.equal(['cordon sctp-e2e-vm', 'uncordon sctp-e2e-vm']);
    expect(ran.map((r) => r.split(' ').pop())).to.deep.equal(['up', 'down']);
    const noWay = await lateGroupOf(labPlan('kernel', dir), dir, { run: run(), log: () => {} });
    expect(
      await noWay!.setup().then(
        () => '',
        (e: Error) => e.message,
      ),
    ).to.contain('must cordon sctp-e2e-vm');
    expect(labDown('kernel', '/c').map((a) => a.join(' '))).to.deep.equal([`${E} npx tsx vm/cli.ts down`, `${E} npx tsx cluster/cli.ts down`]);
    expect(labDown('full', '/c').map((a) => a.join(' '))).to.deep.equal([`${E} npx tsx cluster/cli.ts down`]);
  });

  it('a Cilium that does not come up fails with the command, its first error line and where its logs are', async () => {
    const g = await lateGroupOf(labPlan('full', dir), dir, { run: run(/netpol\/cli.ts up/), log: () => {} });
    const err = await g!.setup().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal(
      `the lab's NetworkPolicy implementation did not come up: \`env SCTP_E2E_CLUSTER_DIR=${dir} npx tsx cluster/netpol/cli.ts up\` failed (exit code 7); its log is under ${dir}/netpol/logs`,
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
