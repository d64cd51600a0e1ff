// Capabilities a cluster may or may not have. A test that needs one and does not find it skips with the
// evidence, unless the user declared it required (--require / SCTP_E2E_REQUIRE / config file): then its
// absence fails the test with the same evidence.

import { ExitCode, UserError } from './errors.ts';

export const CAPABILITIES = {
  'node-access': 'the suite can run commands on nodes (ssh, hostpod or docker)',
  networkpolicy: 'a NetworkPolicy implementation enforces policies',
  loadbalancer: 'a LoadBalancer implementation assigns ingress addresses',
  'kernel-sctp': "the nodes' kernels have SCTP (loadable or built in)",
  iptables: 'kube-proxy runs in iptables mode on a node',
  nftables: 'kube-proxy runs in nftables mode on a node',
  ipvs: 'kube-proxy runs in ipvs mode on a node',
  dns: 'cluster DNS answers',
  outside: 'a vantage point outside the cluster (not a pod) can send traffic to nodes',
  'multi-node': 'at least two ready schedulable nodes',
  'dual-stack': 'pods and Services get an IPv4 and an IPv6 address (dual-stack)',
} as const;

export type Capability = keyof typeof CAPABILITIES;

export function isCapability(s: string): s is Capability {
  return Object.hasOwn(CAPABILITIES, s);
}

/** Parses "a,b,c"; unknown names are a usage error naming the known ones. */
export function parseCapabilities(list: string, from = '--require'): Capability[] {
  const out: Capability[] = [];
  for (const raw of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!isCapability(raw)) {
      throw new UserError(`unknown capability ${JSON.stringify(raw)} in ${from}; known: ${Object.keys(CAPABILITIES).join(', ')}`, ExitCode.usage);
    }
    if (!out.includes(raw)) out.push(raw);
  }
  return out;
}

/** The capabilities the user declared required (the runner exports them as SCTP_E2E_REQUIRE). */
export function requiredCapabilities(env = process.env): Set<Capability> {
  return new Set(env.SCTP_E2E_REQUIRE ? parseCapabilities(env.SCTP_E2E_REQUIRE, 'SCTP_E2E_REQUIRE') : []);
}

/** Thrown instead of a skip when the missing capability was declared required. */
export class MissingCapability extends Error {
  override name = 'MissingCapability';
  constructor(
    readonly capability: Capability,
    readonly reason: string,
  ) {
    super(`required capability "${capability}" is missing (declared with --require ${capability}): ${reason}`);
  }
}
