// Shared by test/vm/*.test.ts: find the kernel-lane VM (vm.json) and open the suite's real SSH
// transport (lib/node/ssh.ts) to it. Every failure becomes a precise skip reason, never a pass.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeExec } from '../../lib/node/exec.ts';
import { readVmJson, vmStateDir, type VmJson } from '../../vm/vm.ts';

export const VM_NODE = 'sctp-e2e-vm';
export const REPO = join(import.meta.dirname, '..', '..');

export interface Lane { vm: VmJson; exec: NodeExec }

type SshFactory = (opts: Record<string, unknown>) => NodeExec | Promise<NodeExec>;

/** lib/node/ssh.ts is written by another helper; until it lands, tests skip with that reason. */
async function sshFactory(): Promise<SshFactory | string> {
  const path = join(REPO, 'lib', 'node', 'ssh.ts');
  if (!existsSync(path)) return 'lib/node/ssh.ts does not exist yet (the suite\'s SSH transport); these tests use only that transport';
  const mod = (await import(path)) as Record<string, unknown>;
  const f = mod.sshExec;
  if (typeof f !== 'function') return `lib/node/ssh.ts exports no sshExec() (exports: ${Object.keys(mod).join(', ')})`;
  return f as SshFactory;
}

/** The running VM and an open NodeExec to it, or the reason why not (for this.skip()). */
export async function openLane(): Promise<Lane | string> {
  const dir = vmStateDir();
  const vm = readVmJson(dir);
  if (!vm) return `no kernel-lane VM: ${join(dir, 'vm.json')} not found (start one with npm run vm:up)`;
  const factory = await sshFactory();
  if (typeof factory === 'string') return factory;
  let exec: NodeExec;
  try {
    exec = await factory({ node: VM_NODE, ...vm.ssh });
  } catch (e) {
    return `cannot open ssh to the VM at ${vm.ssh.host}:${vm.ssh.port}: ${(e as Error).message}`;
  }
  try {
    const r = await exec.run('uname -r', { timeoutMs: 20_000 });
    if (r.code !== 0) { await exec.close(); return `ssh to the VM at ${vm.ssh.host}:${vm.ssh.port} works but uname -r exited ${r.code}: ${r.stderr.trim()}`; }
  } catch (e) {
    await exec.close().catch(() => {});
    return `ssh to the VM at ${vm.ssh.host}:${vm.ssh.port} failed (${(e as Error).message}); is it up? npm run vm:status`;
  }
  return { vm, exec };
}

/** Skips the current mocha context with the reason printed (mocha itself does not print skip reasons). */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

/** Runs a command that must succeed; the error carries the command, exit code and output. */
export async function must(exec: NodeExec, command: string, timeoutMs = 30_000): Promise<string> {
  const r = await exec.run(command, { timeoutMs });
  if (r.code !== 0) throw new Error(`on ${exec.node}: \`${command.split('\n')[0]}\` exited ${r.code}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`);
  return r.stdout;
}
