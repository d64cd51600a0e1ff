// agnhost-sctp with the kernel SCTP stack, inside the kernel-lane VM, driven through lib/node/ssh.ts:
// stack selection, echo, nft DNAT with port translation into a pod-style netns, concurrent clients.
// Everything created in the VM (processes, netns, nft table) is removed in LIFO order, also on failure.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { execa } from 'execa';
import type { NodeExec } from '../../lib/node/exec.ts';
import { type Lane, must, openLane, REPO, skipWith } from './lane.ts';

const BIN = join(REPO, 'agnhost-sctp', 'out', 'agnhost-sctp');
const VM_BIN = '/root/agnhost-sctp';
const NS = 'sctpe2e-pod1';
const CHUNK = 96 * 1024; // base64 characters per exec (well under sshd's 256 KiB packet limit)

/** Copies the binary into the VM through NodeExec.run only (gzip + base64 in chunks), checked by sha256. */
async function copyBinary(exec: NodeExec): Promise<string> {
  const data = readFileSync(BIN);
  const sha = createHash('sha256').update(data).digest('hex');
  const have = await exec.run(`sha256sum ${VM_BIN} 2>/dev/null | cut -d' ' -f1`, { timeoutMs: 20_000 });
  if (have.stdout.trim() === sha) return sha;
  const b64 = gzipSync(data, { level: 9 }).toString('base64');
  await must(exec, `: > ${VM_BIN}.b64`);
  for (let i = 0; i < b64.length; i += CHUNK) await must(exec, `printf %s '${b64.slice(i, i + CHUNK)}' >> ${VM_BIN}.b64`);
  await must(exec, `base64 -d ${VM_BIN}.b64 | gunzip > ${VM_BIN} && chmod 755 ${VM_BIN} && rm -f ${VM_BIN}.b64`, 60_000);
  const got = (await must(exec, `sha256sum ${VM_BIN} | cut -d' ' -f1`)).trim();
  expect(got, 'sha256 of the copied binary').to.equal(sha);
  return sha;
}

/** Starts a detached process in the VM (optionally in a netns); returns its pid. */
async function startDaemon(exec: NodeExec, cmd: string, log: string, netns?: string): Promise<number> {
  const pre = netns ? `ip netns exec ${netns} ` : '';
  const out = await must(exec, `${pre}setsid ${cmd} </dev/null >${log} 2>&1 & echo $!`);
  return Number(out.trim());
}

/** Waits until an SCTP endpoint listens on `port` (kernel's /proc/net/sctp/eps, in the netns if given). */
async function waitListening(exec: NodeExec, port: number, log: string, netns?: string): Promise<void> {
  const pre = netns ? `ip netns exec ${netns} ` : '';
  const r = await exec.run(
    `for i in $(seq 1 100); do ${pre}awk '$6 == ${port} {f=1} END {exit !f}' /proc/net/sctp/eps 2>/dev/null && exit ` +
      `0; sleep 0.1; done; echo "no SCTP listener on port ${port} after 10s; server log:"; cat ${log}; exit 1`,
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(r.stdout.trim());
}

const activeEstabs = async (exec: NodeExec): Promise<number> =>
  Number(/SctpActiveEstabs\s+(\d+)/.exec(await must(exec, 'cat /proc/net/sctp/snmp'))?.[1] ?? NaN);

describe('kernel lane: agnhost-sctp over the kernel SCTP stack in the VM (integration)', function () {
  this.timeout(180_000);
  let lane: Lane | undefined;
  const undo: { what: string; cmd: string }[] = [];
  const exec = (): NodeExec => lane!.exec;

  before(async function () {
    if (!existsSync(BIN)) skipWith(this, `${BIN} is not built (bash agnhost-sctp/build.sh)`);
    const l = await openLane();
    if (typeof l === 'string') skipWith(this, l);
    lane = l;
    await copyBinary(l.exec);
  });

  after(async () => {
    if (!lane) return;
    const errors: string[] = [];
    for (const u of undo.reverse()) {
      const r = await lane.exec.run(u.cmd, { timeoutMs: 20_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }));
      if (r.code !== 0) errors.push(`cleanup "${u.what}" (${u.cmd}) exited ${r.code}: ${r.stderr.trim()}`);
    }
    await lane.exec.close();
    if (errors.length) throw new Error(errors.join('\n'));
  });

  it('--sctp-stack=auto chooses the kernel stack in the VM and usrsctp on this host', async () => {
    const inVm = await must(exec(), `${VM_BIN} --sctp-stack=auto stack`);
    expect(inVm.trim()).to.equal('kernel');
    // Expectation on the host derived independently: can this kernel open an SCTP socket at all?
    const hostKernel = await execa('python3', ['-c', 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132)'], {
      reject: false,
      timeout: 10_000,
    });
    const onHost = await execa(BIN, ['--sctp-stack=auto', 'stack'], { reject: false, timeout: 10_000 });
    console.log(`      VM: ${inVm.trim()}; host: ${onHost.stdout.trim()} (${onHost.stderr.trim()})`);
    expect(onHost.stdout.trim(), onHost.stderr).to.equal(hostKernel.exitCode === 0 ? 'kernel' : 'userspace');
  });

  it('echoes over kernel SCTP on the VM loopback (the kernel counts the association)', async () => {
    const log = '/tmp/agnhost-lo.log';
    const pid = await startDaemon(exec(), `${VM_BIN} --sctp-stack=kernel netexec --http-port=-1 --udp-port=-1 --sctp-port=5070`, log);
    undo.push({ what: 'stop loopback server', cmd: `kill ${pid} 2>/dev/null; true` });
    await waitListening(exec(), 5070, log);
    const before = await activeEstabs(exec());
    const r = await exec().run(`${VM_BIN} --sctp-stack=kernel connect 127.0.0.1:5070 --protocol=sctp --timeout=5s --data='echo hello-kernel-sctp'`, {
      timeoutMs: 20_000,
    });
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal('hello-kernel-sctp');
    expect(await activeEstabs(exec()), 'SctpActiveEstabs in /proc/net/sctp/snmp').to.equal(before + 1);
  });

  describe('through nft DNAT with port translation into a pod netns', () => {
    const log = '/tmp/agnhost-pod1.log';

    before(async () => {
      // pod-style netns: veth 10.244.1.1 (VM) <-> 10.244.1.2 (pod), default route back through the VM
      undo.push({ what: `delete netns ${NS}`, cmd: `ip netns del ${NS} 2>/dev/null; true` });
      await must(
        exec(),
        [
          `ip netns add ${NS}`,
          `ip link add sctpe2e-veth0 type veth peer name eth0 netns ${NS}`,
          'ip addr add 10.244.1.1/24 dev sctpe2e-veth0',
          'ip link set sctpe2e-veth0 up',
          `ip -n ${NS} link set lo up`,
          `ip -n ${NS} addr add 10.244.1.2/24 dev eth0`,
          `ip -n ${NS} link set eth0 up`,
          `ip -n ${NS} route add default via 10.244.1.1`,
          // the VM has no default route (user-mode net, restrict=on): give the Service CIDR one, as a node's would be
          'ip route add 10.96.0.0/16 dev sctpe2e-veth0',
        ].join(' && '),
      );
      const pid = await startDaemon(exec(), `${VM_BIN} --sctp-stack=kernel netexec --http-port=-1 --udp-port=-1 --sctp-port=5061`, log, NS);
      undo.push({ what: 'stop pod server', cmd: `kill ${pid} 2>/dev/null; true` });
      await waitListening(exec(), 5061, log, NS);
      undo.push({ what: 'delete nft table ip sctpe2e', cmd: 'nft delete table ip sctpe2e 2>/dev/null; true' });
      await must(
        exec(),
        `nft -f - <<'EOF'
table ip sctpe2e {
  chain out {
    type nat hook output priority -100; policy accept;
    ip daddr 10.96.0.11 sctp dport 5060 dnat to 10.244.1.2:5061
  }
}
EOF`,
      );
    });

    it('connects to 10.96.0.11:5060 and is answered by 10.244.1.2:5061; conntrack shows the translation', async () => {
      await exec().run('conntrack -D -p sctp 2>/dev/null; true');
      const r = await exec().run(`${VM_BIN} --sctp-stack=kernel connect 10.96.0.11:5060 --protocol=sctp --timeout=5s --data=serveraddress`, {
        timeoutMs: 20_000,
      });
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.match(/^\[?(::ffff:)?10\.244\.1\.2\]?:5061$/);
      const ct = await must(exec(), 'conntrack -L -p sctp 2>/dev/null');
      const line = ct.split('\n').find((l) => l.includes('dst=10.96.0.11'));
      console.log(`      conntrack: ${line?.replace(/\s+/g, ' ')}`);
      expect(line, `conntrack -L -p sctp:\n${ct}`).to.match(/dst=10\.96\.0\.11 sport=\d+ dport=5060 .*src=10\.244\.1\.2 dst=\S+ sport=5061/);
    });

    it('serves 8 concurrent clients, each getting its own reply', async () => {
      const n = 8;
      const script =
        `for i in $(seq 1 ${n}); do (${VM_BIN} --sctp-stack=kernel connect 10.96.0.11:5060 --protocol=sctp --timeout=10s ` +
        `--data="echo client-$i" > /tmp/agnhost-c$i.out 2>/tmp/agnhost-c$i.err; echo "rc=$?" >> /tmp/agnhost-c$i.out) & ` +
        `done; wait; for i in $(seq 1 ${n}); do echo "$i: $(tr '\\n' ' ' < /tmp/agnhost-c$i.out)"; done; rm -f /tmp/agnhost-c*.out ` +
        `/tmp/agnhost-c*.err`;
      const out = await must(exec(), script, 60_000);
      const lines = out.trim().split('\n');
      expect(lines, out).to.have.length(n);
      for (let i = 1; i <= n; i++) expect(lines[i - 1]?.trimEnd(), out).to.equal(`${i}: client-${i} rc=0`);
    });
  });
});
