// state.json: what `up` created, so that `down` (also after a crashed up) removes exactly that.
import { existsSync, writeFileSync } from 'node:fs';
import type { ClusterStateView, ProxyMode } from './contract.ts';
import { readJson } from './run.ts';

/** What readers outside cluster/ may use of it is ClusterStateView (cluster/contract.ts). */
export interface State extends ClusterStateView {
  startedAt: string;
  proxyMode: ProxyMode;
  nodes: number;
  binDir?: string;
  /** sysctl name -> value before the kubelet changed it (kernel.panic & co. are machine-wide). */
  savedSysctls: Record<string, string>;
  /** Host paths that did not exist before up; down removes them if they are empty again. */
  createdHostDirs: string[];
}

export function readState(path: string): State | undefined {
  return readJson<State>(path);
}

export function writeState(path: string, s: State, opts: { exclusive?: boolean } = {}): void {
  writeFileSync(path, JSON.stringify(s, null, 2) + '\n', { flag: opts.exclusive ? 'wx' : 'w' });
}

/** Machine-wide sysctls the kubelet rewrites unless protectKernelDefaults is set. */
export const KUBELET_SYSCTLS = [
  'kernel.panic',
  'kernel.panic_on_oops',
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
];

/** Host directories that containerd 1.6, the CNI library or the kubelet create outside our state dir. */
export const HOST_DIRS = ['/run/sshd', '/run/containerd', '/var/lib/cni', '/var/log/containers', '/var/lib/kubelet'];

/** Files the kubelet creates at fixed host paths whatever --root-dir says (device manager socket). */
export const KUBELET_FIXED_FILES = ['/var/lib/kubelet/device-plugins/kubelet.sock'];

export function missingHostDirs(): string[] {
  return HOST_DIRS.filter((d) => !existsSync(d));
}
