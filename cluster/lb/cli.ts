// `tsx cluster/lb/cli.ts up [--pool CIDR|RANGE] [--reject-protocols P,...] | down | status [--json]`
// (npm run lb:up|lb:down|lb:status): a minimal LoadBalancer implementation for the local cluster, in the
// style of MetalLB (layer 3) / cloud-provider-kind. A detached controller (controller.ts) assigns Services of
// type LoadBalancer an address from the pool; kube-proxy programs it; `up` routes the pool via node1 from the
// host and the outside netns. Everything it creates is recorded in <state dir>/lb/state.json; `down` is
// idempotent and removes exactly that.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { api, loadCluster } from '../../lib/k8s/client.ts';
import { clusterDir, readClusterJson } from '../contract.ts';
import { alive, ClusterError, cmdline, readJson, run, sleep, stampedLog, stopPid, tail } from '../run.ts';
import { cidrsOverlap, DEFAULT_POOL, inPool, parsePool, parseProtocols } from './pool.ts';

const here = dirname(fileURLToPath(import.meta.url));
const CONTROLLER = join(here, 'controller.ts');
const USAGE =
  'usage: tsx cluster/lb/cli.ts up [--pool CIDR|FIRST-LAST] [--reject-protocols SCTP[,UDP,...]] | down | status ' +
  '[--json]   (state: $SCTP_E2E_CLUSTER_DIR or /var/lib/sctp-e2e/cluster)';
/** Ranges the cluster already uses (cluster/topology.ts): the pool must not overlap them. */
const TAKEN: [string, string][] = [
  ['10.199.0.0/24', 'the node link (on-link: nobody would answer ARP for a pool address)'],
  ['10.199.1.0/24', 'the externalIP range tests use'],
  ['10.96.0.0/16', 'the Service CIDR'],
  ['10.244.0.0/16', 'the pod CIDR'],
];

const stateDir = clusterDir();
const lbDir = `${stateDir}/lb`;
const statePath = `${lbDir}/state.json`;
const pidPath = `${lbDir}/controller.pid`;
const logPath = `${lbDir}/controller.log`;

interface Route {
  netns?: string;
  dst: string;
  via: string;
}
interface LbState {
  startedAt: string;
  pool: string;
  rejectProtocols: string[];
  routes: Route[];
  pid?: number;
}

const log = stampedLog('lb');

function save(s: LbState): void {
  writeFileSync(statePath, JSON.stringify(s, null, 2) + '\n');
}

/** The controller's PID, only while that PID still runs our controller.ts (PIDs get reused). */
function controllerPid(): number | undefined {
  if (!existsSync(pidPath)) return undefined;
  const pid = Number(readFileSync(pidPath, 'utf8').split('\n')[0]);
  return pid > 0 && alive(pid) && cmdline(pid).includes(CONTROLLER) ? pid : undefined;
}

const ipIn = (r: Route) => (r.netns ? { netns: r.netns } : {});
const where = (r: Route) => (r.netns ? `netns ${r.netns}` : 'host');

async function up(poolSpec: string, reject: Set<string>): Promise<void> {
  if (process.getuid?.() !== 0) throw new ClusterError('lb up must run as root (it adds routes in the host and the outside netns)');
  const c = readClusterJson(stateDir);
  if (!c) throw new ClusterError(`the local cluster is not up (no ${stateDir}/cluster.json); run \`npm run cluster:up\` first`);
  if (controllerPid()) throw new ClusterError(`lb is already up (pid ${controllerPid()}, ${statePath}); run \`npm run lb:down\` first`);
  if (existsSync(statePath)) throw new ClusterError(`leftovers of an earlier lb up (${statePath}); run \`npm run lb:down\` first`);
  let pool: ReturnType<typeof parsePool>;
  try {
    pool = parsePool(poolSpec);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  for (const [cidr, what] of TAKEN)
    if (cidrsOverlap(pool.cidr, cidr))
      throw new UsageError(`pool ${pool.spec} overlaps ${cidr}, ${what}; pick a range outside 10.199.0.0/23, e.g. ${DEFAULT_POOL}`);
  const hostRoutes = (await run('ip', ['-4', 'route', 'show'])).stdout.split('\n').filter((l) => l.trim() && !l.startsWith('default'));
  const clash = hostRoutes.find((l) => {
    try {
      return cidrsOverlap(pool.cidr, l.split(' ')[0]!.includes('/') ? l.split(' ')[0]! : `${l.split(' ')[0]}/32`);
    } catch {
      return false;
    }
  });
  if (clash) throw new ClusterError(`the host already has a route into the pool ${pool.cidr} (\`${clash.trim()}\`); remove it or pick another --pool`);
  const node1 = c.nodes[0];
  if (!node1) throw new ClusterError(`${stateDir}/cluster.json lists no node`);

  mkdirSync(lbDir, { recursive: true });
  const s: LbState = { startedAt: new Date().toISOString(), pool: pool.spec, rejectProtocols: [...reject], routes: [] };
  save(s);
  // Layer 3, like MetalLB in BGP mode with one peer: the pool is announced (here: routed) via node1, whose
  // kube-proxy DNATs the LoadBalancer IP to any backend (also on node2). Pods need no route: kube-proxy
  // matches the LoadBalancer IP in PREROUTING on their own node.
  for (const r of [{ dst: pool.cidr, via: node1.ip }, ...(c.outside ? [{ netns: c.outside.netns, dst: pool.cidr, via: node1.ip }] : [])] as Route[]) {
    await run('ip', ['route', 'add', r.dst, 'via', r.via], ipIn(r));
    s.routes.push(r);
    save(s);
    log(`route ${r.dst} via ${r.via} (${where(r)})`);
  }

  const loader = import.meta.resolve('tsx');
  const args = [
    '--import',
    loader,
    CONTROLLER,
    '--state-dir',
    stateDir,
    '--pool',
    pool.spec,
    ...(reject.size ? ['--reject-protocols', [...reject].join(',')] : []),
  ];
  rmSync(`${lbDir}/ready`, { force: true });
  const fd = openSync(logPath, 'a');
  let pid: number;
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], cwd: join(here, '..', '..') });
    if (child.pid === undefined) throw new ClusterError(`could not start the controller (${process.execPath} ${CONTROLLER})`);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  writeFileSync(pidPath, `${pid}\n${CONTROLLER}\n`);
  s.pid = pid;
  save(s);
  log(`controller pid ${pid} (log ${logPath})`);
  const end = Date.now() + 30_000;
  for (;;) {
    if (existsSync(`${lbDir}/ready`)) break;
    if (!alive(pid)) throw new ClusterError(`the lb controller exited; last log lines:\n${tail(logPath, 15)}`);
    if (Date.now() > end) throw new ClusterError(`the lb controller did not finish its first round within 30s; last log lines:\n${tail(logPath, 15)}`);
    await sleep(200);
  }
  process.stdout.write(
    `lb up: controller pid ${pid} assigns LoadBalancer addresses from ${pool.spec} (${pool.size} addresses; ${reject.size ? `REJECTS ${[...reject].join(', ')} with a Warning Event` : 'any protocol, SCTP included'}); ` +
      `${pool.cidr} routed via ${node1.ip} from ${s.routes.map(where).join(' and ')}\n`,
  );
}

async function down(): Promise<void> {
  const s = readJson<LbState>(statePath);
  const c = readClusterJson(stateDir);
  const done: string[] = [];
  const pid = controllerPid();
  if (pid) done.push(`controller pid ${pid} ${await stopPid(pid, 5_000)}`);
  rmSync(pidPath, { force: true });
  // Give the addresses back (a provider being uninstalled); only when the API server answers quickly.
  if (s && c && existsSync(c.kubeconfig)) {
    try {
      const pool = parsePool(s.pool);
      const k = loadCluster(c.kubeconfig);
      const list = await api('list services', () => k.core.listServiceForAllNamespaces(), 5_000);
      for (const svc of list.items) {
        const ing = svc.status?.loadBalancer?.ingress ?? [];
        if (!ing.some((i) => i.ip && inPool(pool, i.ip))) continue;
        const keep = ing.filter((i) => !(i.ip && inPool(pool, i.ip)));
        await api(
          `clear status of ${svc.metadata!.namespace}/${svc.metadata!.name}`,
          () =>
            k.core.replaceNamespacedServiceStatus({
              namespace: svc.metadata!.namespace!,
              name: svc.metadata!.name!,
              body: { ...svc, status: { ...svc.status, loadBalancer: keep.length ? { ingress: keep } : {} } },
            }),
          5_000,
        ).then(
          () => done.push(`released ${ing.map((i) => i.ip).join(',')} of ${svc.metadata!.namespace}/${svc.metadata!.name}`),
          (e: Error) => log(e.message),
        );
      }
    } catch (e) {
      log(`not releasing addresses: ${(e as Error).message}`);
    }
  }
  for (const r of s?.routes ?? []) {
    if (r.netns && !existsSync(`/run/netns/${r.netns}`)) continue;
    const x = await run('ip', ['route', 'del', r.dst, 'via', r.via], { ...ipIn(r), allowFail: true });
    if (x.code === 0) done.push(`route ${r.dst} via ${r.via} (${where(r)})`);
  }
  // Keep the log (evidence); the cluster's own `down` removes the whole state dir.
  if (existsSync(lbDir)) for (const e of readdirSync(lbDir)) if (e !== 'controller.log') rmSync(`${lbDir}/${e}`, { recursive: true, force: true });
  process.stdout.write(`lb down: ${done.length ? `removed ${done.length} item(s):\n  ${done.join('\n  ')}` : 'nothing to do'}\n`);
}

async function status(json: boolean): Promise<number> {
  const s = readJson<LbState>(statePath);
  const c = readClusterJson(stateDir);
  const pid = controllerPid();
  const routes: { route: string; present: boolean }[] = [];
  for (const r of s?.routes ?? []) {
    const x = r.netns && !existsSync(`/run/netns/${r.netns}`) ? undefined : await run('ip', ['-4', 'route', 'show', r.dst], { ...ipIn(r), allowFail: true });
    routes.push({ route: `${r.dst} via ${r.via} (${where(r)})`, present: Boolean(x?.stdout.includes(`via ${r.via}`)) });
  }
  const assigned: { service: string; ips: string[]; protocols: string[] }[] = [];
  let apiErr = '';
  if (s && c) {
    try {
      const pool = parsePool(s.pool);
      const list = await api('list services', () => loadCluster(c.kubeconfig).core.listServiceForAllNamespaces(), 5_000);
      for (const svc of list.items) {
        const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip && inPool(pool, ip));
        if (ips.length)
          assigned.push({
            service: `${svc.metadata!.namespace}/${svc.metadata!.name}`,
            ips,
            protocols: (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`),
          });
      }
    } catch (e) {
      apiErr = (e as Error).message;
    }
  }
  const isUp = Boolean(s && pid && routes.every((r) => r.present));
  const out = {
    up: isUp,
    pid: pid ?? null,
    pool: s?.pool ?? null,
    rejectProtocols: s?.rejectProtocols ?? [],
    routes,
    assigned,
    log: logPath,
    ...(apiErr ? { apiError: apiErr } : {}),
  };
  if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    process.stdout.write(
      `lb: ${isUp ? 'up' : s ? 'partly up' : 'down'}${pid ? ` (controller pid ${pid})` : ''}${s ? `; pool ${s.pool}; ${s.rejectProtocols.length ? `rejects ${s.rejectProtocols.join(', ')}` : 'any protocol'}` : ''}\n`,
    );
    for (const r of routes) process.stdout.write(`  route ${r.route}: ${r.present ? 'present' : 'MISSING'}\n`);
    for (const a of assigned) process.stdout.write(`  ${a.service}: ${a.ips.join(', ')} (${a.protocols.join(' ')})\n`);
    if (apiErr) process.stdout.write(`  (services not listed: ${apiErr})\n`);
  }
  return isUp ? 0 : 1;
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  let v: { pool?: string; 'reject-protocols'?: string; json?: boolean };
  try {
    v = parseArgs({ args: rest, options: { pool: { type: 'string' }, 'reject-protocols': { type: 'string' }, json: { type: 'boolean' } } }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (cmd !== 'up' && (v.pool || v['reject-protocols'])) throw new UsageError('--pool and --reject-protocols belong to `up`');
  if (cmd !== 'status' && v.json) throw new UsageError('--json belongs to `status`');
  switch (cmd) {
    case 'up': {
      let reject: Set<string>;
      try {
        reject = parseProtocols(v['reject-protocols'] ?? '');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      try {
        await up(v.pool ?? DEFAULT_POOL, reject);
      } catch (e) {
        if (!(e instanceof UsageError) && existsSync(statePath)) {
          log('up failed; tearing down what it started');
          await down().catch((d: unknown) => log(`teardown after failure also failed: ${(d as Error).message}`));
        }
        throw e;
      }
      return 0;
    }
    case 'down':
      await down();
      return 0;
    case 'status':
      return status(Boolean(v.json));
    default:
      throw new UsageError(cmd ? `unknown command "${cmd}"` : 'missing command');
  }
}

runMain('lb', main, { usage: USAGE });
