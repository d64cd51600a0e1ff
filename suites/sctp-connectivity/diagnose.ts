// When SCTP traffic fails, say why as far as the suite can see: do TCP and UDP between the same pods
// work (a control in the same test), which netfilter rules counted the failing SCTP probe (counters read
// before and after it on the nodes involved), the SCTP conntrack entries, and, for a Service, the node's
// rules for it judged rule by rule. Never throws: every part that cannot be read says why.

import type { E2E } from '../../lib/e2e.ts';
import { errorMessage } from '../../lib/framework/errors.ts';
import { shq } from '../../lib/framework/shell.ts';
import { movedNftRules, movedRules, parseCounters, parseNftCounters } from '../../lib/node/counters.ts';
import type { ServiceQuery } from '../../lib/node/netfilter/find.ts';
import { probeHostname } from './helpers.ts';

export interface DiagnoseInput {
  client: string;
  clientNs?: string;
  /** The SCTP destination that failed. */
  host: string;
  port: number;
  /** Where TCP and UDP controls go (a server listening on TCP and UDP too); default host:port. */
  control?: { host: string; port: number };
  /** Nodes the packets cross (client's, server's). */
  nodes: string[];
  /** For a Service: its rules on each node are shown. */
  service?: ServiceQuery;
}

const hp = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

export async function diagnoseSctpFailure(f: E2E, d: DiagnoseInput): Promise<string> {
  const lines: string[] = ['Diagnosis:'];
  const ctl = d.control ?? { host: d.host, port: d.port };
  // 1. the same pods, other protocols
  const [tcp, udp] = await Promise.all(
    (['TCP', 'UDP'] as const).map((protocol) =>
      probeHostname(f, { from: d.client, fromNs: d.clientNs, host: ctl.host, port: ctl.port, protocol }).catch((e: Error) => ({
        state: 'error',
        render: () => e.message,
      })),
    ),
  );
  const ok = (p: { state: string }) => p.state === 'allowed';
  if (f.config.flavor === 'agnhost') lines.push('  (--flavor agnhost: upstream netexec serves no TCP on the SCTP port, so the TCP control cannot answer)');
  lines.push(
    `  control: TCP ${hp(ctl.host, ctl.port)} ${tcp!.state}, UDP ${hp(ctl.host, ctl.port)} ${udp!.state} from the same client` +
      (ok(tcp!) && ok(udp!) ? ' — only SCTP fails between these pods' : ok(tcp!) || ok(udp!) ? '' : ' — the path fails for every protocol, not only SCTP'),
  );
  if (!ok(tcp!)) lines.push(`    ${tcp!.render().split('\n')[0]}`);
  if (!ok(udp!)) lines.push(`    ${udp!.render().split('\n')[0]}`);

  // 2. which rules counted one more failing SCTP probe, and the SCTP conntrack entries
  const nodes = [...new Set(d.nodes)];
  let execs: Array<{ node: string; run: (c: string) => Promise<string> }> = [];
  try {
    execs = await Promise.all(
      nodes.map(async (n) => {
        const e = await f.node.exec(n);
        return { node: n, run: async (c: string) => (await e.run(c)).stdout };
      }),
    );
  } catch (e) {
    lines.push(`  rule counters and conntrack not read: ${errorMessage(e)}`);
  }
  if (execs.length) {
    try {
      // the failing packet's own family (an IPv6 destination is counted by ip6tables, never by iptables), and nftables
      // rules with counters (netdev hooks on a device: what an eBPF datapath's node may carry)
      const save = d.host.includes(':') ? 'ip6tables-save -c' : 'iptables-save -c';
      const read = (x: (typeof execs)[number]) =>
        Promise.all([x.run(`${save} 2>/dev/null`).then(parseCounters), x.run('nft list ruleset 2>/dev/null || true').then(parseNftCounters)]);
      const before = await Promise.all(execs.map(read));
      const again = await probeHostname(f, { from: d.client, fromNs: d.clientNs, host: d.host, port: d.port });
      const after = await Promise.all(execs.map(read));
      lines.push(`  rule counters (${save}, nft list ruleset) around one more SCTP probe (${again.state}):`);
      execs.forEach((x, i) => {
        const moved = [...movedRules(before[i]![0], after[i]![0], d.host), ...movedNftRules(before[i]![1], after[i]![1], d.host)];
        lines.push(`    ${x.node}: ${moved.length ? '' : 'no SCTP, DROP or REJECT rule counted it'}`, ...moved.slice(0, 12).map((l) => `      ${l}`));
      });
      const ct = await Promise.all(execs.map((x) => x.run(`conntrack -L -p sctp 2>&1 | grep -F -- ${shq(d.host)} | head -5`)));
      for (const [i, x] of execs.entries()) {
        lines.push(
          `  conntrack -L -p sctp on ${x.node}: ${ct[i]!.trim() ? `\n      ${ct[i]!.trim().split('\n').join('\n      ')}` : 'no entry for ' + d.host}`,
        );
      }
    } catch (e) {
      lines.push(`  rule counters not read: ${errorMessage(e)}`);
    }
    if (d.service) {
      for (const x of execs) {
        try {
          const r = await f.node.serviceRules(x.node, d.service);
          lines.push(
            `  Service rules on ${x.node}:`,
            ...r
              .render()
              .split('\n')
              .slice(0, 20)
              .map((l) => `    ${l}`),
          );
        } catch (e) {
          lines.push(`  Service rules on ${x.node} not read: ${errorMessage(e)}`);
        }
      }
    }
  }
  return lines.join('\n');
}

/** Runs `fn`; if it throws, the error carries the diagnosis. */
export async function withDiagnosis<T>(f: E2E, d: () => DiagnoseInput, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const text = await diagnoseSctpFailure(f, d()).catch((x) => `Diagnosis failed: ${errorMessage(x)}`);
    if (e instanceof Error) {
      e.message = `${e.message}\n\n${text}`;
      throw e;
    }
    throw new Error(`${errorMessage(e)}\n\n${text}`);
  }
}
