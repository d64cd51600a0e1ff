// SSH transport against REAL sshd processes started here, inside a network namespace created here:
//   root netns (this test) --veth 10.213.77.1 <-> 10.213.77.2-- netns "sshit-<pid>":
//     sshd "node1"   ListenAddress 10.213.77.2:2201 and 127.0.0.1:2201 (netns loopback)
//     sshd "bastion" ListenAddress 10.213.77.2:2202
// The bastion test reaches node1 at 127.0.0.1:2201 *inside* the netns, which this process cannot
// reach directly, so it only works through the hop. sshds are stopped by PID, the netns (and the
// veth with it) and the temp dir are removed in after().
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { skipTest } from '../../lib/framework/skip.ts';
import { type NodeExec, NodeExecError, NodeExecTimeout } from '../../lib/node/exec.ts';
import { probeSctpModule } from '../../lib/node/sctp-module.ts';
import { sshExec } from '../../lib/node/ssh.ts';

const NS = `sshit-${process.pid}`;
const HOST_IP = '10.213.77.2';
const ROOT_IP = '10.213.77.1';
const NODE_PORT = 2201;
const BASTION_PORT = 2202;

function fp(pubFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', pubFile], { encoding: 'utf8' }).split(/\s+/)[1]!;
}

async function waitForBanner(host: string, port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 500);
      s.once('data', (d) => {
        clearTimeout(t);
        s.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      s.once('error', () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd at ${host}:${port} did not answer with an SSH banner within ${ms}ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function why(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (netns, sshd)';
  for (const bin of ['/usr/sbin/sshd', 'ssh-keygen', 'ip']) {
    if ((await execa('sh', ['-c', `command -v ${bin}`], { reject: false })).exitCode !== 0) return `${bin} is not installed`;
  }
  return undefined;
}

describe('ssh NodeExec against real sshd (integration)', function () {
  this.timeout(60_000);
  let dir = '';
  let nsCreated = false;
  let createdRunSshd = false;
  const sshds: ChildProcess[] = [];
  const execs: NodeExec[] = [];
  let blackhole: Server | undefined;
  let clientKey = '',
    otherKey = '',
    knownHosts = '',
    emptyKnownHosts = '',
    wrongKnownHosts = '',
    nodeHostPub = '';

  const track = (e: NodeExec) => {
    execs.push(e);
    return e;
  };
  const env = () => ({ KUBE_SSH_USER: 'root', KUBE_SSH_KEY_PATH: clientKey, HOME: dir });

  before(async function () {
    const w = await why();
    if (w) {
      skipTest(this, `${w}`);
    }
    dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-sshit-'));
    const keygen = (f: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', f, '-f', join(dir, f)]);
    for (const k of ['node_host', 'bastion_host', 'other_host', 'client', 'stranger']) keygen(k);
    clientKey = join(dir, 'client');
    otherKey = join(dir, 'stranger');
    nodeHostPub = join(dir, 'node_host.pub');
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
    const hostPub = (k: string) =>
      readFileSync(join(dir, `${k}.pub`), 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' ');
    // known_hosts: plain entry for node1 on the veth; hashed entries for the bastion and for node1 as seen from inside.
    knownHosts = join(dir, 'known_hosts');
    const toHash = join(dir, 'known_hosts_hashed');
    writeFileSync(toHash, `[${HOST_IP}]:${BASTION_PORT} ${hostPub('bastion_host')}\n[127.0.0.1]:${NODE_PORT} ${hostPub('node_host')}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', toHash], { stdio: 'ignore' });
    writeFileSync(knownHosts, `# plain\n[${HOST_IP}]:${NODE_PORT} ${hostPub('node_host')}\n# hashed by ssh-keygen -H\n${readFileSync(toHash, 'utf8')}`);
    emptyKnownHosts = join(dir, 'known_hosts_empty');
    writeFileSync(emptyKnownHosts, `[${HOST_IP}]:9999 ${hostPub('other_host')}\n`);
    wrongKnownHosts = join(dir, 'known_hosts_wrong');
    writeFileSync(wrongKnownHosts, `[${HOST_IP}]:${NODE_PORT} ${hostPub('other_host')}\n`);

    await execa('ip', ['netns', 'add', NS]);
    nsCreated = true;
    const sh = (c: string) => execa('sh', ['-c', c], { timeout: 10_000 });
    await sh(`ip link add sshit${process.pid % 10000}a type veth peer name sshit${process.pid % 10000}b netns ${NS}`);
    await sh(`ip addr add ${ROOT_IP}/30 dev sshit${process.pid % 10000}a && ip link set sshit${process.pid % 10000}a up`);
    await sh(
      `ip -n ${NS} addr add ${HOST_IP}/30 dev sshit${process.pid % 10000}b && ip -n ${NS} link set sshit${process.pid % 10000}b ` +
        `up && ip -n ${NS} link set lo up`,
    );
    try {
      execFileSync('test', ['-d', '/run/sshd']);
    } catch {
      execFileSync('mkdir', ['-p', '/run/sshd']);
      createdRunSshd = true;
    }

    const conf = (name: string, hostKey: string, listen: string[]) => {
      const f = join(dir, `${name}.conf`);
      writeFileSync(
        f,
        [
          ...listen.map((l) => `ListenAddress ${l}`),
          `HostKey ${join(dir, hostKey)}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          'PidFile none',
          'UsePAM no',
          'StrictModes no',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          'AllowTcpForwarding yes',
          'LogLevel ERROR',
          'PrintMotd no',
          '',
        ].join('\n'),
      );
      return f;
    };
    const start = (f: string) => {
      const p = spawn('ip', ['netns', 'exec', NS, '/usr/sbin/sshd', '-D', '-e', '-f', f], { stdio: ['ignore', 'ignore', 'pipe'] });
      p.stderr!.on('data', (d) => {
        if (process.env.SSHIT_DEBUG) process.stderr.write(d);
      });
      sshds.push(p);
    };
    start(conf('node1', 'node_host', [`${HOST_IP}:${NODE_PORT}`, `127.0.0.1:${NODE_PORT}`]));
    start(conf('bastion', 'bastion_host', [`${HOST_IP}:${BASTION_PORT}`]));
    await waitForBanner(HOST_IP, NODE_PORT, 10_000);
    await waitForBanner(HOST_IP, BASTION_PORT, 10_000);
  });

  after(async () => {
    for (const e of execs) await e.close().catch(() => undefined);
    blackhole?.close();
    for (const p of sshds) if (p.pid && p.exitCode === null) p.kill('SIGTERM');
    if (nsCreated) {
      // Session processes our sshds started (e.g. the remote `sleep 10` that outlives its timed-out
      // channel) keep the netns alive; they all live in our netns, so stop them by PID.
      const pids = (await execa('ip', ['netns', 'pids', NS], { reject: false })).stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      await execa('ip', ['netns', 'del', NS], { reject: false }); // removes the veth pair with the netns
    }
    if (createdRunSshd) rmSync('/run/sshd', { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const node1 = (extra: Partial<Parameters<typeof sshExec>[0]> = {}) =>
    track(sshExec({ node: 'node1', host: HOST_IP, port: NODE_PORT, knownHostsPath: knownHosts, env: env(), ...extra }));

  it('runs commands with exit codes, stdout and stderr; user and key from KUBE_SSH_USER / KUBE_SSH_KEY_PATH', async () => {
    const e = node1();
    expect(e.description).to.equal(`ssh root@${HOST_IP}:${NODE_PORT} (known_hosts)`);
    const r = await e.run('echo out; echo err >&2; exit 3');
    expect(r).to.include({ code: 3, stdout: 'out\n', stderr: 'err\n', node: 'node1', transport: 'ssh' });
    expect((await e.run('id -un')).stdout).to.equal('root\n');
  });

  it('reuses one connection per node (same client port on both runs), and close() ends it', async () => {
    const e = node1();
    const a = (await e.run('echo $SSH_CONNECTION')).stdout;
    const b = (await e.run('echo $SSH_CONNECTION')).stdout;
    expect(a).to.match(new RegExp(`^${ROOT_IP} \\d+ ${HOST_IP} ${NODE_PORT}\\n$`));
    expect(b).to.equal(a);
    await e.close();
    let err: unknown;
    try {
      await e.run('true');
    } catch (x) {
      err = x;
    }
    expect(err).to.be.instanceOf(NodeExecError);
    expect(String(err)).to.include('used after close()');
  });

  it('refuses an unknown host key with the host, the offered fingerprint and how to fix it', async () => {
    const e = node1({ knownHostsPath: emptyKnownHosts });
    let err: unknown;
    try {
      await e.run('true');
    } catch (x) {
      err = x;
    }
    expect(err).to.be.instanceOf(NodeExecError);
    const msg = (err as Error).message;
    console.log(`      ${msg}`);
    expect(msg).to.include(`node node1 ([${HOST_IP}]:${NODE_PORT}) is not known`);
    expect(msg).to.include(fp(nodeHostPub));
    expect(msg).to.include(`ssh-keyscan -p ${NODE_PORT} -t ed25519 ${HOST_IP} >> ${emptyKnownHosts}`);
  });

  it('refuses a host-key mismatch, naming both fingerprints', async () => {
    const e = node1({ knownHostsPath: wrongKnownHosts });
    let err: unknown;
    try {
      await e.run('true');
    } catch (x) {
      err = x;
    }
    const msg = (err as Error).message;
    console.log(`      ${msg}`);
    expect(msg).to.include('SSH host key mismatch for node node1');
    expect(msg).to.include(`offered ssh-ed25519 ${fp(nodeHostPub)}`);
    expect(msg).to.include(fp(join(dir, 'other_host.pub')));
  });

  it('accepts a pinned SHA256 fingerprint and refuses a wrong pin', async () => {
    const ok = node1({ hostKeyFingerprint: fp(nodeHostPub), knownHostsPath: undefined });
    expect(ok.description).to.include('pinned SHA256:');
    expect((await ok.run('echo pinned')).stdout).to.equal('pinned\n');
    const bad = node1({ hostKeyFingerprint: fp(join(dir, 'other_host.pub')) });
    let err: unknown;
    try {
      await bad.run('true');
    } catch (x) {
      err = x;
    }
    expect((err as Error).message).to.match(/mismatch .* offered ssh-ed25519 SHA256:\S+ but the pinned fingerprint is SHA256:/);
  });

  it('a bad key path, a public key file and an unauthorized key each give one clear sentence', async () => {
    expect(() => sshExec({ node: 'node1', host: HOST_IP, env: { ...env(), KUBE_SSH_KEY_PATH: join(dir, 'nope') } })).to.throw(
      `SSH private key ${join(dir, 'nope')} (from KUBE_SSH_KEY_PATH) cannot be read (no such file); set KUBE_SSH_KEY_PATH or pass keyPath`,
    );
    expect(() => sshExec({ node: 'node1', host: HOST_IP, keyPath: `${clientKey}.pub`, env: env() })).to.throw(
      /holds no private key \(is it the \.pub file\?\)/,
    );
    const stranger = node1({ keyPath: otherKey });
    let err: unknown;
    try {
      await stranger.run('true');
    } catch (x) {
      err = x;
    }
    expect((err as Error).message).to.equal(
      `ssh login to node node1 root@${HOST_IP}:${NODE_PORT} was refused for key ${otherKey} (all authentication methods ` +
        `failed; is the public key in ~root/.ssh/authorized_keys?)`,
    );
  });

  it('hops through KUBE_SSH_BASTION (forwardOut) to a node reachable only from the bastion; hashed known_hosts entries', async () => {
    const e = track(
      sshExec({
        node: 'node1',
        host: '127.0.0.1',
        port: NODE_PORT,
        knownHostsPath: knownHosts,
        env: { ...env(), KUBE_SSH_BASTION: `${HOST_IP}:${BASTION_PORT}` },
      }),
    );
    expect(e.description).to.equal(`ssh root@127.0.0.1:${NODE_PORT} (known_hosts) via bastion root@${HOST_IP}:${BASTION_PORT}`);
    const r = await e.run('echo $SSH_CONNECTION');
    console.log(`      via bastion: SSH_CONNECTION=${r.stdout.trim()}`);
    expect(r.stdout).to.match(new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${NODE_PORT}\\n$`));
    // The same address without the hop is this process's own loopback, where no sshd listens.
    let direct: unknown;
    try {
      await node1({ host: '127.0.0.1', connectTimeoutMs: 2000 }).run('true');
    } catch (x) {
      direct = x;
    }
    expect(String(direct)).to.match(/ssh connection to node node1 root@127\.0\.0\.1:2201 failed: .*ECONNREFUSED/);
  });

  it('a command past its deadline ends as NodeExecTimeout (sleep 10 with a 1s deadline); the connection stays usable', async () => {
    const e = node1();
    await e.run('true');
    const t0 = Date.now();
    let err: unknown;
    try {
      await e.run('sleep 10', { timeoutMs: 1000 });
    } catch (x) {
      err = x;
    }
    const took = Date.now() - t0;
    expect(err).to.be.instanceOf(NodeExecTimeout);
    expect((err as Error).message).to.equal(`nodeExec timed out after 1s: sleep 10 on node1 (ssh root@${HOST_IP}:${NODE_PORT} (known_hosts))`);
    expect(took).to.be.lessThan(3000);
    expect((await e.run('echo still')).stdout).to.equal('still\n');
    // the remote command tree was killed too (a second exec kills the session's process group)
    let err2: unknown;
    try {
      await e.run('sleep 17 | cat; echo never', { timeoutMs: 500 });
    } catch (x) {
      err2 = x;
    }
    expect(err2).to.be.instanceOf(NodeExecTimeout);
    await new Promise((r) => setTimeout(r, 500));
    expect((await e.run("ps -eo args | grep -c '^[s]leep 17$' || true")).stdout.trim()).to.equal('0');
  });

  it('a server that never speaks SSH ends at the connect deadline', async () => {
    blackhole = createServer(() => {
      /* accept and say nothing */
    });
    await new Promise<void>((r) => blackhole!.listen(0, '127.0.0.1', () => r()));
    const port = (blackhole.address() as { port: number }).port;
    const e = node1({ host: '127.0.0.1', port, connectTimeoutMs: 1000 });
    const t0 = Date.now();
    let err: unknown;
    try {
      await e.run('true');
    } catch (x) {
      err = x;
    }
    expect((err as Error).message).to.equal(`ssh connect to node node1 root@127.0.0.1:${port} timed out after 1s (no SSH handshake and login in time)`);
    expect(Date.now() - t0).to.be.lessThan(3000);
  });

  it('the sctp module probe runs through SSH and gives the same answer as locally', async () => {
    const s = await probeSctpModule(node1(), { timeoutMs: 10_000 });
    console.log(`      over ssh: ${s.state} (${s.evidence})`);
    const local =
      readFileSync('/proc/config.gz').length > 0
        ? execFileSync('sh', ['-c', 'zcat /proc/config.gz | grep -E "^(# )?CONFIG_IP_SCTP[ =]"'], { encoding: 'utf8' }).trim()
        : '';
    if (local === '# CONFIG_IP_SCTP is not set') expect(s.state).to.equal('no-sctp');
    else expect(s.state).to.not.equal('unknown');
    expect(s.evidence).to.include(`via ssh root@${HOST_IP}:${NODE_PORT}`);
  });
});
