// Pure parts of the local LoadBalancer (cluster/lb): the address pool and the per-round decisions.
// No I/O here; cluster/lb/pool.test.ts checks them. The controller (controller.ts) turns the decisions
// into status patches and Events.

/** The default pool: outside the node link 10.199.0.0/24 (on-link ARP there would find nobody) and outside the
 *  externalIP range 10.199.1.0/24 that tests use freely; `lb up` routes it via node1 from the host and the outside netns. */
export const DEFAULT_POOL = '10.199.2.0/26';
/** Services with this spec.loadBalancerClass (or none) are ours; any other class belongs to someone else. */
export const LB_CLASS = 'sctp-e2e.local/lb';
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) throw new Error(`"${ip}" is not an IPv4 address`);
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) throw new Error(`"${ip}" is not an IPv4 address`);
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Pool {
  /** As given: "10.199.2.0/26" or "10.199.2.10-10.199.2.49". */
  spec: string;
  /** The prefix that routes cover (the CIDR, or the smallest CIDR holding the range). */
  cidr: string;
  first: number;
  last: number;
  size: number;
}

/** "A.B.C.D/N" (network and broadcast addresses excluded when N <= 30) or "A.B.C.D-A.B.C.E". */
export function parsePool(spec: string): Pool {
  const s = spec.trim();
  const range = /^([\d.]+)\s*-\s*([\d.]+)$/.exec(s);
  if (range) {
    const first = ipToInt(range[1]!);
    const last = ipToInt(range[2]!);
    if (last < first) throw new Error(`pool ${spec}: the range ends before it starts`);
    let bits = 32;
    while (bits > 0 && first >>> (32 - bits) !== last >>> (32 - bits)) bits--;
    const net = bits === 0 ? 0 : ((first >>> (32 - bits)) << (32 - bits)) >>> 0;
    return { spec: s, cidr: `${intToIp(net)}/${bits}`, first, last, size: last - first + 1 };
  }
  const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!cidr) throw new Error(`pool "${spec}" is neither A.B.C.D/N nor A.B.C.D-A.B.C.E`);
  const bits = Number(cidr[2]);
  if (bits < 16 || bits > 32) throw new Error(`pool ${spec}: the prefix length must be 16..32`);
  const base = ipToInt(cidr[1]!);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  if ((base & mask) >>> 0 !== base) throw new Error(`pool ${spec}: host bits are set (the network is ${intToIp((base & mask) >>> 0)}/${bits})`);
  const end = (base + 2 ** (32 - bits) - 1) >>> 0;
  const [first, last] = bits <= 30 ? [base + 1, end - 1] : [base, end];
  return { spec: s, cidr: `${intToIp(base)}/${bits}`, first, last, size: last - first + 1 };
}

export function inPool(p: Pool, ip: string): boolean {
  let n: number;
  try {
    n = ipToInt(ip);
  } catch {
    return false;
  }
  return n >= p.first && n <= p.last;
}

/** True when two CIDRs share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const r = (c: string) => {
    const [ip, bits] = c.split('/');
    const n = Number(bits ?? 32);
    const base = ipToInt(ip!);
    const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
    const start = (base & mask) >>> 0;
    return [start, start + 2 ** (32 - n) - 1] as const;
  };
  const [a0, a1] = r(a);
  const [b0, b1] = r(b);
  return a0 <= b1 && b0 <= a1;
}

/** Lowest free address of the pool, or the requested one when it is in the pool and free. */
export function allocate(p: Pool, used: ReadonlySet<string>, requested?: string): { ip?: string; note?: string } {
  if (requested) {
    if (!inPool(p, requested)) return { note: `requested loadBalancerIP ${requested} is not in the pool ${p.spec}` };
    if (used.has(requested)) return { note: `requested loadBalancerIP ${requested} is already assigned` };
    return { ip: requested };
  }
  for (let n = p.first; n <= p.last; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return { ip };
  }
  return { note: `no free address in the pool ${p.spec} (${p.size} addresses, all assigned)` };
}

/** What the controller needs to know about one Service. */
export interface SvcView {
  namespace: string;
  name: string;
  uid: string;
  type: string;
  loadBalancerClass?: string;
  /** Deprecated spec.loadBalancerIP, honoured when in the pool. */
  requestedIP?: string;
  protocols: string[];
  /** status.loadBalancer.ingress[].ip */
  ingressIPs: string[];
  /** For a stable order when two Services claim the same address (older wins). */
  created: string;
}

export type Decision =
  | { kind: 'keep'; svc: SvcView; ip: string }
  | { kind: 'assign'; svc: SvcView; ip: string }
  | { kind: 'release'; svc: SvcView; ips: string[]; why: string }
  | { kind: 'reject'; svc: SvcView; protocols: string[]; release: string[]; message: string }
  | { kind: 'pending'; svc: SvcView; release: string[]; message: string };

export interface Settings {
  pool: Pool;
  /** Protocols this "provider" refuses (simulates a cloud without SCTP load balancers). */
  rejectProtocols: ReadonlySet<string>;
}

export function isOurs(s: SvcView): boolean {
  return s.type === 'LoadBalancer' && (!s.loadBalancerClass || s.loadBalancerClass === LB_CLASS);
}

export function rejectMessage(protocols: string[], reject: ReadonlySet<string>): string {
  const allowed = PROTOCOLS.filter((p) => !reject.has(p));
  return (
    `Error syncing load balancer: failed to ensure load balancer: ${protocols.join(', ')} not supported by this load ` +
    `balancer (allowed protocols: ${allowed.join(', ') || 'none'})`
  );
}

/**
 * One reconcile round over all Services. Addresses already held stay with their Service (older Service wins a
 * duplicate); Services of type LoadBalancer without one get the lowest free address; non-LoadBalancer Services
 * holding a pool address give it back. Services of another loadBalancerClass are not touched. Services in the
 * "no decision" set are left out of the result.
 */
export function decide(services: SvcView[], st: Settings): Decision[] {
  const order = [...services].sort((a, b) => a.created.localeCompare(b.created) || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const used = new Set<string>();
  const out: Decision[] = [];
  const needs: SvcView[] = [];
  // Pass 1: who keeps what (so allocation never hands out an address an older Service holds).
  for (const s of order) {
    const ours = s.ingressIPs.filter((ip) => inPool(st.pool, ip));
    if (!isOurs(s)) {
      if (s.type !== 'LoadBalancer' && ours.length) out.push({ kind: 'release', svc: s, ips: ours, why: `type is ${s.type}, not LoadBalancer` });
      continue;
    }
    const rejected = [...new Set(s.protocols)].filter((p) => st.rejectProtocols.has(p));
    if (rejected.length) {
      out.push({ kind: 'reject', svc: s, protocols: rejected, release: ours, message: rejectMessage(rejected, st.rejectProtocols) });
      continue;
    }
    const keep = ours.find((ip) => !used.has(ip) && (!s.requestedIP || s.requestedIP === ip));
    if (keep && ours.length === 1 && s.ingressIPs.length === 1) {
      used.add(keep);
      out.push({ kind: 'keep', svc: s, ip: keep });
    } else if (keep) {
      // Several addresses, or foreign entries next to ours: settle on exactly one of ours.
      used.add(keep);
      out.push({ kind: 'assign', svc: s, ip: keep });
    } else {
      needs.push(s);
    }
  }
  // Pass 2: allocation, oldest Service first.
  for (const s of needs) {
    const a = allocate(st.pool, used, s.requestedIP);
    const held = s.ingressIPs.filter((ip) => inPool(st.pool, ip));
    if (a.ip) {
      used.add(a.ip);
      out.push({ kind: 'assign', svc: s, ip: a.ip });
    } else {
      out.push({ kind: 'pending', svc: s, release: held, message: a.note! });
    }
  }
  return out;
}

/** The status.loadBalancer.ingress the Service should have after a decision (undefined: leave it). */
export function desiredIngress(d: Decision): { ip: string; ipMode: 'VIP' }[] | undefined {
  switch (d.kind) {
    case 'keep':
      return undefined;
    case 'assign':
      return [{ ip: d.ip, ipMode: 'VIP' }];
    case 'release':
      return d.svc.ingressIPs.filter((ip) => !d.ips.includes(ip)).map((ip) => ({ ip, ipMode: 'VIP' as const }));
    case 'reject':
    case 'pending':
      return d.release.length ? d.svc.ingressIPs.filter((ip) => !d.release.includes(ip)).map((ip) => ({ ip, ipMode: 'VIP' as const })) : undefined;
  }
}

/** "--reject-protocols SCTP,UDP" → {SCTP, UDP}; unknown names are an error. */
export function parseProtocols(s: string): Set<string> {
  const out = new Set<string>();
  for (const p of s
    .split(',')
    .map((x) => x.trim().toUpperCase())
    .filter(Boolean)) {
    if (!(PROTOCOLS as readonly string[]).includes(p)) throw new Error(`unknown protocol "${p}" (known: ${PROTOCOLS.join(', ')})`);
    out.add(p);
  }
  return out;
}
