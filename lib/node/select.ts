// Chooses how to reach nodes, and says why:
//   explicit option / SCTP_E2E_NODE_ACCESS (ssh|hostpod|docker|local|none)
//   > kind detected (providerID kind:// or a -control-plane/-worker name, AND a docker container of that name) → docker
//   > SSH configured (KUBE_SSH_KEY_PATH set, or the local cluster.json gives ssh for the nodes) → ssh
//   > hostpod (needs a kubeconfig, a privileged namespace and an image) > none.
import { existsSync, readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { type ClusterNode, clusterDir, clusterJsonPath as contractClusterJsonPath, parseClusterJson } from '../../cluster/contract.ts';
import { NODE_ACCESS_MODES, type NodeAccessMode } from '../framework/node-access.ts';
import { dockerExec } from './docker.ts';
import { localExec, type NodeExec } from './exec.ts';
import { hostPodExec } from './hostpod.ts';
import { type SshOptions, sshExec } from './ssh.ts';

export interface NodeInfo {
  name: string;
  providerID?: string;
  internalIP?: string;
  externalIP?: string;
}

export interface SelectFacts {
  explicit?: { value: string; from: string }; // e.g. { value: 'ssh', from: '--node-access' }
  env: NodeJS.ProcessEnv;
  nodes: NodeInfo[];
  dockerContainers?: string[]; // undefined: docker not available or not asked
  clusterNodes?: ClusterNode[];
  clusterJsonPath?: string;
  hostPodPossible: boolean;
}

export interface NodeAccessDecision {
  mode: NodeAccessMode;
  reason: string;
}

const KIND_NAME = /-(control-plane\d*|worker\d*)$/;

/** Pure decision. Throws one sentence for an invalid explicit value or an explicit mode that cannot work. */
export function decideNodeAccess(f: SelectFacts): NodeAccessDecision {
  const explicit = f.explicit ?? (f.env.SCTP_E2E_NODE_ACCESS ? { value: f.env.SCTP_E2E_NODE_ACCESS, from: 'SCTP_E2E_NODE_ACCESS' } : undefined);
  if (explicit) {
    const v = explicit.value as NodeAccessMode;
    if (!NODE_ACCESS_MODES.includes(v)) throw new Error(`${explicit.from}=${explicit.value} is not one of ${NODE_ACCESS_MODES.join('|')}`);
    if (v === 'local' && !f.clusterNodes?.some((n) => n.netns))
      throw new Error(`${explicit.from}=local needs the local cluster's cluster.json with a netns per node (looked at ${f.clusterJsonPath ?? 'no path'})`);
    if (v === 'hostpod' && !f.hostPodPossible)
      throw new Error(`${explicit.from}=hostpod needs a kubeconfig, a namespace that admits privileged pods and an image`);
    return { mode: v, reason: `${explicit.from}=${v} (explicit)` };
  }
  const containers = new Set(f.dockerContainers ?? []);
  const kindNodes = f.nodes.filter((n) => n.providerID?.startsWith('kind://') || KIND_NAME.test(n.name));
  if (kindNodes.length > 0 && kindNodes.length === f.nodes.length && f.nodes.every((n) => containers.has(n.name))) {
    const n = kindNodes[0]!;
    const why = n.providerID?.startsWith('kind://') ? `providerID ${n.providerID}` : `a kind-style name`;
    return { mode: 'docker', reason: `kind detected: node ${n.name} has ${why} and every node has a docker container of the same name` };
  }
  const kindNote =
    kindNodes.length > 0 ? ` (kind-like nodes seen, but ${f.dockerContainers ? 'no docker container for every node' : 'docker is not available'})` : '';
  if (f.env.KUBE_SSH_KEY_PATH) return { mode: 'ssh', reason: `KUBE_SSH_KEY_PATH=${f.env.KUBE_SSH_KEY_PATH} is set${kindNote}` };
  if (f.clusterNodes?.length && f.nodes.every((n) => f.clusterNodes!.some((c) => c.name === n.name && c.ssh))) {
    return { mode: 'ssh', reason: `the local cluster's ${f.clusterJsonPath ?? 'cluster.json'} gives ssh parameters for every node${kindNote}` };
  }
  if (f.hostPodPossible) return { mode: 'hostpod', reason: `no explicit choice, no kind nodes, no SSH configured: a privileged host pod per node${kindNote}` };
  return {
    mode: 'none',
    reason: `no way to reach nodes: no SCTP_E2E_NODE_ACCESS, no kind, no KUBE_SSH_KEY_PATH or cluster.json, and no host-pod settings${kindNote}`,
  };
}

/** The nodes of the local cluster's cluster.json (cluster/contract.ts), or undefined without one; throws naming a missing field. */
export function readClusterNodes(path: string): ClusterNode[] | undefined {
  if (!existsSync(path)) return undefined;
  return parseClusterJson(readFileSync(path, 'utf8'), path).nodes;
}

/** `docker ps` names, or undefined when docker cannot be asked (CLI missing, no daemon) within 5 s. */
export async function listDockerContainers(docker = process.env.SCTP_E2E_DOCKER ?? 'docker'): Promise<string[] | undefined> {
  const r = await execa(docker, ['ps', '--format', '{{.Names}}'], { reject: false, timeout: 5000, stdin: 'ignore' });
  if (r.exitCode !== 0) return undefined;
  return String(r.stdout)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface NodeAccessConfig {
  nodes: NodeInfo[];
  explicit?: { value: string; from: string };
  env?: NodeJS.ProcessEnv;
  clusterJsonPath?: string;
  hostPod?: { kubeConfig: KubeConfig; namespace: string; image: string; labels?: Record<string, string> };
  ssh?: Partial<SshOptions>;
  timeoutMs?: number;
  listDockerContainers?: () => Promise<string[] | undefined>;
  log?: (line: string) => void; // default: stderr
}

export interface NodeAccess extends NodeAccessDecision {
  /** One NodeExec per node (reused); undefined when mode is 'none'. Throws for unknown nodes. */
  exec(node: string): NodeExec | undefined;
  closeAll(): Promise<void>;
}

export async function selectNodeAccess(cfg: NodeAccessConfig): Promise<NodeAccess> {
  const env = cfg.env ?? process.env;
  const clusterJsonPath = cfg.clusterJsonPath ?? contractClusterJsonPath(clusterDir(env));
  const clusterNodes = readClusterNodes(clusterJsonPath);
  const mayBeKind = cfg.nodes.some((n) => n.providerID?.startsWith('kind://') || KIND_NAME.test(n.name));
  const explicitSet = cfg.explicit ?? env.SCTP_E2E_NODE_ACCESS;
  const dockerContainers = !explicitSet && mayBeKind ? await (cfg.listDockerContainers ?? listDockerContainers)() : undefined;
  const d = decideNodeAccess({
    explicit: cfg.explicit,
    env,
    nodes: cfg.nodes,
    dockerContainers,
    clusterNodes,
    clusterJsonPath,
    hostPodPossible: !!cfg.hostPod,
  });
  (cfg.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`node access: ${d.mode} (${d.reason})`);
  const cache = new Map<string, NodeExec>();
  const make = (name: string): NodeExec | undefined => {
    const info = cfg.nodes.find((n) => n.name === name);
    const local = clusterNodes?.find((n) => n.name === name);
    switch (d.mode) {
      case 'none':
        return undefined;
      case 'docker':
        return dockerExec({ node: name, timeoutMs: cfg.timeoutMs });
      case 'local':
        if (!local?.netns) throw new Error(`node ${name} has no netns in ${clusterJsonPath}`);
        return localExec({ node: name, netns: local.netns, timeoutMs: cfg.timeoutMs });
      case 'hostpod':
        if (!cfg.hostPod) throw new Error('host-pod access needs kubeConfig, namespace and image');
        return hostPodExec({ ...cfg.hostPod, node: name, timeoutMs: cfg.timeoutMs });
      case 'ssh': {
        const s = local?.ssh;
        const host = env.KUBE_SSH_KEY_PATH ? (info?.externalIP ?? info?.internalIP ?? s?.host) : (s?.host ?? info?.internalIP);
        if (!host) throw new Error(`no address to ssh to for node ${name} (no ExternalIP/InternalIP and no cluster.json entry)`);
        return sshExec({
          node: name,
          host,
          env,
          port: s && host === s.host ? s.port : undefined,
          user: env.KUBE_SSH_USER ? undefined : s?.user,
          keyPath: env.KUBE_SSH_KEY_PATH ? undefined : s?.keyPath,
          knownHostsPath: s?.knownHostsPath,
          timeoutMs: cfg.timeoutMs,
          ...cfg.ssh,
        });
      }
    }
  };
  return {
    ...d,
    exec(name: string) {
      if (d.mode === 'none') return undefined;
      let e = cache.get(name);
      if (!e) {
        e = make(name);
        if (e) cache.set(name, e);
      }
      return e;
    },
    async closeAll() {
      const all = [...cache.values()];
      cache.clear();
      const errs: string[] = [];
      for (const e of all) {
        try {
          await e.close();
        } catch (x) {
          errs.push((x as Error).message);
        }
      }
      if (errs.length) throw new Error(`closing node access: ${errs.join('; ')}`);
    },
  };
}
