// Netfilter rule counters (`iptables-save -c`): which rules counted a packet between two dumps. Used to
// name the rule that dropped a failing probe. Pure.

export interface Counted {
  key: string;
  packets: number;
  line: string;
}

/** `iptables-save -c` → rule text (without counters) → packets, per table. */
export function parseCounters(out: string): Map<string, Counted> {
  const m = new Map<string, Counted>();
  let table = '';
  for (const raw of out.split('\n')) {
    if (raw.startsWith('*')) table = raw.slice(1).trim();
    const x = /^\[(\d+):(\d+)\] (-A .*)$/.exec(raw);
    if (!x) continue;
    let key = `${table} ${x[3]}`;
    for (let i = 2; m.has(key); i++) key = `${table} ${x[3]} #${i}`;
    m.set(key, { key, packets: Number(x[1]), line: `${table}: ${x[3]}` });
  }
  return m;
}

/** Rules whose packet counter moved between two dumps and that concern SCTP or drop/reject packets. */
export function movedRules(before: Map<string, Counted>, after: Map<string, Counted>, host: string): string[] {
  const out: string[] = [];
  for (const [k, a] of after) {
    const d = a.packets - (before.get(k)?.packets ?? 0);
    if (d <= 0) continue;
    if (!/sctp|-j (DROP|REJECT)|KUBE-MARK-DROP/.test(a.line) && !a.line.includes(host)) continue;
    out.push(`+${d} pkt  ${a.line}`);
  }
  return out;
}

/**
 * `nft list ruleset` → rule text (without its counter) → packets, for every rule with a `counter`: the rules an
 * eBPF datapath's node may carry outside iptables (netdev ingress/egress hooks, the nftables kube-proxy), named
 * `family table/chain: rule`.
 */
export function parseNftCounters(out: string): Map<string, Counted> {
  const m = new Map<string, Counted>();
  let table = '';
  let chain = '';
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    const t = /^table (\S+ \S+) \{$/.exec(line);
    if (t) table = t[1]!;
    const c = /^chain (\S+) \{$/.exec(line);
    if (c) chain = c[1]!;
    const x = /^(.*?)counter packets (\d+) bytes \d+(.*)$/.exec(line);
    if (!x) continue;
    const rule = `${x[1]}counter${x[3]}`.replace(/\s+/g, ' ').trim();
    let key = `${table}/${chain} ${rule}`;
    for (let i = 2; m.has(key); i++) key = `${table}/${chain} ${rule} #${i}`;
    m.set(key, { key, packets: Number(x[2]), line: `nft ${table}/${chain}: ${rule}` });
  }
  return m;
}

/** nft rules whose counter moved between two dumps and that concern SCTP or drop/reject packets. */
export function movedNftRules(before: Map<string, Counted>, after: Map<string, Counted>, host: string): string[] {
  const out: string[] = [];
  for (const [k, a] of after) {
    const d = a.packets - (before.get(k)?.packets ?? 0);
    if (d <= 0) continue;
    if (!/sctp|\b(drop|reject)\b/.test(a.line) && !a.line.includes(host)) continue;
    out.push(`+${d} pkt  ${a.line}`);
  }
  return out;
}
