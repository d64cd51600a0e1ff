// A node that runs no kube-proxy (proxy mode "none": an eBPF Service datapath such as Cilium's, or nothing) and
// has no netfilter rule at all for a hostPort or Service port: the rule-reading tests have nothing to judge there.
// Their verdict is then a skip that says so, never a missing rule (a false failure) and never a pass. Pure.

import type { ProxyModeResult, RuleSearch } from './index.ts';

export function noNetfilterDataplane(
  mode: Pick<ProxyModeResult, 'mode' | 'evidence'>,
  found: Pick<RuleSearch, 'node' | 'sctp' | 'tcpOrUdp' | 'other' | 'dnatTargets' | 'mismatches'>,
  what: string,
  judgedBy: string,
): string | undefined {
  if (mode.mode !== 'none') return undefined;
  const any = found.sctp.length + found.tcpOrUdp.length + found.other.length + found.dnatTargets.length + (found.mismatches?.length ?? 0);
  if (any > 0) return undefined;
  return (
    `no node runs kube-proxy where ${what} lives: ${found.node} has proxy mode none (${mode.evidence}) and no netfilter rule ` +
    `mentions it, so it is served outside netfilter (e.g. an eBPF datapath) and there are no rules to judge; ${judgedBy}`
  );
}
