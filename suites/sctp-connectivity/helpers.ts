// Shared pieces of the [Feature:SCTPConnectivity] specs: the server and client pods, the probe
// that checks WHO answered (the echoed hostname), and "every backend reached".
// agnhost-sctp: `connect --data=hostname` prints the server's reply. Upstream agnhost's connect has
// no data exchange, so for that flavor the client pod runs netexec and asks its /dial endpoint (as
// upstream's DialFromTestContainer does).

import { type E2E, timeouts } from '../../lib/e2e.ts';
import { classifyConnect, connectArgv } from '../../lib/connectivity/connect.ts';
import type { Protocol } from '../../lib/connectivity/model.ts';
import type { ProbeOutcome } from '../../lib/k8s/probe.ts';
import { api } from '../../lib/k8s/client.ts';

export const HTTP_PORT = 8080;

export interface HostnameOutcome extends ProbeOutcome {
  /** Who answered (the server pod's hostname = its name), '' unless allowed. */
  reply: string;
}

/**
 * netexec serving SCTP on `port` (answers "hostname" with the pod name), HTTP for readiness; TCP and UDP on
 * the same port when asked (the diagnosis's controls). Upstream agnhost's netexec has no --tcp-port: with
 * --flavor agnhost the TCP control is absent and the diagnosis says so.
 */
export function serverArgs(port: number, extra: { tcp?: boolean; udp?: boolean; flavor?: 'agnhost-sctp' | 'agnhost' } = {}): string[] {
  const tcp = extra.tcp && extra.flavor !== 'agnhost';
  return ['netexec', `--http-port=${HTTP_PORT}`, `--udp-port=${extra.udp ? port : -1}`, `--sctp-port=${port}`, ...(tcp ? [`--tcp-port=${port}`] : [])];
}

/** A client pod: nothing listening (agnhost-sctp), or netexec for upstream agnhost's /dial. */
export function clientArgs(f: E2E): string[] {
  return f.config.flavor === 'agnhost' ? ['netexec', `--http-port=${HTTP_PORT}`, '--udp-port=-1'] : f.pauseArgs();
}

/** Quotes one argv word for a copy-pasteable shell command. */
export const shq = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** One SCTP (or TCP/UDP) exchange from a pod; the outcome carries who answered. Never throws for "blocked". */
export async function probeHostname(f: E2E, o: { from: string; fromNs?: string; host: string; port: number; protocol?: Protocol; timeout?: number }): Promise<HostnameOutcome> {
  const ns = o.fromNs ?? f.ns;
  const protocol = o.protocol ?? 'SCTP';
  const timeout = o.timeout ?? timeouts.probe;
  const what = `${protocol} ${ns}/${o.from} -> ${o.host}:${o.port}`;
  if (f.config.flavor === 'agnhost') {
    const url = `http://127.0.0.1:${HTTP_PORT}/dial?request=hostname&protocol=${protocol.toLowerCase()}&host=${o.host}&port=${o.port}&tries=1`;
    const argv = ['curl', '-s', '--max-time', String(Math.ceil(timeout / 1000) + 5), url];
    const command = `kubectl exec -n ${ns} ${o.from} -- ${argv.map(shq).join(' ')}`;
    const r = await f.exec(o.from, argv, { ns, timeout: timeout + timeouts.nodeExec }).catch((e: Error) => e);
    let state: ProbeOutcome['state'] = 'error';
    let detail = '';
    let reply = '';
    if (r instanceof Error) detail = `probe did not run: ${r.message}`;
    else {
      try {
        const j = JSON.parse(r.stdout) as { responses?: string[]; errors?: string[] };
        if (j.responses?.length) { state = 'allowed'; reply = j.responses[0]!.trim(); detail = `OK: ${reply}`; }
        else if (j.errors?.some((e) => /timeout|i\/o timeout/i.test(e))) { state = 'blocked'; detail = `TIMEOUT: ${j.errors.join('; ')}`; }
        else detail = `no response: ${r.stdout.trim()} [probe error]`;
      } catch {
        detail = `netexec /dial answered no JSON (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(0, 300)} [probe error]`;
      }
    }
    return { state, cls: state === 'allowed' ? 'OK' : state === 'blocked' ? 'TIMEOUT' : 'EXEC', detail, command, reply, render: () => `${what}: ${state} — ${detail}\n  reproduce: ${command}` };
  }
  const argv = [...connectArgv({ host: o.host, port: o.port, protocol, timeoutMs: timeout, flavor: 'agnhost-sctp' }), '--data=hostname'];
  const command = `kubectl exec -n ${ns} ${o.from} -- ${argv.map(shq).join(' ')}`;
  const r = await f.exec(o.from, argv, { ns, timeout: timeout + timeouts.nodeExec }).catch((e: Error) => e);
  const v = r instanceof Error ? { state: 'error' as const, cls: 'EXEC', detail: `probe did not run: ${r.message}` } : classifyConnect(r.code, r.stdout, r.stderr, 'agnhost-sctp');
  const reply = r instanceof Error || v.state !== 'allowed' ? '' : (r.stdout.split('\n').map((l) => l.trim()).find(Boolean) ?? '');
  const detail = v.state === 'allowed' ? `OK: answered by ${reply || '(empty reply)'}` : v.detail;
  return { state: v.state, cls: v.cls, detail, command, reply, render: () => `${what}: ${v.state} — ${detail}\n  reproduce: ${command}` };
}

export interface Reached {
  seen: Map<string, number>;
  tries: number;
  last?: HostnameOutcome;
  render(): string;
}

function renderReached(r: Omit<Reached, 'render'>, want: readonly string[]): string {
  const seen = [...r.seen].map(([h, n]) => `${h}×${n}`).join(', ') || 'none';
  const missing = want.filter((w) => !r.seen.has(w));
  const strangers = [...r.seen.keys()].filter((h) => !want.includes(h));
  return `after ${r.tries} probe(s): answered by ${seen}; expected exactly {${want.join(', ')}}` +
    (missing.length ? `; never reached: ${missing.join(', ')}` : '') +
    (strangers.length ? `; answers from pods that are not backends: ${strangers.join(', ')}` : '') +
    (r.last ? `\nlast probe: ${r.last.render()}` : '');
}

/**
 * Probe until every expected backend has answered (upstream's "hostnames seen == endpoints"):
 * fails on a hostname that is not a backend, and when some backend was never reached.
 */
export async function expectEveryBackend(f: E2E, what: string, want: readonly string[], probe: () => Promise<HostnameOutcome>, timeout = timeouts.proxySync): Promise<Reached> {
  const acc: Omit<Reached, 'render'> = { seen: new Map(), tries: 0 };
  const r = await f.eventually(`${what}: every backend {${want.join(', ')}} answers`, {
    timeout,
    interval: 100,
    probe: async () => {
      const p = await probe();
      acc.tries++;
      acc.last = p;
      if (p.state === 'allowed') acc.seen.set(p.reply, (acc.seen.get(p.reply) ?? 0) + 1);
      return acc;
    },
    until: (a) => want.every((w) => a.seen.has(w)) || [...a.seen.keys()].some((h) => !want.includes(h)),
    describe: (a) => renderReached(a, want),
  });
  const out = { ...r, render: () => renderReached(r, want) };
  const strangers = [...r.seen.keys()].filter((h) => !want.includes(h));
  if (strangers.length) throw new Error(`${what}: answered by a pod that is not a backend\n${out.render()}`);
  return out;
}

/** Wait until one exchange succeeds with the expected pod answering (readiness, with the probe the test uses). */
export async function eventuallyAnsweredBy(f: E2E, what: string, who: string, probe: () => Promise<HostnameOutcome>, timeout = timeouts.proxySync): Promise<HostnameOutcome> {
  const r = await f.eventually(`${what} answered by ${who}`, {
    timeout,
    probe,
    until: (p) => p.state === 'allowed',
    describe: (p) => p.render(),
  });
  if (r.reply !== who) throw new Error(`${what}: expected ${who} to answer, but ${r.reply || '(empty reply)'} did\n${r.render()}`);
  return r;
}

/** Events about one object in a namespace, oldest first, as "reason: message" lines. */
export async function eventsFor(f: E2E, name: string, ns?: string): Promise<string[]> {
  const l = await api(`list events for ${ns ?? f.ns}/${name}`, () => f.cluster.core.listNamespacedEvent({ namespace: ns ?? f.ns, fieldSelector: `involvedObject.name=${name}` }));
  return l.items
    .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
    .map((e) => `${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`.trim());
}

export async function deleteService(f: E2E, name: string, ns?: string): Promise<void> {
  await api(`delete service ${ns ?? f.ns}/${name}`, () => f.cluster.core.deleteNamespacedService({ namespace: ns ?? f.ns, name }));
}

export async function deleteEndpointSlice(f: E2E, name: string, ns?: string): Promise<void> {
  await api(`delete endpointslice ${ns ?? f.ns}/${name}`, () => f.cluster.discovery.deleteNamespacedEndpointSlice({ namespace: ns ?? f.ns, name }));
}
