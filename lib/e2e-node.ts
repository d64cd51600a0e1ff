// Node access for specs: one transport per run chosen automatically (the reason is printed), readers for
// netfilter rules, proxy mode and the sctp.ko state. Specs reach it as f.node.

import { getRunConfig, type RunConfig } from './framework/config.ts';
import { cluster, runCleanup } from './framework/framework.ts';
import { timeouts } from './framework/timeouts.ts';
import { api } from './k8s/client.ts';
import type { NodeExec } from './node/exec.ts';
import { dockerExec } from './node/docker.ts';
import { hostPodExec } from './node/hostpod.ts';
import { sshExec } from './node/ssh.ts';
import { nodeNetfilter, type ProxyModeResult, type RuleSearch } from './node/netfilter/index.ts';
import type { HostPortQuery, ServiceQuery } from './node/netfilter/find.ts';
import { compareSctpModule, probeSctpModule, type SctpModuleState } from './node/sctp-module.ts';
import { RUN_LABEL } from './k8s/builders.ts';

export type AccessMode = 'ssh' | 'hostpod' | 'docker' | 'none';

export interface NodeAccessChoice {
  mode: AccessMode;
  reason: string;
}

/** Pure: which transport, and why. */
export function chooseNodeAccess(o: {
  requested: RunConfig['nodeAccess'];
  env: NodeJS.ProcessEnv;
  nodes: Array<{ name: string; providerID?: string }>;
  localClusterSsh: boolean;
}): NodeAccessChoice {
  if (o.requested !== 'auto') return { mode: o.requested, reason: `requested with --node-access ${o.requested}` };
  if (o.nodes.length && o.nodes.every((n) => n.providerID?.startsWith('kind://'))) {
    return { mode: 'docker', reason: 'nodes have kind:// provider IDs (kind): docker exec into the node containers' };
  }
  if (o.localClusterSsh) return { mode: 'ssh', reason: 'the local cluster (cluster.json) gives SSH parameters for its nodes' };
  if (o.env.KUBE_SSH_KEY_PATH) return { mode: 'ssh', reason: `KUBE_SSH_KEY_PATH is set (${o.env.KUBE_SSH_KEY_PATH})` };
  return { mode: 'hostpod', reason: 'no SSH configured (KUBE_SSH_KEY_PATH unset) and not kind: a privileged host pod per node with nsenter' };
}

export interface NodeLayer {
  /** The transport choice (skip the test with its reason when mode is none). */
  access(): Promise<NodeAccessChoice & { describe(node: string): string }>;
  exec(node: string): Promise<NodeExec>;
  proxyMode(node: string): Promise<ProxyModeResult>;
  serviceRules(node: string, q: ServiceQuery): Promise<RuleSearch>;
  hostPortRules(node: string, q: HostPortQuery): Promise<RuleSearch>;
  sctpModule(node: string): Promise<SctpModuleState>;
}

let choice: Promise<NodeAccessChoice> | undefined;
const execs = new Map<string, NodeExec>();
let hostPodNs: Promise<string> | undefined;

async function decide(cfg: RunConfig): Promise<NodeAccessChoice> {
  const c = cluster();
  const nodes = (await api('list nodes', () => c.core.listNode())).items.map((n) => ({ name: n.metadata!.name!, providerID: n.spec?.providerID }));
  const ch = chooseNodeAccess({
    requested: cfg.nodeAccess,
    env: process.env,
    nodes,
    localClusterSsh: !!cfg.localCluster?.nodes.some((n) => n.ssh),
  });
  process.stderr.write(`    node access: ${ch.mode} — ${ch.reason}\n`);
  return ch;
}

async function ensureHostPodNamespace(cfg: RunConfig): Promise<string> {
  const c = cluster();
  const ns = await api('create host-exec namespace', () =>
    c.core.createNamespace({
      body: { metadata: { generateName: 'sctp-e2e-hostexec-', labels: { [RUN_LABEL]: cfg.runId, 'pod-security.kubernetes.io/enforce': 'privileged' } } },
    }));
  const name = ns.metadata!.name!;
  runCleanup.defer(`delete namespace ${name}`, () => api(`delete namespace ${name}`, () => c.core.deleteNamespace({ name })));
  return name;
}

async function makeExec(node: string, mode: AccessMode, cfg: RunConfig): Promise<NodeExec> {
  if (mode === 'docker') return dockerExec({ node, timeoutMs: timeouts.nodeExec });
  if (mode === 'ssh') {
    const local = cfg.localCluster?.nodes.find((n) => n.name === node);
    if (local?.ssh) {
      return sshExec({ node, host: local.ssh.host, port: local.ssh.port, user: local.ssh.user, keyPath: local.ssh.keyPath, knownHostsPath: local.ssh.knownHostsPath, timeoutMs: timeouts.nodeExec });
    }
    const c = cluster();
    const n = await api(`get node ${node}`, () => c.core.readNode({ name: node }));
    const addr = n.status?.addresses?.find((a) => a.type === 'ExternalIP')?.address ?? n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!addr) throw new Error(`node ${node} has no ExternalIP or InternalIP address to SSH to`);
    return sshExec({ node, host: addr, timeoutMs: timeouts.nodeExec });
  }
  if (mode === 'hostpod') {
    hostPodNs ??= ensureHostPodNamespace(cfg);
    return hostPodExec({ kubeConfig: cluster().kc, node, namespace: await hostPodNs, image: cfg.image, timeoutMs: timeouts.nodeExec, startTimeoutMs: timeouts.podStart });
  }
  throw new Error('node access is disabled (--node-access none)');
}

export function nodeLayer(skip: (reason: string) => never): NodeLayer {
  const cfg = () => getRunConfig();
  const access = async () => {
    if (!choice) {
      choice = decide(cfg());
      runCleanup.defer('forget node access', async () => {
        const all = [...execs.values()];
        execs.clear();
        choice = undefined;
        hostPodNs = undefined;
        await Promise.allSettled(all.map((e) => e.close()));
      });
    }
    const ch = await choice;
    if (ch.mode === 'none') skip(`no node access (${ch.reason})`);
    return { ...ch, describe: (node: string) => execs.get(node)?.description ?? ch.mode };
  };
  const exec = async (node: string) => {
    const ch = await access();
    let e = execs.get(node);
    if (!e) {
      e = await makeExec(node, ch.mode, cfg());
      execs.set(node, e);
    }
    return e;
  };
  const nf = async (node: string) => nodeNetfilter(await exec(node), { timeoutMs: timeouts.nodeExec });
  return {
    access,
    exec,
    proxyMode: async (node) => (await nf(node)).detectProxyMode(),
    serviceRules: async (node, q) => (await nf(node)).serviceRules(q),
    hostPortRules: async (node, q) => (await nf(node)).hostPortRules(q),
    sctpModule: async (node) => probeSctpModule(await exec(node), { timeoutMs: timeouts.nodeExec }),
  };
}

export { compareSctpModule };
