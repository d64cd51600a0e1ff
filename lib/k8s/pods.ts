// Pod-level operations: wait until usable, exec with a deadline, logs.

import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { StopTrying } from '../framework/errors.ts';
import { eventually } from '../framework/eventually.ts';
import { formatDuration, timeouts } from '../framework/timeouts.ts';
import { api, type Cluster } from './client.ts';

const FATAL_WAITING = new Set(['ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff']);

/** One line describing a pod's state, for waits and errors. */
export function describePod(p: k8s.V1Pod): string {
  const st = p.status;
  const cs = (st?.containerStatuses ?? []).map((c) => {
    const s = c.state?.waiting ? `waiting ${c.state.waiting.reason}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`
      : c.state?.terminated ? `terminated ${c.state.terminated.reason} exit ${c.state.terminated.exitCode}`
      : c.state?.running ? 'running' : 'unknown';
    return `${c.name}: ${s}${c.ready ? ', ready' : ''}`;
  });
  const cond = (st?.conditions ?? []).filter((c) => c.status !== 'True').map((c) => `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? ` (${c.message})` : ''}`);
  return `pod ${p.metadata?.namespace}/${p.metadata?.name} phase=${st?.phase ?? '?'} node=${p.spec?.nodeName ?? '-'} ip=${st?.podIP ?? '-'}` +
    (cs.length ? `; ${cs.join('; ')}` : '') + (cond.length ? `; ${cond.join('; ')}` : '');
}

/** Wait until the pod is Running and Ready; stop at once when it can never get there. */
export async function waitForPodReady(c: Cluster, ns: string, name: string, timeout: number = timeouts.podStart, onProgress?: (l: string) => void): Promise<k8s.V1Pod> {
  return eventually(`pod ${ns}/${name} running and ready`, {
    timeout,
    onProgress,
    probe: async () => {
      const p = await api(`get pod ${ns}/${name}`, () => c.core.readNamespacedPod({ namespace: ns, name }));
      for (const cst of p.status?.containerStatuses ?? []) {
        const w = cst.state?.waiting?.reason;
        if (w && FATAL_WAITING.has(w)) throw new StopTrying(describePod(p));
        // a pull that can never succeed (no such image, no registry reachable) is not worth waiting for
        if ((w === 'ErrImagePull' || w === 'ImagePullBackOff') && /not found|no such host|dial tcp|connection refused|unknown/i.test(cst.state?.waiting?.message ?? '')) {
          throw new StopTrying(`${describePod(p)} — image ${cst.image} cannot be pulled; import it into the nodes or pass --image`);
        }
      }
      if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') throw new StopTrying(describePod(p));
      return p;
    },
    until: (p) => p.status?.phase === 'Running' && (p.status.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True'),
    describe: describePod,
  });
}

export interface PodExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

class Collect extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** `kubectl exec` with a deadline. Never throws for a non-zero exit; throws on transport failure or deadline. */
export async function execInPod(c: Cluster, ns: string, pod: string, argv: string[], timeout: number = timeouts.nodeExec, container = 'c'): Promise<PodExecResult> {
  const out = new Collect();
  const err = new Collect();
  const started = Date.now();
  const exec = new k8s.Exec(c.kc);
  let ws: { close(): void; terminate?: () => void } | undefined;
  return await new Promise<PodExecResult>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new Error(`exec timed out after ${formatDuration(timeout)}: ${argv.join(' ')} in pod ${ns}/${pod}`)));
      try { ws?.terminate?.() ?? ws?.close(); } catch { /* already closed */ }
    }, timeout);
    exec
      .exec(ns, pod, container, argv, out, err, null, false, (status: k8s.V1Status) => {
        let code: number | null = 0;
        if (status.status !== 'Success') {
          const cause = status.details?.causes?.find((x) => x.reason === 'ExitCode');
          code = cause ? Number(cause.message) : null;
          if (code === null) {
            finish(() => reject(new Error(`exec failed in pod ${ns}/${pod}: ${status.message ?? status.reason ?? 'unknown error'}`)));
            return;
          }
        }
        // give the stdout/stderr frames that may follow the status a moment to arrive
        setTimeout(() => finish(() => resolve({ code, stdout: out.text(), stderr: err.text(), durationMs: Date.now() - started })), 20);
      })
      .then((socket) => {
        ws = socket as unknown as typeof ws;
        (socket as unknown as { on(ev: string, f: (...a: unknown[]) => void): void }).on('close', () => {
          setTimeout(() => finish(() => resolve({ code: null, stdout: out.text(), stderr: err.text(), durationMs: Date.now() - started })), 200);
        });
      })
      .catch((e: unknown) => finish(() => reject(new Error(`exec in pod ${ns}/${pod} failed: ${(e as Error)?.message ?? String(e)}`))));
  });
}
