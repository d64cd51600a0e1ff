// The run-level sctp.ko watch (KEP-614: nothing in the [Feature:SCTP] basic phase may load sctp.ko). Every
// observation of every node is fed here with the moment it was taken ("before <test>", "after <test>",
// "end of the basic phase"); a node seen not-loaded and later loaded is a violation that names the node
// and the interval. Nodes the check cannot cover are listed with the reason, never silently. Pure.

import type { SctpModuleStateName } from './sctp-module.ts';

export interface ModuleObservation {
  node: string;
  /** undefined when the state could not be read at all (transport error, no node access). */
  state?: SctpModuleStateName;
  evidence: string;
}

export interface ModuleViolation {
  node: string;
  /** The moment of the last not-loaded observation and of the loaded one. */
  from: string;
  to: string;
  message: string;
}

export type Coverage = 'performed' | 'not applicable' | 'not performed';

export interface NodeCoverage {
  node: string;
  coverage: Coverage;
  reason: string;
}

interface Seen {
  first: { when: string; at: string; state?: SctpModuleStateName; evidence: string };
  lastGood?: { when: string; at: string };
  watched: boolean;
  observations: number;
  unreadable: string[];
  stopped?: string;
}

export class ModuleWatch {
  private readonly nodes = new Map<string, Seen>();
  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Records one round of observations; returns the violations since each node's last not-loaded observation. */
  observe(obs: ModuleObservation[], when: string): ModuleViolation[] {
    const at = this.now().toISOString().slice(11, 23);
    const out: ModuleViolation[] = [];
    for (const o of obs) {
      let s = this.nodes.get(o.node);
      if (!s) {
        s = { first: { when, at, state: o.state, evidence: o.evidence }, watched: o.state === 'not-loaded', observations: 0, unreadable: [] };
        if (s.watched) s.lastGood = { when, at };
        this.nodes.set(o.node, s);
      }
      s.observations++;
      if (!s.watched) continue;
      if (o.state === 'not-loaded') {
        s.lastGood = { when, at };
      } else if (o.state === 'loaded') {
        const from = `${s.lastGood!.when} (${s.lastGood!.at} UTC: not loaded)`;
        const to = `${when} (${at} UTC: loaded)`;
        out.push({ node: o.node, from, to, message: `sctp.ko was loaded on node ${o.node} between ${from} and ${to}; evidence: ${o.evidence}` });
        s.watched = false;
        s.stopped = `sctp.ko loaded ${when}; the node cannot be checked after that`;
      } else {
        // unknown or unreadable: no verdict from this round; the next readable one is compared with the last good
        s.unreadable.push(`${when}: ${o.state ?? 'unreadable'} (${o.evidence})`);
      }
    }
    return out;
  }

  /**
   * Whether any node can still show a violation (seen not loaded and not yet loaded). When none can (no SCTP
   * in the kernel, built in, already loaded, or never readable), waiting for a late load proves nothing.
   */
  watching(): boolean {
    return [...this.nodes.values()].some((s) => s.watched);
  }

  coverage(): NodeCoverage[] {
    const out: NodeCoverage[] = [];
    for (const [node, s] of [...this.nodes].sort(([a], [b]) => a.localeCompare(b))) {
      const f = s.first;
      if (s.watched || s.stopped) {
        const gaps = s.unreadable.length ? `; unreadable ${s.unreadable.length} time(s): ${s.unreadable.slice(0, 2).join('; ')}` : '';
        out.push({ node, coverage: 'performed', reason: `not loaded at ${f.when}, ${s.observations} observations${s.stopped ? `; ${s.stopped}` : ''}${gaps}` });
      } else if (f.state === 'no-sctp') {
        out.push({ node, coverage: 'not applicable', reason: `the kernel has no SCTP, so nothing can load sctp.ko (${f.evidence})` });
      } else if (f.state === 'builtin') {
        out.push({ node, coverage: 'not applicable', reason: `SCTP is built into the kernel: there is no module to load (${f.evidence})` });
      } else if (f.state === 'loaded') {
        out.push({ node, coverage: 'not performed', reason: `sctp.ko was already loaded at ${f.when} (${f.evidence})` });
      } else {
        out.push({ node, coverage: 'not performed', reason: `the sctp.ko state could not be read at ${f.when}: ${f.state ?? 'unreadable'} (${f.evidence})` });
      }
    }
    return out;
  }
}

/** One line per coverage class for the run summary. */
export function renderCoverage(c: NodeCoverage[]): string[] {
  const lines: string[] = [];
  for (const k of ['performed', 'not applicable', 'not performed'] as const) {
    const xs = c.filter((x) => x.coverage === k);
    // "not applicable" is the same few words per node: the evidence stays in capabilities.json and the logs
    const why = (x: NodeCoverage) => (k === 'not applicable' ? x.reason.replace(/ \(.*$/, '') : x.reason);
    if (xs.length) lines.push(`module check ${k} on ${xs.length} node(s): ${xs.map((x) => `${x.node} (${why(x)})`).join('; ')}`);
  }
  return lines;
}
