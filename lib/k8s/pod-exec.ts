// The one `kubectl exec` implementation (pods/exec over WebSocket) with a deadline and an abort signal.
// Used by pod probes (lib/k8s/pods.ts) and by host-pod node access (lib/node/hostpod.ts).

import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { formatDuration } from '../framework/duration.ts';

export interface PodExecOptions {
  kc: k8s.KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  argv: string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PodExecOutput {
  /** null: the stream closed without an exit status. */
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Why an exec did not produce a result; the partial output is kept for messages. */
export class PodExecFailure extends Error {
  override name = 'PodExecFailure';
  constructor(
    message: string,
    readonly kind: 'timeout' | 'aborted' | 'transport',
    readonly partial: { stdout: string; stderr: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Exit code from the exec status channel: Success → 0; NonZeroExitCode → its ExitCode cause; else undefined. */
export function exitCodeFromStatus(s: Pick<k8s.V1Status, 'status' | 'reason' | 'details'>): number | undefined {
  if (s.status === 'Success') return 0;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause && /^\d+$/.test(cause.message ?? '')) return Number(cause.message);
  return undefined;
}

export function apiMessage(e: unknown): string {
  const body = (e as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return (e as Error)?.message ?? String(e);
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

/** Never rejects for a non-zero exit; rejects with PodExecFailure on deadline, abort or transport failure. */
export function podExec(o: PodExecOptions): Promise<PodExecOutput> {
  const out = new Collect();
  const err = new Collect();
  const started = Date.now();
  const where = `${o.namespace}/${o.pod}`;
  let ws: { close(): void; terminate?: () => void } | undefined;
  return new Promise<PodExecOutput>((resolve, reject) => {
    let done = false;
    const partial = () => ({ stdout: out.text(), stderr: err.text() });
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const kill = () => {
      try {
        ws?.terminate?.() ?? ws?.close();
      } catch {
        /* already closed */
      }
    };
    const result = (code: number | null) => ({ code, ...partial(), durationMs: Date.now() - started });
    const timer = setTimeout(() => {
      finish(() => reject(new PodExecFailure(`exec in pod ${where} timed out after ${formatDuration(o.timeoutMs)}`, 'timeout', partial())));
      kill();
    }, o.timeoutMs);
    const onAbort = () => {
      finish(() => reject(new PodExecFailure(`exec in pod ${where} was aborted`, 'aborted', partial())));
      kill();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    new k8s.Exec(o.kc)
      .exec(o.namespace, o.pod, o.container, o.argv, out, err, null, false, (status: k8s.V1Status) => {
        const code = exitCodeFromStatus(status);
        if (code === undefined) {
          finish(() =>
            reject(new PodExecFailure(`exec in pod ${where} failed: ${status.message ?? status.reason ?? 'unknown status'}`, 'transport', partial())),
          );
          return;
        }
        setTimeout(() => finish(() => resolve(result(code))), 20); // let trailing stdout/stderr frames land
      })
      .then((socket) => {
        ws = socket as unknown as typeof ws;
        (socket as unknown as { on(ev: string, f: () => void): void }).on('close', () => {
          // closed without a status frame: the exit code is unknown
          setTimeout(() => finish(() => resolve(result(null))), 200);
        });
      })
      .catch((e: unknown) => finish(() => reject(new PodExecFailure(`exec in pod ${where} failed: ${apiMessage(e)}`, 'transport', partial(), { cause: e }))));
  });
}
