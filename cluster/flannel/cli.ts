// `tsx cluster/flannel/cli.ts build|up|down|status [--json]` (npm run flannel:build|flannel:up|flannel:down|flannel:status):
// flannel (VXLAN backend, Kubernetes subnet manager) as the local cluster's pod network, flanneld run as a host
// process in each node netns. Everything it creates is recorded in <state dir>/flannel/state.json and removed by `down`.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { type ClusterJson, clusterDir, isNetnsNode, type NetnsNode, readClusterJson, readClusterState } from '../contract.ts';
import { alive, ClusterError, cmdline, readJson, run, stampedLog, startDaemon, stopPid, tail, waitFor } from '../run.ts';
import {
  type ClusterNode,
  CNI_CONF_NAME,
  CNI_PLUGIN_SOURCE,
  cniWrapper,
  FLANNEL_VERSION,
  type FlannelState,
  flannelDir,
  flanneldArgs,
  flanneldEnv,
  flannelPodCIDR,
  HEALTHZ_PORT,
  isFlannelPodIP,
  nodeIndex,
  nodePaths,
  POD_BRIDGE,
  parseSubnetEnv,
  parseVxlanLink,
  renderCniConflist,
  renderNetConf,
  VXLAN,
  type VxlanLink,
  WRAPPER_MARK,
} from './render.ts';

const here = dirname(fileURLToPath(import.meta.url));
const CNI_BIN_DIR = '/usr/lib/cni'; // containerd's cri bin_dir in the cluster's config (cluster/components.ts)
const WRAPPER = `${CNI_BIN_DIR}/flannel`;
const USAGE =
  'usage: tsx cluster/flannel/cli.ts build | up | down | status [--json]   (state: $SCTP_E2E_CLUSTER_DIR or ' +
  '/var/lib/sctp-e2e/cluster; binaries: $SCTP_E2E_FLANNEL_BIN_DIR or cluster/flannel/build.sh)';

const log = stampedLog('flannel');

const stateDir = clusterDir();
const fd = flannelDir(stateDir);
const statePath = `${fd}/state.json`;
const pidDir = `${fd}/pids`;

/** flanneld runs in node netns: the nodes `up` created (not the kernel-lane VM). */
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

function idx(n: ClusterNode): number {
  try {
    return nodeIndex(n.name);
  } catch (e) {
    throw new ClusterError((e as Error).message);
  }
}

function cniConfDir(n: ClusterNode): string {
  return `${stateDir}/${n.name}/cni/net.d`;
}

function save(s: FlannelState): void {
  writeFileSync(statePath, JSON.stringify(s, null, 2) + '\n');
}

/** Only our process: the PID of our pid file, still a flanneld (PIDs get reused). */
function flanneldPid(n: ClusterNode): number | undefined {
  const f = `${pidDir}/${nodePaths(stateDir, n).pidName}.pid`;
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
  return alive(pid) && cmdline(pid).some((a) => a.endsWith('/flanneld')) ? pid : undefined;
}

async function binDir(): Promise<string> {
  const env = process.env.SCTP_E2E_FLANNEL_BIN_DIR;
  if (env) return env;
  log('building (or reusing) flannel with cluster/flannel/build.sh');
  const r = await run('bash', [join(here, 'build.sh')], { timeoutMs: 60 * 60_000 });
  const dir = r.stdout.trim().split('\n').pop()!;
  if (!existsSync(`${dir}/flanneld`)) throw new ClusterError(`cluster/flannel/build.sh did not produce ${dir}/flanneld`);
  return dir;
}

async function vxlanLink(n: ClusterNode): Promise<VxlanLink> {
  const r = await run('ip', ['-d', '-s', '-j', 'link', 'show', VXLAN.device], { netns: n.netns, allowFail: true });
  return r.code === 0 ? parseVxlanLink(r.stdout) : { present: false };
}

async function healthz(n: ClusterNode): Promise<boolean> {
  const r = await run('busybox', ['wget', '-q', '-O-', `http://127.0.0.1:${HEALTHZ_PORT}/healthz`], { netns: n.netns, allowFail: true, timeoutMs: 5_000 });
  return r.code === 0;
}

async function up(): Promise<void> {
  if (process.getuid?.() !== 0) throw new ClusterError('flannel up must run as root (node netns, CNI plugin dir, host routes)');
  const c = cluster();
  if (c.nodes.some((n) => flanneldPid(n))) throw new ClusterError(`flannel is already up (${statePath}); run \`npm run flannel:down\` first`);
  if (existsSync(statePath)) throw new ClusterError(`leftovers of an earlier flannel up (${statePath}); run \`npm run flannel:down\` first`);
  if (existsSync(`${stateDir}/netpol/state.json`))
    throw new ClusterError('cluster/netpol (Cilium) is up on this cluster: one pod network at a time (npm run netpol:down first)');
  const bin = await binDir();
  mkdirSync(pidDir, { recursive: true });
  mkdirSync(`${fd}/logs`, { recursive: true });
  const s: FlannelState = {
    startedAt: new Date().toISOString(),
    version: FLANNEL_VERSION,
    binDir: bin,
    createdFiles: [],
    cniConfs: [],
    hostRoutes: [],
    podCIDRSet: [],
  };
  save(s);

  for (const n of c.nodes) {
    const p = nodePaths(stateDir, n);
    const cidr = flannelPodCIDR(idx(n));
    // The Kubernetes subnet manager takes the node's spec.podCIDR as flannel's lease. The cluster runs
    // --allocate-node-cidrs=false, so it is empty; it can be set once and stays until cluster:down.
    const cur = (await kubectl(c, ['get', 'node', n.name, '-o', 'jsonpath={.spec.podCIDR}'])).stdout.trim();
    if (!cur) {
      await kubectl(c, ['patch', 'node', n.name, '--type=merge', '-p', JSON.stringify({ spec: { podCIDR: cidr, podCIDRs: [cidr] } })]);
      s.podCIDRSet.push(n.name);
      save(s);
    } else if (cur !== cidr)
      throw new ClusterError(
        `node ${n.name} already has spec.podCIDR ${cur}, not ${cidr}; flannel needs a fresh cluster (\`npm run cluster:down && npm run cluster:up\`)`,
      );
    log(`${n.name}: flannel pod range ${cidr} (spec.podCIDR; the bridge CNI keeps 10.244.${idx(n)}.0/24)`);
    for (const d of [p.dir, p.cniDataDir, p.ipamDir]) mkdirSync(d, { recursive: true });
    writeFileSync(p.netConf, renderNetConf(c.podCIDR));
    // The outside vantage point reaches pods through the host, which routes each range to its node (as the
    // cluster does for 10.244.N.0/24). Node-to-node pod traffic does not use these: the node netns route the other
    // nodes' flannel ranges over flannel.1 (flanneld's routes).
    const hr = await run('ip', ['route', 'replace', cidr, 'via', n.ip], { allowFail: true });
    if (hr.code === 0) {
      s.hostRoutes.push(cidr);
      save(s);
    }
    const d = startDaemon(p.pidName, `${bin}/flanneld`, flanneldArgs({ stateDir, node: n, kubeconfig: c.kubeconfig }), {
      netns: n.netns,
      logFile: p.log,
      pidDir,
      env: flanneldEnv(process.env, n.name),
    });
    log(`${n.name}: flanneld ${FLANNEL_VERSION} pid ${d.pid} (log ${p.log})`);
  }

  if (existsSync(WRAPPER) && !readFileSync(WRAPPER, 'utf8').includes(WRAPPER_MARK)) {
    throw new ClusterError(`${WRAPPER} exists and is not ours; remove it or point the cluster's CNI bin_dir elsewhere`);
  }
  s.createdFiles.push(WRAPPER);
  save(s);
  writeFileSync(WRAPPER, cniWrapper(`${bin}/flannel`));
  chmodSync(WRAPPER, 0o755);

  for (const n of c.nodes) {
    const p = nodePaths(stateDir, n);
    await waitFor(`flanneld on ${n.name} to write ${p.subnetFile} and create ${VXLAN.device}`, {
      timeoutMs: 120_000,
      intervalMs: 1000,
      watch: () => {
        if (!flanneldPid(n)) throw new ClusterError(`flanneld on ${n.name} exited; last log lines:\n${tail(p.log, 15)}`, 'died');
      },
      probe: async () => ({ env: existsSync(p.subnetFile) ? parseSubnetEnv(readFileSync(p.subnetFile, 'utf8')) : {}, link: await vxlanLink(n) }),
      until: (x) => Boolean(x.env.FLANNEL_SUBNET) && x.link.present,
      describe: (x) => (x ? `subnet.env ${JSON.stringify(x.env)}, ${VXLAN.device} ${x.link.present ? 'present' : 'absent'}` : 'no answer'),
    });
    const conf = `${cniConfDir(n)}/${CNI_CONF_NAME}`;
    s.cniConfs.push(conf);
    save(s);
    writeFileSync(conf, renderCniConflist({ stateDir, node: n, proxyMode: c.proxyMode }));
    const env = parseSubnetEnv(readFileSync(p.subnetFile, 'utf8'));
    log(`${n.name}: ${VXLAN.device} up, subnet ${env.FLANNEL_SUBNET} mtu ${env.FLANNEL_MTU}; new pods get their network from flannel (${conf})`);
  }
  // Each node must know the other's VTEP (flanneld learns it from the other Node's annotations): a route to every
  // other flannel range over flannel.1, else cross-node traffic would not be on the overlay.
  for (const n of c.nodes) {
    const others = c.nodes.filter((o) => o.name !== n.name).map((o) => flannelPodCIDR(idx(o)));
    await waitFor(`${n.name} to route ${others.join(', ')} over ${VXLAN.device}`, {
      timeoutMs: 60_000,
      intervalMs: 1000,
      probe: () => run('ip', ['-4', 'route', 'show', 'dev', VXLAN.device], { netns: n.netns, allowFail: true }),
      until: (r) => others.every((o) => r.stdout.includes(o)),
      describe: (r) => (r ? r.stdout.trim() || '(no route)' : 'no answer'),
    });
  }
  process.stdout.write(
    `flannel up: flannel ${FLANNEL_VERSION} (vxlan, VNI ${VXLAN.vni}, UDP ${VXLAN.port}; CNI plugin ${CNI_PLUGIN_SOURCE}) on ` +
      `${c.nodes.map((n) => `${n.name} ${flannelPodCIDR(idx(n))}`).join(', ')}; pods created from now on are on flannel ` +
      `(older pods stay on the bridge CNI)\n`,
  );
}

/** Links and iptables chains flanneld and its CNI delegate leave in a node netns. */
async function cleanupNetns(n: ClusterNode): Promise<string[]> {
  const done: string[] = [];
  if (!existsSync(`/run/netns/${n.netns}`)) return done;
  for (const link of [VXLAN.device, POD_BRIDGE]) {
    const r = await run('ip', ['link', 'del', link], { netns: n.netns, allowFail: true });
    if (r.code === 0) done.push(`link ${link}`);
  }
  for (const table of ['filter', 'nat']) {
    const r = await run('iptables-save', ['-t', table], { netns: n.netns, allowFail: true });
    if (r.code !== 0) continue;
    const lines = r.stdout.split('\n');
    for (const l of lines) {
      const m = /^-A (\S+) (.*)$/.exec(l);
      // Jumps into flannel's chains, flannel's own rules in built-in chains (comment "flanneld …"), and the
      // bridge plugin's ipMasq jumps for the flannel network ("name: \"flannel\"").
      if (m && !m[1]!.startsWith('FLANNEL-') && (/-j FLANNEL-/.test(m[2]!) || /--comment "?flanneld/.test(m[2]!))) {
        await run('sh', ['-c', `iptables -w -t ${table} -D ${m[1]} ${m[2]}`], { netns: n.netns, allowFail: true });
        done.push(`${table}/${m[1]}: ${m[2]}`);
      }
    }
    for (const l of lines) {
      const m = /^:(FLANNEL-\S+)/.exec(l);
      if (m) {
        await run('iptables', ['-w', '-t', table, '-F', m[1]!], { netns: n.netns, allowFail: true });
        await run('iptables', ['-w', '-t', table, '-X', m[1]!], { netns: n.netns, allowFail: true });
        done.push(`${table}/${m[1]}`);
      }
    }
  }
  return done;
}

async function down(): Promise<void> {
  const s = readJson<FlannelState>(statePath);
  const c = readClusterJson(stateDir);
  const nodes = c ? local(c).nodes : [];
  const removed: string[] = [];
  for (const f of s?.cniConfs ?? [])
    if (existsSync(f)) {
      rmSync(f);
      removed.push(f);
    }
  if (c && s) {
    // Pods wired by the flannel plugin lose their network with flanneld: delete them while the plugin can clean up.
    const r = await kubectl(c, ['get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.podIP}{"\\n"}{end}'], {
      allowFail: true,
    });
    const ours = r.stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([, ip]) => ip && isFlannelPodIP(ip));
    for (const [nsName] of ours) {
      const [ns, name] = nsName!.split('/');
      await kubectl(c, ['delete', 'pod', '-n', ns!, name!, '--wait=true', '--timeout=60s'], { allowFail: true, timeoutMs: 90_000 });
      removed.push(`pod ${nsName}`);
    }
  }
  const stopped: string[] = [];
  for (const n of nodes) {
    const pid = flanneldPid(n);
    if (pid) stopped.push(`flanneld(${n.name}) pid ${pid} ${await stopPid(pid, 15_000)}`);
    rmSync(`${pidDir}/${nodePaths(stateDir, n).pidName}.pid`, { force: true });
  }
  // A crashed up may have left a flanneld without node info: every pid file we wrote.
  if (existsSync(pidDir)) {
    for (const f of readdirSync(pidDir)) {
      const pid = Number(readFileSync(`${pidDir}/${f}`, 'utf8').split('\n')[0]);
      if (alive(pid) && cmdline(pid).some((a) => a.endsWith('/flanneld'))) stopped.push(`pid ${pid} ${await stopPid(pid, 15_000)}`);
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
  if (c) {
    // flanneld's node annotations (flannel.alpha.coreos.com/*): the report card would still name flannel.
    for (const n of nodes) {
      const r = await kubectl(c, ['get', 'node', n.name, '-o', 'jsonpath={.metadata.annotations}'], { allowFail: true });
      const keys = Object.keys(
        (() => {
          try {
            return JSON.parse(r.stdout || '{}') as Record<string, string>;
          } catch {
            return {};
          }
        })(),
      ).filter((k) => k.startsWith('flannel.alpha.coreos.com/'));
      if (keys.length) {
        await kubectl(c, ['annotate', 'node', n.name, ...keys.map((k) => `${k}-`)], { allowFail: true });
        removed.push(`${keys.length} flannel annotation(s) on ${n.name}`);
      }
    }
  }
  for (const r of s?.hostRoutes ?? []) {
    if ((await run('ip', ['route', 'del', r], { allowFail: true })).code === 0) removed.push(`host route ${r}`);
  }
  // Keep the logs (evidence after a failed up); the cluster's own `down` removes the whole state dir.
  if (existsSync(fd)) for (const e of readdirSync(fd)) if (e !== 'logs') rmSync(`${fd}/${e}`, { recursive: true, force: true });
  process.stdout.write(
    `flannel down: stopped ${stopped.length} flanneld(s)${stopped.length ? ` (${stopped.join('; ')})` : ''}; removed ${removed.length} ` +
      `item(s)${removed.length ? `:\n  ${removed.join('\n  ')}` : ''}` +
      `${s?.podCIDRSet.length ? `\n  (spec.podCIDR of ${s.podCIDRSet.join(', ')} cannot be unset; it goes with cluster:down)` : ''}\n`,
  );
}

async function status(json: boolean): Promise<number> {
  const s = readJson<FlannelState>(statePath);
  const c = readClusterJson(stateDir);
  const nodes: Array<Record<string, unknown>> = [];
  let allUp = Boolean(s && c && existsSync(WRAPPER));
  for (const n of c ? local(c).nodes : []) {
    const p = nodePaths(stateDir, n);
    const pid = flanneldPid(n);
    const healthy = pid ? await healthz(n) : false;
    const link = await vxlanLink(n);
    const env = existsSync(p.subnetFile) ? parseSubnetEnv(readFileSync(p.subnetFile, 'utf8')) : {};
    const cni = existsSync(`${cniConfDir(n)}/${CNI_CONF_NAME}`);
    if (!pid || !healthy || !link.present || !env.FLANNEL_SUBNET || !cni) allUp = false;
    nodes.push({
      node: n.name,
      pid: pid ?? null,
      healthz: healthy,
      vxlan: link,
      subnet: env.FLANNEL_SUBNET ?? null,
      mtu: env.FLANNEL_MTU ?? null,
      cniConf: cni,
    });
  }
  const out = { up: allUp, implementation: `flannel ${FLANNEL_VERSION} (vxlan)`, cniPlugin: CNI_PLUGIN_SOURCE, nodes };
  if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    process.stdout.write(`flannel ${FLANNEL_VERSION} (vxlan): ${allUp ? 'up' : s ? 'partly up' : 'down'}\n`);
    for (const n of nodes) {
      const v = n.vxlan as VxlanLink;
      process.stdout.write(
        `  ${n.node}: flanneld ${n.pid ? `pid ${n.pid}` : 'not running'}${n.pid ? ` (healthz ${n.healthz ? 'ok' : 'FAILING'})` : ''}; ` +
          `${VXLAN.device} ${v.present ? `vni ${v.vni} local ${v.local} port ${v.port} mtu ${v.mtu} rx ${v.rxPackets} tx ${v.txPackets} pkts` : 'absent'}; ` +
          `subnet ${n.subnet ?? '-'} mtu ${n.mtu ?? '-'}; cni ${n.cniConf ? CNI_CONF_NAME : 'not installed'}\n`,
      );
    }
  }
  return allUp ? 0 : 1;
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  const unknown = rest.filter((a) => a !== '--json');
  if (unknown.length || (json && cmd !== 'status')) throw new UsageError(`unknown option ${unknown[0] ?? '--json'} for "${cmd}"`);
  switch (cmd) {
    case 'build':
      process.stdout.write(`${await binDir()}\n`);
      return 0;
    case 'up':
      try {
        await up();
      } catch (e) {
        if (process.env.FLANNEL_KEEP_ON_FAILURE) throw e;
        log('up failed; tearing down what it started (set FLANNEL_KEEP_ON_FAILURE=1 to keep it for debugging)');
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

runMain('flannel', main, { usage: USAGE });
