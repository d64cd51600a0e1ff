// `cluster down`: stops everything `up` started (by PID), removes mounts, cgroups, namespaces, links,
// host leftovers of containerd/CNI/kubelet, restores machine-wide sysctls, deletes the state dir.
// Works from names alone when state.json is missing (e.g. after a crashed up).

import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '../lib/framework/duration.ts';
import type { Options } from './args.ts';
import { findClusterLinks, parseMountPoints } from './parse.ts';
import { BRIDGE, cgroupRoot, layout, nodeSpec, OUTSIDE } from './render.ts';
import { alive, ClusterError, cmdline, exePath, log, pidsInNetns, run, sleep, stopPid } from './run.ts';
import { HOST_DIRS, KUBELET_FIXED_FILES, readState } from './state.ts';

const MAX_NODES = 2;
/** Stop order: node agents first so nothing restarts containers, containerd after its containers. */
const STOP_ORDER = ['kubelet', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd', 'sshd', 'containerd'];

export interface DownReport {
  stopped: string[];
  unmounted: number;
  removed: string[];
  leftovers: string[];
  seconds: number;
}

function mountsUnder(prefix: string): string[] {
  return parseMountPoints(readFileSync('/proc/self/mountinfo', 'utf8'), prefix);
}

function cgroupDirs(): string[] {
  const out: string[] = [];
  if (!existsSync('/sys/fs/cgroup')) return out;
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (let i = 1; i <= MAX_NODES; i++) {
      const d = `/sys/fs/cgroup/${h}${cgroupRoot(nodeSpec(i))}`;
      if (existsSync(d)) out.push(d);
    }
  }
  return out;
}

/** Depth-first list of a cgroup subtree (children before parents). */
function subtree(dir: string): string[] {
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      if (lstatSync(p).isDirectory()) out.push(...subtree(p));
    } catch {
      /* raced */
    }
  }
  out.push(dir);
  return out;
}

function procsIn(dir: string): number[] {
  const pids = new Set<number>();
  for (const d of subtree(dir)) {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l.trim()) pids.add(Number(l));
    } catch {
      /* gone */
    }
  }
  return [...pids];
}

export async function down(o: Options, opts: { quiet?: boolean } = {}): Promise<DownReport> {
  if (process.getuid?.() !== 0) throw new ClusterError('cluster down must run as root (it deletes network namespaces, mounts and cgroups); re-run it as root');
  const started = Date.now();
  const l = layout(o.stateDir);
  const state = readState(l.stateJson);
  const rep: DownReport = { stopped: [], unmounted: 0, removed: [], leftovers: [], seconds: 0 };
  const say = (m: string) => {
    if (!opts.quiet) log(m);
  };
  const nodes = Array.from({ length: MAX_NODES }, (_, i) => nodeSpec(i + 1));

  // Optional add-ons (cluster/netpol: NetworkPolicy; cluster/lb: LoadBalancer; cluster/flannel: pod network) keep their own record of what
  // they created outside the node netns (routes, CNI files, a controller); each is taken down first, LB first.
  for (const addon of ['lb', 'netpol', 'flannel']) {
    const cli = join(dirname(fileURLToPath(import.meta.url)), addon, 'cli.ts');
    if (!existsSync(join(l.dir, addon, 'state.json')) || !existsSync(cli)) continue;
    const r = await run(join(dirname(cli), '..', '..', 'node_modules', '.bin', 'tsx'), [cli, 'down'], {
      allowFail: true,
      timeoutMs: 180_000,
      env: { ...process.env, SCTP_E2E_CLUSTER_DIR: l.dir } as Record<string, string>,
    });
    say(`${addon} down exited ${r.code}${r.code === 0 ? '' : `: ${r.stderr.trim().split('\n').pop() ?? ''}`}`);
  }

  // 1. Recorded daemons, by PID, in stop order; the PID must still run the recorded binary.
  const recorded: { name: string; pid: number; bin: string }[] = [];
  if (existsSync(l.pids)) {
    for (const f of readdirSync(l.pids)) {
      if (!f.endsWith('.pid')) continue;
      const [pid, bin] = readFileSync(join(l.pids, f), 'utf8').split('\n');
      recorded.push({ name: f.slice(0, -4), pid: Number(pid), bin: bin ?? '' });
    }
  }
  const rank = (n: string) => {
    const i = STOP_ORDER.findIndex((p) => n === p || n.startsWith(p + '-'));
    return i < 0 ? 99 : i;
  };
  recorded.sort((a, b) => rank(a.name) - rank(b.name));
  // Container and sandbox IDs, to find their host-side leftovers (shim sockets, libcni results) later.
  const ids = new Set<string>();
  const sockets: string[] = [];
  for (const n of nodes) {
    const p = l.node(n);
    sockets.push(p.containerdSock);
    for (const d of [
      `${p.containerdState}/io.containerd.runtime.v2.task/k8s.io`,
      `${p.containerdRoot}/io.containerd.grpc.v1.cri/sandboxes`,
      `${p.containerdRoot}/io.containerd.grpc.v1.cri/containers`,
    ]) {
      if (existsSync(d)) for (const id of readdirSync(d)) if (/^[0-9a-f]{64}$/.test(id)) ids.add(id);
    }
  }
  const stopOne = async (d: { name: string; pid: number; bin: string }) => {
    const exe = exePath(d.pid);
    const matches = alive(d.pid) && (exe === d.bin || cmdline(d.pid)[0] === d.bin || exe.replace(/ \(deleted\)$/, '') === d.bin);
    if (!matches) return;
    const t = Date.now();
    // Everything is thrown away afterwards: a short grace is enough (the apiserver otherwise drains for >10 s).
    const how = await stopPid(d.pid, 2_000);
    rep.stopped.push(`${d.name}(${d.pid}):${how}:${formatDuration(Date.now() - t)}`);
  };
  // Node agents first (so nothing restarts containers), then the containers, then the rest in parallel.
  const agents = recorded.filter((d) => d.name.startsWith('kubelet') || d.name.startsWith('kube-proxy'));
  await Promise.all(agents.map(stopOne));
  for (const cg of cgroupDirs())
    for (const pid of procsIn(cg)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  await Promise.all(recorded.filter((d) => !agents.includes(d)).map(stopOne));
  // 2. Anything else still in our cgroups (containers) or in our namespaces (shims, exec'd helpers).
  for (let round = 0; round < 3; round++) {
    const pids = new Set<number>();
    for (const cg of cgroupDirs()) for (const p of procsIn(cg)) pids.add(p);
    for (const netns of [...nodes.map((n) => n.netns), OUTSIDE.netns]) for (const p of pidsInNetns(`/run/netns/${netns}`)) pids.add(p);
    if (pids.size === 0) break;
    for (const p of pids) {
      const name = cmdline(p)[0]?.split('/').pop() ?? '?';
      try {
        process.kill(p, 'SIGKILL');
        rep.stopped.push(`${name}(${p}):killed`);
      } catch {
        /* gone */
      }
    }
    await sleep(300);
  }
  if (rep.stopped.length) say(`stopped ${rep.stopped.length} processes`);

  // 3. Mounts under the state dir (kubelet volumes, container rootfs/shm, pod netns), deepest first.
  for (let round = 0; round < 5; round++) {
    const mps = mountsUnder(l.dir).sort((a, b) => b.length - a.length);
    if (mps.length === 0) break;
    for (const mp of mps) {
      const r = await run('umount', [mp], { allowFail: true, timeoutMs: 10_000 });
      if (r.code !== 0) await run('umount', ['-l', mp], { allowFail: true, timeoutMs: 10_000 });
      else rep.unmounted++;
    }
  }
  if (rep.unmounted) say(`unmounted ${rep.unmounted} mounts under ${l.dir}`);

  // 4. cgroups the kubelet and runc created below our cgroupRoot.
  for (const cg of cgroupDirs()) {
    for (const d of subtree(cg)) {
      for (let i = 0; i < 20; i++) {
        try {
          rmdirSync(d);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
          for (const p of procsIn(d)) {
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
          await sleep(100);
        }
      }
    }
    if (!existsSync(cg)) rep.removed.push(cg);
  }

  // 5. Namespaces and links (routes go with the bridge; rules in the node netns go with it).
  for (const netns of [...nodes.map((n) => n.netns), OUTSIDE.netns]) {
    if (existsSync(`/run/netns/${netns}`)) {
      await run('ip', ['netns', 'del', netns], { allowFail: true });
      rep.removed.push(`netns ${netns}`);
    }
  }
  for (const link of [BRIDGE, OUTSIDE.hostVeth, ...nodes.map((n) => n.hostVeth)]) {
    const r = await run('ip', ['link', 'del', link], { allowFail: true });
    if (r.code === 0) rep.removed.push(`link ${link}`);
  }

  // 6. Machine-wide sysctls the kubelet rewrote.
  for (const [k, v] of Object.entries(state?.savedSysctls ?? {})) {
    try {
      const path = `/proc/sys/${k.replaceAll('.', '/')}`;
      if (readFileSync(path, 'utf8').trim() !== v) {
        writeFileSync(path, v);
        rep.removed.push(`sysctl ${k} restored to ${v}`);
      }
    } catch (e) {
      rep.leftovers.push(`sysctl ${k} could not be restored to ${v}: ${(e as Error).message}`);
    }
  }

  // 7. Host-side leftovers of containerd 1.6 / libcni / kubelet that cannot be moved under the state dir.
  if (existsSync('/var/log/containers')) {
    for (const f of readdirSync('/var/log/containers')) {
      const p = `/var/log/containers/${f}`;
      try {
        if (readlinkSync(p).startsWith(l.dir + '/')) rmSync(p);
      } catch {
        /* not a link */
      }
    }
  }
  if (existsSync('/var/lib/cni/results')) {
    for (const f of readdirSync('/var/lib/cni/results')) if (f.startsWith('sctpe2e-')) rmSync(`/var/lib/cni/results/${f}`, { force: true });
  }
  for (const id of ids) {
    for (const sock of sockets) {
      // containerd 1.6 shim socket: /run/containerd/s/sha256(<grpc address>/<namespace>/<id>); left behind when a shim is killed.
      const hash = createHash('sha256').update(`${sock}/k8s.io/${id}`).digest('hex');
      if (existsSync(`/run/containerd/s/${hash}`)) {
        rmSync(`/run/containerd/s/${hash}`, { force: true });
        rep.removed.push(`shim socket ${hash.slice(0, 12)}`);
      }
    }
  }
  if (existsSync('/var/lib/cni/results')) {
    for (const f of readdirSync('/var/lib/cni/results')) {
      const m = /-([0-9a-f]{64})-[^-]+$/.exec(f);
      if (m && ids.has(m[1]!)) rmSync(`/var/lib/cni/results/${f}`, { force: true });
    }
  }
  const otherSshd = readdirSync('/proc').some((e) => /^\d+$/.test(e) && (cmdline(Number(e))[0] ?? '').endsWith('sshd'));
  if (state?.createdHostDirs.includes('/var/lib/kubelet')) {
    for (const f of KUBELET_FIXED_FILES)
      if (existsSync(f)) {
        rmSync(f, { force: true });
        rep.removed.push(f);
      }
  }
  for (const d of state?.createdHostDirs ?? []) {
    if (!HOST_DIRS.includes(d) || !existsSync(d)) continue;
    if (d === '/run/sshd' && otherSshd) continue;
    if (removeEmptyTree(d)) rep.removed.push(d);
  }

  // 8. The state dir itself (and its default parent when empty).
  if (existsSync(l.dir)) {
    const still = mountsUnder(l.dir);
    if (still.length) rep.leftovers.push(`mounts still under ${l.dir}: ${still.slice(0, 3).join(', ')}`);
    else {
      rmSync(l.dir, { recursive: true, force: true });
      rep.removed.push(l.dir);
    }
  }
  // The default parent is shared with other parts (e.g. vm/): remove it only when it is empty itself.
  if (l.dir === '/var/lib/sctp-e2e/cluster') {
    try {
      rmdirSync('/var/lib/sctp-e2e');
    } catch {
      /* not empty or gone */
    }
  }

  // 9. Verify.
  for (const netns of [...nodes.map((n) => n.netns), OUTSIDE.netns]) if (existsSync(`/run/netns/${netns}`)) rep.leftovers.push(`netns ${netns}`);
  const links = (await run('ip', ['-o', 'link', 'show'], { allowFail: true })).stdout;
  for (const link of findClusterLinks(links)) rep.leftovers.push(`link ${link}`);
  for (const cg of cgroupDirs()) rep.leftovers.push(`cgroup ${cg}`);
  rep.seconds = (Date.now() - started) / 1000;
  if (rep.leftovers.length) throw new ClusterError(`cluster down left ${rep.leftovers.length} thing(s) behind: ${rep.leftovers.join('; ')}`);
  return rep;
}

/** Removes a directory tree if it contains only directories (no files); returns whether it is gone. */
function removeEmptyTree(d: string): boolean {
  try {
    if (!statSync(d).isDirectory()) return false;
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (lstatSync(p).isDirectory()) removeEmptyTree(p);
    }
    rmdirSync(d);
    return true;
  } catch {
    return false;
  }
}
