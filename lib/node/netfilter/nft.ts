// Reader for `nft -j list ruleset` (libnftables JSON schema 1). Pure: JSON text in, tables/chains/
// rules/sets/maps out, each rule summarised (daddr, l4proto, dport, verdicts, dnat) and rendered back
// to nft-like text for error messages. Note: rules written by iptables-nft with xt extensions
// (-m sctp --dport, -m multiport, -j DNAT) appear as opaque {"xt": {...}}: their ports are NOT in
// the JSON; read those with iptables-save (see netfilter/index.ts).

import { endpointKey } from './endpoint.ts';

export type NftExpr = Record<string, unknown>;

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle?: number;
  expr: NftExpr[];
  comment?: string;
  text: string; // rendered
  daddr: string[]; // ip/ip6 daddr == values (sets as "@name")
  saddr: string[];
  l4proto: string[]; // meta l4proto / protocol payload (sctp dport → sctp)
  dports: number[];
  verdicts: { kind: 'jump' | 'goto'; target: string }[]; // including vmap set members
  dnat: string[]; // endpointKey: "addr:port", "[addr6]:port", bare "addr" without port translation (each member of a dnat map)
  opaqueXt: string[]; // xt match/target names (iptables-nft)
}

export interface NftElement {
  family: string;
  table: string;
  set: string; // set or map name
  key: (string | number)[]; // concat members, or a single value
  comment?: string;
  verdict?: { kind: string; target?: string }; // for verdict maps
  data?: unknown; // for data maps
  text: string;
}

export interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  type?: string;
  prio?: number;
  rules: NftRule[];
}

export interface NftRuleset {
  version?: string;
  tables: { family: string; name: string }[];
  chains: Map<string, NftChain>; // key: `${family} ${table} ${name}`
  rules: NftRule[];
  elements: NftElement[];
  sets: { family: string; table: string; name: string; type: unknown; map?: unknown; comment?: string }[];
}

export const chainKey = (family: string, table: string, name: string) => `${family} ${table} ${name}`;

function fmtValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(fmtValue).join(', ');
  const o = v as Record<string, unknown>;
  if ('prefix' in o) {
    const p = o.prefix as { addr: string; len: number };
    return `${p.addr}/${p.len}`;
  }
  if ('range' in o) {
    const r = o.range as unknown[];
    return `${fmtValue(r[0])}-${fmtValue(r[1])}`;
  }
  if ('concat' in o) return (o.concat as unknown[]).map(fmtValue).join(' . ');
  if ('payload' in o) {
    const p = o.payload as { protocol: string; field: string };
    return `${p.protocol} ${p.field}`;
  }
  if ('meta' in o) return `meta ${(o.meta as { key: string }).key}`;
  if ('ct' in o) return `ct ${(o.ct as { key: string }).key}`;
  if ('fib' in o) {
    const f = o.fib as { result: string; flags?: string[] };
    return `fib ${(f.flags ?? []).join(' . ')} ${f.result}`;
  }
  if ('numgen' in o) {
    const n = o.numgen as { mode: string; mod: number };
    return `numgen ${n.mode} mod ${n.mod}`;
  }
  if ('set' in o) {
    const s = o.set as unknown[];
    return `{ ${s.map((e) => (Array.isArray(e) && e.length === 2 ? `${fmtValue(e[0])} : ${fmtValue(e[1])}` : fmtValue(e))).join(', ')} }`;
  }
  if ('map' in o) {
    const m = o.map as { key: unknown; data: unknown };
    return `${fmtValue(m.key)} map ${fmtValue(m.data)}`;
  }
  if ('elem' in o) {
    const e = o.elem as { val: unknown; comment?: string };
    return `${fmtValue(e.val)}${e.comment ? ` comment "${e.comment}"` : ''}`;
  }
  if ('goto' in o) return `goto ${(o.goto as { target: string }).target}`;
  if ('jump' in o) return `jump ${(o.jump as { target: string }).target}`;
  for (const k of ['accept', 'drop', 'continue', 'return']) if (k in o) return k;
  if ('&' in o || '|' in o || '^' in o) {
    const op = Object.keys(o)[0]!;
    return (o[op] as unknown[]).map(fmtValue).join(` ${op} `);
  }
  return JSON.stringify(o);
}

function renderExpr(e: NftExpr): string {
  const [k, v] = Object.entries(e)[0] ?? ['', undefined];
  const o = v as Record<string, unknown> | null;
  switch (k) {
    case 'match': {
      const m = o as { op: string; left: unknown; right: unknown };
      const op = m.op === '==' || m.op === 'in' ? '' : ` ${m.op}`;
      return `${fmtValue(m.left)}${op} ${fmtValue(m.right)}`;
    }
    case 'vmap': {
      const m = o as { key: unknown; data: unknown };
      return `${fmtValue(m.key)} vmap ${fmtValue(m.data)}`;
    }
    case 'jump':
    case 'goto':
      return `${k} ${(o as { target: string }).target}`;
    case 'dnat':
    case 'snat': {
      const d = o as { family?: string; addr?: unknown; port?: unknown };
      const fam = d.family ? ` ${d.family}` : '';
      return `${k}${fam} to ${fmtValue(d.addr)}${d.port !== undefined ? `:${fmtValue(d.port)}` : ''}`;
    }
    case 'xt': {
      const x = o as { type: string; name: string };
      return `xt ${x.type} ${x.name}`;
    }
    case 'counter':
      return 'counter';
    case 'mangle': {
      const m = o as { key: unknown; value: unknown };
      return `${fmtValue(m.key)} set ${fmtValue(m.value)}`;
    }
    case 'masquerade':
      return 'masquerade';
    case 'reject':
      return 'reject';
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return k;
    default:
      return `${k} ${JSON.stringify(v)}`;
  }
}

function collectVerdicts(v: unknown, out: { kind: 'jump' | 'goto'; target: string }[]): void {
  if (!v || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) collectVerdicts(x, out);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const kind of ['jump', 'goto'] as const) {
    const t = o[kind] as { target?: string } | undefined;
    if (t && typeof t === 'object' && typeof t.target === 'string') out.push({ kind, target: t.target });
  }
  for (const x of Object.values(o)) if (x && typeof x === 'object') collectVerdicts(x, out);
}

function dnatTargets(d: { addr?: unknown; port?: unknown }): string[] {
  if (typeof d.addr === 'string') return [endpointKey(d.addr, d.port !== undefined ? fmtValue(d.port) : undefined)];
  const map = (d.addr as { map?: { data?: { set?: unknown[] } } } | undefined)?.map;
  const set = map?.data?.set;
  if (Array.isArray(set)) {
    return set.map((e) => {
      const val = Array.isArray(e) ? e[1] : e;
      const c = val && typeof val === 'object' && Array.isArray((val as { concat?: unknown }).concat) ? (val as { concat: unknown[] }).concat : undefined;
      return c ? endpointKey(fmtValue(c[0]), fmtValue(c[1])) : endpointKey(fmtValue(val));
    });
  }
  return [];
}

function summarise(r: { family: string; table: string; chain: string; handle?: number; expr?: NftExpr[]; comment?: string }): NftRule {
  const expr = r.expr ?? [];
  const rule: NftRule = {
    family: r.family,
    table: r.table,
    chain: r.chain,
    handle: r.handle,
    expr,
    comment: r.comment,
    text: expr.map(renderExpr).join(' ') + (r.comment ? ` comment "${r.comment}"` : ''),
    daddr: [],
    saddr: [],
    l4proto: [],
    dports: [],
    verdicts: [],
    dnat: [],
    opaqueXt: [],
  };
  for (const e of expr) {
    if ('match' in e) {
      const m = e.match as { op: string; left: Record<string, unknown>; right: unknown };
      const p = m.left?.payload as { protocol?: string; field?: string } | undefined;
      const meta = m.left?.meta as { key?: string } | undefined;
      const neg = m.op === '!=';
      const rightVals = (): string[] => {
        const rv = m.right as unknown;
        if (typeof rv === 'string' || typeof rv === 'number') return [String(rv)];
        const set = (rv as { set?: unknown[] })?.set;
        if (Array.isArray(set)) return set.map(fmtValue);
        return [fmtValue(rv)];
      };
      if (p && (p.protocol === 'ip' || p.protocol === 'ip6') && p.field === 'daddr' && !neg) rule.daddr.push(...rightVals());
      if (p && (p.protocol === 'ip' || p.protocol === 'ip6') && p.field === 'saddr' && !neg) rule.saddr.push(...rightVals());
      if (p && p.field === 'dport' && !neg) {
        if (p.protocol && p.protocol !== 'th') rule.l4proto.push(p.protocol);
        for (const v of rightVals()) if (/^\d+$/.test(v)) rule.dports.push(Number(v));
      }
      if (meta?.key === 'l4proto' && !neg) rule.l4proto.push(...rightVals());
    }
    if ('xt' in e) rule.opaqueXt.push(`${(e.xt as { type: string }).type} ${(e.xt as { name: string }).name}`);
    if ('dnat' in e) rule.dnat.push(...dnatTargets(e.dnat as { addr?: unknown; port?: unknown }));
  }
  collectVerdicts(expr, rule.verdicts);
  rule.l4proto = [...new Set(rule.l4proto)];
  return rule;
}

/** Parses `nft -j list ruleset`. Throws a one-sentence error on non-JSON input. */
export function parseNftJson(json: string): NftRuleset {
  let doc: { nftables?: Record<string, unknown>[] };
  try {
    doc = JSON.parse(json) as { nftables?: Record<string, unknown>[] };
  } catch (e) {
    throw new Error(`nft -j output is not JSON (${(e as Error).message}): ${json.slice(0, 80)}`);
  }
  if (!Array.isArray(doc.nftables)) throw new Error(`nft -j output has no "nftables" array: ${json.slice(0, 80)}`);
  const rs: NftRuleset = { tables: [], chains: new Map(), rules: [], elements: [], sets: [] };
  for (const item of doc.nftables) {
    const [kind, v] = Object.entries(item)[0] ?? [];
    const o = v as Record<string, unknown>;
    if (kind === 'metainfo') rs.version = String(o.version);
    else if (kind === 'table') rs.tables.push({ family: String(o.family), name: String(o.name) });
    else if (kind === 'chain') {
      const c: NftChain = {
        family: String(o.family),
        table: String(o.table),
        name: String(o.name),
        hook: o.hook as string | undefined,
        type: o.type as string | undefined,
        prio: o.prio as number | undefined,
        rules: [],
      };
      rs.chains.set(chainKey(c.family, c.table, c.name), c);
    } else if (kind === 'rule') {
      const r = summarise(o as unknown as NftRule);
      rs.rules.push(r);
      const key = chainKey(r.family, r.table, r.chain);
      let c = rs.chains.get(key);
      if (!c) {
        c = { family: r.family, table: r.table, name: r.chain, rules: [] };
        rs.chains.set(key, c);
      }
      c.rules.push(r);
    } else if (kind === 'set' || kind === 'map') {
      const family = String(o.family),
        table = String(o.table),
        name = String(o.name);
      rs.sets.push({ family, table, name, type: o.type, map: o.map, comment: o.comment as string | undefined });
      for (const el of (o.elem as unknown[] | undefined) ?? []) {
        let keyRaw: unknown = el,
          data: unknown;
        if (kind === 'map' && Array.isArray(el)) {
          keyRaw = el[0];
          data = el[1];
        }
        let comment: string | undefined;
        if (keyRaw && typeof keyRaw === 'object' && 'elem' in (keyRaw as object)) {
          const ee = (keyRaw as { elem: { val: unknown; comment?: string } }).elem;
          comment = ee.comment;
          keyRaw = ee.val;
        }
        const concat =
          keyRaw && typeof keyRaw === 'object' && Array.isArray((keyRaw as { concat?: unknown }).concat) ? (keyRaw as { concat: unknown[] }).concat : undefined;
        const key = (concat ?? [keyRaw]).map((x) => (typeof x === 'number' ? x : fmtValue(x)));
        let verdict: NftElement['verdict'];
        if (o.map === 'verdict' && data && typeof data === 'object') {
          const [vk, vv] = Object.entries(data as object)[0] ?? [];
          verdict = { kind: String(vk), target: (vv as { target?: string } | null)?.target };
        }
        rs.elements.push({
          family,
          table,
          set: name,
          key,
          comment,
          verdict,
          data: verdict ? undefined : data,
          text: `${family} ${table} ${name}: ${key.join(' . ')}${comment ? ` comment "${comment}"` : ''}${data !== undefined ? ` : ${fmtValue(data)}` : ''}`,
        });
      }
    }
  }
  return rs;
}

/** The rule's chain and text as one line, like `nft list ruleset` would show it in context. */
export function renderNftRule(r: NftRule): string {
  return `${r.family} ${r.table} ${r.chain}: ${r.text}`;
}
