// The embedded lab: what `npm run e2e` brings up on a bare Linux host when no kubeconfig is configured, so that a
// first run exercises every test it can (issue 12), and what it says at the end.
//
//   --lab full (default)  the local cluster with two nodes (cluster/; kube-proxy iptables on node1 and nftables on
//                         node2, so both proxiers' rules and traffic are checked), the LoadBalancer controller (cluster/lb),
//                         and Cilium (cluster/netpol) for the NetworkPolicy tests. Cilium is built before the
//                         run and brought up just before the [Feature:NetworkPolicy] tests, which run last
//                         (RunOptions.late), then taken down after them: Cilium v1.15 drops SCTP to a Service
//                         whose port differs from its targetPort (its per-packet load balancer cannot fix the
//                         SCTP CRC32c after a port rewrite: bpf/lib/lb.h returns DROP_CSUM_L4; documented in
//                         Cilium's "SCTP support (beta)" limitations), and once it is up every new pod gets its
//                         datapath, so the Service tests run on the bridge CNI before it.
//   --lab minimal         today's one-node local cluster, nothing else.
//   --lab kernel          full, plus the kernel-lane VM joined as a third node (kernel SCTP, a loadable sctp.ko,
//                         another kernel, kube-proxy ipvs); the suite reads the VM's join dir; the VM node is
//                         cordoned while Cilium (netns nodes only) serves the NetworkPolicy tests.
//
// The lab writes <cluster dir>/lab.json; a later `npm run e2e` against the same local cluster (found through
// its cluster.json) reads it and runs the NetworkPolicy tests the same way.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LateGroup } from '../framework/runner.ts';
import { Tag } from '../framework/tags.ts';

export const LAB_KINDS = ['full', 'minimal', 'kernel'] as const;
/** Where vm/join.ts writes the cluster as seen with the VM node (the suite reads it under --lab kernel). */
export const JOIN_CLUSTER_DIR = '/var/lib/sctp-e2e/vm/join/cluster';
/** The kernel-lane node's name (vm/join.ts VM_NODE). */
export const VM_NODE_NAME = 'sctp-e2e-vm';
export type LabKind = (typeof LAB_KINDS)[number];

export interface LabStep {
  /** What the step does, for the progress line ("the LoadBalancer controller"). */
  what: string;
  argv: string[];
}

export interface LabPlan {
  kind: LabKind;
  /** Before the run, in order. */
  steps: LabStep[];
  /** Brought up before the NetworkPolicy tests (which run last) and taken down after them. */
  late?: { what: string; up: string[]; down: string[]; status: string; cordon?: string };
  /** One line: what the lab holds. */
  holds: string;
  /** The cluster dir the suite reads (the VM's join dir under --lab kernel), given the local cluster's own. */
  suiteDir: (clusterDir: string) => string;
}

const tsx = (...a: string[]) => ['npx', 'tsx', ...a];
/** The lab's commands act on the local cluster's own dir, whatever the suite reads. */
const pinned = (clusterDir: string, argv: string[]) => ['env', `SCTP_E2E_CLUSTER_DIR=${clusterDir}`, ...argv];

export function labPlan(kind: LabKind, clusterDir = '/var/lib/sctp-e2e/cluster'): LabPlan {
  const own = () => clusterDir;
  if (kind === 'minimal') {
    return { kind, steps: [{ what: 'the local cluster (one node)', argv: pinned(clusterDir, tsx('cluster/cli.ts', 'up')) }], holds: 'one node', suiteDir: own };
  }
  const steps: LabStep[] = [
    {
      what: 'the local cluster (two nodes: kube-proxy iptables on node1, nftables on node2)',
      argv: pinned(clusterDir, tsx('cluster/cli.ts', 'up', '--nodes', '2', '--proxy-mode', 'iptables,nftables')),
    },
    { what: 'the LoadBalancer controller', argv: pinned(clusterDir, tsx('cluster/lb/cli.ts', 'up')) },
    { what: 'Cilium, built now (cached) and brought up before the NetworkPolicy tests', argv: pinned(clusterDir, ['bash', 'cluster/netpol/build.sh']) },
  ];
  if (kind === 'kernel') {
    steps.push({
      what: `the kernel-lane VM joined as node ${VM_NODE_NAME} (kernel SCTP, a loadable sctp.ko, another kernel, kube-proxy ipvs)`,
      argv: pinned(clusterDir, tsx('vm/cli.ts', 'up', '--join-cluster', '--proxy-mode', 'ipvs')),
    });
  }
  return {
    kind,
    steps,
    late: {
      what: 'bring up Cilium (NetworkPolicy with SCTP)',
      up: pinned(clusterDir, tsx('cluster/netpol/cli.ts', 'up')),
      down: pinned(clusterDir, tsx('cluster/netpol/cli.ts', 'down')),
      status: join(clusterDir, 'netpol', 'state.json'),
      // Cilium runs in the local cluster's node netns only: the VM node is cordoned while the NetworkPolicy tests run
      ...(kind === 'kernel' ? { cordon: VM_NODE_NAME } : {}),
    },
    holds: `two nodes (kube-proxy iptables and nftables), ${kind === 'kernel' ? `the kernel-lane VM node ${VM_NODE_NAME} (kube-proxy ipvs), ` : ''}the LoadBalancer controller, Cilium for the NetworkPolicy tests`,
    suiteDir: kind === 'kernel' ? () => JOIN_CLUSTER_DIR : own,
  };
}

export function parseLabKind(v: string | undefined): LabKind {
  if (v === undefined) return 'full';
  if ((LAB_KINDS as readonly string[]).includes(v)) return v as LabKind;
  throw new Error(`--lab must be one of ${LAB_KINDS.join(', ')}, not ${JSON.stringify(v)}`);
}

export function labFile(clusterDir: string): string {
  return join(clusterDir, 'lab.json');
}

/** The local cluster's own dir of the lab recorded in `dir` (a --lab kernel join dir names it; else `dir` itself). */
export function labBaseDir(dir: string): string {
  try {
    return (JSON.parse(readFileSync(labFile(dir), 'utf8')) as { clusterDir?: string }).clusterDir ?? dir;
  } catch {
    return dir;
  }
}

/** The lab the local cluster in `clusterDir` was brought up as, if `npm run e2e` brought it up. */
export function readLab(clusterDir: string): LabKind | undefined {
  try {
    const k = (JSON.parse(readFileSync(labFile(clusterDir), 'utf8')) as { kind?: string }).kind;
    return (LAB_KINDS as readonly string[]).includes(k ?? '') ? (k as LabKind) : undefined;
  } catch {
    return undefined;
  }
}

type Runner = (argv: string[]) => Promise<void>;

const inherit: Runner = async (argv) => {
  await execa(argv[0]!, argv.slice(1), { stdio: 'inherit' });
};

/** Brings the lab up step by step, one line per step; throws naming the step that failed. */
export async function bringUpLab(plan: LabPlan, clusterDir: string, o: { run?: Runner; log?: (l: string) => void } = {}): Promise<void> {
  const run = o.run ?? inherit;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  for (const [i, s] of plan.steps.entries()) {
    log(`sctp-e2e: lab ${plan.kind} ${i + 1}/${plan.steps.length}: ${s.what} (${s.argv.join(' ')})`);
    try {
      await run(s.argv);
    } catch {
      throw new Error(`lab ${plan.kind}: ${s.what} did not come up (\`${s.argv.join(' ')}\`, output above); \`npm run cluster:down\` removes what was started`);
    }
    if (i === 0) writeFileSync(labFile(clusterDir), JSON.stringify({ kind: plan.kind, at: new Date().toISOString() }, null, 2) + '\n');
  }
  // --lab kernel: the suite reads the VM's join dir; the lab is recorded there too
  const suiteDir = plan.suiteDir(clusterDir);
  if (suiteDir !== clusterDir) writeFileSync(labFile(suiteDir), JSON.stringify({ kind: plan.kind, clusterDir, at: new Date().toISOString() }, null, 2) + '\n');
}

/**
 * The late group for the runner: bring up the lab's NetworkPolicy implementation before the NetworkPolicy
 * tests and take it down after them. If it is up already (an earlier run was interrupted, or someone ran
 * `npm run netpol:up`), it is taken down before the run so that the other tests' pods get the bridge CNI.
 */
export async function lateGroupOf(
  plan: LabPlan,
  clusterDir: string,
  o: { run?: Runner; log?: (l: string) => void; cordon?: (node: string, on: boolean) => Promise<void> } = {},
): Promise<LateGroup | undefined> {
  const late = plan.late;
  if (!late) return undefined;
  const run = o.run ?? inherit;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const cordon = async (on: boolean) => {
    if (!late.cordon) return;
    if (!o.cordon) throw new Error(`the lab must cordon ${late.cordon} for the NetworkPolicy tests, and no way to do it was given`);
    log(`sctp-e2e: lab: ${on ? 'cordoning' : 'uncordoning'} ${late.cordon} (Cilium runs only in the local cluster's node netns)`);
    await o.cordon(late.cordon, on);
  };
  if (existsSync(late.status)) {
    log(`sctp-e2e: lab: Cilium is up already (${late.status}); taking it down so that the tests before the NetworkPolicy tests run on the bridge CNI`);
    await run(late.down);
  }
  return {
    tag: Tag.NetworkPolicy,
    what: late.what,
    timeoutMs: 300_000,
    setup: async () => {
      await cordon(true);
      log(`sctp-e2e: lab: ${late.what} (${late.up.join(' ')})`);
      await run(late.up).catch((e: unknown) => {
        throw new Error(
          `the lab's NetworkPolicy implementation did not come up: \`${late.up.join(' ')}\` failed (${(e as Error).message?.split('\n')[0] ?? e}); its log is under ${join(clusterDir, 'netpol', 'logs')}`,
        );
      });
    },
    teardown: async () => {
      log(`sctp-e2e: lab: taking Cilium down after the NetworkPolicy tests (${late.down.join(' ')})`);
      await run(late.down);
      await cordon(false);
    },
  };
}

/** The run's last words about a lab that stays up. */
export function stillUpLines(kind: LabKind, clusterDir: string, kubeconfig: string): string {
  const plan = labPlan(kind, clusterDir);
  return [
    `sctp-e2e: the local cluster is still up (lab ${kind}: ${plan.holds}; state ${clusterDir}).`,
    `  use it:    KUBECONFIG=${kubeconfig} kubectl get nodes   (npm run e2e ${kind === 'kernel' ? '-- --lab kernel ' : ''}uses it again as it is)`,
    kind === 'kernel'
      ? '  remove it: npm run vm:down && npm run cluster:down   (the VM node first; or pass --down-after next time)'
      : '  remove it: npm run cluster:down   (takes its add-ons down first; or pass --down-after next time)',
  ].join('\n');
}

/** What --down-after runs for a lab this run brought up. */
export function labDown(kind: LabKind, clusterDir: string): string[][] {
  return [...(kind === 'kernel' ? [pinned(clusterDir, tsx('vm/cli.ts', 'down'))] : []), pinned(clusterDir, tsx('cluster/cli.ts', 'down'))];
}
