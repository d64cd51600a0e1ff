// `tsx cluster/knp/cli.ts up [--v N] | down | status [--json] | logs [--lines N] | cordon | uncordon`
// (npm run knp:build|knp:up|knp:down|knp:status): kube-network-policies (sigs.k8s.io/kube-network-policies, nftables +
// nfqueue) as the NetworkPolicy implementation of the kernel-lane VM node (vm/: `npm run vm:up -- --join-cluster`),
// run as a host process there the way its DaemonSet runs it (host network, privileged, its own least-privilege
// ServiceAccount). This host's kernel has no nft `queue` expression (CONFIG_NFT_QUEUE is not set), so it cannot
// run on the local cluster's netns nodes. `cordon`/`uncordon`: the local cluster's netns nodes, so that test pods
// land on the VM node only (what cordon cordoned is recorded; uncordon undoes exactly that).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatDuration, roundSeconds } from '../../lib/framework/duration.ts';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { apiServerURL, type ClusterJson, type ClusterSsh, clusterDir, layout, parseClusterJson, readClusterJson, readClusterState } from '../contract.ts';
import { ClusterError, readJson, run, sleep, stampedLog } from '../run.ts';
import {
  describeStatus,
  GUEST_BIN,
  type GuestStatus,
  isRunning,
  KNP_VERSION,
  type KnpState,
  NODE_ANNOTATION,
  nodesToCordon,
  parseGuestStatus,
  QUEUE_ID,
  renderRbac,
  renderStartScript,
  renderStatusScript,
  renderStopScript,
  SA,
  UNIT,
} from './render.ts';

const here = dirname(fileURLToPath(import.meta.url));
const log = stampedLog('knp');
const VM_NODE = 'sctp-e2e-vm';
const USAGE = `usage: tsx cluster/knp/cli.ts up [--v N] | down | status [--json] | logs [--lines N] | cordon | uncordon
  up: kube-network-policies ${KNP_VERSION} on the kernel-lane VM node ${VM_NODE} (npm run vm:up -- --join-cluster first)
  state: $SCTP_E2E_CLUSTER_DIR (or /var/lib/sctp-e2e/cluster)/knp; binary: $SCTP_E2E_KNP_BIN or cluster/knp/build.sh`;

const stateDir = clusterDir();
const knpDir = join(stateDir, 'knp');
const statePath = join(knpDir, 'state.json');
const cordonPath = join(knpDir, 'cordoned.json');

function cluster(): ClusterJson {
  const c = readClusterJson(stateDir);
  if (!c) throw new ClusterError(`the local cluster is not up (no ${stateDir}/cluster.json); run \`npm run cluster:up\` first`);
  return c;
}

function kubectlBin(): string {
  const s = readClusterState(stateDir);
  return s?.binDir && existsSync(`${s.binDir}/kubectl`) ? `${s.binDir}/kubectl` : 'kubectl';
}

const kubectl = (c: ClusterJson, args: string[], o: { allowFail?: boolean; input?: string; timeoutMs?: number } = {}) =>
  run(kubectlBin(), [`--kubeconfig=${c.kubeconfig}`, '--request-timeout=20s', ...args], { timeoutMs: o.timeoutMs ?? 40_000, ...o });

/** The VM node's ssh parameters, from the cluster.json vm/join.ts merges (ssh over the cluster NIC, host key pinned). */
function vmSsh(): ClusterSsh {
  const p = join(process.env.SCTP_E2E_VM_DIR ?? '/var/lib/sctp-e2e/vm', 'join', 'cluster', 'cluster.json');
  if (!existsSync(p)) throw new ClusterError(`the kernel-lane VM has not joined the cluster (${p} missing): run \`npm run vm:up -- --join-cluster\` first`);
  const s = parseClusterJson(readFileSync(p, 'utf8'), p).nodes.find((n) => n.name === VM_NODE)?.ssh;
  if (!s) throw new ClusterError(`${p} has no ssh entry for node ${VM_NODE}`);
  return s;
}

const sshOpts = (s: ClusterSsh) => [
  '-i',
  s.keyPath,
  '-o',
  `UserKnownHostsFile=${s.knownHostsPath}`,
  '-o',
  'GlobalKnownHostsFile=/dev/null',
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'ConnectTimeout=10',
  '-o',
  'LogLevel=ERROR',
];

function guest(script: string, o: { allowFail?: boolean; timeoutMs?: number } = {}) {
  const s = vmSsh();
  return run('ssh', [...sshOpts(s), '-p', String(s.port), `${s.user}@${s.host}`, 'bash -euo pipefail -s'], {
    input: script,
    timeoutMs: o.timeoutMs ?? 60_000,
    allowFail: o.allowFail,
  });
}

async function guestStatus(): Promise<GuestStatus> {
  return parseGuestStatus((await guest(renderStatusScript(QUEUE_ID), { timeoutMs: 30_000 })).stdout);
}

async function binary(): Promise<string> {
  if (process.env.SCTP_E2E_KNP_BIN) return process.env.SCTP_E2E_KNP_BIN;
  const r = await run('bash', [join(here, 'build.sh')], { timeoutMs: 1_800_000 });
  const bin = r.stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(bin)) throw new ClusterError(`cluster/knp/build.sh printed no binary path (last line: ${JSON.stringify(bin)})`);
  return bin;
}

async function up(verbosity: number): Promise<number> {
  const t0 = Date.now();
  const c = cluster();
  if (!c.nodes.some((n) => n.name === VM_NODE)) {
    // the local cluster.json does not list the VM; the Node object must exist
    const n = await kubectl(c, ['get', 'node', VM_NODE, '-o', 'name'], { allowFail: true });
    if (n.code !== 0) throw new ClusterError(`node ${VM_NODE} is not in the cluster: run \`npm run vm:up -- --join-cluster\` first`);
  }
  if (existsSync(statePath)) throw new ClusterError(`kube-network-policies is up already or was not taken down (${statePath}); run \`npm run knp:down\` first`);
  const bin = await binary();
  mkdirSync(knpDir, { recursive: true });
  const apiServer = apiServerURL();
  const st: KnpState = {
    version: KNP_VERSION,
    node: VM_NODE,
    binary: bin,
    unit: UNIT,
    pid: 0,
    queueId: QUEUE_ID,
    verbosity,
    apiServer,
    startedAt: new Date().toISOString(),
    upSeconds: 0,
  };
  writeFileSync(statePath, `${JSON.stringify(st, null, 2)}\n`); // recorded first: down undoes a half-done up

  log(`RBAC: ServiceAccount ${SA.namespace}/${SA.name}, ClusterRole/Binding ${SA.name} (list/watch pods, namespaces, networkpolicies)`);
  await kubectl(c, ['apply', '-f', '-'], { input: renderRbac() });
  const token = (await kubectl(c, ['create', 'token', SA.name, '-n', SA.namespace, '--duration=24h'])).stdout.trim();
  const caPem = readFileSync(join(layout(stateDir).pki, 'ca.crt'), 'utf8');

  const s = vmSsh();
  const tc = Date.now();
  await run('scp', [...sshOpts(s), '-q', '-P', String(s.port), bin, `${s.user}@${s.host}:/tmp/kube-network-policies`], { timeoutMs: 300_000 });
  await guest(`install -D -m 0755 /tmp/kube-network-policies ${GUEST_BIN} && rm -f /tmp/kube-network-policies`);
  log(`copied ${bin} to ${VM_NODE}:${GUEST_BIN} in ${formatDuration(Date.now() - tc)}`);

  const started = await guest(renderStartScript({ node: VM_NODE, apiServer, token, caPem, verbosity, queueId: QUEUE_ID }));
  st.pid = Number(started.stdout.trim().split('\n').pop());
  writeFileSync(statePath, `${JSON.stringify(st, null, 2)}\n`);
  log(
    `started ${UNIT} on ${VM_NODE} (PID ${st.pid}): ${GUEST_BIN} --hostname-override=${VM_NODE} --v=${verbosity} --nfqueue-id=${QUEUE_ID} (API ${apiServer})`,
  );

  const deadline = Date.now() + 180_000;
  let last: GuestStatus | undefined;
  for (;;) {
    last = await guestStatus().catch(() => last);
    if (last && isRunning(last)) break;
    if (last && last.active !== 'active' && last.active !== 'activating') {
      const j = await guest(`journalctl -u ${UNIT} --no-pager | tail -n 20`, { allowFail: true });
      throw new ClusterError(`kube-network-policies exited on ${VM_NODE} (${describeStatus(last)}); \`npm run knp:down\` cleans up`, j.stdout);
    }
    if (Date.now() > deadline) {
      const j = await guest(`journalctl -u ${UNIT} --no-pager | tail -n 20`, { allowFail: true });
      process.stderr.write(j.stdout);
      throw new ClusterError(
        `kube-network-policies on ${VM_NODE} not ready after 180s (${last ? describeStatus(last) : 'no status'}); its journal tail is above; \`npm run knp:down\` cleans up`,
      );
    }
    await sleep(2_000);
  }
  await kubectl(c, ['annotate', '--overwrite', 'node', VM_NODE, `${NODE_ANNOTATION}=${KNP_VERSION} host process (cluster/knp), nfqueue ${QUEUE_ID}`]);
  st.upSeconds = roundSeconds(Date.now() - t0);
  writeFileSync(statePath, `${JSON.stringify(st, null, 2)}\n`);
  log(`up in ${formatDuration(Date.now() - t0)}: ${describeStatus(last)}`);
  return 0;
}

async function down(): Promise<number> {
  const st = readJson<KnpState>(statePath);
  const c = readClusterJson(stateDir);
  let vmThere = true;
  try {
    vmSsh();
  } catch {
    vmThere = false;
  }
  if (vmThere) {
    const r = await guest(renderStopScript(), { allowFail: true, timeoutMs: 90_000 });
    for (const l of r.stdout.trim().split('\n').filter(Boolean)) log(l);
    if (r.code !== 0) throw new ClusterError(`stopping kube-network-policies on ${VM_NODE} failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  } else log(`the kernel-lane VM is not joined: nothing to stop there`);
  if (c) {
    await kubectl(c, ['annotate', 'node', VM_NODE, `${NODE_ANNOTATION}-`], { allowFail: true });
    await kubectl(c, ['delete', 'clusterrolebinding,clusterrole', SA.name, '--ignore-not-found'], { allowFail: true });
    await kubectl(c, ['delete', 'serviceaccount', '-n', SA.namespace, SA.name, '--ignore-not-found'], { allowFail: true });
  }
  rmSync(statePath, { force: true });
  log(st ? `down (was PID ${st.pid}, started ${st.startedAt})` : 'down (no state: nothing was recorded as up)');
  return 0;
}

async function status(json: boolean): Promise<number> {
  const st = readJson<KnpState>(statePath);
  let g: GuestStatus | undefined;
  let error: string | undefined;
  try {
    g = await guestStatus();
  } catch (e) {
    error = (e as Error).message;
  }
  const up = Boolean(st && g && isRunning(g));
  if (json) process.stdout.write(`${JSON.stringify({ up, state: st ?? null, guest: g ?? null, ...(error ? { error } : {}) }, null, 2)}\n`);
  else process.stdout.write(`kube-network-policies ${up ? 'up' : 'not up'} on ${VM_NODE}: ${g ? describeStatus(g) : error}${st ? '' : ' (no state)'}\n`);
  return up ? 0 : 3;
}

async function logs(lines: number): Promise<number> {
  const r = await guest(`journalctl -u ${UNIT} --no-pager -o short-precise | tail -n ${lines}`, { allowFail: true });
  process.stdout.write(r.stdout);
  return r.code ?? 1;
}

async function cordon(on: boolean): Promise<number> {
  const c = cluster();
  if (on) {
    const r = await kubectl(c, ['get', 'nodes', '-o', 'jsonpath={range .items[?(@.spec.unschedulable==true)]}{.metadata.name}{"\\n"}{end}']);
    const already = new Set(r.stdout.split('\n').filter(Boolean));
    const names = nodesToCordon(c.nodes, already);
    const prev = readJson<string[]>(cordonPath) ?? [];
    mkdirSync(knpDir, { recursive: true });
    writeFileSync(cordonPath, `${JSON.stringify([...new Set([...prev, ...names])])}\n`); // before: uncordon undoes a half-done cordon
    for (const n of names) await kubectl(c, ['cordon', n]);
    log(`cordoned ${names.join(', ') || 'nothing (already unschedulable)'}: new pods go to ${VM_NODE} only`);
  } else {
    const names = readJson<string[]>(cordonPath) ?? [];
    for (const n of names) await kubectl(c, ['uncordon', n], { allowFail: true });
    rmSync(cordonPath, { force: true });
    log(`uncordoned ${names.join(', ') || 'nothing (cordon recorded none)'}`);
  }
  return 0;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { json: { type: 'boolean' }, v: { type: 'string' }, lines: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [cmd, ...rest] = positionals;
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (process.getuid?.() !== 0) throw new UsageError('cluster/knp must run as root (it ssh-es into the VM with the key vm/ made as root)');
  switch (cmd) {
    case 'up': {
      const v = Number(values.v ?? 2);
      if (!Number.isInteger(v) || v < 0 || v > 10) throw new UsageError(`--v must be an integer 0..10, not ${values.v}`);
      return up(v);
    }
    case 'down':
      return down();
    case 'status':
      return status(Boolean(values.json));
    case 'logs':
      return logs(Number(values.lines ?? 200));
    case 'cordon':
      return cordon(true);
    case 'uncordon':
      return cordon(false);
    default:
      throw new UsageError(cmd ? `unknown command ${JSON.stringify(cmd)}` : 'no command');
  }
}

runMain('knp', main, { usage: USAGE });
