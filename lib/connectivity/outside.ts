// A client that is not a pod: the vantage point for NodePort, hostPort and externalIP tests.
// Local cluster: the static agnhost-sctp binary run in the cluster's "outside" netns through nsenter.
// kind: a testcontainers container on kind's Docker network running the test image (not runnable
// on the project machine: no Docker with SCTP; only construction is tested).
// Its probes are the pod probes' (lib/connectivity/probe.ts): the same outcome, probe line and reproduce command.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LocalClusterInfo, RunConfig } from '../framework/config.ts';
import { formatDuration } from '../framework/duration.ts';
import { shellLine } from '../framework/shell.ts';
import { timeouts } from '../framework/timeouts.ts';
import { dockerEngineWorks } from '../node/docker.ts';
import type { Protocol } from './model.ts';
import { type ProbeOutcome, probeFrom, type RawRun, reproduceCommand, type Vantage } from './probe.ts';

export type { RawRun };

/** Runs an argv; resolves with its exit; rejects only when it could not run (or ran past timeoutMs). */
export type Runner = (argv: string[], timeoutMs: number) => Promise<RawRun>;

export interface OutsideClient {
  readonly kind: 'netns' | 'docker';
  /** e.g. "agnhost-sctp/out/agnhost-sctp in netns sctpe2e-outside (10.199.0.100)". */
  readonly description: string;
  /** The client's own address (what a server sees without SNAT). */
  readonly ip: string;
  /** The vantage point for lib/connectivity/probe.ts (probe line "SCTP outside <ip> -> ..."). */
  readonly vantage: Vantage;
  connect(host: string, port: number, protocol: Protocol, o?: { timeoutMs?: number; data?: 'hostname' }): Promise<ProbeOutcome>;
  /** Adds a host route in the outside vantage point; returns its removal. netns only. */
  addHostRoute(dest: string, via: string): Promise<() => Promise<void>>;
  /** `ip route get` for an address from the vantage point (evidence for messages). */
  routeTo(dest: string): Promise<string>;
  close(): Promise<void>;
}

export type OutsideChoice = { client: OutsideClient; reason?: undefined } | { client?: undefined; reason: string };

const defaultRunner: Runner = async (argv, timeoutMs) => {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: timeoutMs, stdin: 'ignore', forceKillAfterDelay: 1000 });
  if (r.timedOut) throw new Error(`timed out after ${formatDuration(timeoutMs)}: ${shellLine(argv)}`);
  if (r.exitCode === undefined && r.signal === undefined) throw new Error(`cannot run ${argv[0]}: ${r.shortMessage ?? r.message}`);
  return { code: r.exitCode ?? null, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
};

/** Where `bash agnhost-sctp/build.sh` leaves the static binary. */
export function agnhostBinary(root = process.cwd()): string {
  return process.env.SCTP_E2E_AGNHOST_BIN ?? join(root, 'agnhost-sctp', 'out', 'agnhost-sctp');
}

export interface NetnsOutsideOptions {
  netns: string;
  ip: string;
  /** Every address of the netns, primary first (dual-stack: IPv4, IPv6); default [ip]. */
  ips?: string[];
  binary: string;
  runner?: Runner;
}

/** The local cluster's outside netns. Every command runs as `nsenter --net=/run/netns/<netns> -- ...`. */
export function netnsOutside(o: NetnsOutsideOptions): OutsideClient {
  const run = o.runner ?? defaultRunner;
  const enter = ['nsenter', `--net=/run/netns/${o.netns}`, '--'];
  const routes = new Set<string>();
  const ipCmd = async (args: string[]) => {
    const argv = [...enter, 'ip', ...args];
    const r = await run(argv, timeouts.nodeExec);
    if (r.code !== 0) throw new Error(`${shellLine(argv)} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout.trim();
  };
  const addrs = o.ips?.length ? o.ips : [o.ip];
  const vantage: Vantage = {
    // dual-stack: both addresses, so that a probe line over IPv6 names the source the server sees
    name: `outside ${addrs.join('/')}`,
    flavor: 'agnhost-sctp',
    bin: o.binary,
    run: (argv, timeoutMs) => run([...enter, ...argv], timeoutMs),
    command: (argv) => reproduceCommand({ here: true }, [...enter, ...argv]),
  };
  return {
    kind: 'netns',
    description: `${o.binary} in netns ${o.netns} (${addrs.join(', ')})`,
    ip: o.ip,
    vantage,
    connect: (host, port, protocol, co = {}) => probeFrom(vantage, { host, port, protocol, ...co }),
    async addHostRoute(dest, via) {
      const prefix = `${dest}/${dest.includes(':') ? 128 : 32}`; // a host route in the address's own family
      await ipCmd(['route', 'add', prefix, 'via', via]);
      routes.add(prefix);
      return async () => {
        if (!routes.delete(prefix)) return;
        await ipCmd(['route', 'del', prefix, 'via', via]);
      };
    },
    routeTo: (dest) => ipCmd(['route', 'get', dest]),
    async close() {
      for (const p of [...routes]) {
        routes.delete(p);
        await ipCmd(['route', 'del', p]).catch(() => undefined);
      }
    },
  };
}

export interface DockerOutsideOptions {
  /** kind's Docker network (default "kind"). */
  network?: string;
  image: string;
}

/**
 * kind: one container of the test image on kind's network, kept running with `pause`; probes are
 * `docker exec`. Needs a Docker daemon and the image present locally (no pulls; Ryuk disabled).
 */
export async function dockerOutside(o: DockerOutsideOptions): Promise<OutsideClient> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { GenericContainer } = await import('testcontainers');
  const network = o.network ?? 'kind';
  const started = await new GenericContainer(o.image)
    .withNetworkMode(network)
    .withCommand(['pause'])
    .withAddedCapabilities('NET_RAW')
    .withPullPolicy({ shouldPull: () => false })
    .start();
  const ip = started.getIpAddress(network);
  const id = started.getId().slice(0, 12);
  const vantage: Vantage = {
    name: `outside ${ip}`,
    flavor: 'agnhost-sctp',
    run: (argv, timeoutMs) =>
      Promise.race([
        started.exec(argv).then((x): RawRun => ({ code: x.exitCode, stdout: x.stdout, stderr: x.stderr })),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`docker exec timed out after ${formatDuration(timeoutMs)}`)), timeoutMs).unref()),
      ]),
    command: (argv) => reproduceCommand({ container: id }, argv),
  };
  return {
    kind: 'docker',
    description: `container ${id} (${o.image}) on Docker network ${network} (${ip})`,
    ip,
    vantage,
    connect: (host, port, protocol, co = {}) => probeFrom(vantage, { host, port, protocol, ...co }),
    async addHostRoute() {
      throw new Error("addHostRoute: a container on kind's network cannot add routes (no NET_ADMIN); use an externalIP that is a node address");
    },
    async routeTo(dest) {
      const x = await started.exec(['/bin/busybox', 'ip', 'route', 'get', dest]);
      return (x.stdout || x.stderr).trim();
    },
    async close() {
      await started.stop({ timeout: 2_000 });
    },
  };
}

/** Picks the outside vantage point for this run, or says precisely why there is none. */
export async function findOutside(
  cfg: Pick<RunConfig, 'localCluster' | 'images'>,
  o: { runner?: Runner; binary?: string; docker?: () => Promise<boolean> } = {},
): Promise<OutsideChoice> {
  const local: LocalClusterInfo | undefined = cfg.localCluster;
  if (local) {
    if (!local.outside) return { reason: 'the local cluster\'s cluster.json has no "outside" netns' };
    const binary = o.binary ?? agnhostBinary();
    if (!existsSync(binary)) return { reason: `no outside client binary at ${binary}: build it with \`bash agnhost-sctp/build.sh\`` };
    if (!existsSync(`/run/netns/${local.outside.netns}`))
      return { reason: `the outside netns ${local.outside.netns} does not exist (/run/netns/${local.outside.netns})` };
    return { client: netnsOutside({ netns: local.outside.netns, ip: local.outside.ip, ips: local.outside.ips, binary, runner: o.runner }) };
  }
  if (!(await (o.docker ?? dockerEngineWorks)())) {
    return {
      reason:
        "no outside vantage point: the cluster is not the local from-source cluster (no outside netns) and no Docker daemon answers for a container on kind's network",
    };
  }
  try {
    return { client: await dockerOutside({ image: cfg.images.outside, network: process.env.SCTP_E2E_OUTSIDE_NETWORK }) };
  } catch (e) {
    return {
      reason: `no outside vantage point: could not start a container of ${cfg.images.outside} on Docker network ${process.env.SCTP_E2E_OUTSIDE_NETWORK ?? 'kind'}: ${(e as Error).message}`,
    };
  }
}
