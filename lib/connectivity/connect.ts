// Turns the result of an `agnhost-sctp connect` (or upstream `agnhost connect`) exec into a probe
// state. Only a timeout, a refusal or an administrative prohibition is "blocked"; DNS failures,
// usage errors, a missing SCTP stack, unreachable routes, exec failures and anything unrecognised
// are "error" — a probe that could not tell is never evidence that a policy blocked the traffic.
//
// agnhost-sctp connect (agnhost-sctp/src/cmd_connect.c): the exit code is the class and stdout carries
// "CLASS: detail" on failure, nothing (or the reply to --data) on success. The classes and their codes
// come from one table, agnhost-sctp/exit-classes.json, generated into src/exit_classes.h and
// ./exit-classes.generated.ts (npm run agnhost:gen):
//   0 OK  1 OTHER  2 TIMEOUT  3 REFUSED  4 PROHIBITED  5 DNS  6 UNREACHABLE  7 NOSTACK  64 USAGE
// Upstream agnhost connect (test/images/agnhost/connect): exit 0 on success, else exit 1 with
// "TIMEOUT", "REFUSED", "DNS: ..." or "OTHER: ..." on stderr. For SCTP it has no REFUSED: an
// ABORT shows up as "OTHER: connection refused" (upstream-e2e notes §3.4), which is a refusal.
import { goDuration } from '../framework/duration.ts';
import { AGNHOST_SCTP_EXIT_CLASS } from './exit-classes.generated.ts';
import type { Protocol } from './model.ts';
import type { BlockedBy } from './truth-table.ts';

export type ConnectClass = 'OK' | 'OTHER' | 'TIMEOUT' | 'REFUSED' | 'PROHIBITED' | 'DNS' | 'UNREACHABLE' | 'NOSTACK' | 'USAGE' | 'EXEC';
export type ConnectFlavor = 'agnhost-sctp' | 'agnhost';

export { AGNHOST_SCTP_EXIT_CLASS };

export interface ConnectVerdict {
  state: 'allowed' | 'blocked' | 'error';
  cls: ConnectClass;
  /** Set exactly when state is blocked. */
  blockedBy?: BlockedBy;
  detail: string;
}

const BLOCKED: Partial<Record<ConnectClass, BlockedBy>> = { TIMEOUT: 'timeout', REFUSED: 'refused', PROHIBITED: 'prohibited' };
const WHY_ERROR: Partial<Record<ConnectClass, string>> = {
  OTHER: 'unclassified failure, not a policy verdict',
  DNS: 'name resolution failed, nothing was sent',
  UNREACHABLE: 'no route (ICMP host/net unreachable), not a policy verdict',
  NOSTACK: 'no SCTP stack in the probing pod',
  USAGE: 'the probe command is wrong',
  EXEC: 'the probe did not run',
};

const KNOWN_CLASS = new Set<string>(Object.values(AGNHOST_SCTP_EXIT_CLASS));
const firstLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0) ?? '';

function verdict(cls: ConnectClass, line: string): ConnectVerdict {
  if (cls === 'OK') return { state: 'allowed', cls, detail: line || 'OK: connected' };
  const by = BLOCKED[cls];
  if (by === 'refused')
    return { state: 'blocked', cls, blockedBy: by, detail: `${line} [refused: something answered with ABORT/RST/ICMP, the packet was not silently dropped]` };
  if (by) return { state: 'blocked', cls, blockedBy: by, detail: line };
  return { state: 'error', cls, detail: `${line} [probe error: ${WHY_ERROR[cls] ?? 'unknown'}]` };
}

/**
 * Classifies one connect run. exitCode null means the exec ended without an exit status
 * (transport failure); a probe that threw never gets here and is an error too.
 */
export function classifyConnect(exitCode: number | null, stdout: string, stderr = '', flavor: ConnectFlavor = 'agnhost-sctp'): ConnectVerdict {
  const out = firstLine(stdout);
  const err = firstLine(stderr);
  if (exitCode === null) return verdict('EXEC', `exec ended without an exit code${err ? `: ${err}` : ''}`);
  if (flavor === 'agnhost-sctp') {
    const cls = AGNHOST_SCTP_EXIT_CLASS[exitCode];
    if (!cls) return verdict('EXEC', `exit ${exitCode} is not an agnhost-sctp connect class${err || out ? `: ${err || out}` : ''}`);
    if (cls === 'OK') return verdict('OK', '');
    // The class line is on stdout ("TIMEOUT: ..."); usage errors go to stderr.
    const line = [out, err].find((l) => l.startsWith(`${cls}:`)) ?? (out || err ? `${cls}: ${out || err}` : `${cls}: exit ${exitCode}`);
    const claimed = /^([A-Z]+):/.exec(out)?.[1];
    if (claimed && claimed !== cls && KNOWN_CLASS.has(claimed)) return verdict('EXEC', `exit ${exitCode} (${cls}) contradicts the output "${out}"`);
    return verdict(cls, line);
  }
  // upstream agnhost
  if (exitCode === 0) return verdict('OK', '');
  if (exitCode !== 1) return verdict('EXEC', `exit ${exitCode} from agnhost connect${err || out ? `: ${err || out}` : ''}`);
  const line = err || out;
  const m = /^(TIMEOUT|REFUSED|DNS|OTHER)\b:?\s*(.*)$/.exec(line);
  if (!m) return verdict('EXEC', `agnhost connect exit 1 without a class${line ? `: ${line}` : ''}`);
  const cls = m[1] as 'TIMEOUT' | 'REFUSED' | 'DNS' | 'OTHER';
  if (cls === 'OTHER' && /connection refused/i.test(m[2] ?? '')) return verdict('REFUSED', line);
  return verdict(cls, line);
}

/** The argv of one probe: `/agnhost-sctp connect HOST:PORT --protocol=sctp --timeout=1s`. */
export function connectArgv(o: { host: string; port: number; protocol: Protocol; timeoutMs: number; flavor?: ConnectFlavor }): string[] {
  const hostPort = o.host.includes(':') ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
  const bin = (o.flavor ?? 'agnhost-sctp') === 'agnhost-sctp' ? '/agnhost-sctp' : '/agnhost';
  return [bin, 'connect', hostPort, `--protocol=${o.protocol.toLowerCase()}`, `--timeout=${goDuration(o.timeoutMs)}`];
}
