// Node-level netfilter reading over a NodeExec: proxy-mode detection and rule searches for a
// Service or a hostPort, with a render() excerpt for failure messages.
import type { NodeExec } from '../exec.ts';
import { endpointKey } from './endpoint.ts';
import {
  describeServiceQuery,
  type FoundRule,
  type FoundRules,
  findIptablesHostPortRules,
  findIptablesServiceRules,
  findIpvsServiceRules,
  findNftHostPortRules,
  findNftServiceRules,
  type HostPortQuery,
  mergeFound,
  type ProxyMode,
  type ServiceQuery,
} from './find.ts';
import { type IptablesDump, mergeIptablesDumps, parseIptablesSave } from './iptables.ts';
import { type IpvsService, parseIpvsadm } from './ipvs.ts';
import { type NftRuleset, parseNftJson, renderNftRule } from './nft.ts';

export * from './endpoint.ts';
export * from './find.ts';
export * from './iptables.ts';
export * from './ipvs.ts';
export * from './nft.ts';

export interface CommandRecord {
  command: string;
  code: number | null;
  stderr: string;
  lines: string[]; // text lines to quote in render() (nft: rules and elements rendered from JSON)
}

export interface RuleSearch extends FoundRules {
  node: string;
  mode: ProxyMode;
  query: string;
  commands: CommandRecord[];
  errors: string[]; // failed commands, unparseable output
  render(): string;
}

export interface RenderContext {
  node: string;
  mode: ProxyMode;
  query: string;
  commands: CommandRecord[];
  errors?: string[];
  needles: (string | RegExp)[]; // lines mentioning these are quoted
  dumpPath?: string; // where the full dump was saved, if it was
  maxLines?: number;
}

function fmtRule(r: FoundRule): string {
  return `  [${r.where}] ${r.text}`;
}

/** Wraps found rules with their context and a render() for error messages. */
export function makeRuleSearch(found: FoundRules, ctx: RenderContext): RuleSearch {
  const max = ctx.maxLines ?? 40;
  const errors = ctx.errors ?? [];
  const dnat = [...new Set(found.dnatTargets)].sort();
  return {
    ...found,
    dnatTargets: dnat,
    node: ctx.node,
    mode: ctx.mode,
    query: ctx.query,
    commands: ctx.commands,
    errors,
    render() {
      const out: string[] = [];
      out.push(
        `${ctx.query} on node ${ctx.node} (proxy mode ${ctx.mode}): ${found.sctp.length} SCTP rule(s), ${found.tcpOrUdp.length} TCP/UDP rule(s)` +
          `${found.other.length ? `, ${found.other.length} other` : ''}; DNAT targets: ${dnat.length ? dnat.join(', ') : 'none'}` +
          `${found.mismatches?.length ? `; ${found.mismatches.length} rule(s) on the path match another protocol` : ''}`,
      );
      // why the verdict is what it is: rules on the SCTP path that match another protocol, DNATs without a port
      for (const m of found.mismatches ?? []) out.push(`  ! ${m.message}`);
      for (const e of found.explanations ?? []) out.push(`  ! ${e}`);
      for (const c of ctx.commands)
        out.push(
          `  $ ${c.command} -> exit ${c.code ?? 'none'}, ${c.lines.length} line(s)${c.code !== 0 && c.stderr.trim() ? `: ${c.stderr.trim().split('\n')[0]}` : ''}`,
        );
      for (const e of errors) out.push(`  error: ${e}`);
      out.push('SCTP rules:', ...(found.sctp.length ? found.sctp.map(fmtRule) : ['  (none)']));
      out.push('TCP/UDP rules:', ...(found.tcpOrUdp.length ? found.tcpOrUdp.map(fmtRule) : ['  (none)']));
      if (found.other.length) out.push('other rules:', ...found.other.map(fmtRule));
      const test = (l: string) => ctx.needles.some((n) => (typeof n === 'string' ? l.includes(n) : n.test(l)));
      for (const c of ctx.commands) {
        const hits = c.lines.filter(test);
        out.push(`lines of \`${c.command}\` mentioning ${ctx.needles.map(String).join(' or ')}: ${hits.length}`);
        out.push(...hits.slice(0, max).map((l) => `  ${l}`));
        if (hits.length > max) out.push(`  ... ${hits.length - max} more`);
      }
      if (ctx.dumpPath) out.push(`full dump: ${ctx.dumpPath}`);
      return out.join('\n');
    },
  };
}

// ------------------------------------------------------------------ proxy mode

export interface ProxyModeResult {
  mode: ProxyMode;
  evidence: string;
  output: string;
}

/** One script: kube-proxy's /proxyMode, then the rule sets each mode leaves behind. Reads only. */
export const PROXY_MODE_PROBE_SCRIPT = [
  'echo "== proxyMode"',
  'if command -v curl >/dev/null 2>&1; then out=$(curl -s -m 3 http://127.0.0.1:10249/proxyMode 2>&1); rc=$?; t=curl;',
  'elif command -v wget >/dev/null 2>&1; then out=$(wget -q -O - -T 3 http://127.0.0.1:10249/proxyMode 2>&1); rc=$?; t=wget;',
  'else out=""; rc=127; t=none; fi',
  'echo "tool $t rc $rc"; echo "answer $out"',
  'echo "== iptables"',
  'if command -v iptables-save >/dev/null 2>&1; then s=$(iptables-save -t nat 2>/dev/null);',
  '  if ! printf "%s\\n" "$s" | grep -qE "^:(KUBE|CNI)-" && command -v iptables-legacy-save >/dev/null 2>&1; then ' +
    'l=$(iptables-legacy-save -t nat 2>/dev/null); if printf "%s\\n" "$l" | grep -qE "^:(KUBE|CNI)-"; then s=$l; echo ' +
    '"backend legacy"; fi; fi;',
  '  echo "kube-services-chain $(printf "%s\\n" "$s" | grep -c "^:KUBE-SERVICES ")";',
  '  echo "kube-services-rules $(printf "%s\\n" "$s" | grep -c "^-A KUBE-SERVICES ")";',
  '  echo "ipvs-ipsets $(printf "%s\\n" "$s" | grep -c "match-set KUBE-CLUSTER-IP")";',
  'else echo "missing"; fi',
  'if command -v ip6tables-save >/dev/null 2>&1; then s6=$(ip6tables-save -t nat 2>/dev/null); echo "kube-services-chain6 ' +
    '$(printf "%s\\n" "$s6" | grep -c "^:KUBE-SERVICES ")"; echo "kube-services-rules6 $(printf "%s\\n" "$s6" | grep ' +
    '-c "^-A KUBE-SERVICES ")"; fi',
  'echo "== nft"',
  'if command -v nft >/dev/null 2>&1; then if nft list table ip kube-proxy >/dev/null 2>&1 || nft list table ip6 ' +
    'kube-proxy >/dev/null 2>&1; then echo "kube-proxy-table present"; else echo "kube-proxy-table absent"; fi; else ' +
    'echo "missing"; fi',
  'echo "== ipvs"',
  'if [ -r /proc/net/ip_vs ]; then echo "services $(grep -cE "^(TCP|UDP|SCTP|FWM) " /proc/net/ip_vs)"; else echo "absent"; fi',
  'echo "== end"',
].join('\n');

/** Pure: decides the proxy mode from PROXY_MODE_PROBE_SCRIPT's output. */
export function parseProxyMode(output: string): ProxyModeResult {
  const get = (re: RegExp) => re.exec(output)?.[1];
  const answer = get(/^answer (\S+)\s*$/m);
  if (answer && ['iptables', 'ipvs', 'nftables', 'kernelspace'].includes(answer)) {
    return {
      mode: answer === 'kernelspace' ? 'unknown' : (answer as ProxyMode),
      evidence: `kube-proxy http://127.0.0.1:10249/proxyMode answered "${answer}"`,
      output,
    };
  }
  const why = `kube-proxy /proxyMode did not answer (${get(/^tool (\S+ rc \d+)/m) ?? 'not probed'})${/^backend legacy/m.test(output) ? '; rules read with iptables-legacy-save' : ''}`;
  const ipvsSets = Number(get(/^ipvs-ipsets (\d+)/m) ?? 0);
  const ipvsServices = Number(get(/^services (\d+)/m) ?? 0);
  // IPv4 and IPv6 (an IPv6-only node has its kube-proxy rules in ip6tables only)
  const kubeServicesRules = Number(get(/^kube-services-rules (\d+)/m) ?? 0) + Number(get(/^kube-services-rules6 (\d+)/m) ?? 0);
  const kubeServicesChain = Number(get(/^kube-services-chain (\d+)/m) ?? 0) + Number(get(/^kube-services-chain6 (\d+)/m) ?? 0);
  const nftTable = /^kube-proxy-table present/m.test(output);
  if (ipvsSets > 0) return { mode: 'ipvs', evidence: `${why}; KUBE-SERVICES matches ipset KUBE-CLUSTER-IP (${ipvsServices} IPVS services)`, output };
  if (nftTable && kubeServicesRules === 0)
    return { mode: 'nftables', evidence: `${why}; nft table kube-proxy exists and iptables KUBE-SERVICES has no rules`, output };
  if (kubeServicesRules > 0 && !nftTable)
    return { mode: 'iptables', evidence: `${why}; iptables nat KUBE-SERVICES has ${kubeServicesRules} rule(s), no nft kube-proxy table`, output };
  if (kubeServicesRules > 0 && nftTable)
    return { mode: 'unknown', evidence: `${why}; both iptables KUBE-SERVICES (${kubeServicesRules} rules) and nft table kube-proxy exist`, output };
  // Nothing kube-proxy leaves, in every place it could leave it, each of them looked at: an eBPF Service
  // dataplane (e.g. Cilium's kube-proxy replacement) or no kube-proxy at all. Not "unknown", and no rule is "missing".
  const iptablesLooked = /^kube-services-chain \d+/m.test(output);
  const nftLooked = /^kube-proxy-table absent/m.test(output);
  const ipvsLooked = /^== ipvs\n(absent|services \d+)$/m.test(output);
  if (iptablesLooked && kubeServicesChain === 0 && nftLooked && ipvsLooked && ipvsServices === 0) {
    return {
      mode: 'none',
      evidence:
        `${why}; no kube-proxy rules (iptables KUBE-SERVICES absent, no nft table kube-proxy, no ipvs services): eBPF ` +
        `service dataplane or kube-proxy not running`,
      output,
    };
  }
  const nftSaid = nftTable ? 'nft kube-proxy table present' : nftLooked ? 'no nft kube-proxy table' : 'nft not available to look for a kube-proxy table';
  return {
    mode: 'unknown',
    evidence:
      `${why}; ${iptablesLooked ? `no KUBE-SERVICES rules (chain ${kubeServicesChain ? 'present' : 'absent'})` : 'iptables-save not available'}, ` +
      `${nftSaid}, ${ipvsServices} IPVS services`,
    output,
  };
}

// ------------------------------------------------------------------ node reader

export interface NodeNetfilterOptions {
  /** Per-command deadline. */
  timeoutMs?: number;
  /** Skip detection (e.g. cluster.json's proxyMode). */
  mode?: ProxyMode;
}

export interface NodeNetfilter {
  readonly node: string;
  detectProxyMode(): Promise<ProxyModeResult>;
  serviceRules(q: ServiceQuery): Promise<RuleSearch>;
  hostPortRules(q: HostPortQuery): Promise<RuleSearch>;
  /** Raw dumps for artifacts: iptables-save and ip6tables-save (nat, filter), nft list ruleset, ipvsadm -Ln. */
  dumpAll(): Promise<CommandRecord[]>;
}

function needlesFor(ip: string | undefined, port: number | undefined): (string | RegExp)[] {
  const n: (string | RegExp)[] = [];
  if (ip) n.push(ip);
  if (port !== undefined && !ip) n.push(new RegExp(`(dports?|\\.) ${port}\\b`));
  n.push('sctp');
  return n;
}

export function nodeNetfilter(exec: NodeExec, opts: NodeNetfilterOptions = {}): NodeNetfilter {
  let mode: ProxyMode | undefined = opts.mode;
  const run = async (command: string): Promise<{ rec: CommandRecord; stdout: string }> => {
    const r = await exec.run(command, { timeoutMs: opts.timeoutMs });
    return { rec: { command, code: r.code, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') }, stdout: r.stdout };
  };

  // kube-proxy and CNI plugins may use the legacy backend while the node's `iptables-save` is the
  // nft one (or the reverse; kube-proxy's image picks with iptables-wrapper). When the default
  // backend shows no KUBE-/CNI- chain and iptables-legacy-save exists, read the legacy one too.
  let legacy: boolean | undefined;
  async function iptables(v6: boolean, tables: string[], commands: CommandRecord[], errors: string[]): Promise<IptablesDump | undefined> {
    const fam = v6 ? 'ip6tables' : 'iptables';
    const dumps: IptablesDump[] = [];
    for (const t of tables) {
      let { rec, stdout } = await run(`${legacy ? `${fam}-legacy-save` : `${fam}-save`} -t ${t}`);
      if (legacy === undefined && rec.code === 0 && /^:(KUBE|CNI)-/m.test(stdout)) legacy = false;
      if (legacy === undefined && rec.code === 0) {
        const alt = await run(`command -v ${fam}-legacy-save >/dev/null 2>&1 && ${fam}-legacy-save -t ${t}`);
        if (alt.rec.code === 0 && /^:(KUBE|CNI)-/m.test(alt.stdout)) {
          legacy = true;
          commands.push({ ...rec, lines: [`(no KUBE-/CNI- chains with the default backend; using ${fam}-legacy-save)`] });
          alt.rec.command = `${fam}-legacy-save -t ${t}`;
          ({ rec, stdout } = alt);
        }
      }
      commands.push(rec);
      if (rec.code !== 0) {
        errors.push(`${rec.command} exited ${rec.code}: ${rec.stderr.trim().split('\n')[0] ?? ''}`);
        continue;
      }
      try {
        dumps.push(parseIptablesSave(stdout));
      } catch (e) {
        errors.push(`${rec.command}: ${(e as Error).message}`);
      }
    }
    return dumps.length ? mergeIptablesDumps(...dumps) : undefined;
  }

  async function nft(commands: CommandRecord[], errors: string[]): Promise<NftRuleset | undefined> {
    const { rec, stdout } = await run('nft -j list ruleset');
    if (rec.code !== 0) {
      commands.push(rec);
      errors.push(`${rec.command} exited ${rec.code}: ${rec.stderr.trim().split('\n')[0] ?? ''}`);
      return undefined;
    }
    try {
      const rs = parseNftJson(stdout);
      rec.lines = [...rs.rules.map(renderNftRule), ...rs.elements.map((e) => e.text)];
      commands.push(rec);
      return rs;
    } catch (e) {
      commands.push(rec);
      errors.push(`${rec.command}: ${(e as Error).message}`);
      return undefined;
    }
  }

  async function ipvs(commands: CommandRecord[], errors: string[]): Promise<IpvsService[] | undefined> {
    const { rec, stdout } = await run('ipvsadm -Ln');
    commands.push(rec);
    if (rec.code !== 0) {
      errors.push(`${rec.command} exited ${rec.code}: ${rec.stderr.trim().split('\n')[0] ?? ''}`);
      return undefined;
    }
    try {
      return parseIpvsadm(stdout);
    } catch (e) {
      errors.push(`${rec.command}: ${(e as Error).message}`);
      return undefined;
    }
  }

  const self: NodeNetfilter = {
    node: exec.node,
    async detectProxyMode() {
      const r = await exec.run(PROXY_MODE_PROBE_SCRIPT, { timeoutMs: opts.timeoutMs });
      const res = parseProxyMode(r.stdout);
      if (r.code !== 0 || !/^== end$/m.test(r.stdout)) {
        return {
          mode: 'unknown',
          evidence: `proxy-mode probe on ${exec.node} did not complete (exit ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`,
          output: r.stdout,
        };
      }
      return { ...res, evidence: `${res.evidence} on ${exec.node} via ${exec.description}` };
    },
    async serviceRules(q) {
      if (mode === undefined) mode = (await self.detectProxyMode()).mode;
      const commands: CommandRecord[] = [];
      const errors: string[] = [];
      const v6 = q.family === 6 || (q.family === undefined && (q.ip ?? '').includes(':'));
      const found: FoundRules[] = [];
      const all = mode === 'unknown' || mode === 'none'; // read everything there is, for the evidence
      if (mode === 'iptables' || all) {
        const d = await iptables(v6, ['nat', 'filter'], commands, errors);
        if (d) found.push(findIptablesServiceRules(d, q));
      }
      if (mode === 'nftables' || all) {
        const rs = await nft(commands, errors);
        if (rs) found.push(findNftServiceRules(rs, q));
      }
      if (mode === 'ipvs' || all) {
        const s = await ipvs(commands, errors);
        if (s) found.push(findIpvsServiceRules(s, q));
      }
      return makeRuleSearch(mergeFound(...found), {
        node: exec.node,
        mode,
        query: `Service ${describeServiceQuery(q)}`,
        commands,
        errors,
        needles: needlesFor(q.ip, q.ip ? q.port : q.nodePort),
      });
    },
    async hostPortRules(q) {
      const commands: CommandRecord[] = [];
      const errors: string[] = [];
      const v6 = q.family === 6 || (q.family === undefined && (q.hostIP ?? '').includes(':'));
      const found: FoundRules[] = [];
      const d = await iptables(v6, ['nat'], commands, errors);
      if (d) found.push(findIptablesHostPortRules(d, q));
      const rs = await nft(commands, errors);
      if (rs) found.push(findNftHostPortRules(rs, q));
      return makeRuleSearch(mergeFound(...found), {
        node: exec.node,
        mode: mode ?? 'unknown',
        query: `hostPort ${q.hostIP ? endpointKey(q.hostIP, q.port) : q.port}`,
        commands,
        errors,
        needles: needlesFor(undefined, q.port),
      });
    },
    async dumpAll() {
      const out: CommandRecord[] = [];
      for (const c of [
        'iptables-save -t nat',
        'iptables-save -t filter',
        'ip6tables-save -t nat',
        'ip6tables-save -t filter',
        'nft list ruleset',
        'ipvsadm -Ln',
      ])
        out.push((await run(c)).rec);
      return out;
    },
  };
  return self;
}
