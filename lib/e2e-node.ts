// Node access for specs (f.node): the transport chosen once per describe by lib/node/select.ts (the reason
// is printed), readers for netfilter rules and proxy mode, and the sctp.ko state.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cluster } from './e2e-cluster.ts';
import { getRunConfig } from './framework/config.ts';
import { ExitCode, UserError } from './framework/errors.ts';
import { runCleanup } from './framework/framework.ts';
import { RUN_LABEL } from './framework/run-label.ts';
import { timeouts } from './framework/timeouts.ts';
import { api } from './k8s/client.ts';
import type { NodeExec } from './node/exec.ts';
import type { HostPortQuery, ServiceQuery } from './node/netfilter/find.ts';
import { type NodeNetfilter, nodeNetfilter, type ProxyModeResult, type RuleSearch } from './node/netfilter/index.ts';
import { compareSctpModule, probeSctpModule, type SctpModuleState } from './node/sctp-module.ts';
import { type NodeAccess, type NodeAccessDecision, selectNodeAccess } from './node/select.ts';

export interface NodeLayer {
  /** The transport choice; skips the calling test with the reason when there is none. */
  access(): Promise<NodeAccessDecision>;
  exec(node: string): Promise<NodeExec>;
  proxyMode(node: string): Promise<ProxyModeResult>;
  serviceRules(node: string, q: ServiceQuery): Promise<RuleSearch>;
  hostPortRules(node: string, q: HostPortQuery): Promise<RuleSearch>;
  sctpModule(node: string): Promise<SctpModuleState>;
}

let selected: Promise<NodeAccess> | undefined;
const readers = new Map<string, NodeNetfilter>();

async function select(): Promise<NodeAccess> {
  const cfg = getRunConfig();
  const c = cluster();
  const nodes = (await api('list nodes', () => c.core.listNode())).items.map((n) => ({
    name: n.metadata!.name!,
    providerID: n.spec?.providerID,
    internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    externalIP: n.status?.addresses?.find((a) => a.type === 'ExternalIP')?.address,
  }));
  // Host pods need a namespace that admits privileged pods; it is cheap, and removed with the describe.
  const ns = await api('create host-exec namespace', () =>
    c.core.createNamespace({
      body: { metadata: { generateName: 'sctp-e2e-hostexec-', labels: { [RUN_LABEL]: cfg.runId, 'pod-security.kubernetes.io/enforce': 'privileged' } } },
    }),
  );
  const nsName = ns.metadata!.name!;
  runCleanup.defer(`delete namespace ${nsName}`, () => api(`delete namespace ${nsName}`, () => c.core.deleteNamespace({ name: nsName })));
  let access: NodeAccess;
  try {
    access = await selectNodeAccess({
      nodes,
      explicit: cfg.nodeAccess === 'auto' ? undefined : { value: cfg.nodeAccess, from: '--node-access' },
      hostPod: { kubeConfig: c.kc, namespace: nsName, image: cfg.images.hostExec, labels: { [RUN_LABEL]: cfg.runId } },
      timeoutMs: timeouts.nodeExec,
      log: (l) => process.stderr.write(`    ${l}\n`),
    });
  } catch (e) {
    throw new UserError((e as Error).message, ExitCode.nodeAccess);
  }
  runCleanup.defer('close node access', async () => {
    selected = undefined;
    readers.clear();
    await access.closeAll();
  });
  return access;
}

/** Evidence for a failed test: every node the test touched gets its full rule dumps written to artifacts. */
export type OnFailure = (what: string, fn: (dir: string) => Promise<void>) => void;

export function nodeLayer(skip: (reason: string) => never, onFailure: OnFailure = () => {}): NodeLayer {
  const access = async () => {
    selected ??= select();
    const a = await selected;
    if (a.mode === 'none') skip(`no node access: ${a.reason}`);
    return a;
  };
  const exec = async (node: string) => {
    const e = (await access()).exec(node);
    if (!e) skip(`no node access to ${node}`);
    onFailure(`node ${node} rules`, async (dir) => {
      const recs = await nodeNetfilter(e, { timeoutMs: timeouts.nodeExec }).dumpAll();
      const text = recs.map((r) => `$ ${r.command}   # exit ${r.code}\n${r.lines.join('\n')}\n${r.stderr}`).join('\n');
      writeFileSync(join(dir, `node-${node}-rules.txt`), text);
    });
    return e;
  };
  // one reader per node: it remembers the detected proxy mode
  const nf = async (node: string) => {
    let r = readers.get(node);
    if (!r) {
      r = nodeNetfilter(await exec(node), { timeoutMs: timeouts.nodeExec });
      readers.set(node, r);
    }
    return r;
  };
  return {
    access: async () => {
      const a = await access();
      return { mode: a.mode, reason: a.reason };
    },
    exec,
    proxyMode: async (node) => (await nf(node)).detectProxyMode(),
    serviceRules: async (node, q) => (await nf(node)).serviceRules(q),
    hostPortRules: async (node, q) => (await nf(node)).hostPortRules(q),
    sctpModule: async (node) => probeSctpModule(await exec(node), { timeoutMs: timeouts.nodeExec }),
  };
}

export { compareSctpModule };
