// The LoadBalancer controller of the local cluster, started detached by `tsx cluster/lb/cli.ts up`.
// Every ~1 s it lists Services, decides (pool.ts) and writes status.loadBalancer.ingress through the status
// subresource; kube-proxy then programs the address like any LoadBalancer IP. It never looks at the
// protocol unless started with --reject-protocols (a simulated provider without SCTP load balancers), in
// which case it records a Warning Event on the Service and assigns nothing.
// It exits by itself when the cluster it was started for is gone (cluster.json removed or replaced), so a
// `cluster down` that does not call `lb down` does not leave it polling.
//
// argv: --state-dir DIR --pool CIDR|RANGE [--reject-protocols P,...]

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { withDeadline } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { apiErrorMessage } from '../../lib/k8s/client.ts';
import { readClusterJson, readClusterState } from '../contract.ts';
import { ClusterError } from '../run.ts';
import { type Decision, decide, desiredIngress, parsePool, parseProtocols, type SvcView } from './pool.ts';

const COMPONENT = 'sctp-e2e-lb';
const INTERVAL_MS = 1000;
const API_TIMEOUT_MS = 10_000;

const { values } = parseArgs({ options: { 'state-dir': { type: 'string' }, pool: { type: 'string' }, 'reject-protocols': { type: 'string' } } });
const stateDir = values['state-dir']!;
const pool = parsePool(values.pool!);
const rejectProtocols = parseProtocols(values['reject-protocols'] ?? '');
const lbDir = `${stateDir}/lb`;

function log(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

/** Identity of the cluster we serve: its kubeconfig plus the cluster's startedAt. */
function clusterStamp(): string | undefined {
  try {
    const c = readClusterJson(stateDir);
    return c && `${c.kubeconfig}@${readClusterState(stateDir)?.startedAt ?? ''}`;
  } catch {
    return undefined;
  }
}

// set by main() once the cluster is found
let stamp = '';
let kubeconfig = '';
let core: k8s.CoreV1Api;
const call = <T>(what: string, fn: () => Promise<T>) => withDeadline(what, API_TIMEOUT_MS, fn);

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    log(`${sig}: stopping`);
    stopping = true;
  });

function view(s: k8s.V1Service): SvcView {
  return {
    namespace: s.metadata!.namespace!,
    name: s.metadata!.name!,
    uid: s.metadata!.uid ?? '',
    type: s.spec?.type ?? 'ClusterIP',
    loadBalancerClass: s.spec?.loadBalancerClass,
    requestedIP: s.spec?.loadBalancerIP || undefined,
    protocols: (s.spec?.ports ?? []).map((p) => p.protocol ?? 'TCP'),
    ingressIPs: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean),
    created: String(s.metadata?.creationTimestamp instanceof Date ? s.metadata.creationTimestamp.toISOString() : (s.metadata?.creationTimestamp ?? '')),
  };
}

/** Events already recorded, by Service uid + message, so a Service gets each warning once per controller run. */
const recorded = new Set<string>();

async function event(s: k8s.V1Service, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const key = `${s.metadata!.uid}|${reason}|${message}`;
  if (recorded.has(key)) return;
  const now = new Date();
  await call(`create event for ${s.metadata!.namespace}/${s.metadata!.name}`, () =>
    core.createNamespacedEvent({
      namespace: s.metadata!.namespace!,
      body: {
        metadata: {
          name: `${s.metadata!.name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
          namespace: s.metadata!.namespace,
        },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Service',
          name: s.metadata!.name,
          namespace: s.metadata!.namespace,
          uid: s.metadata!.uid,
          resourceVersion: s.metadata!.resourceVersion,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: `${COMPONENT}-${process.pid}`,
      },
    }),
  );
  recorded.add(key);
}

async function writeIngress(s: k8s.V1Service, ingress: { ip: string; ipMode: 'VIP' }[]): Promise<void> {
  // replace* carries the listed resourceVersion: a concurrent change makes it fail with 409 and the next round redoes it.
  const body: k8s.V1Service = { ...s, status: { ...s.status, loadBalancer: ingress.length ? { ingress } : {} } };
  await call(`update status of ${s.metadata!.namespace}/${s.metadata!.name}`, () =>
    core.replaceNamespacedServiceStatus({ namespace: s.metadata!.namespace!, name: s.metadata!.name!, body }),
  );
}

async function apply(d: Decision, s: k8s.V1Service): Promise<void> {
  const id = `${d.svc.namespace}/${d.svc.name}`;
  const ingress = desiredIngress(d);
  switch (d.kind) {
    case 'keep':
      return;
    case 'assign':
      await writeIngress(s, ingress!);
      log(`assigned ${d.ip} to ${id} (${d.svc.protocols.join(',')})`);
      await event(s, 'Normal', 'IPAllocated', `Assigned IP ["${d.ip}"] from pool ${pool.spec}`);
      return;
    case 'release':
      await writeIngress(s, ingress!);
      log(`released ${d.ips.join(', ')} from ${id}: ${d.why}`);
      return;
    case 'reject':
    case 'pending':
      if (ingress) {
        await writeIngress(s, ingress);
        log(`released ${d.release.join(', ')} from ${id}`);
      }
      if (!recorded.has(`${s.metadata!.uid}|${d.kind === 'reject' ? 'SyncLoadBalancerFailed' : 'AllocationFailed'}|${d.message}`)) log(`${id}: ${d.message}`);
      await event(s, 'Warning', d.kind === 'reject' ? 'SyncLoadBalancerFailed' : 'AllocationFailed', d.message);
  }
}

async function round(): Promise<void> {
  const list = await call('list services', () => core.listServiceForAllNamespaces());
  const byKey = new Map(list.items.map((s) => [`${s.metadata!.namespace}/${s.metadata!.name}`, s]));
  for (const d of decide(list.items.map(view), { pool, rejectProtocols })) {
    try {
      await apply(d, byKey.get(`${d.svc.namespace}/${d.svc.name}`)!);
    } catch (e) {
      log(`${d.kind} ${d.svc.namespace}/${d.svc.name}: ${apiErrorMessage(e)} (retrying next round)`);
    }
  }
}

async function main(): Promise<void> {
  const found = clusterStamp();
  if (!found) throw new ClusterError(`no cluster at ${stateDir}/cluster.json; exiting`);
  stamp = found;
  kubeconfig = found.split('@')[0]!;
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
  log(
    `started: pid ${process.pid}, pool ${pool.spec} (${pool.size} addresses), ${rejectProtocols.size ? `rejecting ${[...rejectProtocols].join(', ')}` : 'every protocol accepted'}, ` +
      `kubeconfig ${kubeconfig}`,
  );
  let ready = false;
  let lastErr = '';
  while (!stopping) {
    if (clusterStamp() !== stamp) {
      log(`the cluster at ${stateDir} is gone or was replaced; exiting`);
      break;
    }
    try {
      await round();
      if (!ready) {
        ready = true;
        writeFileSync(`${lbDir}/ready`, `${process.pid}\n`);
        log('first round done; ready');
      }
      lastErr = '';
    } catch (e) {
      const m = apiErrorMessage(e);
      if (m !== lastErr) log(`round failed: ${m}`);
      lastErr = m;
    }
    for (let t = 0; t < INTERVAL_MS && !stopping; t += 100) await new Promise((r) => setTimeout(r, 100));
  }
  log('stopped');
}

runMain('lb controller', main);
