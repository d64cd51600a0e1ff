// Finders: which rules program a Service (ClusterIP / externalIP / NodePort) or a hostPort, by
// address, port and protocol, in captured iptables-save / nft -j / ipvsadm output. Pure.
import { chainRules, ruleHasDport, type IptablesDump, type IptRule } from './iptables.ts';
import { chainKey, type NftRule, type NftRuleset } from './nft.ts';
import type { IpvsService } from './ipvs.ts';

export type ProxyMode = 'iptables' | 'nftables' | 'ipvs' | 'unknown';

export type RuleRole = 'entry' | 'chain' | 'dnat' | 'reject' | 'element' | 'virtual-service' | 'real-server' | 'other';

export interface FoundRule {
  source: 'iptables' | 'nft' | 'ipvs';
  where: string; // "nat KUBE-SERVICES" | "ip kube-proxy service-ips" | "ipvs"
  text: string; // the line as the tool prints it (nft: rendered from JSON)
  protocol?: string; // sctp | tcp | udp (lower case); undefined when the rule does not say
  role: RuleRole;
}

export interface FoundRules {
  sctp: FoundRule[];
  tcpOrUdp: FoundRule[];
  other: FoundRule[]; // matched the address/port but protocol unknown or other
  dnatTargets: string[]; // from the SCTP path only: "podIP:targetPort"
}

/** Service query: ClusterIP or externalIP (ip + port), NodePort (nodePort, optionally a node ip). */
export interface ServiceQuery {
  ip?: string;
  port?: number;
  nodePort?: number;
}

export interface HostPortQuery {
  port: number;
  hostIP?: string;
}

export function describeServiceQuery(q: ServiceQuery): string {
  const parts: string[] = [];
  if (q.ip && q.port !== undefined) parts.push(`${q.ip.includes(':') ? `[${q.ip}]` : q.ip}:${q.port}`);
  if (q.nodePort !== undefined) parts.push(`NodePort ${q.nodePort}${q.ip && q.port === undefined ? ` on ${q.ip}` : ''}`);
  return parts.join(' + ') || '(empty query)';
}

function empty(): FoundRules {
  return { sctp: [], tcpOrUdp: [], other: [], dnatTargets: [] };
}

function bucket(f: FoundRules, protocol: string | undefined): FoundRule[] {
  if (protocol === 'sctp') return f.sctp;
  if (protocol === 'tcp' || protocol === 'udp') return f.tcpOrUdp;
  return f.other;
}

function stripHost(a: string): string {
  return a.replace(/\/(32|128)$/, '');
}

const IPT_NOFOLLOW = new Set(['KUBE-MARK-MASQ', 'KUBE-MARK-DROP', 'CNI-HOSTPORT-SETMARK', 'RETURN', 'ACCEPT', 'DROP', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK']);

function iptFound(r: IptRule, role: RuleRole, protocol: string | undefined): FoundRule {
  return { source: 'iptables', where: `${r.table} ${r.chain}`, text: r.line, protocol: r.protocol ?? protocol, role };
}

/** Adds `entry` and every rule reachable from it (same table), in the entry protocol's bucket. */
function followIpt(dump: IptablesDump, entry: IptRule, f: FoundRules, seen: Set<IptRule>, opts: { onlyDport?: number } = {}): void {
  const proto = entry.protocol;
  const out = bucket(f, proto);
  if (!seen.has(entry)) {
    seen.add(entry);
    out.push(iptFound(entry, entry.target === 'REJECT' ? 'reject' : 'entry', proto));
  }
  const queue = entry.target && !IPT_NOFOLLOW.has(entry.target) ? [entry.target] : [];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const chain = queue.shift()!;
    if (visited.has(chain)) continue;
    visited.add(chain);
    for (const r of chainRules(dump, entry.table, chain)) {
      // CNI-DN-* chains hold every hostPort of one container: keep only the queried port's rules.
      if (opts.onlyDport !== undefined && r.dports.length > 0 && !ruleHasDport(r, opts.onlyDport)) continue;
      if (seen.has(r)) continue;
      seen.add(r);
      const role: RuleRole = r.target === 'DNAT' ? 'dnat' : r.target === 'REJECT' ? 'reject' : 'chain';
      out.push(iptFound(r, role, proto));
      if (r.target === 'DNAT' && r.toDestination && proto === 'sctp') f.dnatTargets.push(r.toDestination);
      if (r.target && !IPT_NOFOLLOW.has(r.target)) queue.push(r.target);
    }
  }
}

/**
 * iptables mode: KUBE-SERVICES (-d ip --dport port) → KUBE-SVC-* / KUBE-EXT-* → KUBE-SEP-* (DNAT);
 * NodePort: KUBE-NODEPORTS (--dport nodePort) → KUBE-EXT-* → ...; filter-table REJECTs for Services
 * without endpoints; and any other nat rule with -d ip --dport port (other implementations).
 */
export function findIptablesServiceRules(dump: IptablesDump, q: ServiceQuery): FoundRules {
  const f = empty();
  const seen = new Set<IptRule>();
  const ipMatch = (r: IptRule) => r.destination !== undefined && !r.destinationNegated && q.ip !== undefined && stripHost(r.destination) === q.ip;
  if (q.ip && q.port !== undefined) {
    for (const r of chainRules(dump, 'nat', 'KUBE-SERVICES')) if (ipMatch(r) && ruleHasDport(r, q.port)) followIpt(dump, r, f, seen);
    for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-PROXY-FIREWALL']) {
      for (const r of chainRules(dump, 'filter', chain)) if (ipMatch(r) && ruleHasDport(r, q.port)) followIpt(dump, r, f, seen);
    }
  }
  if (q.nodePort !== undefined) {
    const np = q.nodePort;
    const nodeOk = (r: IptRule) => r.destination === undefined || q.ip === undefined || q.port !== undefined || ipMatch(r);
    for (const r of chainRules(dump, 'nat', 'KUBE-NODEPORTS')) if (ruleHasDport(r, np) && nodeOk(r)) followIpt(dump, r, f, seen);
    for (const chain of ['KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS']) {
      for (const r of chainRules(dump, 'filter', chain)) if (ruleHasDport(r, np) && nodeOk(r)) followIpt(dump, r, f, seen);
    }
  }
  // Anything else aimed at the address and port (another proxy or CNI writing iptables).
  if (q.ip && q.port !== undefined) {
    for (const r of dump.rules) {
      if (!seen.has(r) && ipMatch(r) && ruleHasDport(r, q.port)) {
        seen.add(r);
        bucket(f, r.protocol).push(iptFound(r, 'other', r.protocol));
      }
    }
  }
  return f;
}

/**
 * hostPort: CNI portmap (CNI-HOSTPORT-DNAT --dports → CNI-DN-* → DNAT), kubelet/kubenet's legacy
 * KUBE-HOSTPORTS → KUBE-HP-*, and (upstream's old check) any other nat rule with --dport port and a DNAT target.
 */
export function findIptablesHostPortRules(dump: IptablesDump, q: HostPortQuery): FoundRules {
  const f = empty();
  const seen = new Set<IptRule>();
  for (const chain of ['CNI-HOSTPORT-DNAT', 'KUBE-HOSTPORTS']) {
    for (const r of chainRules(dump, 'nat', chain)) {
      if (!ruleHasDport(r, q.port)) continue;
      if (q.hostIP && r.destination && stripHost(r.destination) !== q.hostIP) continue;
      followIpt(dump, r, f, seen, { onlyDport: q.port });
    }
  }
  for (const r of dump.rules) {
    if (r.table === 'nat' && !seen.has(r) && r.target === 'DNAT' && ruleHasDport(r, q.port)) {
      seen.add(r);
      bucket(f, r.protocol).push(iptFound(r, 'other', r.protocol));
      if (r.protocol === 'sctp' && r.toDestination) f.dnatTargets.push(r.toDestination);
    }
  }
  return f;
}

// ------------------------------------------------------------------ nftables

const NFT_NOFOLLOW = new Set(['mark-for-masquerade', 'masquerading']);

function nftFound(r: NftRule, role: RuleRole, protocol: string | undefined): FoundRule {
  return { source: 'nft', where: `${r.family} ${r.table} ${r.chain}`, text: r.text, protocol, role };
}

function followNft(rs: NftRuleset, family: string, table: string, start: string[], proto: string | undefined, f: FoundRules, seen: Set<string>): void {
  const out = bucket(f, proto);
  const queue = [...start];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (NFT_NOFOLLOW.has(name) || seen.has(`chain ${family} ${table} ${name}`)) continue;
    seen.add(`chain ${family} ${table} ${name}`);
    const chain = rs.chains.get(chainKey(family, table, name));
    for (const r of chain?.rules ?? []) {
      const id = `rule ${family} ${table} ${r.chain} ${r.handle}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const role: RuleRole = r.dnat.length > 0 ? 'dnat' : r.text.includes('reject') ? 'reject' : 'chain';
      out.push(nftFound(r, role, r.l4proto[0] ?? proto));
      if (proto === 'sctp') f.dnatTargets.push(...r.dnat);
      queue.push(...r.verdicts.map((v) => v.target));
    }
  }
}

const PROTOS = new Set(['tcp', 'udp', 'sctp']);

/**
 * nftables mode: verdict-map elements `ip . proto . port : goto service-…` (service-ips,
 * no-endpoint-services, firewall-ips) and `proto . nodePort : goto external-…` (service-nodeports,
 * no-endpoint-nodeports), followed through service-/external-/endpoint- chains to `dnat to`;
 * plus native rules anywhere that match `ip daddr <ip> <proto> dport <port>`.
 */
export function findNftServiceRules(rs: NftRuleset, q: ServiceQuery): FoundRules {
  const f = empty();
  const seen = new Set<string>();
  for (const e of rs.elements) {
    let proto: string | undefined;
    if (q.ip && q.port !== undefined && e.key.length === 3 && e.key[0] === q.ip && e.key[2] === q.port) proto = String(e.key[1]);
    else if (q.nodePort !== undefined && e.key.length === 2 && PROTOS.has(String(e.key[0])) && e.key[1] === q.nodePort && /nodeport/.test(e.set)) proto = String(e.key[0]);
    else continue;
    const role: RuleRole = /no-endpoint/.test(e.set) ? 'reject' : 'element';
    bucket(f, proto).push({ source: 'nft', where: `${e.family} ${e.table} ${e.set}`, text: e.text.slice(e.text.indexOf(': ') + 2), protocol: proto, role });
    if (e.verdict?.target) followNft(rs, e.family, e.table, [e.verdict.target], proto, f, seen);
  }
  if (q.ip && q.port !== undefined) {
    for (const r of rs.rules) {
      const id = `rule ${r.family} ${r.table} ${r.chain} ${r.handle}`;
      if (seen.has(id) || !r.daddr.includes(q.ip) || !r.dports.includes(q.port)) continue;
      seen.add(id);
      const proto = r.l4proto[0];
      bucket(f, proto).push(nftFound(r, 'other', proto));
      followNft(rs, r.family, r.table, r.verdicts.map((v) => v.target), proto, f, seen);
    }
  }
  return f;
}

/** hostPort rules written natively in nftables (portmap's nftables backend, CRI-O...): any rule with `dport <port>` and a dnat/verdict. */
export function findNftHostPortRules(rs: NftRuleset, q: HostPortQuery): FoundRules {
  const f = empty();
  const seen = new Set<string>();
  for (const r of rs.rules) {
    if (r.table === 'kube-proxy') continue;
    const id = `rule ${r.family} ${r.table} ${r.chain} ${r.handle}`;
    if (seen.has(id) || !r.dports.includes(q.port)) continue;
    if (q.hostIP && r.daddr.length > 0 && !r.daddr.includes(q.hostIP)) continue;
    seen.add(id);
    const proto = r.l4proto[0];
    bucket(f, proto).push(nftFound(r, r.dnat.length > 0 ? 'dnat' : 'entry', proto));
    if (proto === 'sctp') f.dnatTargets.push(...r.dnat);
    followNft(rs, r.family, r.table, r.verdicts.map((v) => v.target), proto, f, seen);
  }
  return f;
}

// ------------------------------------------------------------------ ipvs

/** ipvs mode: virtual services at ip:port (ClusterIP, externalIP) or any address:nodePort (NodePort). */
export function findIpvsServiceRules(services: IpvsService[], q: ServiceQuery): FoundRules {
  const f = empty();
  for (const s of services) {
    const byIp = q.ip !== undefined && q.port !== undefined && s.address === q.ip && s.port === q.port;
    const byNodePort = q.nodePort !== undefined && s.port === q.nodePort && (q.ip === undefined || q.port !== undefined || s.address === q.ip);
    if (!byIp && !byNodePort) continue;
    const proto = s.protocol.toLowerCase();
    const out = bucket(f, proto);
    out.push({ source: 'ipvs', where: 'ipvs', text: s.line, protocol: proto, role: 'virtual-service' });
    for (const real of s.reals) {
      out.push({ source: 'ipvs', where: `ipvs ${s.protocol} ${s.address}:${s.port}`, text: real.line, protocol: proto, role: 'real-server' });
      if (proto === 'sctp') f.dnatTargets.push(real.address.includes(':') ? `[${real.address}]:${real.port}` : `${real.address}:${real.port}`);
    }
  }
  return f;
}

/** Merges results (e.g. iptables and nft views of one node), de-duplicating DNAT targets. */
export function mergeFound(...all: FoundRules[]): FoundRules {
  const f = empty();
  for (const a of all) {
    f.sctp.push(...a.sctp);
    f.tcpOrUdp.push(...a.tcpOrUdp);
    f.other.push(...a.other);
    f.dnatTargets.push(...a.dnatTargets);
  }
  f.dnatTargets = [...new Set(f.dnatTargets)].sort();
  return f;
}
