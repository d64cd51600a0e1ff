// Finders: which rules program a Service (ClusterIP / externalIP / NodePort) or a hostPort, by
// address, port and protocol, in captured iptables-save / nft -j / ipvsadm output. Pure.

import { effectiveEndpoint, endpointKey, ipFamilyOf, parseEndpoint } from './endpoint.ts';
import { chainRules, type IptablesDump, type IptRule, ruleHasDport } from './iptables.ts';
import type { IpvsService } from './ipvs.ts';
import { chainKey, type NftRule, type NftRuleset } from './nft.ts';

export type ProxyMode = 'iptables' | 'nftables' | 'ipvs' | 'none' | 'unknown';

export type RuleRole = 'entry' | 'chain' | 'dnat' | 'reject' | 'element' | 'virtual-service' | 'real-server' | 'other';

export interface FoundRule {
  source: 'iptables' | 'nft' | 'ipvs';
  where: string; // "nat KUBE-SERVICES" | "ip kube-proxy service-ips" | "ipvs"
  text: string; // the line as the tool prints it (nft: rendered from JSON)
  protocol?: string; // sctp | tcp | udp (lower case): the rule's own match, else the path's; undefined when neither says
  role: RuleRole;
}

/** A rule reached on one protocol's path whose own protocol match is another one: that protocol never passes it. */
export interface ProtocolMismatch {
  rule: FoundRule;
  path: string; // "SCTP 10.96.44.3:5060" | "SCTP NodePort 30060" | "SCTP hostPort 5060"
  pathProtocol: string; // sctp
  ruleProtocol: string; // tcp | "! sctp"
  message: string; // one sentence naming the rule, its chain, the path and the consequence
}

export interface FoundRules {
  sctp: FoundRule[];
  tcpOrUdp: FoundRule[];
  other: FoundRule[]; // matched the address/port but protocol unknown or other
  /**
   * endpointKey()s an SCTP packet is DNATed to: only from DNAT rules that themselves match SCTP (or match
   * no protocol on an SCTP path). A DNAT without a port keeps the packet's port: "podIP:servicePort".
   */
  dnatTargets: string[];
  /** Rules on a path whose own protocol match differs from the path's (e.g. a TCP DNAT reached from an SCTP Service). */
  mismatches: ProtocolMismatch[];
  /** Other facts a reader of a failure needs, one sentence each (e.g. a DNAT without port translation). */
  explanations: string[];
}

/** Service query: ClusterIP or externalIP (ip + port), NodePort (nodePort, optionally a node ip). */
export interface ServiceQuery {
  ip?: string;
  port?: number;
  nodePort?: number;
  /** Address family to read (ip6tables for 6); default: 6 when ip is IPv6, else 4. */
  family?: 4 | 6;
}

export interface HostPortQuery {
  port: number;
  hostIP?: string;
  /** Address family to read (ip6tables for 6, e.g. for an IPv6 pod); default: 6 when hostIP is IPv6, else 4. */
  family?: 4 | 6;
}

export function describeServiceQuery(q: ServiceQuery): string {
  const parts: string[] = [];
  if (q.ip && q.port !== undefined) parts.push(endpointKey(q.ip, q.port));
  if (q.nodePort !== undefined) parts.push(`NodePort ${q.nodePort}${q.ip && q.port === undefined ? ` on ${q.ip}` : ''}`);
  const fam = q.family ?? (q.ip ? ipFamilyOf(q.ip) : undefined);
  // the family is named whenever it was asked for or is not IPv4: "NodePort 30060 over IPv6"
  return (parts.join(' + ') || '(empty query)') + (fam === 6 || q.family !== undefined ? ` over IPv${fam}` : '');
}

function empty(): FoundRules {
  return { sctp: [], tcpOrUdp: [], other: [], dnatTargets: [], mismatches: [], explanations: [] };
}

function bucket(f: FoundRules, protocol: string | undefined): FoundRule[] {
  if (protocol === 'sctp') return f.sctp;
  if (protocol === 'tcp' || protocol === 'udp') return f.tcpOrUdp;
  return f.other;
}

function stripHost(a: string): string {
  return a.replace(/\/(32|128)$/, '');
}

/** What a path is: "10.96.44.3:5060" | "NodePort 30060" | "hostPort 5060", and the port a packet on it has before DNAT. */
interface PathCtx {
  label: string;
  dport?: number;
}

const pathName = (proto: string, ctx: PathCtx) => `${proto.toUpperCase()} ${ctx.label}`;

/**
 * Files one rule reached on a path of protocol `pathProto`, judged by its own protocol match (`own`: the
 * protocols it matches; `negated`: the protocol it excludes); inherits the path's protocol when it has none.
 * Records DNAT targets (SCTP only), protocol mismatches and DNATs without a port. Returns the protocol of
 * what passes the rule (the path's protocol for the rules it leads to).
 */
function place(
  f: FoundRules,
  base: Omit<FoundRule, 'protocol'>,
  own: string[],
  negated: string | undefined,
  pathProto: string | undefined,
  ctx: PathCtx,
  dnat: string[],
  jump?: string,
): string | undefined {
  let eff: string | undefined;
  let clash: string | undefined;
  if (negated !== undefined) {
    if (pathProto === negated) clash = `! ${negated}`;
    else eff = pathProto;
  } else if (own.length === 0) eff = pathProto;
  else if (pathProto === undefined) eff = own.length === 1 ? own[0] : undefined;
  else if (own.includes(pathProto)) eff = pathProto;
  else {
    clash = own.join(', ');
    eff = own.length === 1 ? own[0] : undefined;
  }
  const rule: FoundRule = { ...base, protocol: eff };
  bucket(f, eff).push(rule);
  const targets = dnat.map((t) => ({ t, ...effectiveEndpoint(t, ctx.dport) }));
  if (clash !== undefined && pathProto !== undefined) {
    const P = pathProto.toUpperCase();
    const consequence = targets.length
      ? `${P} is never DNATed to ${targets.map((x) => x.key).join(', ')}`
      : jump
        ? `${P} never takes it (to ${jump})`
        : `${P} never matches it`;
    f.mismatches.push({
      rule,
      path: pathName(pathProto, ctx),
      pathProtocol: pathProto,
      ruleProtocol: clash,
      message: `rule \`${rule.text}\` (${rule.where}) on the path of ${pathName(pathProto, ctx)} matches ${clash}: ${consequence}`,
    });
  } else if (eff === 'sctp') {
    for (const x of targets) {
      f.dnatTargets.push(x.key);
      if (x.portKept) {
        f.explanations.push(
          `rule \`${rule.text}\` (${rule.where}) on the path of ${pathName('sctp', ctx)} DNATs without a port: SCTP goes ` +
            `to ${x.key} (the destination port is kept)`,
        );
      }
    }
  }
  return eff;
}

const IPT_NOFOLLOW = new Set([
  'KUBE-MARK-MASQ',
  'KUBE-MARK-DROP',
  'CNI-HOSTPORT-SETMARK',
  'RETURN',
  'ACCEPT',
  'DROP',
  'REJECT',
  'DNAT',
  'SNAT',
  'MASQUERADE',
  'MARK',
]);

function placeIpt(f: FoundRules, r: IptRule, role: RuleRole, pathProto: string | undefined, ctx: PathCtx): string | undefined {
  const own = r.protocol && !r.protocolNegated ? [r.protocol] : [];
  const negated = r.protocol && r.protocolNegated ? r.protocol : undefined;
  const dnat = r.target === 'DNAT' && r.toDestination ? [r.toDestination] : [];
  return place(f, { source: 'iptables', where: `${r.table} ${r.chain}`, text: r.line, role }, own, negated, pathProto, ctx, dnat, r.target);
}

/**
 * Adds `entry` and every rule reachable from it (same table). The entry's protocol is the path's; each
 * rule after it is judged by its own protocol match (see place()).
 */
function followIpt(dump: IptablesDump, entry: IptRule, f: FoundRules, seen: Set<IptRule>, ctx: PathCtx, opts: { onlyDport?: number } = {}): void {
  let proto: string | undefined = entry.protocolNegated ? undefined : entry.protocol;
  if (!seen.has(entry)) {
    seen.add(entry);
    proto = placeIpt(f, entry, entry.target === 'REJECT' ? 'reject' : entry.target === 'DNAT' ? 'dnat' : 'entry', proto, ctx);
  }
  const queue = entry.target && !IPT_NOFOLLOW.has(entry.target) ? [{ chain: entry.target, proto }] : [];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const { chain, proto: pathProto } = queue.shift()!;
    if (visited.has(`${chain} ${pathProto}`)) continue;
    visited.add(`${chain} ${pathProto}`);
    for (const r of chainRules(dump, entry.table, chain)) {
      // CNI-DN-* chains hold every hostPort of one container: keep only the queried port's rules.
      if (opts.onlyDport !== undefined && r.dports.length > 0 && !ruleHasDport(r, opts.onlyDport)) continue;
      if (seen.has(r)) continue;
      seen.add(r);
      const role: RuleRole = r.target === 'DNAT' ? 'dnat' : r.target === 'REJECT' ? 'reject' : 'chain';
      const eff = placeIpt(f, r, role, pathProto, ctx);
      if (r.target && !IPT_NOFOLLOW.has(r.target)) queue.push({ chain: r.target, proto: eff });
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
  const ipMatch = (r: IptRule) =>
    r.destination !== undefined && !r.destinationNegated && q.ip !== undefined && endpointKey(stripHost(r.destination)) === endpointKey(q.ip);
  if (q.ip && q.port !== undefined) {
    const ctx: PathCtx = { label: endpointKey(q.ip, q.port), dport: q.port };
    for (const r of chainRules(dump, 'nat', 'KUBE-SERVICES')) if (ipMatch(r) && ruleHasDport(r, q.port)) followIpt(dump, r, f, seen, ctx);
    for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-PROXY-FIREWALL']) {
      for (const r of chainRules(dump, 'filter', chain)) if (ipMatch(r) && ruleHasDport(r, q.port)) followIpt(dump, r, f, seen, ctx);
    }
  }
  if (q.nodePort !== undefined) {
    const np = q.nodePort;
    const ctx: PathCtx = { label: `NodePort ${np}`, dport: np };
    const nodeOk = (r: IptRule) => r.destination === undefined || q.ip === undefined || q.port !== undefined || ipMatch(r);
    for (const r of chainRules(dump, 'nat', 'KUBE-NODEPORTS')) if (ruleHasDport(r, np) && nodeOk(r)) followIpt(dump, r, f, seen, ctx);
    for (const chain of ['KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS']) {
      for (const r of chainRules(dump, 'filter', chain)) if (ruleHasDport(r, np) && nodeOk(r)) followIpt(dump, r, f, seen, ctx);
    }
  }
  // Anything else aimed at the address and port (another proxy or CNI writing iptables).
  if (q.ip && q.port !== undefined) {
    for (const r of dump.rules) {
      if (!seen.has(r) && ipMatch(r) && ruleHasDport(r, q.port)) {
        seen.add(r);
        bucket(f, r.protocol).push({ source: 'iptables', where: `${r.table} ${r.chain}`, text: r.line, protocol: r.protocol, role: 'other' });
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
  const ctx: PathCtx = { label: `hostPort ${q.hostIP ? `${endpointKey(q.hostIP, q.port)}` : q.port}`, dport: q.port };
  for (const chain of ['CNI-HOSTPORT-DNAT', 'KUBE-HOSTPORTS']) {
    for (const r of chainRules(dump, 'nat', chain)) {
      if (!ruleHasDport(r, q.port)) continue;
      if (q.hostIP && r.destination && endpointKey(stripHost(r.destination)) !== endpointKey(q.hostIP)) continue;
      followIpt(dump, r, f, seen, ctx, { onlyDport: q.port });
    }
  }
  for (const r of dump.rules) {
    if (r.table === 'nat' && !seen.has(r) && r.target === 'DNAT' && ruleHasDport(r, q.port)) {
      seen.add(r);
      placeIpt(f, r, 'other', r.protocolNegated ? undefined : r.protocol, ctx);
    }
  }
  return f;
}

// ------------------------------------------------------------------ nftables

const NFT_NOFOLLOW = new Set(['mark-for-masquerade', 'masquerading']);

function placeNft(f: FoundRules, r: NftRule, role: RuleRole, pathProto: string | undefined, ctx: PathCtx): string | undefined {
  const jump = r.verdicts.length ? r.verdicts.map((v) => v.target).join(', ') : undefined;
  return place(f, { source: 'nft', where: `${r.family} ${r.table} ${r.chain}`, text: r.text, role }, r.l4proto, undefined, pathProto, ctx, r.dnat, jump);
}

function followNft(
  rs: NftRuleset,
  family: string,
  table: string,
  start: string[],
  proto: string | undefined,
  f: FoundRules,
  seen: Set<string>,
  ctx: PathCtx,
): void {
  const queue = start.map((name) => ({ name, proto }));
  while (queue.length > 0) {
    const { name, proto: pathProto } = queue.shift()!;
    const key = `chain ${family} ${table} ${name} ${pathProto}`;
    if (NFT_NOFOLLOW.has(name) || seen.has(key)) continue;
    seen.add(key);
    const chain = rs.chains.get(chainKey(family, table, name));
    for (const r of chain?.rules ?? []) {
      const id = `rule ${family} ${table} ${r.chain} ${r.handle}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const role: RuleRole = r.dnat.length > 0 ? 'dnat' : r.text.includes('reject') ? 'reject' : 'chain';
      const eff = placeNft(f, r, role, pathProto, ctx);
      queue.push(...r.verdicts.map((v) => ({ name: v.target, proto: eff })));
    }
  }
}

const PROTOS = new Set(['tcp', 'udp', 'sctp']);

/**
 * A NodePort element has no address: its table's family says which packets it sees. kube-proxy writes one
 * table per family (`ip kube-proxy`, `ip6 kube-proxy`); an `inet` table sees both.
 */
function nftFamilyMatches(tableFamily: string, family: 4 | 6 | undefined): boolean {
  if (family === undefined || tableFamily === 'inet') return true;
  return tableFamily === (family === 6 ? 'ip6' : 'ip');
}

/**
 * nftables mode: verdict-map elements `ip . proto . port : goto service-…` (service-ips,
 * no-endpoint-services, firewall-ips) and `proto . nodePort : goto external-…` (service-nodeports,
 * no-endpoint-nodeports), followed through service-/external-/endpoint- chains to `dnat to`;
 * plus native rules anywhere that match `ip daddr <ip> <proto> dport <port>`.
 */
export function findNftServiceRules(rs: NftRuleset, q: ServiceQuery): FoundRules {
  const f = empty();
  const seen = new Set<string>();
  const ipKey = q.ip ? endpointKey(q.ip) : undefined;
  for (const e of rs.elements) {
    let proto: string | undefined;
    let ctx: PathCtx;
    if (ipKey && q.port !== undefined && e.key.length === 3 && endpointKey(String(e.key[0])) === ipKey && e.key[2] === q.port) {
      proto = String(e.key[1]);
      ctx = { label: endpointKey(q.ip!, q.port), dport: q.port };
    } else if (
      q.nodePort !== undefined &&
      e.key.length === 2 &&
      PROTOS.has(String(e.key[0])) &&
      e.key[1] === q.nodePort &&
      /nodeport/.test(e.set) &&
      nftFamilyMatches(e.family, q.family)
    ) {
      proto = String(e.key[0]);
      ctx = { label: `NodePort ${q.nodePort}`, dport: q.nodePort };
    } else continue;
    const role: RuleRole = /no-endpoint/.test(e.set) ? 'reject' : 'element';
    bucket(f, proto).push({ source: 'nft', where: `${e.family} ${e.table} ${e.set}`, text: e.text.slice(e.text.indexOf(': ') + 2), protocol: proto, role });
    if (e.verdict?.target) followNft(rs, e.family, e.table, [e.verdict.target], proto, f, seen, ctx);
  }
  if (ipKey && q.port !== undefined) {
    const ctx: PathCtx = { label: endpointKey(q.ip!, q.port), dport: q.port };
    for (const r of rs.rules) {
      const id = `rule ${r.family} ${r.table} ${r.chain} ${r.handle}`;
      if (seen.has(id) || !r.daddr.some((a) => endpointKey(a) === ipKey) || !r.dports.includes(q.port)) continue;
      seen.add(id);
      const proto = placeNft(f, r, r.dnat.length > 0 ? 'dnat' : 'other', r.l4proto.length === 1 ? r.l4proto[0] : undefined, ctx);
      followNft(
        rs,
        r.family,
        r.table,
        r.verdicts.map((v) => v.target),
        proto,
        f,
        seen,
        ctx,
      );
    }
  }
  return f;
}

/** hostPort rules written natively in nftables (portmap's nftables backend, CRI-O...): any rule with `dport <port>` and a dnat/verdict. */
export function findNftHostPortRules(rs: NftRuleset, q: HostPortQuery): FoundRules {
  const f = empty();
  const seen = new Set<string>();
  const ctx: PathCtx = { label: `hostPort ${q.hostIP ? endpointKey(q.hostIP, q.port) : q.port}`, dport: q.port };
  for (const r of rs.rules) {
    if (r.table === 'kube-proxy') continue;
    const id = `rule ${r.family} ${r.table} ${r.chain} ${r.handle}`;
    if (seen.has(id) || !r.dports.includes(q.port)) continue;
    if (q.hostIP && r.daddr.length > 0 && !r.daddr.some((a) => endpointKey(a) === endpointKey(q.hostIP!))) continue;
    seen.add(id);
    const proto = placeNft(f, r, r.dnat.length > 0 ? 'dnat' : 'entry', r.l4proto.length === 1 ? r.l4proto[0] : undefined, ctx);
    followNft(
      rs,
      r.family,
      r.table,
      r.verdicts.map((v) => v.target),
      proto,
      f,
      seen,
      ctx,
    );
  }
  return f;
}

/**
 * One sentence comparing the SCTP DNAT targets found with the endpoint expected (endpointKey form or any
 * form parseEndpoint reads): found, none at all, or which targets there are and how they differ.
 */
export function describeDnatExpectation(found: FoundRules, expected: string): string {
  const e = parseEndpoint(expected);
  const want = endpointKey(e.ip, e.port);
  if (found.dnatTargets.includes(want)) return `SCTP DNAT to ${want} found`;
  const extra = [...(found.mismatches ?? []).map((m) => m.message), ...(found.explanations ?? [])];
  const tail = extra.length ? `; ${extra.join('; ')}` : '';
  if (found.dnatTargets.length === 0) return `expected an SCTP DNAT to ${want}; observed no SCTP DNAT at all${tail}`;
  const hints = found.dnatTargets
    .map(parseEndpoint)
    .filter((t) => t.ip === e.ip && t.port !== e.port)
    .map((t) => `${t.ip} is right, the port is ${t.port ?? 'not translated'}, not ${e.port}`);
  return `expected an SCTP DNAT to ${want}; observed SCTP DNAT targets: ${found.dnatTargets.join(', ')}${hints.length ? ` (${hints.join('; ')})` : ''}${tail}`;
}

// ------------------------------------------------------------------ ipvs

/** ipvs mode: virtual services at ip:port (ClusterIP, externalIP) or any address:nodePort (NodePort). */
export function findIpvsServiceRules(services: IpvsService[], q: ServiceQuery): FoundRules {
  const f = empty();
  for (const s of services) {
    const sameIp = q.ip !== undefined && endpointKey(s.address) === endpointKey(q.ip);
    const byIp = sameIp && q.port !== undefined && s.port === q.port;
    const familyOk = q.family === undefined || s.protocol === 'FWM' || ipFamilyOf(s.address) === q.family;
    const byNodePort = q.nodePort !== undefined && s.port === q.nodePort && familyOk && (q.ip === undefined || q.port !== undefined || sameIp);
    if (!byIp && !byNodePort) continue;
    const proto = s.protocol.toLowerCase();
    const out = bucket(f, proto);
    out.push({ source: 'ipvs', where: 'ipvs', text: s.line, protocol: proto, role: 'virtual-service' });
    for (const real of s.reals) {
      out.push({ source: 'ipvs', where: `ipvs ${s.protocol} ${s.address}:${s.port}`, text: real.line, protocol: proto, role: 'real-server' });
      if (proto === 'sctp') f.dnatTargets.push(endpointKey(real.address, real.port));
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
    f.mismatches.push(...(a.mismatches ?? []));
    f.explanations.push(...(a.explanations ?? []));
  }
  f.dnatTargets = [...new Set(f.dnatTargets)].sort();
  return f;
}
