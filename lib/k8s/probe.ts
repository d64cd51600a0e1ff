// One connectivity probe from a pod, as a spec sees it: the exec plus lib/connectivity's classifier.
// A probe error (exec failed, DNS failure, missing stack, usage) is never "blocked".

import { classifyConnect, connectArgv, type ConnectFlavor } from '../connectivity/connect.ts';
import type { Protocol } from '../connectivity/model.ts';
import type { PodExecResult } from './pods.ts';

export interface ProbeOutcome {
  state: 'allowed' | 'blocked' | 'error';
  cls: string;
  detail: string;
  command: string;
  render(): string;
}

export function probeArgv(flavor: ConnectFlavor, host: string, port: number, protocol: Protocol, timeoutMs: number): string[] {
  return connectArgv({ host, port, protocol, timeoutMs, flavor });
}

export function probeOutcome(what: string, ns: string, pod: string, argv: string[], r: PodExecResult | Error, flavor: ConnectFlavor): ProbeOutcome {
  const command = `kubectl exec -n ${ns} ${pod} -- ${argv.join(' ')}`;
  const v = r instanceof Error
    ? { state: 'error' as const, cls: 'EXEC', detail: `probe did not run: ${r.message}` }
    : classifyConnect(r.code, r.stdout, r.stderr, flavor);
  return { state: v.state, cls: v.cls, detail: v.detail, command, render: () => `${what}: ${v.state} — ${v.detail}\n  reproduce: ${command}` };
}
