// NodeExec through a privileged host pod per node (upstream's HostExec way): hostNetwork, hostPID,
// privileged, pinned to the node with nodeName, `sleep`ing; each command runs as
//   nsenter -t 1 -m -u -i -p -- sh -c '<cmd>'
// via the pods/exec API. No `-n`: a hostNetwork pod already is in the node's network namespace
// (and on the local cluster PID 1 is the machine, whose netns is not the node's).
// When PID 1's namespaces cannot be opened (seen on the project machine: PID 1 is a sandbox
// init whose /proc/1/ns/* is unreadable even for root), the kubelet's PID is the target instead:
// the kubelet's mount/uts/ipc/pid namespaces are the node's by definition.
// The namespace must admit privileged pods (PSA "privileged"). close() deletes the pod.
import * as k8s from '@kubernetes/client-node';
import { formatDuration } from '../framework/duration.ts';
import { apiMessage, PodExecFailure, podExec } from '../k8s/pod-exec.ts';
import { imagePullFailure } from '../k8s/pods.ts';
import { DEFAULT_NODE_EXEC_TIMEOUT_MS, type ExecResult, type NodeExec, NodeExecError, NodeExecTimeout, type RunOptions, shortCommand } from './exec.ts';

export interface HostPodOptions {
  kubeConfig: k8s.KubeConfig;
  node: string;
  namespace: string;
  image: string; // needs sh, nsenter and sleep (the agnhost-sctp / busybox image: /bin/busybox)
  /** argv prefix that runs nsenter inside the pod; default ['/bin/busybox', 'nsenter']. */
  nsenter?: string[];
  /** nsenter target: '1', a PID, or 'auto' (the kubelet's PID, else PID 1). Default 'auto'. */
  target?: string;
  /** Container command; default ['/bin/busybox', 'sleep', '2147483647']. */
  command?: string[];
  labels?: Record<string, string>;
  startTimeoutMs?: number; // pod Running; default 120s
  apiTimeoutMs?: number; // each API call; default 30s
  timeoutMs?: number; // default per-run deadline
}

export const HOSTPOD_CONTAINER = 'hostexec';
export const NSENTER_FLAGS = ['-t', '1', '-m', '-u', '-i', '-p'];

/** The pod object (exported for tests and artifacts). */
export function hostPodSpec(o: Pick<HostPodOptions, 'node' | 'namespace' | 'image' | 'command' | 'labels'>): k8s.V1Pod {
  const short = o.node
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40)
    .replace(/-+$/, '');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: `hostexec-${short}-`, namespace: o.namespace, labels: { 'app.kubernetes.io/name': 'sctp-e2e-hostexec', ...(o.labels ?? {}) } },
    spec: {
      nodeName: o.node,
      hostNetwork: true,
      hostPID: true,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: HOSTPOD_CONTAINER,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          command: o.command ?? ['/bin/busybox', 'sleep', '2147483647'],
          securityContext: { privileged: true },
        },
      ],
    },
  };
}

/** argv run in the pod for `command`: nsenter into PID 1 (`target: '1'`), a given PID, or 'auto'. */
/** The node's own tools live in its sbin/bin dirs; the pod's PATH (the image's) may not name them. */
export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function hostPodArgv(command: string, nsenter: string[] = ['/bin/busybox', 'nsenter'], target: string = 'auto'): string[] {
  command = `PATH=${HOST_PATH}; export PATH; ${command}`;
  if (target !== 'auto') return [...nsenter, '-t', target, ...NSENTER_FLAGS.slice(2), '--', 'sh', '-c', command];
  // 'auto': the kubelet's namespaces, else PID 1's. Runs in the pod's own shell
  // (the image's /bin/busybox); $1 is the command, passed as an argument so it needs no quoting.
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const script = [
    // the kubelet runs in the host's mount namespace on every node we know; PID 1 is only a fallback
    // (in sandboxes and on the local cluster PID 1 can sit in a namespace without the node's tools)
    't=',
    'for p in $(/bin/busybox pidof kubelet); do t=$p; break; done',
    'if [ -z "$t" ]; then t=1; fi',
    `exec ${nsenter.map(q).join(' ')} -t "$t" ${NSENTER_FLAGS.slice(2).join(' ')} -- sh -c "$1"`,
  ].join('\n');
  return ['/bin/busybox', 'sh', '-c', script, 'hostexec', command];
}

export { exitCodeFromStatus } from '../k8s/pod-exec.ts';

async function deadline<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, rej) => {
        t = setTimeout(() => rej(new Error(`${what} took longer than ${formatDuration(ms)}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

export function hostPodExec(o: HostPodOptions): NodeExec {
  const core = o.kubeConfig.makeApiClient(k8s.CoreV1Api);
  const apiMs = o.apiTimeoutMs ?? 30_000;
  const startMs = o.startTimeoutMs ?? 120_000;
  const defaultTimeout = o.timeoutMs ?? DEFAULT_NODE_EXEC_TIMEOUT_MS;
  let podName: string | undefined;
  let ready: Promise<string> | undefined;
  let closed = false;
  const self: NodeExec & { podName(): string | undefined } = {
    node: o.node,
    transport: 'hostpod',
    get description() {
      return `host pod ${o.namespace}/${podName ?? 'hostexec-…'} on ${o.node} (nsenter -t ${o.target && o.target !== 'auto' ? o.target : '1|kubelet'} -m -u -i -p)`;
    },
    podName: () => podName,
    async run(command: string, ro: RunOptions = {}): Promise<ExecResult> {
      const fail = (m: string, cause?: unknown) => new NodeExecError(m, o.node, self.description, command, { cause });
      if (closed) throw fail(`nodeExec on ${o.node} (${self.description}) was used after close()`);
      ready ??= start();
      ready.catch(() => {
        ready = undefined;
      });
      const name = await ready;
      const timeoutMs = ro.timeoutMs ?? defaultTimeout;
      const started = Date.now();
      try {
        const r = await podExec({
          kc: o.kubeConfig,
          namespace: o.namespace,
          pod: name,
          container: HOSTPOD_CONTAINER,
          argv: hostPodArgv(command, o.nsenter, o.target),
          timeoutMs,
          signal: ro.signal,
        });
        return { command, node: o.node, transport: 'hostpod', code: r.code, stdout: r.stdout, stderr: r.stderr, durationMs: Date.now() - started };
      } catch (e) {
        if (e instanceof PodExecFailure && e.kind === 'timeout') throw new NodeExecTimeout(command, o.node, self.description, timeoutMs, e.partial);
        if (e instanceof PodExecFailure && e.kind === 'aborted') throw fail(`nodeExec aborted: ${shortCommand(command)} on ${o.node} (${self.description})`, e);
        throw fail(`exec in host pod ${o.namespace}/${name} on ${o.node} failed: ${(e as Error).message}`, e);
      }
    },
    async close() {
      closed = true;
      const p = ready;
      ready = undefined;
      let name = podName;
      if (p) {
        try {
          name = await p;
        } catch {
          /* creation failed; podName may still be set */
        }
      }
      if (!name) return;
      try {
        await deadline(`delete pod ${o.namespace}/${name}`, apiMs, core.deleteNamespacedPod({ namespace: o.namespace, name, gracePeriodSeconds: 0 }));
      } catch (e) {
        if ((e as { code?: number })?.code !== 404)
          throw new NodeExecError(`could not delete host pod ${o.namespace}/${name} on ${o.node}: ${apiMessage(e)}`, o.node, self.description, undefined, {
            cause: e,
          });
      }
    },
  };

  async function start(): Promise<string> {
    const fail = (m: string, cause?: unknown) => new NodeExecError(m, o.node, self.description, undefined, { cause });
    let created: k8s.V1Pod;
    try {
      created = await deadline(`create host pod in ${o.namespace}`, apiMs, core.createNamespacedPod({ namespace: o.namespace, body: hostPodSpec(o) }));
    } catch (e) {
      throw fail(
        `could not create the privileged host pod for node ${o.node} in namespace ${o.namespace}: ${apiMessage(e)} (the ` +
          `namespace needs pod-security level "privileged")`,
        e,
      );
    }
    podName = created.metadata!.name!;
    const until = Date.now() + startMs;
    let last = '';
    for (;;) {
      const p = await deadline(`read pod ${o.namespace}/${podName}`, apiMs, core.readNamespacedPod({ namespace: o.namespace, name: podName }));
      const cs = p.status?.containerStatuses?.[0];
      const waiting = cs?.state?.waiting;
      last = `phase=${p.status?.phase ?? '?'}${waiting ? ` waiting ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}` : ''}${cs?.state?.terminated ? ` terminated ${cs.state.terminated.reason} exit ${cs.state.terminated.exitCode}` : ''}`;
      if (p.status?.phase === 'Running' && cs?.state?.running) return podName;
      const pull = imagePullFailure(p);
      if (pull) throw fail(`host pod for node ${o.node} cannot start: ${pull}`);
      if (
        p.status?.phase === 'Failed' ||
        p.status?.phase === 'Succeeded' ||
        (waiting &&
          /ErrImageNeverPull|InvalidImageName|CreateContainerConfigError|CreateContainerError|ErrImagePull|ImagePullBackOff/.test(waiting.reason ?? ''))
      ) {
        throw fail(`host pod ${o.namespace}/${podName} for node ${o.node} cannot start: ${last} (image ${o.image})`);
      }
      if (Date.now() > until) throw fail(`host pod ${o.namespace}/${podName} for node ${o.node} was not running after ${formatDuration(startMs)}: ${last}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  return self;
}
