// Kernel lane: shared pieces of the VM tool (paths, image hash, vm.json, process checks).
// The CLI is vm/cli.ts; the image builder is vm/build.sh.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, UserError } from '../lib/framework/errors.ts';

export const VM_SRC_DIR = dirname(fileURLToPath(import.meta.url));

/** A user-facing failure: one sentence saying what is wrong and how to fix it (runMain prints it; exit 1, 2 or 3). */
export class VmError extends UserError {
  constructor(message: string, exitCode: number = ExitCode.failed) {
    super(message, exitCode);
    this.name = 'VmError';
  }
}

export interface VmSsh {
  host: string;
  port: number;
  user: string;
  keyPath: string;
  knownHostsPath: string;
}

/** `$SCTP_E2E_VM_DIR/vm.json` (CONTRACTS.md "Kernel lane"); fields after `kernel` are extras. */
export interface VmJson {
  ssh: VmSsh;
  kernel: string;
  qemuPid: number;
  consoleLog: string;
  image: string;
  memoryMiB: number;
  startedAt: string;
  bootSeconds: number;
}

export function vmStateDir(): string {
  return process.env.SCTP_E2E_VM_DIR ?? '/var/lib/sctp-e2e/vm';
}

export function cacheRoot(): string {
  return process.env.SCTP_E2E_CACHE_DIR ?? join(homedir(), '.cache', 'sctp-e2e');
}

export function readVmJson(dir = vmStateDir()): VmJson | undefined {
  const p = join(dir, 'vm.json');
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as VmJson;
}

export interface KernelChoice {
  pkg: string;
  version: string;
}

/**
 * The kernel that goes into the image: Debian's linux-image-amd64 dependency as the host's apt lists see it
 * (bookworm + bookworm-security), or $SCTP_E2E_VM_KERNEL_PACKAGE. Its version is part of the image hash.
 */
export function resolveKernel(): KernelChoice {
  const apt = (args: string[]): string => {
    try {
      return execFileSync('apt-cache', args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new VmError(`apt-cache ${args.join(' ')} failed (${(e as Error).message.split('\n')[0]}); run apt-get update.`);
    }
  };
  let pkg = process.env.SCTP_E2E_VM_KERNEL_PACKAGE;
  if (!pkg) {
    const m = /Depends: (linux-image-[0-9][^\s]*-amd64)\b/.exec(apt(['depends', 'linux-image-amd64']));
    if (!m?.[1]) throw new VmError('apt-cache knows no linux-image-amd64 kernel; run apt-get update (the bookworm and bookworm-security lists are needed).');
    pkg = m[1];
  }
  const cand = /Candidate: (\S+)/.exec(apt(['policy', pkg]))?.[1];
  if (!cand || cand === '(none)')
    throw new VmError(`apt-cache has no candidate for ${pkg}; run apt-get update or set SCTP_E2E_VM_KERNEL_PACKAGE to an available kernel.`);
  return { pkg, version: cand };
}

export interface ImageInputs {
  hash: string;
  kernel: KernelChoice;
  dir: string;
}

/** Cache key: builder scripts, package list, kernel package+version and mirrors. */
export function imageInputs(kernel = resolveKernel()): ImageInputs {
  const h = createHash('sha256');
  for (const f of ['build.sh', 'prune-modules.sh', 'packages.txt']) {
    h.update(`${f}\0`)
      .update(readFileSync(join(VM_SRC_DIR, f)))
      .update('\0');
  }
  h.update(`${kernel.pkg}=${kernel.version}\0`);
  h.update(`${process.env.SCTP_E2E_DEBIAN_MIRROR ?? ''}\0${process.env.SCTP_E2E_DEBIAN_SECURITY_MIRROR ?? ''}`);
  const hash = h.digest('hex').slice(0, 12);
  return { hash, kernel, dir: join(cacheRoot(), `vm-${hash}`) };
}

export function imageComplete(dir: string): boolean {
  return ['rootfs.img', 'vmlinuz', 'initrd.img', 'id_ed25519', 'ssh_host_ed25519_key.pub', 'build.json'].every((f) => existsSync(join(dir, f)));
}

/** 'running' only if the pid is alive, not a zombie, and is a QEMU started for this state dir. */
export function qemuState(pid: number, stateDir: string): 'running' | 'gone' | 'foreign' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return 'gone';
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const ours = cmdline[0]?.includes('qemu-system') && cmdline.some((a) => a.includes(stateDir));
    return ours ? 'running' : 'foreign';
  } catch {
    return 'gone';
  }
}

export function readPidFile(stateDir: string): number | undefined {
  const p = join(stateDir, 'qemu.pid');
  if (!existsSync(p)) return undefined;
  const n = Number.parseInt(readFileSync(p, 'utf8').trim(), 10);
  return Number.isInteger(n) && n > 1 ? n : undefined;
}
