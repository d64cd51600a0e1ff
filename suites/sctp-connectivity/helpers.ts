// Shared pieces of the [Feature:SCTPConnectivity] specs: the server and client pods, the probe
// that checks WHO answered (the echoed hostname: lib/connectivity/probe.ts `data: 'hostname'`), and
// "every backend reached". With --flavor agnhost the client pod runs netexec (clientArgs): upstream
// agnhost's connect exchanges no data, so the probe asks the client's netexec /dial endpoint.

import type { Protocol } from '../../lib/connectivity/model.ts';
import { HTTP_PORT, type ProbeOutcome } from '../../lib/connectivity/probe.ts';
import { type E2E, timeouts } from '../../lib/e2e.ts';

export { HTTP_PORT };

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

/** One SCTP (or TCP/UDP) exchange from a pod; the outcome's reply says who answered. Never throws for "blocked". */
export function probeHostname(f: E2E, o: { from: string; fromNs?: string; host: string; port: number; protocol?: Protocol }): Promise<ProbeOutcome> {
  return f.probe({ protocol: 'SCTP', ...o, data: 'hostname' });
}

export interface Reached {
  seen: Map<string, number>;
  tries: number;
  last?: ProbeOutcome;
  render(): string;
}

function renderReached(r: Omit<Reached, 'render'>, want: readonly string[]): string {
  const seen = [...r.seen].map(([h, n]) => `${h}×${n}`).join(', ') || 'none';
  const missing = want.filter((w) => !r.seen.has(w));
  const strangers = [...r.seen.keys()].filter((h) => !want.includes(h));
  return (
    `after ${r.tries} probe(s): answered by ${seen}; expected exactly {${want.join(', ')}}` +
    (missing.length ? `; never reached: ${missing.join(', ')}` : '') +
    (strangers.length ? `; answers from pods that are not backends: ${strangers.join(', ')}` : '') +
    (r.last ? `\nlast probe: ${r.last.render()}` : '')
  );
}

/**
 * Probe until every expected backend has answered (upstream's "hostnames seen == endpoints"):
 * fails on a hostname that is not a backend, and when some backend was never reached.
 */
export async function expectEveryBackend(
  f: E2E,
  what: string,
  want: readonly string[],
  probe: () => Promise<ProbeOutcome>,
  timeout = timeouts.proxySync,
): Promise<Reached> {
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
export async function eventuallyAnsweredBy(
  f: E2E,
  what: string,
  who: string,
  probe: () => Promise<ProbeOutcome>,
  timeout = timeouts.proxySync,
): Promise<ProbeOutcome> {
  const r = await f.eventually(`${what} answered by ${who}`, {
    timeout,
    probe,
    until: (p) => p.state === 'allowed',
    describe: (p) => p.render(),
  });
  if (r.reply !== who) throw new Error(`${what}: expected ${who} to answer, but ${r.reply || '(empty reply)'} did\n${r.render()}`);
  return r;
}
