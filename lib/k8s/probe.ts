// One connectivity probe from a pod: agnhost(-sctp) `connect`, classified into allowed / blocked / error.
// A probe error (exec failed, DNS failure, missing stack, usage) is never "blocked".

import type { Protocol } from './builders.ts';
import type { PodExecResult } from './pods.ts';

export type ProbeState = 'allowed' | 'blocked' | 'error';

export interface ProbeOutcome {
  state: ProbeState;
  /** timeout | refused | prohibited | unreachable | ok | dns | other | exec-error | ... */
  cls: string;
  detail: string;
  command: string;
  render(): string;
}

// agnhost-sctp connect exit codes (agnhost-sctp/README.md).
const BY_EXIT: Record<number, { state: ProbeState; cls: string }> = {
  0: { state: 'allowed', cls: 'ok' },
  1: { state: 'error', cls: 'other' },
  2: { state: 'blocked', cls: 'timeout' },
  3: { state: 'blocked', cls: 'refused' },
  4: { state: 'blocked', cls: 'prohibited' },
  5: { state: 'error', cls: 'dns' },
  6: { state: 'blocked', cls: 'unreachable' },
  7: { state: 'error', cls: 'no-sctp-stack' },
  64: { state: 'error', cls: 'usage' },
};

/** Classify `connect` output. Upstream agnhost exits 1 and names the class on stderr (TIMEOUT, REFUSED, DNS, OTHER). */
export function classifyConnect(r: Pick<PodExecResult, 'code' | 'stdout' | 'stderr'>, flavor: 'agnhost-sctp' | 'agnhost' = 'agnhost-sctp'): { state: ProbeState; cls: string } {
  if (r.code === null) return { state: 'error', cls: 'exec-error' };
  if (flavor === 'agnhost' && r.code !== 0) {
    const text = `${r.stdout}\n${r.stderr}`;
    if (/\bTIMEOUT\b/.test(text)) return { state: 'blocked', cls: 'timeout' };
    if (/\bREFUSED\b/.test(text)) return { state: 'blocked', cls: 'refused' };
    if (/\bDNS\b/.test(text)) return { state: 'error', cls: 'dns' };
    return { state: 'error', cls: 'other' };
  }
  return BY_EXIT[r.code] ?? { state: 'error', cls: `exit-${r.code}` };
}

export function connectArgv(bin: string, host: string, port: number, protocol: Protocol, timeoutMs: number): string[] {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return [bin, 'connect', `${h}:${port}`, `--protocol=${protocol.toLowerCase()}`, `--timeout=${Math.max(1, Math.round(timeoutMs / 1000))}s`];
}

export function probeOutcome(
  what: string,
  ns: string,
  pod: string,
  argv: string[],
  r: PodExecResult | Error,
  flavor: 'agnhost-sctp' | 'agnhost',
): ProbeOutcome {
  const command = `kubectl exec -n ${ns} ${pod} -- ${argv.join(' ')}`;
  if (r instanceof Error) {
    return { state: 'error', cls: 'exec-error', detail: r.message, command, render: () => `${what}: probe error: ${r.message}\n  reproduce: ${command}` };
  }
  const c = classifyConnect(r, flavor);
  const out = `${r.stdout}${r.stderr}`.trim().split('\n').slice(0, 3).join(' | ');
  const detail = `${c.cls} (exit ${r.code}${out ? `: ${out}` : ''})`;
  return { ...c, detail, command, render: () => `${what}: ${c.state} — ${detail}\n  reproduce: ${command}` };
}
