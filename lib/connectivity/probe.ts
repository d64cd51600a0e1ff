// One connectivity probe, whoever sends it: a pod (kubectl exec), the outside vantage point (nsenter into a
// netns, or docker exec), a matrix cell. One outcome type, one probe line, one reproduce command (its words
// quoted by lib/framework/shell.ts). Where a probe runs is a Vantage (it runs an argv and says how a person would run it by hand);
// what it measures is a Target. A probe error (exec failed, DNS, no stack, usage) is never "blocked".
//
// agnhost-sctp: `connect HOST:PORT [--data=hostname]` (lib/connectivity/connect.ts classifies it; with
// --data the first stdout line is the server's reply). Upstream agnhost's connect exchanges no data, so a
// hostname probe from a pod with --flavor agnhost asks the client pod's netexec /dial endpoint instead
// (as upstream's DialFromTestContainer does): the client pod must run netexec on HTTP_PORT.

import { shellLine } from '../framework/shell.ts';
import { timeouts } from '../framework/timeouts.ts';
import { type ConnectClass, type ConnectFlavor, classifyConnect, connectArgv } from './connect.ts';
import type { Protocol } from './model.ts';
import type { BlockedBy } from './truth-table.ts';

/** netexec's HTTP port in the suite's server and (for --flavor agnhost) client pods. */
export const HTTP_PORT = 8080;

/** What one run of a command returned. */
export interface RawRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What a probe concluded, the part a truth-table cell keeps (lib/connectivity/probe-matrix.ts): "blocked"
 * always says why (timeout, refused, prohibited); anything that is not clear evidence is an error.
 */
export type ProbeResult =
  | { state: 'allowed' | 'error'; blockedBy?: undefined; detail: string; command: string }
  | { state: 'blocked'; blockedBy: BlockedBy; detail: string; command: string };

interface OutcomeDetails {
  /** "SCTP ns/client -> 10.0.0.1:5060": who probed what. */
  what: string;
  cls: ConnectClass;
  /** What the server answered (with `data: 'hostname'`: who answered), first line, trimmed; '' unless allowed. */
  reply: string;
  /** The probe line: `<what>: <state> — <detail>` and `  reproduce: <command>`. */
  render(): string;
}

/** The outcome of one probe: its result, who probed what, the class, the reply and the probe line. */
export type ProbeOutcome = ProbeResult & OutcomeDetails;

/** What a probe measures. */
export interface Target {
  host: string;
  port: number;
  protocol: Protocol;
  /** The connect timeout (default timeouts.probe); the exec gets timeouts.nodeExec on top. */
  timeoutMs?: number;
  /** 'hostname': the server answers with its hostname (netexec), which becomes the outcome's reply. */
  data?: 'hostname';
}

/** Where a probe runs. */
export interface Vantage {
  /** How the probe line names the client: "ns/client", "outside 10.199.0.100". */
  readonly name: string;
  /** Which connect client is there (agnhost-sctp, or upstream agnhost in pods with --flavor agnhost). */
  readonly flavor: ConnectFlavor;
  /** The connect binary there, when it is not the image's (/agnhost-sctp, /agnhost). */
  readonly bin?: string;
  /** Runs argv there; resolves with its exit, rejects only when it could not run (or ran past timeoutMs). */
  run(argv: string[], timeoutMs: number): Promise<RawRun>;
  /** The copy-pasteable command that runs argv there (see reproduceCommand). */
  command(argv: readonly string[]): string;
}

/** Where a reproduce command runs: in a pod, in a Docker container, or here (the argv as it is). */
export type Where = { pod: string; ns: string } | { container: string } | { here: true };

/** The one reproduce-command builder: `kubectl exec -n NS POD -- ARGV`, `docker exec ID ARGV` or ARGV, quoted. */
export function reproduceCommand(where: Where, argv: readonly string[]): string {
  const words =
    'pod' in where
      ? ['kubectl', 'exec', '-n', where.ns, where.pod, '--', ...argv]
      : 'container' in where
        ? ['docker', 'exec', where.container, ...argv]
        : [...argv];
  return shellLine(words);
}

/** The one renderer of a probe line. */
export function renderProbeLine(o: { what: string; state: string; detail: string; command: string }): string {
  return `${o.what}: ${o.state} — ${o.detail}\n  reproduce: ${o.command}`;
}

/** "SCTP ns/client -> 10.0.0.1:5060", "SCTP ns/client -> [fd00:96::1]:5060" (IPv6 bracketed, as connect takes it). */
export function probeWhat(v: Pick<Vantage, 'name'>, t: Pick<Target, 'host' | 'port' | 'protocol'>): string {
  return `${t.protocol} ${v.name} -> ${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

function outcomeOf(
  what: string,
  command: string,
  v: { state: ProbeOutcome['state']; cls: ConnectClass; blockedBy?: BlockedBy; detail: string },
  reply: string,
): ProbeOutcome {
  const base = { what, cls: v.cls, detail: v.detail, command, reply, render: () => renderProbeLine({ what, state: v.state, detail: v.detail, command }) };
  if (v.state === 'blocked') {
    if (!v.blockedBy)
      return outcomeOf(
        what,
        command,
        { state: 'error', cls: v.cls, detail: `${v.detail} [probe error: blocked without a timeout/refused/prohibited class]` },
        '',
      );
    return { ...base, state: 'blocked', blockedBy: v.blockedBy };
  }
  return { ...base, state: v.state };
}

const notRun = (e: Error) => ({ state: 'error' as const, cls: 'EXEC' as const, detail: `probe did not run: ${e.message}` });
const firstLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean) ?? '';

/**
 * The outcome of one connect run (agnhost-sctp or upstream agnhost `connect`), or of its failure to run.
 * With `hostname`, the reply is the first stdout line and an allowed detail says who answered.
 */
export function connectOutcome(what: string, command: string, r: RawRun | Error, o: { flavor?: ConnectFlavor; hostname?: boolean } = {}): ProbeOutcome {
  if (r instanceof Error) return outcomeOf(what, command, notRun(r), '');
  const v = classifyConnect(r.code, r.stdout, r.stderr, o.flavor ?? 'agnhost-sctp');
  const reply = v.state === 'allowed' ? firstLine(r.stdout) : '';
  const detail = v.state === 'allowed' && o.hostname ? `OK: answered by ${reply || '(empty reply)'}` : v.detail;
  return outcomeOf(what, command, { ...v, detail }, reply);
}

/** The argv that asks the client pod's netexec to dial the target once (upstream agnhost: hostname probes). */
export function dialArgv(t: Target): string[] {
  const timeoutMs = t.timeoutMs ?? timeouts.probe;
  const url = `http://127.0.0.1:${HTTP_PORT}/dial?request=hostname&protocol=${t.protocol.toLowerCase()}&host=${t.host}&port=${t.port}&tries=1`;
  return ['curl', '-s', '--max-time', String(Math.ceil(timeoutMs / 1000) + 5), url];
}

/** The outcome of one netexec /dial (its JSON answer), or of its failure to run. */
export function dialOutcome(what: string, command: string, r: RawRun | Error): ProbeOutcome {
  if (r instanceof Error) return outcomeOf(what, command, notRun(r), '');
  try {
    const j = JSON.parse(r.stdout) as { responses?: string[]; errors?: string[] };
    if (j.responses?.length) {
      const reply = j.responses[0]!.trim();
      return outcomeOf(what, command, { state: 'allowed', cls: 'OK', detail: `OK: ${reply}` }, reply);
    }
    if (j.errors?.some((e) => /timeout|i\/o timeout/i.test(e))) {
      return outcomeOf(what, command, { state: 'blocked', cls: 'TIMEOUT', blockedBy: 'timeout', detail: `TIMEOUT: ${j.errors.join('; ')}` }, '');
    }
    return outcomeOf(what, command, { state: 'error', cls: 'EXEC', detail: `no response: ${r.stdout.trim()} [probe error]` }, '');
  } catch {
    return outcomeOf(
      what,
      command,
      { state: 'error', cls: 'EXEC', detail: `netexec /dial answered no JSON (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(0, 300)} [probe error]` },
      '',
    );
  }
}

/** The connect argv for a target at a vantage point (its own binary, --data when asked). */
export function probeArgv(v: Pick<Vantage, 'flavor' | 'bin'>, t: Target): string[] {
  const argv = connectArgv({ host: t.host, port: t.port, protocol: t.protocol, timeoutMs: t.timeoutMs ?? timeouts.probe, flavor: v.flavor });
  if (v.bin) argv[0] = v.bin;
  return t.data ? [...argv, `--data=${t.data}`] : argv;
}

/** One probe from a vantage point. Never throws for "blocked", nor for a probe that could not run. */
export async function probeFrom(v: Vantage, t: Target): Promise<ProbeOutcome> {
  const timeoutMs = t.timeoutMs ?? timeouts.probe;
  const what = probeWhat(v, t);
  const dial = t.data === 'hostname' && v.flavor === 'agnhost';
  const argv = dial ? dialArgv(t) : probeArgv(v, t);
  const command = v.command(argv);
  const r = await v.run(argv, timeoutMs + timeouts.nodeExec).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  return dial ? dialOutcome(what, command, r) : connectOutcome(what, command, r, { flavor: v.flavor, hostname: t.data === 'hostname' });
}

/** A pod as a vantage point; `exec` runs an argv in it with a deadline (lib/e2e.ts supplies kubectl exec). */
export function podVantage(o: { ns: string; pod: string; flavor: ConnectFlavor; exec: (argv: string[], timeoutMs: number) => Promise<RawRun> }): Vantage {
  return {
    name: `${o.ns}/${o.pod}`,
    flavor: o.flavor,
    run: o.exec,
    command: (argv) => reproduceCommand({ pod: o.pod, ns: o.ns }, argv),
  };
}
