// The netfilter readers run for real: rules shaped like kube-proxy (iptables, nftables) and CNI
// portmap are loaded into a network namespace created here, then read back through the `local`
// NodeExec (nsenter --net) exactly as a node would be read. Everything dies with the netns.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { skipTest } from '../../lib/framework/skip.ts';
import { localExec } from '../../lib/node/exec.ts';
import { nodeNetfilter } from '../../lib/node/netfilter/index.ts';

const rules = (n: string) => fileURLToPath(new URL(`../../lib/node/fixtures/netfilter/rules/${n}`, import.meta.url));

async function missing(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace and load rules';
  for (const bin of ['ip', 'iptables-restore', 'iptables-save', 'nft', 'nsenter']) {
    const r = await execa('sh', ['-c', `command -v ${bin}`], { reject: false });
    if (r.exitCode !== 0) return `${bin} is not installed`;
  }
  return undefined;
}

describe('netfilter readers against rules in a network namespace (integration)', () => {
  const ns = `nfread-${process.pid}`;
  let created = false;
  let fakeProxy: ChildProcess | undefined;
  const inNs = (...args: string[]) => execa('ip', ['netns', 'exec', ns, ...args], { timeout: 15_000 });

  before(async function () {
    const why = await missing();
    if (why) {
      skipTest(this, `${why}`);
    }
    await execa('ip', ['netns', 'add', ns], { timeout: 10_000 });
    created = true;
    await inNs('ip', 'link', 'set', 'lo', 'up');
  });

  after(async () => {
    if (fakeProxy?.pid) {
      fakeProxy.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
    }
    if (created) await execa('ip', ['netns', 'del', ns], { reject: false, timeout: 10_000 });
  });

  describe('kube-proxy iptables mode + CNI portmap', () => {
    before(async () => {
      await execa('ip', ['netns', 'exec', ns, 'iptables-restore'], { inputFile: rules('kube-proxy-and-portmap.iptables'), timeout: 15_000 });
    });
    after(async () => {
      await execa(
        'ip',
        ['netns', 'exec', ns, 'sh', '-c', 'iptables -t nat -F; iptables -t nat -X; iptables -t filter -F; iptables -t filter -X; nft flush ruleset'],
        { reject: false, timeout: 15_000 },
      );
    });

    it('detects iptables mode from the rules when /proxyMode does not answer', async () => {
      const m = await nodeNetfilter(localExec({ netns: ns, node: 'node-a' })).detectProxyMode();
      console.log(`      ${m.mode}: ${m.evidence}`);
      expect(m.mode).to.equal('iptables');
      expect(m.evidence).to.include('did not answer').and.include('KUBE-SERVICES has 7 rule(s)');
    });

    it('finds ClusterIP, NodePort and externalIP SCTP rules with their DNAT targets', async () => {
      const nf = nodeNetfilter(localExec({ netns: ns, node: 'node-a' }), { mode: 'iptables' });
      const cip = await nf.serviceRules({ ip: '10.96.44.3', port: 5060 });
      console.log(
        cip
          .render()
          .split('\n')
          .slice(0, 4)
          .map((l) => `      ${l}`)
          .join('\n'),
      );
      expect(cip.sctp.length).to.equal(8);
      expect(cip.tcpOrUdp).to.deep.equal([]);
      expect(cip.dnatTargets).to.deep.equal(['10.244.1.5:5061', '10.244.2.7:5061']);
      expect(cip.commands.map((c) => [c.command, c.code])).to.deep.equal([
        ['iptables-save -t nat', 0],
        ['iptables-save -t filter', 0],
      ]);
      expect((await nf.serviceRules({ nodePort: 30060 })).dnatTargets).to.deep.equal(['10.244.1.5:5061', '10.244.2.7:5061']);
      expect((await nf.serviceRules({ ip: '192.0.2.50', port: 5060 })).sctp[0]!.where).to.equal('nat KUBE-SERVICES');
      const mixed = await nf.serviceRules({ ip: '10.96.44.4', port: 5060 });
      expect(mixed.tcpOrUdp.length).to.be.greaterThan(0);
      expect(mixed.render()).to.include('TCP/UDP rules:\n  [nat KUBE-SERVICES] -A KUBE-SERVICES -d 10.96.44.4/32 -p tcp');
    });

    it('finds the portmap SCTP hostPort chain and DNAT', async () => {
      const hp = await nodeNetfilter(localExec({ netns: ns, node: 'node-a' }), { mode: 'iptables' }).hostPortRules({ port: 5060 });
      expect(hp.dnatTargets).to.deep.equal(['10.244.1.9:5060']);
      expect(hp.sctp.map((r) => r.where)).to.include('nat CNI-HOSTPORT-DNAT');
    });

    it('a failing command is reported with its exit code, never as "no rules"', async () => {
      const r = await nodeNetfilter(localExec({ netns: ns, node: 'node-a' }), { mode: 'ipvs' }).serviceRules({ ip: '10.96.44.3', port: 5060 });
      expect(r.errors.join('\n')).to.match(/ipvsadm -Ln exited 127/);
      expect(r.render()).to.include('$ ipvsadm -Ln -> exit 127');
    });
  });

  describe('rules written with the legacy backend (iptables-legacy) while iptables-save is the nft one', () => {
    before(async function () {
      if ((await execa('sh', ['-c', 'command -v iptables-legacy-restore'], { reject: false })).exitCode !== 0) {
        skipTest(this, 'iptables-legacy-restore is not installed');
      }
      await execa('ip', ['netns', 'exec', ns, 'iptables-legacy-restore'], { inputFile: rules('kube-proxy-and-portmap.iptables'), timeout: 15_000 });
    });
    after(async () => {
      await execa(
        'ip',
        ['netns', 'exec', ns, 'sh', '-c', 'iptables-legacy -t nat -F; iptables-legacy -t nat -X; iptables-legacy -t filter -F; iptables-legacy -t filter -X'],
        { reject: false, timeout: 15_000 },
      );
    });

    it('falls back to iptables-legacy-save, says so, and finds the same rules', async () => {
      const nf = nodeNetfilter(localExec({ netns: ns, node: 'node-l' }));
      const m = await nf.detectProxyMode();
      expect(m.mode).to.equal('iptables');
      expect(m.evidence).to.include('rules read with iptables-legacy-save');
      const r = await nf.serviceRules({ ip: '10.96.44.3', port: 5060 });
      console.log(
        r
          .render()
          .split('\n')
          .slice(0, 5)
          .map((l) => `      ${l}`)
          .join('\n'),
      );
      expect(r.dnatTargets).to.deep.equal(['10.244.1.5:5061', '10.244.2.7:5061']);
      expect(r.commands.map((c) => c.command)).to.deep.equal(['iptables-save -t nat', 'iptables-legacy-save -t nat', 'iptables-legacy-save -t filter']);
    });
  });

  describe('kube-proxy nftables mode', () => {
    before(async () => {
      await inNs('nft', '-f', rules('kube-proxy.nft'));
    });
    after(async () => {
      await execa('ip', ['netns', 'exec', ns, 'nft', 'flush', 'ruleset'], { reject: false, timeout: 15_000 });
    });

    it('detects nftables mode from the kube-proxy table', async () => {
      const m = await nodeNetfilter(localExec({ netns: ns, node: 'node-b' })).detectProxyMode();
      expect(m.mode).to.equal('nftables');
    });

    it('finds the service-ips element, chains and dnat for the SCTP ClusterIP and NodePort', async () => {
      const nf = nodeNetfilter(localExec({ netns: ns, node: 'node-b' }));
      const cip = await nf.serviceRules({ ip: '10.96.44.3', port: 5060 });
      expect(cip.mode).to.equal('nftables');
      expect(cip.sctp[0]!.text).to.equal('10.96.44.3 . sctp . 5060 : goto service-CG2E2XDO-sctp-test/sctp/sctp/sctp');
      expect(cip.dnatTargets).to.deep.equal(['10.244.1.5:5061', '10.244.2.7:5061']);
      expect(cip.tcpOrUdp).to.deep.equal([]);
      expect((await nf.serviceRules({ nodePort: 30060 })).dnatTargets).to.deep.equal(['10.244.1.5:5061', '10.244.2.7:5061']);
    });

    it('asks kube-proxy /proxyMode first (a stand-in HTTP server on 127.0.0.1:10249 inside the netns)', async () => {
      const node = process.execPath;
      const js = "require('http').createServer((q,s)=>s.end(q.url==='/proxyMode'?'nftables':'')).listen(10249,'127.0.0.1',()=>console.log('ready'))";
      fakeProxy = spawn('ip', ['netns', 'exec', ns, node, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('stand-in /proxyMode server did not start in 10s')), 10_000);
        fakeProxy!.stdout!.once('data', () => {
          clearTimeout(t);
          resolve();
        });
      });
      const m = await nodeNetfilter(localExec({ netns: ns, node: 'node-b' })).detectProxyMode();
      console.log(`      ${m.mode}: ${m.evidence}`);
      expect(m.evidence).to.include('/proxyMode answered "nftables"');
    });
  });
});
