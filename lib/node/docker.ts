// NodeExec through `docker exec <container> sh -c '<cmd>'` for kind nodes (node name = container name).
// Cannot be exercised on the project machine (no Docker engine): only argv construction and the
// classification of docker's own failures are unit-tested.
import { execa } from 'execa';
import { DEFAULT_NODE_EXEC_TIMEOUT_MS, type NodeExec, NodeExecError, NodeExecTimeout, shortCommand } from './exec.ts';

export interface DockerExecOptions {
  node: string; // Kubernetes node name
  container?: string; // default: the node name (kind names node containers after their nodes)
  docker?: string; // CLI: "docker" (default, or $SCTP_E2E_DOCKER) or "podman"
  timeoutMs?: number;
}

/** argv for the docker CLI. */
export function dockerArgv(container: string, command: string): string[] {
  return ['exec', container, 'sh', '-c', command];
}

/**
 * docker exec's own failures (not the command's): 125 = docker/daemon error ("Error response from
 * daemon: No such container: kind-worker", "Cannot connect to the Docker daemon"), 126 = cannot run
 * `sh`. 127 is ambiguous (also `sh -c` "command not found"), so it is reported as a normal exit.
 */
export function dockerFailure(code: number | undefined | null, stderr: string): string | undefined {
  if (code === 125 || /^(Error response from daemon|Cannot connect to the Docker daemon|Error: No such container)/m.test(stderr)) {
    return stderr.trim().split('\n')[0] || `docker exited ${code}`;
  }
  if (code === 126 && /OCI runtime exec failed|cannot exec|permission denied/i.test(stderr)) return stderr.trim().split('\n')[0];
  return undefined;
}

export function dockerExec(o: DockerExecOptions): NodeExec {
  const container = o.container ?? o.node;
  const docker = o.docker ?? process.env.SCTP_E2E_DOCKER ?? 'docker';
  const description = `${docker} exec ${container}`;
  const defaultTimeout = o.timeoutMs ?? DEFAULT_NODE_EXEC_TIMEOUT_MS;
  let closed = false;
  return {
    node: o.node,
    transport: 'docker',
    description,
    async run(command, ro = {}) {
      if (closed) throw new NodeExecError(`nodeExec on ${o.node} (${description}) was used after close()`, o.node, description, command);
      const timeoutMs = ro.timeoutMs ?? defaultTimeout;
      const started = Date.now();
      const r = await execa(docker, dockerArgv(container, command), {
        reject: false,
        timeout: timeoutMs,
        cancelSignal: ro.signal,
        stdin: 'ignore',
        stripFinalNewline: false,
        forceKillAfterDelay: 2000,
      });
      if (r.timedOut) throw new NodeExecTimeout(command, o.node, description, timeoutMs, { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') });
      if (r.isCanceled) throw new NodeExecError(`nodeExec aborted: ${shortCommand(command)} on ${o.node} (${description})`, o.node, description, command);
      if (r.exitCode === undefined && r.signal === undefined) {
        throw new NodeExecError(
          `cannot run ${docker} for node ${o.node}: ${r.shortMessage ?? r.message} (is the ${docker} CLI installed and on PATH?)`,
          o.node,
          description,
          command,
          { cause: r.cause },
        );
      }
      const failure = dockerFailure(r.exitCode, String(r.stderr ?? ''));
      if (failure) throw new NodeExecError(`${docker} exec on node ${o.node} failed: ${failure}`, o.node, description, command);
      return {
        command,
        node: o.node,
        transport: 'docker',
        code: r.exitCode ?? null,
        stdout: String(r.stdout ?? ''),
        stderr: String(r.stderr ?? ''),
        durationMs: Date.now() - started,
      };
    },
    async close() {
      closed = true;
    },
  };
}

/** Whether a Docker engine answers (not just the CLI): `docker info` within 5 s. */
export async function dockerEngineWorks(docker = process.env.SCTP_E2E_DOCKER ?? 'docker'): Promise<boolean> {
  const r = await execa(docker, ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000, reject: false, stdin: 'ignore' });
  return r.exitCode === 0;
}
