// Shared by test/vm/*.test.ts: find the kernel-lane VM (vm.json) and open the suite's real SSH
// transport (lib/node/ssh.ts) to it. Every failure becomes a precise skip reason, never a pass.
import { join } from 'node:path';
import { skipTest } from '../../lib/framework/skip.ts';
import type { NodeExec } from '../../lib/node/exec.ts';
import { sshExec } from '../../lib/node/ssh.ts';
import { readVmJson, type VmJson, vmStateDir } from '../../vm/vm.ts';

export const VM_NODE = 'sctp-e2e-vm';
export const REPO = join(import.meta.dirname, '..', '..');

export interface Lane {
  vm: VmJson;
  exec: NodeExec;
}

/** The running VM and an open NodeExec to it, or the reason why not (for this.skip()). */
export async function openLane(): Promise<Lane | string> {
  const dir = vmStateDir();
  const vm = readVmJson(dir);
  if (!vm) return `no kernel-lane VM: ${join(dir, 'vm.json')} not found (start one with npm run vm:up)`;
  let exec: NodeExec;
  try {
    exec = sshExec({ node: VM_NODE, ...vm.ssh });
  } catch (e) {
    return `cannot open ssh to the VM at ${vm.ssh.host}:${vm.ssh.port}: ${(e as Error).message}`;
  }
  try {
    const r = await exec.run('uname -r', { timeoutMs: 20_000 });
    if (r.code !== 0) {
      await exec.close();
      return `ssh to the VM at ${vm.ssh.host}:${vm.ssh.port} works but uname -r exited ${r.code}: ${r.stderr.trim()}`;
    }
  } catch (e) {
    await exec.close().catch(() => {});
    return `ssh to the VM at ${vm.ssh.host}:${vm.ssh.port} failed (${(e as Error).message}); is it up? npm run vm:status`;
  }
  return { vm, exec };
}

/** Skips the current mocha context with the reason printed (mocha itself does not print skip reasons). */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  skipTest(ctx, `${reason}`);
}

/** Runs a command that must succeed; the error carries the command, exit code and output. */
export async function must(exec: NodeExec, command: string, timeoutMs = 30_000): Promise<string> {
  const r = await exec.run(command, { timeoutMs });
  if (r.code !== 0) throw new Error(`on ${exec.node}: \`${command.split('\n')[0]}\` exited ${r.code}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`);
  return r.stdout;
}
