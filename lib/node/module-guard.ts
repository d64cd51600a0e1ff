// The sctp.ko check of the [Feature:SCTP] basic phase (KEP-614: nothing there may load sctp.ko), run-level:
// every node of the cluster (control plane included, no cap) is observed before each guarded test, after it
// (after a settle period, so kubelet and kube-proxy have acted), and once more at the end of the basic phase.
// A node seen not loaded and later loaded fails the test in whose interval it happened, or the end-of-phase
// check when it happened between tests; the summary says on which nodes the check was performed, not
// applicable (no SCTP in the kernel, built in) or not performed (already loaded, unreadable, no node access).
// Fault-lane recipe: `sctp-socket-on-vm` (a pod opening a kernel SCTP socket on the kernel-lane node).
//
// The cluster and the test hooks are supplied by the caller (lib/e2e.ts): no mocha globals here.

import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../framework/errors.ts';
import { registerPhaseEnd, runCleanup } from '../framework/framework.ts';
import { addRunNote } from '../framework/run-notes.ts';
import { isSkip } from '../framework/skip.ts';
import { timeouts } from '../framework/timeouts.ts';
import { type ModuleObservation, ModuleWatch, renderCoverage } from './module-watch.ts';
import type { SctpModuleStateName } from './sctp-module.ts';

/** What the guard reads: every node's name, node access, and one node's sctp.ko state. */
export interface ModuleNodes {
  nodeNames(): Promise<string[]>;
  /** Throws (a SkipError, or any error) when there is no node access. */
  access(): Promise<unknown>;
  sctpModule(node: string): Promise<{ state: SctpModuleStateName; evidence: string }>;
}

/** Where the guard hooks in: the framework's check around every f.it() test (the test's title passed in). */
export interface GuardHooks {
  aroundEach<T>(what: string, before: (title: string) => Promise<T>, after: (state: T, title: string) => Promise<void>): void;
}

/** The sctp.ko state of every node, or for each node why it could not be read (never throws for one node). */
export async function observeAllNodes(n: ModuleNodes): Promise<ModuleObservation[]> {
  const nodes = await n.nodeNames();
  let noAccess: string | undefined;
  try {
    await n.access();
  } catch (err) {
    noAccess = isSkip(err) ? err.reason : errorMessage(err);
  }
  if (noAccess) return nodes.map((node) => ({ node, evidence: noAccess! }));
  return Promise.all(
    nodes.map(async (node): Promise<ModuleObservation> => {
      try {
        const s = await n.sctpModule(node);
        return { node, state: s.state, evidence: s.evidence };
      } catch (err) {
        return { node, evidence: isSkip(err) ? err.reason : errorMessage(err) };
      }
    }),
  );
}

const moduleWatch = new ModuleWatch();
const betweenTests: string[] = [];
let phaseEndRegistered = false;

/** Guards every f.it() test of a describe, and (once per run) the end of the basic phase. */
export function guardSctpModule(n: ModuleNodes, hooks: GuardHooks): void {
  if (!phaseEndRegistered) {
    phaseEndRegistered = true;
    registerPhaseEnd('basic', 'sctp.ko module check', async () => {
      if (moduleWatch.watching()) await sleep(timeouts.moduleSettle);
      let observed: ModuleObservation[];
      try {
        observed = await observeAllNodes(n);
      } finally {
        // runs after the describes' shared cleanup: close what this check opened (SSH, host-exec pods)
        await runCleanup.run((l) => process.stderr.write(`    ${l}\n`));
      }
      const v = moduleWatch.observe(observed, 'at the end of the basic phase');
      for (const line of renderCoverage(moduleWatch.coverage()))
        addRunNote('sctp.ko module check', line, /not performed/.test(line.slice(0, 40)) ? 'warning' : 'info');
      const all = [...betweenTests, ...v.map((x) => x.message)];
      if (all.length) throw new Error(`sctp.ko was loaded during the [Feature:SCTP] basic phase, outside any one test:\n${all.join('\n')}`);
    });
  }
  hooks.aroundEach(
    'sctp.ko check',
    async (title) => {
      const v = moduleWatch.observe(await observeAllNodes(n), `before "${title}"`);
      // a load between the previous test's end and this test's start is not this test's doing
      betweenTests.push(...v.map((x) => x.message));
    },
    async (_, title) => {
      // the settle is for a late load (kubelet, kube-proxy acting after the test); it is skipped only when no
      // node can show one (see ModuleWatch.watching), e.g. kernels without SCTP or sctp.ko already loaded
      if (moduleWatch.watching()) await sleep(timeouts.moduleSettle);
      const v = moduleWatch.observe(await observeAllNodes(n), `after "${title}"`);
      if (v.length) throw new Error(v.map((x) => x.message).join('\n'));
    },
  );
}
