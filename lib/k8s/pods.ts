// Pod-level operations: wait until usable, exec with a deadline, logs.

import type * as k8s from '@kubernetes/client-node';
import { StopTrying } from '../framework/errors.ts';
import { eventually } from '../framework/eventually.ts';
import { timeouts } from '../framework/timeouts.ts';
import { api, type Cluster } from './client.ts';
import { type PodExecOutput, podExec } from './pod-exec.ts';

const FATAL_WAITING = new Set(['CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff']);
/** Waiting reasons of a container whose image the kubelet cannot get (retrying rarely fixes it within a test). */
export const IMAGE_PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);

/**
 * One sentence when a container of the pod cannot get its image: the image (as the pod spec names it), the
 * pod, the node and the kubelet's own message; undefined otherwise. Pure, for waits and their tests.
 */
export function imagePullFailure(p: k8s.V1Pod): string | undefined {
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  for (const cst of statuses) {
    const w = cst.state?.waiting;
    if (!w?.reason || !IMAGE_PULL_FAILURES.has(w.reason)) continue;
    const spec = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((c) => c.name === cst.name);
    const image = spec?.image || cst.image || '(unknown image)';
    const node = p.spec?.nodeName || '(no node)';
    return (
      `image ${image} cannot be pulled on node ${node} (pod ${p.metadata?.namespace}/${p.metadata?.name}, container ${cst.name}): ` +
      `${w.reason}: ${w.message?.trim() || '(the kubelet gave no message)'}; ` +
      `load the image into the nodes, or mirror it and pass --image-repo/--image-repo-list (\`npm run e2e -- --list-images\` lists what a run needs)`
    );
  }
  return undefined;
}

/** One line describing a pod's state, for waits and errors. */
export function describePod(p: k8s.V1Pod): string {
  const st = p.status;
  const cs = (st?.containerStatuses ?? []).map((c) => {
    const s = c.state?.waiting
      ? `waiting ${c.state.waiting.reason}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`
      : c.state?.terminated
        ? `terminated ${c.state.terminated.reason} exit ${c.state.terminated.exitCode}`
        : c.state?.running
          ? 'running'
          : 'unknown';
    return `${c.name}: ${s}${c.ready ? ', ready' : ''}`;
  });
  const cond = (st?.conditions ?? [])
    .filter((c) => c.status !== 'True')
    .map((c) => `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? ` (${c.message})` : ''}`);
  return (
    `pod ${p.metadata?.namespace}/${p.metadata?.name} phase=${st?.phase ?? '?'} node=${p.spec?.nodeName ?? '-'} ip=${st?.podIP ?? '-'}` +
    (cs.length ? `; ${cs.join('; ')}` : '') +
    (cond.length ? `; ${cond.join('; ')}` : '')
  );
}

/** Wait until the pod is Running and Ready; stop at once when it can never get there. */
export async function waitForPodReady(
  c: Cluster,
  ns: string,
  name: string,
  timeout: number = timeouts.podStart,
  onProgress?: (l: string) => void,
): Promise<k8s.V1Pod> {
  return eventually(`pod ${ns}/${name} running and ready`, {
    timeout,
    onProgress,
    probe: async () => {
      const p = await api(`get pod ${ns}/${name}`, () => c.core.readNamespacedPod({ namespace: ns, name }));
      // a missing image ends the wait at once, naming the image, the node and the kubelet's message
      const pull = imagePullFailure(p);
      if (pull) throw new StopTrying(`${pull}\n${describePod(p)}`);
      for (const cst of p.status?.containerStatuses ?? []) {
        const w = cst.state?.waiting?.reason;
        if (w && FATAL_WAITING.has(w)) throw new StopTrying(describePod(p));
      }
      if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') throw new StopTrying(describePod(p));
      return p;
    },
    until: (p) => p.status?.phase === 'Running' && (p.status.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True'),
    describe: describePod,
  });
}

export type PodExecResult = PodExecOutput;

/** `kubectl exec` with a deadline. Never throws for a non-zero exit; throws on transport failure or deadline. */
export function execInPod(c: Cluster, ns: string, pod: string, argv: string[], timeout: number = timeouts.nodeExec, container = 'c'): Promise<PodExecResult> {
  return podExec({ kc: c.kc, namespace: ns, pod, container, argv, timeoutMs: timeout });
}
