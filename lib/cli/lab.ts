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
// The kernel-lane node (a VM with kernel SCTP and a loadable sctp.ko) is not part of a lab: `npm run vm:up --
// --join-cluster`, then SCTP_E2E_CLUSTER_DIR=/var/lib/sctp-e2e/vm/join/cluster (README "Kernel lane").
//
// The lab writes <cluster dir>/lab.json; a later `npm run e2e` against the same local cluster (found through
// its cluster.json) reads it and runs the NetworkPolicy tests the same way.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LateGroup } from '../framework/runner.ts';
import { Tag } from '../framework/tags.ts';

export const LAB_KINDS = ['full', 'minimal'] as const;
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
  late?: { what: string; up: string[]; down: string[]; status: string };
  /** One line: what the lab holds. */
  holds: string;
}

const tsx = (...a: string[]) => ['npx', 'tsx', ...a];

export function labPlan(kind: LabKind): LabPlan {
  if (kind === 'minimal') {
    return { kind, steps: [{ what: 'the local cluster (one node)', argv: tsx('cluster/cli.ts', 'up') }], holds: 'one node' };
  }
  return {
    kind,
    steps: [
      {
        what: 'the local cluster (two nodes: kube-proxy iptables on node1, nftables on node2)',
        argv: tsx('cluster/cli.ts', 'up', '--nodes', '2', '--proxy-mode', 'iptables,nftables'),
      },
      { what: 'the LoadBalancer controller', argv: tsx('cluster/lb/cli.ts', 'up') },
      { what: 'Cilium, built now (cached) and brought up before the NetworkPolicy tests', argv: ['bash', 'cluster/netpol/build.sh'] },
    ],
    late: {
      what: 'bring up Cilium (NetworkPolicy with SCTP)',
      up: tsx('cluster/netpol/cli.ts', 'up'),
      down: tsx('cluster/netpol/cli.ts', 'down'),
      status: join('netpol', 'state.json'),
    },
    holds: 'two nodes (kube-proxy iptables and nftables), the LoadBalancer controller, Cilium for the NetworkPolicy tests',
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
}

/**
 * The late group for the runner: bring up the lab's NetworkPolicy implementation before the NetworkPolicy
 * tests and take it down after them. If it is up already (an earlier run was interrupted, or someone ran
 * `npm run netpol:up`), it is taken down before the run so that the other tests' pods get the bridge CNI.
 */
export async function lateGroupOf(plan: LabPlan, clusterDir: string, o: { run?: Runner; log?: (l: string) => void } = {}): Promise<LateGroup | undefined> {
  const late = plan.late;
  if (!late) return undefined;
  const run = o.run ?? inherit;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (existsSync(join(clusterDir, late.status))) {
    log(
      `sctp-e2e: lab: Cilium is up already (${join(clusterDir, late.status)}); taking it down so that the tests before the NetworkPolicy tests run on the bridge CNI`,
    );
    await run(late.down);
  }
  return {
    tag: Tag.NetworkPolicy,
    what: late.what,
    timeoutMs: 300_000,
    setup: async () => {
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
    },
  };
}

/** The run's last words about a lab that stays up. */
export function stillUpLines(kind: LabKind, clusterDir: string, kubeconfig: string): string {
  const plan = labPlan(kind);
  return [
    `sctp-e2e: the local cluster is still up (lab ${kind}: ${plan.holds}; state ${clusterDir}).`,
    `  use it:    KUBECONFIG=${kubeconfig} kubectl get nodes   (npm run e2e uses it again as it is)`,
    `  remove it: npm run cluster:down   (takes its add-ons down first; or pass --down-after next time)`,
  ].join('\n');
}
