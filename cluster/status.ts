// `cluster status`: which of the cluster's processes run, which namespaces exist, and the nodes' view.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from './args.ts';
import { type ClusterJson, ContractError, readClusterJson } from './contract.ts';
import { layout, nodeSpec, OUTSIDE } from './render.ts';
import { alive, exePath, run } from './run.ts';
import { readState } from './state.ts';

export interface Status {
  up: boolean;
  stateDir: string;
  clusterJson?: string;
  proxyMode?: string;
  components: { name: string; pid: number; running: boolean }[];
  netns: string[];
  nodes?: string;
  /** cluster.json exists but breaks the contract (cluster/contract.ts): which field. */
  clusterJsonProblem?: string;
}

export async function status(o: Options): Promise<Status> {
  const l = layout(o.stateDir);
  const st = readState(l.stateJson);
  let cj: ClusterJson | undefined;
  let clusterJsonProblem: string | undefined;
  try {
    cj = readClusterJson(l.dir);
  } catch (e) {
    if (!(e instanceof ContractError)) throw e;
    clusterJsonProblem = e.message;
  }
  const components: Status['components'] = [];
  if (existsSync(l.pids)) {
    for (const f of readdirSync(l.pids).sort()) {
      if (!f.endsWith('.pid')) continue;
      const [pid, bin] = readFileSync(join(l.pids, f), 'utf8').split('\n');
      const p = Number(pid);
      components.push({ name: f.slice(0, -4), pid: p, running: alive(p) && exePath(p).replace(/ \(deleted\)$/, '') === bin });
    }
  }
  const netns = [nodeSpec(1).netns, nodeSpec(2).netns, OUTSIDE.netns].filter((n) => existsSync(`/run/netns/${n}`));
  let nodes: string | undefined;
  const bin = st?.binDir;
  if (bin && components.some((c) => c.name === 'kube-apiserver' && c.running)) {
    const r = await run(join(bin, 'kubectl'), ['--kubeconfig', l.adminKubeconfig, '--request-timeout=5s', 'get', 'nodes', '-o', 'wide'], {
      allowFail: true,
      timeoutMs: 10_000,
    });
    nodes = (r.code === 0 ? r.stdout : r.stderr).trim();
  }
  const up = !!cj && components.length > 0 && components.every((c) => c.running);
  return {
    up,
    stateDir: l.dir,
    clusterJson: cj ? l.clusterJson : undefined,
    proxyMode: cj?.proxyMode ?? st?.proxyMode,
    components,
    netns,
    nodes,
    clusterJsonProblem,
  };
}

export function renderStatus(s: Status): string {
  const lines: string[] = [];
  const running = s.components.filter((c) => c.running).length;
  if (s.up) lines.push(`cluster is up (kube-proxy ${s.proxyMode}); cluster.json: ${s.clusterJson}`);
  else if (s.components.length === 0 && s.netns.length === 0) lines.push(`cluster is down (nothing in ${s.stateDir}, no sctpe2e-* netns)`);
  else
    lines.push(
      `cluster is NOT healthy: ${running}/${s.components.length} processes running${s.clusterJson ? '' : s.clusterJsonProblem ? `, ${s.clusterJsonProblem}` : ', no cluster.json (up did not finish)'}; ` +
        `run \`npm run cluster:down\` to clean up`,
    );
  for (const c of s.components) lines.push(`  ${c.running ? 'running' : 'STOPPED'}  ${c.name.padEnd(36)} pid ${c.pid}`);
  if (s.netns.length) lines.push(`  netns: ${s.netns.join(', ')}`);
  if (s.nodes) lines.push(...s.nodes.split('\n').map((x) => `  ${x}`));
  return lines.join('\n');
}
