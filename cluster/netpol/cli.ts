// `tsx cluster/netpol/cli.ts up|down|status [--json]` (npm run netpol:up|netpol:down|netpol:status):
// Cilium as the local cluster's NetworkPolicy implementation (SCTP enabled), run as a host process in each node netns.
// Everything it creates is recorded in <state dir>/netpol/state.json and removed by `down`.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { type ClusterJson, clusterDir, isNetnsNode, type NetnsNode, readClusterJson, readClusterState } from '../contract.ts';
import { alive, ClusterError, cmdline, readJson, run, stampedLog, startDaemon, stopPid, tail, waitFor } from '../run.ts';
import {
  agentArgs,
  agentLauncher,
  CILIUM_VERSION,
  type ClusterNode,
  CNI_CONF_NAME,
  ciliumPodCIDR,
  cniWrapper,
  type NetpolState,
  netpolDir,
  nodePaths,
  POD_CIDR_ANNOTATION,
  renderCniConflist,
} from './render.ts';

const here = dirname(fileURLToPath(import.meta.url));
const CNI_BIN_DIR = '/usr/lib/cni'; // containerd's cri bin_dir in the cluster's config (render.ts of cluster/)
const WRAPPER = `${CNI_BIN_DIR}/cilium-cni`;
const WRAPPER_MARK = 'Written by cluster/netpol (sctp-e2e)';
const USAGE =
  'usage: tsx cluster/netpol/cli.ts up [--sctp=on|off] [--kpr] | down | status [--json]   (--kpr: Cilium serves Services, on a ' +
  'cluster up with --proxy-mode none)   (state: $SCTP_E2E_CLUSTER_DIR ' +
  'or /var/lib/sctp-e2e/cluster; binaries: $SCTP_E2E_NETPOL_BIN_DIR or cluster/netpol/build.sh)';

const log = stampedLog('netpol');

const stateDir = clusterDir();
const nd = netpolDir(stateDir);
const statePath = `${nd}/state.json`;
const pidDir = `${nd}/pids`;

/** Cilium runs in node netns: the nodes `up` created (not the kernel-lane VM). */
type LocalCluster = Omit<ClusterJson, 'nodes'> & { nodes: NetnsNode[] };
const local = (c: ClusterJson): LocalCluster => ({ ...c, nodes: c.nodes.filter(isNetnsNode) });

function cluster(): LocalCluster {
  const c = readClusterJson(stateDir);
  if (!c) throw new ClusterError(`the local cluster is not up (no ${stateDir}/cluster.json); run \`npm run cluster:up\` first`);
  return local(c);
}

function kubectlBin(): string {
  const s = readClusterState(stateDir);
  if (s?.binDir && existsSync(`${s.binDir}/kubectl`)) return `${s.binDir}/kubectl`;
  return 'kubectl';
}

async function kubectl(c: ClusterJson, args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
  return run(kubectlBin(), [`--kubeconfig=${c.kubeconfig}`, ...args], { timeoutMs: opts.timeoutMs ?? 60_000, allowFail: opts.allowFail });
}

function nodeIndex(n: ClusterNode): number {
  const m = /node(\d+)$/.exec(n.name);
  if (!m) throw new ClusterError(`cannot tell the index of node ${n.name}`);
  return Number(m[1]);
}

function cniConfDir(n: ClusterNode): string {
  return `${stateDir}/${n.name}/cni/net.d`;
}

function save(s: NetpolState): void {
  writeFileSync(statePath, JSON.stringify(s, null, 2) + '\n');
}

/**
 * While we wait for an agent we just started, "alive" is enough: its /proc/PID/cmdline is briefly empty while
 * nsenter → unshare → sh → cilium-agent exec one another, and reading it then made a healthy start look like a
 * death (seen once in CI: "exited" 0 s after the start, with an empty log).
 */
function agentStillRunning(n: ClusterNode): boolean {
  const f = `${pidDir}/${nodePaths(stateDir, n).pidName}.pid`;
  return existsSync(f) && alive(Number(readFileSync(f, 'utf8').split('\n')[0]));
}

function agentPid(n: ClusterNode): number | undefined {
  const f = `${pidDir}/${nodePaths(stateDir, n).pidName}.pid`;
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
  // Only our process: the PID must still be a cilium-agent (PIDs get reused).
  return alive(pid) && cmdline(pid).some((a) => a.includes('/cilium-agent')) ? pid : undefined;
}

async function binDir(): Promise<string> {
  const env = process.env.SCTP_E2E_NETPOL_BIN_DIR;
  if (env) return env;
  log('building (or reusing) Cilium with cluster/netpol/build.sh');
  const r = await run('bash', [join(here, 'build.sh')], { timeoutMs: 75 * 60_000 });
  const dir = r.stdout.trim().split('\n').pop()!;
  if (!existsSync(`${dir}/cilium-agent`)) throw new ClusterError(`cluster/netpol/build.sh did not produce ${dir}/cilium-agent`);
  return dir;
}

function which(tool: string): boolean {
  return (process.env.PATH ?? '')
    .split(':')
    .concat(['/usr/sbin', '/usr/bin'])
    .some((d) => d && existsSync(join(d, tool)));
}

async function up(sctp: boolean, kpr: boolean): Promise<void> {
  if (process.getuid?.() !== 0) throw new ClusterError('netpol up must run as root (bpffs mounts, CNI plugin, node netns)');
  const c = cluster();
  if (kpr && c.proxyMode !== 'none')
    throw new ClusterError(
      `netpol up --kpr replaces kube-proxy, but the cluster runs kube-proxy ${c.proxyMode}; bring it up with \`npm run cluster:up -- --proxy-mode none\``,
    );
  if (!kpr && c.proxyMode === 'none')
    throw new ClusterError('the cluster runs no kube-proxy (--proxy-mode none): nothing would serve NodePorts; use `netpol:up -- --kpr`');
  const apiServer = kpr ? (await kubectl(c, ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).stdout.trim() : undefined;
  if (kpr && !apiServer?.startsWith('https://')) throw new ClusterError(`cannot read the API server URL from ${c.kubeconfig} (got "${apiServer}")`);
  for (const [tool, pkg] of [
    ['clang', 'clang'],
    ['llc', 'llvm'],
    ['bpftool', 'bpftool'],
    ['unshare', 'util-linux'],
    ['iptables', 'iptables'],
  ]) {
    if (!which(tool!))
      throw new ClusterError(
        `${tool} is not installed (cilium-agent compiles its BPF datapath at start); add the Debian package ${pkg} to PKGS in .ci/install-deps.sh`,
      );
  }
  if (c.nodes.some((n) => agentPid(n))) throw new ClusterError(`netpol is already up (${statePath}); run \`npm run netpol:down\` first`);
  if (existsSync(statePath)) throw new ClusterError(`leftovers of an earlier netpol up (${statePath}); run \`npm run netpol:down\` first`);
  const bin = await binDir();
  mkdirSync(pidDir, { recursive: true });
  mkdirSync(`${nd}/logs`, { recursive: true });
  const s: NetpolState = {
    startedAt: new Date().toISOString(),
    version: CILIUM_VERSION,
    binDir: bin,
    createdFiles: [],
    cniConfs: [],
    mounts: [],
    annotated: [],
    hostRoutes: [],
    crdsApplied: false,
    sctp,
    kpr,
  };
  save(s);

  log('applying the Cilium CRDs (normally the operator registers them)');
  s.crdsApplied = true;
  save(s);
  await kubectl(c, ['apply', '--server-side', '-R', '-f', `${bin}/crds`], { timeoutMs: 120_000 });
  await kubectl(c, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'io.cilium.k8s.crd.schema.version'], {
    allowFail: true,
    timeoutMs: 90_000,
  });

  for (const n of c.nodes) {
    const p = nodePaths(stateDir, n);
    const cidr = ciliumPodCIDR(nodeIndex(n));
    log(`${n.name}: pod range ${cidr} (annotation ${POD_CIDR_ANNOTATION}; the bridge CNI keeps its own range)`);
    await kubectl(c, ['annotate', '--overwrite', 'node', n.name, `${POD_CIDR_ANNOTATION}=${cidr}`]);
    s.annotated.push(n.name);
    save(s);
    // Measured: with --ipam=kubernetes the agent kept waiting ("required IPv4 PodCIDR not available") on the
    // annotation alone; spec.podCIDR works. It can be set once (the cluster runs --allocate-node-cidrs=false, so it
    // is empty) and stays until the cluster goes down.
    const cur = (await kubectl(c, ['get', 'node', n.name, '-o', 'jsonpath={.spec.podCIDR}'])).stdout.trim();
    if (!cur) await kubectl(c, ['patch', 'node', n.name, '--type=merge', '-p', JSON.stringify({ spec: { podCIDR: cidr, podCIDRs: [cidr] } })]);
    else if (cur !== cidr)
      throw new ClusterError(
        `node ${n.name} already has spec.podCIDR ${cur}, not ${cidr}; netpol needs a fresh cluster (\`npm run cluster:down && npm run cluster:up\`)`,
      );
    for (const d of [p.dir, p.run, p.bpffs, p.masks]) mkdirSync(d, { recursive: true });
    // The host (and through it the outside netns) routes pod ranges to nodes, like the cluster does for 10.244.N.0/24.
    const hr = await run('ip', ['route', 'replace', cidr, 'via', n.ip], { allowFail: true });
    if (hr.code === 0) {
      s.hostRoutes.push(cidr);
      save(s);
    }
    const mounted = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[1] === p.bpffs);
    if (!mounted) {
      await run('mount', ['-t', 'bpf', 'bpffs', p.bpffs]);
      s.mounts.push(p.bpffs);
      save(s);
    }
    const launcher = agentLauncher({
      nodeName: n.name,
      masksDir: p.masks,
      agent: `${bin}/cilium-agent`,
      args: agentArgs({ stateDir, node: n, kubeconfig: c.kubeconfig, podCIDR: c.podCIDR, libDir: `${bin}/lib`, sctp, kprApiServer: apiServer }),
    });
    const d = startDaemon(p.pidName, launcher[0]!, launcher.slice(1), { netns: n.netns, logFile: p.log, pidDir });
    log(`${n.name}: cilium-agent ${CILIUM_VERSION} pid ${d.pid} (log ${p.log})`);
  }

  if (existsSync(WRAPPER) && !readFileSync(WRAPPER, 'utf8').includes(WRAPPER_MARK)) {
    throw new ClusterError(`${WRAPPER} exists and is not ours; remove it or point the cluster's CNI bin_dir elsewhere`);
  }
  writeFileSync(WRAPPER, cniWrapper({ netpolDir: nd, realBin: `${bin}/cilium-cni` }));
  chmodSync(WRAPPER, 0o755);
  s.createdFiles.push(WRAPPER);
  save(s);

  for (const n of c.nodes) {
    const p = nodePaths(stateDir, n);
    await waitFor(`cilium-agent on ${n.name} to report Ready (it compiles its BPF programs with clang first)`, {
      timeoutMs: 8 * 60_000,
      intervalMs: 3000,
      watch: () => {
        if (!agentStillRunning(n)) throw new ClusterError(`cilium-agent on ${n.name} exited; last log lines:\n${tail(p.log, 15)}`, 'died');
      },
      probe: async () => await run(`${bin}/cilium-dbg`, ['-H', `unix://${p.sock}`, 'status', '--brief'], { allowFail: true, timeoutMs: 20_000 }),
      until: (r) => r.code === 0,
      describe: (r) => (r ? ((r.stdout + r.stderr).trim().split('\n').pop() ?? '') : 'no answer'),
    });
    const conf = `${cniConfDir(n)}/${CNI_CONF_NAME}`;
    writeFileSync(conf, renderCniConflist({ node: n, proxyMode: c.proxyMode, logFile: `${nd}/logs/cilium-cni-${n.name}.log`, kpr }));
    s.cniConfs.push(conf);
    save(s);
    log(`${n.name}: agent ready; new pods get their network from cilium-cni (${conf})`);
  }
  if (kpr) await checkServicesServed(c, bin);
  process.stdout.write(
    `netpol up: Cilium ${CILIUM_VERSION} ${kpr ? 'serves Services (no kube-proxy) and ' : ''}enforces NetworkPolicy (${sctp ? 'SCTP enabled' : 'SCTP DISABLED: --enable-sctp=false, upstream default'}) ` +
      `on ${c.nodes.map((n) => n.name).join(', ')}; pods created from now on are covered (older pods stay on the bridge ` +
      `CNI, unenforced)\n`,
  );
}

/**
 * --kpr: before any test needs them, the kubernetes and kube-dns Services must be in every agent's load balancer
 * and a Cilium pod must resolve a name through the kube-dns ClusterIP (CoreDNS itself stays on the bridge).
 */
async function checkServicesServed(c: LocalCluster, bin: string): Promise<void> {
  const dnsFrontend = `${c.dnsIP}:53`;
  for (const n of c.nodes) {
    const p = nodePaths(stateDir, n);
    await waitFor(`${dnsFrontend} and the kubernetes Service in cilium-agent's load balancer on ${n.name}`, {
      timeoutMs: 60_000,
      intervalMs: 2000,
      probe: async () => await run(`${bin}/cilium-dbg`, ['-H', `unix://${p.sock}`, 'service', 'list'], { allowFail: true, timeoutMs: 20_000 }),
      until: (r) => r.code === 0 && r.stdout.includes(dnsFrontend) && /10\.96\.0\.1:443/.test(r.stdout),
      describe: (r) => (r ? (r.stdout + r.stderr).trim().split('\n').slice(0, 12).join(' | ') : 'no answer'),
    });
  }
  const pod = 'kpr-dns-check';
  const name = `kubernetes.default.svc.${c.clusterDomain}`;
  await kubectl(c, ['delete', 'pod', '-n', 'default', pod, '--ignore-not-found', '--wait=true'], { allowFail: true });
  await kubectl(c, [
    'run',
    pod,
    '-n',
    'default',
    '--image=registry.local/busybox:sctp-e2e',
    '--image-pull-policy=Never',
    '--restart=Never',
    '--command',
    '--',
    '/bin/busybox',
    'sh',
    '-c',
    `for i in 1 2 3 4 5 6 7 8 9 10; do /bin/busybox nslookup ${name} ${c.dnsIP} && exit 0; sleep 2; done; exit 1`,
  ]);
  try {
    const r = await waitFor(`pod default/${pod} (a Cilium endpoint) resolving ${name} through ${c.dnsIP}`, {
      timeoutMs: 90_000,
      intervalMs: 2000,
      probe: async () => await kubectl(c, ['get', 'pod', '-n', 'default', pod, '-o', 'jsonpath={.status.phase} {.status.podIP}'], { allowFail: true }),
      until: (x) => /^(Succeeded|Failed)/.test(x.stdout),
      describe: (x) => x?.stdout ?? '',
    });
    const logs = (await kubectl(c, ['logs', '-n', 'default', pod], { allowFail: true })).stdout.trim();
    if (!r.stdout.startsWith('Succeeded')) throw new ClusterError(`DNS through Cilium's service load balancer failed: pod ${pod} (${r.stdout}) said:\n${logs}`);
    log(`DNS through Cilium's load balancer: ${name} via ${c.dnsIP} from pod ${r.stdout.split(' ')[1]} (${logs.split('\n').pop()})`);
  } finally {
    await kubectl(c, ['delete', 'pod', '-n', 'default', pod, '--ignore-not-found', '--wait=true', '--timeout=60s'], { allowFail: true, timeoutMs: 90_000 });
  }
}

async function cleanupNetns(n: ClusterNode): Promise<string[]> {
  const done: string[] = [];
  if (!existsSync(`/run/netns/${n.netns}`)) return done;
  for (const table of ['filter', 'nat', 'mangle', 'raw']) {
    const r = await run('iptables-save', ['-t', table], { netns: n.netns, allowFail: true });
    if (r.code !== 0) continue;
    const lines = r.stdout.split('\n');
    for (const l of lines) {
      const m = /^-A (\S+) (.*)$/.exec(l);
      if (m && !m[1]!.startsWith('CILIUM_') && /-j CILIUM_/.test(m[2]!)) {
        await run('sh', ['-c', `iptables -t ${table} -D ${m[1]} ${m[2]}`], { netns: n.netns, allowFail: true });
        done.push(`${table}/${m[1]} jump`);
      }
    }
    for (const l of lines) {
      const m = /^:(CILIUM_\S+)/.exec(l);
      if (m) {
        await run('iptables', ['-t', table, '-F', m[1]!], { netns: n.netns, allowFail: true });
        await run('iptables', ['-t', table, '-X', m[1]!], { netns: n.netns, allowFail: true });
        done.push(`${table}/${m[1]}`);
      }
    }
  }
  const links = (await run('ip', ['-o', 'link', 'show'], { netns: n.netns, allowFail: true })).stdout;
  for (const m of links.matchAll(/^\d+: ((?:cilium_[a-z0-9_]+|lxc[0-9a-z_]+))[@:]/gm)) {
    const r = await run('ip', ['link', 'del', m[1]!], { netns: n.netns, allowFail: true });
    if (r.code === 0) done.push(`link ${m[1]}`);
  }
  const q = await run('tc', ['qdisc', 'show', 'dev', 'eth0'], { netns: n.netns, allowFail: true });
  if (/clsact/.test(q.stdout)) {
    await run('tc', ['qdisc', 'del', 'dev', 'eth0', 'clsact'], { netns: n.netns, allowFail: true });
    done.push('tc clsact on eth0');
  }
  return done;
}

async function down(): Promise<void> {
  const s = readJson<NetpolState>(statePath);
  const c = readClusterJson(stateDir);
  const nodes = c ? local(c).nodes : [];
  const removed: string[] = [];
  for (const f of s?.cniConfs ?? [])
    if (existsSync(f)) {
      rmSync(f);
      removed.push(f);
    }
  if (c) {
    // Pods wired by cilium-cni lose their network with the agent: delete them while the agent can still clean up.
    const r = await kubectl(c, ['get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.podIP}{"\\n"}{end}'], {
      allowFail: true,
    });
    const ours = r.stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([, ip]) => ip && /^10\.244\.1\d\d\./.test(ip));
    for (const [nsName] of ours) {
      const [ns, name] = nsName!.split('/');
      await kubectl(c, ['delete', 'pod', '-n', ns!, name!, '--wait=true', '--timeout=60s'], { allowFail: true, timeoutMs: 90_000 });
      removed.push(`pod ${nsName}`);
    }
  }
  const stopped: string[] = [];
  for (const n of nodes) {
    const pid = agentPid(n);
    if (pid) stopped.push(`cilium-agent(${n.name}) pid ${pid} ${await stopPid(pid, 15_000)}`);
    rmSync(`${pidDir}/${nodePaths(stateDir, n).pidName}.pid`, { force: true });
  }
  // A crashed up may have left an agent without node info: every pid file we wrote.
  if (existsSync(pidDir)) {
    for (const f of readdirSync(pidDir)) {
      const pid = Number(readFileSync(`${pidDir}/${f}`, 'utf8').split('\n')[0]);
      if (alive(pid) && cmdline(pid).some((a) => a.includes('/cilium-agent'))) stopped.push(`pid ${pid} ${await stopPid(pid, 15_000)}`);
      rmSync(`${pidDir}/${f}`, { force: true });
    }
  }
  for (const f of s?.createdFiles ?? []) {
    if (existsSync(f) && readFileSync(f, 'utf8').includes(WRAPPER_MARK)) {
      rmSync(f);
      removed.push(f);
    }
  }
  for (const n of nodes) removed.push(...(await cleanupNetns(n)).map((x) => `${n.netns}: ${x}`));
  for (const m of s?.mounts ?? []) {
    if (
      readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .some((l) => l.split(' ')[1] === m)
    ) {
      await run('umount', [m], { allowFail: true });
      removed.push(`mount ${m}`);
    }
  }
  if (c) {
    for (const name of s?.annotated ?? []) {
      await kubectl(c, ['annotate', 'node', name, `${POD_CIDR_ANNOTATION}-`], { allowFail: true });
      removed.push(`annotation on ${name}`);
    }
    if (s?.crdsApplied) {
      await kubectl(c, ['delete', '--ignore-not-found', '--wait=false', '-R', '-f', `${s.binDir}/crds`], { allowFail: true, timeoutMs: 120_000 });
      removed.push('Cilium CRDs');
    }
  }
  for (const r of s?.hostRoutes ?? []) {
    if ((await run('ip', ['route', 'del', r], { allowFail: true })).code === 0) removed.push(`host route ${r}`);
  }
  // Keep the logs (evidence after a failed up); the cluster's own `down` removes the whole state dir.
  if (existsSync(nd)) for (const e of readdirSync(nd)) if (e !== 'logs') rmSync(`${nd}/${e}`, { recursive: true, force: true });
  process.stdout.write(
    `netpol down: stopped ${stopped.length} agent(s)${stopped.length ? ` (${stopped.join('; ')})` : ''}; removed ${removed.length} ` +
      `item(s)${removed.length ? `:\n  ${removed.join('\n  ')}` : ''}\n`,
  );
}

async function status(json: boolean): Promise<number> {
  const s = readJson<NetpolState>(statePath);
  const c = readClusterJson(stateDir);
  const out: Record<string, unknown> = {
    up: false,
    implementation: `cilium ${CILIUM_VERSION}`,
    sctpEnabled: s ? s.sctp !== false : null,
    servesServices: s ? s.kpr === true : null,
    nodes: [] as unknown[],
  };
  let allUp = Boolean(s && c);
  for (const n of c ? local(c).nodes : []) {
    const p = nodePaths(stateDir, n);
    const pid = agentPid(n);
    let brief = '';
    if (pid && s)
      brief = (await run(`${s.binDir}/cilium-dbg`, ['-H', `unix://${p.sock}`, 'status', '--brief'], { allowFail: true, timeoutMs: 20_000 })).stdout.trim();
    const cni = existsSync(`${cniConfDir(n)}/${CNI_CONF_NAME}`);
    if (!pid || !cni) allUp = false;
    (out.nodes as unknown[]).push({
      node: n.name,
      pid: pid ?? null,
      agent: brief || (pid ? 'not ready' : 'not running'),
      cniConf: cni,
      podCIDR: ciliumPodCIDR(nodeIndex(n)),
    });
  }
  out.up = allUp;
  if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    process.stdout.write(
      `netpol (cilium ${CILIUM_VERSION}, ${s?.sctp === false ? 'SCTP disabled' : 'SCTP enabled'}${s?.kpr ? ', serves Services: no kube-proxy' : ''}): ${allUp ? 'up' : s ? 'partly up' : 'down'}\n`,
    );
    for (const n of out.nodes as { node: string; pid: number | null; agent: string; cniConf: boolean; podCIDR: string }[]) {
      process.stdout.write(
        `  ${n.node}: agent ${n.pid ? `pid ${n.pid}` : 'not running'} (${n.agent}); cni ${n.cniConf ? CNI_CONF_NAME : 'not installed'}; pods ${n.podCIDR}\n`,
      );
    }
  }
  return allUp ? 0 : 1;
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  const sctpOpt = rest.find((a) => a.startsWith('--sctp='));
  const kpr = rest.includes('--kpr');
  if (kpr && cmd !== 'up') throw new UsageError(`--kpr: only \`up --kpr\` is known`);
  const unknown = rest.filter((a) => a !== '--json' && a !== sctpOpt && a !== '--kpr');
  if (unknown.length || (json && cmd !== 'status')) throw new UsageError(`unknown option ${unknown[0] ?? '--json'} for "${cmd}"`);
  if (sctpOpt && (cmd !== 'up' || !['--sctp=on', '--sctp=off'].includes(sctpOpt))) throw new UsageError(`${sctpOpt}: only \`up --sctp=on|off\` is known`);
  const sctp = sctpOpt !== '--sctp=off';
  switch (cmd) {
    case 'up':
      try {
        await up(sctp, kpr);
      } catch (e) {
        if (process.env.NETPOL_KEEP_ON_FAILURE) throw e;
        log(`up failed; tearing down what it started (set NETPOL_KEEP_ON_FAILURE=1 to keep it for debugging)`);
        await down().catch((d: unknown) => log(`teardown after failure also failed: ${(d as Error).message}`));
        throw e;
      }
      return 0;
    case 'down':
      await down();
      return 0;
    case 'status':
      return status(json);
    default:
      throw new UsageError(cmd ? `unknown command "${cmd}"` : 'missing command');
  }
}

runMain('netpol', main, { usage: USAGE });
