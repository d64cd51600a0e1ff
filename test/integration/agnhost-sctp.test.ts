// The real agnhost-sctp binary between network namespaces created here: SCTP (userspace stack on
// this kernel), TCP and UDP; direct, through ClusterIP-like DNAT, through a bridge with
// br_netfilter (pod → Service → other pod, and true hairpin pod → Service → itself), blocked by
// DROP/REJECT, connect --hold (one association held through DNAT, cut mid-way by a DROP), 50
// concurrent clients, netexec /dial, porter, and the CAP_NET_RAW check.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AGNHOST_BIN, ensureBinary, Lab, labUnavailable, run } from '../../agnhost-sctp/testing/lab.ts';
import { skipTest } from '../../lib/framework/skip.ts';

const SERVE_READY = [/serving SCTP on/, /serving UDP on port 8082/, /serving TCP on port 8082/, /serving HTTP on port 8080/];
const NETEXEC = ['netexec', '--http-port=8080', '--udp-port=8082', '--tcp-port=8082', '--sctp-port=8082'];

function skipUnlessLab(ctx: Mocha.Context): void {
  const why = labUnavailable();
  if (why) {
    skipTest(ctx, `${why}`);
  }
}

describe('agnhost-sctp between network namespaces', function () {
  this.timeout(120_000);
  before(async function () {
    skipUnlessLab(this);
    await ensureBinary();
  });

  describe('direct veth (client 10.251.1.1 / fd00:251:1::1, server 10.251.1.2 / fd00:251:1::2)', () => {
    const lab = new Lab('d');
    let cli: string, srv: string;
    before(async function () {
      skipUnlessLab(this);
      cli = await lab.addNetns('cli');
      srv = await lab.addNetns('srv');
      await lab.link(cli, 'eth0', '10.251.1.1/24', srv, 'eth0', '10.251.1.2/24');
      await lab.sh(cli, 'ip addr add fd00:251:1::1/64 dev eth0 nodad');
      await lab.sh(srv, 'ip addr add fd00:251:1::2/64 dev eth0 nodad');
      await lab.serve(srv, NETEXEC, [...SERVE_READY, /serving SCTP on 10\.251\.1\.2:8082/, /serving SCTP on \[fd00:251:1::2\]:8082/]);
    });
    after(async () => {
      const errs = await lab.cleanup();
      expect(errs, errs.join('\n')).to.deep.equal([]);
    });

    it('says which SCTP stack it uses and picks userspace on a kernel without SCTP', async () => {
      const r = await lab.agnhost(cli, ['stack']);
      expect(r.stderr).to.match(/^agnhost-sctp: sctp stack: (kernel|userspace) /m);
      const kernel = await run(['sh', '-c', 'test -d /proc/sys/net/sctp']);
      expect(r.stdout.trim(), r.stderr).to.equal(kernel.code === 0 ? 'kernel' : 'userspace');
    });

    it('echoes over SCTP, reports the client address, and exits 0 on a bare connect', async () => {
      const echo = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=sctp', '--timeout=3s', '--data=echo Hello SCTP']);
      expect([echo.code, echo.stdout.trim()], echo.stderr).to.deep.equal([0, 'Hello SCTP']);
      const ip = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=sctp', '--timeout=3s', '--data=clientip']);
      expect(ip.stdout.trim()).to.match(/^10\.251\.1\.1:\d+$/);
      const bare = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=sctp', '--timeout=3s']);
      expect([bare.code, bare.stdout], bare.stderr).to.deep.equal([0, '']);
    });

    it('serves IPv6 on its own listener and classifies ICMPv6 admin-prohibited and port-unreachable', async () => {
      const ip = await lab.agnhost(cli, ['connect', '[fd00:251:1::2]:8082', '--protocol=sctp', '--timeout=3s', '--data=clientip']);
      expect([ip.code, ip.stdout.trim().replace(/:\d+$/, '')], ip.stderr).to.deep.equal([0, '[fd00:251:1::1]']);
      for (const [how, code, cls, icmp] of [
        ['--reject-with icmp6-adm-prohibited', 4, 'PROHIBITED', 1],
        ['', 3, 'REFUSED', 4],
      ] as const) {
        await lab.sh(srv, `ip6tables -I INPUT -p sctp --dport 8082 -j REJECT ${how}`);
        try {
          const r = await lab.agnhost(cli, ['connect', '[fd00:251:1::2]:8082', '--protocol=sctp', '--timeout=3s']);
          expect([r.code, r.stdout.replace(/after \d+ms/, 'after Nms')]).to.deep.equal([
            code,
            `${cls}: ICMPv6 type 1 code ${icmp} from fd00:251:1::2 for sctp to [fd00:251:1::2]:8082 after Nms\n`,
          ]);
        } finally {
          await lab.sh(srv, `ip6tables -D INPUT -p sctp --dport 8082 -j REJECT ${how}`);
        }
      }
    });

    it('resolves names from /etc/hosts in an empty root (static glibc NSS) and classifies a resolver failure as DNS', async () => {
      const root = mkdtempSync(join(tmpdir(), 'agt-root-'));
      try {
        mkdirSync(join(root, 'etc'));
        copyFileSync(AGNHOST_BIN, join(root, 'agnhost-sctp'));
        writeFileSync(join(root, 'etc/hosts'), '10.251.1.2 server.test\n');
        writeFileSync(join(root, 'etc/resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
        const ok = await run([
          'ip',
          'netns',
          'exec',
          cli,
          'chroot',
          root,
          '/agnhost-sctp',
          'connect',
          'server.test:8082',
          '--protocol=sctp',
          '--timeout=3s',
          '--data=echo by-name',
        ]);
        expect([ok.code, ok.stdout.trim()], ok.stderr).to.deep.equal([0, 'by-name']);
        const dns = await run([
          'ip',
          'netns',
          'exec',
          cli,
          'chroot',
          root,
          '/agnhost-sctp',
          'connect',
          'nosuch.invalid:8082',
          '--protocol=sctp',
          '--timeout=3s',
        ]);
        expect([dns.code, dns.stdout]).to.deep.equal([5, 'DNS: cannot resolve nosuch.invalid: Temporary failure in name resolution\n']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('--sctp-stack=kernel on a kernel without SCTP exits NOSTACK with the reason', async function () {
      if ((await run(['sh', '-c', 'test -d /proc/sys/net/sctp'])).code === 0) skipTest(this, 'kernel SCTP present: nothing to refuse');
      const r = await lab.agnhost(cli, ['--sctp-stack=kernel', 'connect', '10.251.1.2:8082', '--protocol=sctp', '--timeout=1s']);
      expect([r.code, r.stdout]).to.deep.equal([
        7,
        'NOSTACK: --sctp-stack=kernel but the kernel has no usable SCTP: socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP): Protocol not supported\n',
      ]);
    });

    it('answers TCP and UDP on the SCTP port number too', async () => {
      const tcp = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=tcp', '--timeout=3s', '--data=echo over-tcp']);
      expect([tcp.code, tcp.stdout.trim()]).to.deep.equal([0, 'over-tcp']);
      const udp = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=udp', '--timeout=3s', '--data=echo over-udp']);
      expect([udp.code, udp.stdout.trim()]).to.deep.equal([0, 'over-udp']);
    });

    it('classifies a closed TCP port as REFUSED (RST) and a closed UDP port as REFUSED (ICMP port unreachable)', async () => {
      const tcp = await lab.agnhost(cli, ['connect', '10.251.1.2:9', '--protocol=tcp', '--timeout=2s']);
      expect([tcp.code, tcp.stdout]).to.deep.equal([3, 'REFUSED: tcp connect to 10.251.1.2:9: Connection refused\n']);
      const udp = await lab.agnhost(cli, ['connect', '10.251.1.2:9', '--protocol=udp', '--timeout=2s']);
      expect(udp.code).to.equal(3);
      expect(udp.stdout).to.match(/^REFUSED: ICMP type 3 code 3 from 10\.251\.1\.2 for udp to 10\.251\.1\.2:9 /);
    });

    it('keeps serving after empty associations, unanswered garbage and a client killed mid-association', async () => {
      for (let i = 0; i < 10; i++) {
        const r = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=sctp', '--timeout=3s']);
        expect(r.code, r.stdout + r.stderr).to.equal(0);
      }
      const garbage = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=sctp', '--timeout=500ms', '--data=no-such-command']);
      expect([garbage.code, garbage.stdout]).to.deep.equal([2, 'TIMEOUT: sctp exchange with 10.251.1.2:8082: Connection timed out\n']);
      // SIGKILL while waiting for an answer: the server is left with a half-open association
      const killed = await run([
        'ip',
        'netns',
        'exec',
        cli,
        'timeout',
        '-s',
        'KILL',
        '0.3',
        AGNHOST_BIN,
        'connect',
        '10.251.1.2:8082',
        '--protocol=sctp',
        '--timeout=5s',
        '--data=no-such-command',
      ]);
      expect(killed.code, 'killed by timeout(1)').to.equal(null);
      const after = await lab.agnhost(cli, ['connect', '10.251.1.2:8082', '--protocol=sctp', '--timeout=3s', '--data=echo still-here']);
      expect([after.code, after.stdout.trim()], after.stderr).to.deep.equal([0, 'still-here']);
    });

    it('fails with NOSTACK and names CAP_NET_RAW when the capability is missing', async () => {
      const r = await run([
        'ip',
        'netns',
        'exec',
        cli,
        'setpriv',
        '--bounding-set=-net_raw',
        '--inh-caps=-net_raw',
        AGNHOST_BIN,
        'connect',
        '10.251.1.2:8082',
        '--protocol=sctp',
        '--timeout=2s',
      ]);
      expect(r.code, r.stdout + r.stderr).to.equal(7);
      expect(r.stdout).to.match(/^NOSTACK: cannot open a raw IPPROTO_SCTP socket .*CAP_NET_RAW/);
    });
  });

  describe('ClusterIP-like DNAT on a router netns (10.96.251.7:95 → 10.251.3.2:8082)', () => {
    const lab = new Lab('r');
    let cli: string, rtr: string, srv: string;
    const VIP = '10.96.251.7';
    before(async function () {
      skipUnlessLab(this);
      cli = await lab.addNetns('cli');
      rtr = await lab.addNetns('rtr');
      srv = await lab.addNetns('srv');
      await lab.link(cli, 'eth0', '10.251.2.2/24', rtr, 'c0', '10.251.2.1/24');
      await lab.link(srv, 'eth0', '10.251.3.2/24', rtr, 's0', '10.251.3.1/24');
      await lab.sh(cli, 'ip route add default via 10.251.2.1');
      await lab.sh(srv, 'ip route add default via 10.251.3.1');
      await lab.sh(rtr, 'sysctl -qw net.ipv4.ip_forward=1');
      for (const p of ['sctp', 'tcp', 'udp']) {
        await lab.sh(rtr, `iptables -t nat -A PREROUTING -p ${p} -d ${VIP} --dport 95 -j DNAT --to-destination 10.251.3.2:8082`);
      }
      await lab.serve(srv, NETEXEC, SERVE_READY);
      await lab.serve(cli, ['netexec', '--http-port=9080', '--udp-port=-1'], [/serving HTTP on port 9080/]);
    });
    after(async () => {
      const errs = await lab.cleanup();
      expect(errs, errs.join('\n')).to.deep.equal([]);
    });

    it('echoes SCTP, TCP and UDP through the DNAT, and conntrack shows the SCTP association translated', async () => {
      for (const p of ['sctp', 'tcp', 'udp']) {
        const r = await lab.agnhost(cli, ['connect', `${VIP}:95`, `--protocol=${p}`, '--timeout=3s', `--data=echo via-${p}`]);
        expect([r.code, r.stdout.trim()], `${p}: ${r.stderr}`).to.deep.equal([0, `via-${p}`]);
      }
      const ct = await lab.sh(rtr, 'conntrack -L -p sctp 2>/dev/null || true');
      expect(ct).to.match(
        new RegExp(`src=10\\.251\\.2\\.2 dst=${VIP.replace(/\./g, '\\.')} sport=\\d+ dport=95 .*src=10\\.251\\.3\\.2 dst=10\\.251\\.2\\.2 sport=8082`),
      );
    });

    it('serves 50 concurrent SCTP clients through the DNAT, every one answered with its own message', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => lab.agnhost(cli, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=10s', `--data=echo client-${i}`], 30_000)),
      );
      const wrong = results.map((r, i) => ({ i, code: r.code, out: r.stdout.trim() })).filter((r) => r.code !== 0 || r.out !== `client-${r.i}`);
      expect(wrong, JSON.stringify(wrong.slice(0, 5))).to.deep.equal([]);
    });

    it("netexec /dial over sctp returns agnhost's JSON with one hostname per try", async () => {
      const host = (await run(['hostname'])).stdout.trim();
      const url = `http://127.0.0.1:9080/dial?request=hostname&protocol=sctp&host=${VIP}&port=95&tries=3`;
      const out = await lab.sh(cli, `busybox wget -q -O - '${url}'`);
      expect(JSON.parse(out)).to.deep.equal({ responses: [host, host, host] });
      const udp = await lab.sh(cli, `busybox wget -q -O - 'http://127.0.0.1:9080/dial?request=echo%20x&protocol=udp&host=${VIP}&port=95&tries=1'`);
      expect(JSON.parse(udp)).to.deep.equal({ responses: ['x'] });
      const bad = await run([
        'ip',
        'netns',
        'exec',
        cli,
        'busybox',
        'wget',
        '-q',
        '-O',
        '-',
        `http://127.0.0.1:9080/dial?request=hostname&protocol=icmp&host=${VIP}&port=95`,
      ]);
      expect(bad.code, 'HTTP 400 for an unknown protocol makes wget fail').to.not.equal(0);
    });

    it('DROP of SCTP ends as TIMEOUT within the configured timeout', async () => {
      await lab.sh(rtr, 'iptables -I FORWARD -p sctp --dport 8082 -j DROP');
      try {
        const r = await lab.agnhost(cli, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=1500ms']);
        expect([r.code, r.stdout]).to.deep.equal([2, `TIMEOUT: no SCTP association with ${VIP}:95 within 1500ms (userspace stack)\n`]);
        expect(r.ms, 'wall time incl. process start and a 200 ms stack shutdown').to.be.within(1400, 2500);
        const tcp = await lab.agnhost(cli, ['connect', `${VIP}:95`, '--protocol=tcp', '--timeout=1s']);
        expect(tcp.code, 'an SCTP-only DROP leaves TCP alone').to.equal(0);
      } finally {
        await lab.sh(rtr, 'iptables -D FORWARD -p sctp --dport 8082 -j DROP');
      }
    });

    it('connect --hold keeps one SCTP association (and one TCP connection) through the DNAT, every exchange answered by the same server', async () => {
      const host = (await run(['hostname'])).stdout.trim();
      for (const p of ['sctp', 'tcp']) {
        const r = await lab.agnhost(cli, ['connect', `${VIP}:95`, `--protocol=${p}`, '--timeout=2s', '--hold=3s', '--interval=200ms']);
        const what = p === 'sctp' ? 'association' : 'connection';
        expect([r.code, r.stdout], `${p}: ${r.stderr}`).to.deep.equal([
          0,
          `OK: held 3s, 15/15 exchanges answered by ${host} on one ${p} ${what} (${VIP}:95)\n`,
        ]);
        expect(r.ms, 'the hold lasts --hold').to.be.within(2900, 4500);
      }
      const ct = await lab.sh(rtr, 'conntrack -L -p sctp 2>/dev/null || true');
      expect(ct, 'the held association is one conntrack entry').to.match(/dport=95 .*sport=8082/);
    });

    it('connect --hold ends TIMEOUT, saying after how many exchanges, when a DROP cuts the path mid-hold', async () => {
      const held = lab.agnhost(cli, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=1s', '--hold=6s', '--interval=200ms']);
      await new Promise((r) => setTimeout(r, 1500));
      await lab.sh(rtr, 'iptables -I FORWARD -p sctp --dport 8082 -j DROP');
      let r: Awaited<typeof held>;
      try {
        r = await held;
      } finally {
        await lab.sh(rtr, 'iptables -D FORWARD -p sctp --dport 8082 -j DROP');
      }
      expect(r.code, r.stdout + r.stderr).to.equal(2);
      const m =
        /^TIMEOUT: held sctp association to 10\.96\.251\.7:95 broke after (\d+)\/30 exchanges \(answered by .+\), [\d.]+s into the 6s hold: no reply to exchange (\d+) within 1000ms \(sent [\d.]+s into the hold\)\n$/.exec(
          r.stdout,
        );
      expect(m, r.stdout).to.not.equal(null);
      const [answered, failed] = [Number(m![1]), Number(m![2])];
      expect(answered, 'about 1.5 s of 200 ms exchanges before the DROP').to.be.within(4, 10);
      expect(failed).to.equal(answered + 1);
      expect(r.ms, 'ends at the first unanswered exchange, not at the end of the hold').to.be.below(4500);
      expect(await lab.sh(rtr, 'iptables -S FORWARD'), 'DROP removed').to.not.match(/DROP/);
      const again = await lab.agnhost(cli, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=2s', '--hold=1s', '--interval=200ms']);
      expect(again.code, `path restored: a new hold succeeds\n${again.stdout}`).to.equal(0);
    });

    it('REJECT classifies as REFUSED (port unreachable) and PROHIBITED (admin prohibited), quoting the Service address', async () => {
      for (const [how, code, cls, icmp] of [
        ['', 3, 'REFUSED', 3],
        ['--reject-with icmp-admin-prohibited', 4, 'PROHIBITED', 13],
      ] as const) {
        await lab.sh(rtr, `iptables -I FORWARD -p sctp --dport 8082 -j REJECT ${how}`);
        try {
          const r = await lab.agnhost(cli, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=3s']);
          expect(r.code, r.stdout).to.equal(code);
          expect(r.stdout).to.match(
            new RegExp(`^${cls}: ICMP type 3 code ${icmp} from ${VIP.replace(/\./g, '\\.')} for sctp to ${VIP.replace(/\./g, '\\.')}:95 after \\d+ms`),
          );
          expect(r.ms).to.be.below(1500);
        } finally {
          await lab.sh(rtr, `iptables -D FORWARD -p sctp --dport 8082 -j REJECT ${how}`);
        }
      }
      const ok = await lab.agnhost(cli, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=3s']);
      expect(ok.code, 'rules removed: connects again').to.equal(0);
    });
  });

  describe('bridge node with br_netfilter (pods 10.251.4.10/.11, Service 10.96.251.8:95 → .11:8082)', () => {
    const lab = new Lab('b');
    let node: string, pa: string, pb: string;
    const VIP = '10.96.251.8';
    before(async function () {
      skipUnlessLab(this);
      node = await lab.addNetns('node');
      pa = await lab.addNetns('pa');
      pb = await lab.addNetns('pb');
      await lab.sh(node, 'ip link add br0 type bridge && ip addr add 10.251.4.1/24 dev br0 && ip link set br0 up');
      await lab.link(pa, 'eth0', '10.251.4.10/24', node, 'vpa', null);
      await lab.link(pb, 'eth0', '10.251.4.11/24', node, 'vpb', null);
      await lab.sh(node, 'ip link set vpa master br0 && ip link set vpb master br0 && bridge link set dev vpb hairpin on');
      for (const p of [pa, pb]) await lab.sh(p, 'ip route add default via 10.251.4.1');
      await lab.sh(node, 'sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.bridge.bridge-nf-call-iptables=1');
      await lab.sh(node, `iptables -t nat -A PREROUTING -p sctp -d ${VIP} --dport 95 -j DNAT --to-destination 10.251.4.11:8082`);
      // kube-proxy's hairpin masquerade: a pod reaching itself through its Service
      await lab.sh(node, 'iptables -t nat -A POSTROUTING -s 10.251.4.11 -d 10.251.4.11 -j MASQUERADE');
      await lab.serve(pb, NETEXEC, SERVE_READY);
    });
    after(async () => {
      const errs = await lab.cleanup();
      expect(errs, errs.join('\n')).to.deep.equal([]);
    });

    it('pod → Service → other pod on the same bridge (DNAT in bridged traffic)', async () => {
      const r = await lab.agnhost(pa, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=3s', '--data=clientip']);
      expect([r.code, r.stdout.trim().replace(/:\d+$/, '')], r.stderr).to.deep.equal([0, '10.251.4.10']);
    });

    it('pod → Service → itself (hairpin, masqueraded; client and server stacks share the netns)', async () => {
      const r = await lab.agnhost(pb, ['connect', `${VIP}:95`, '--protocol=sctp', '--timeout=3s', '--data=clientip']);
      expect([r.code, r.stdout.trim().replace(/:\d+$/, '')], r.stderr + r.stdout).to.deep.equal([0, '10.251.4.1']);
    });
  });

  describe('porter (SERVE_SCTP_PORT_5060 / SERVE_TCP_PORT_5060 / SERVE_UDP_PORT_5060 / SERVE_PORT_8080)', () => {
    const lab = new Lab('p');
    let cli: string, srv: string;
    before(async function () {
      skipUnlessLab(this);
      cli = await lab.addNetns('cli');
      srv = await lab.addNetns('srv');
      await lab.link(cli, 'eth0', '10.251.5.1/24', srv, 'eth0', '10.251.5.2/24');
      await lab.serve(
        srv,
        ['porter'],
        [/serving SCTP on 10\.251\.5\.2:5060/, /serving TCP on port 5060/, /serving UDP on port 5060/, /serving HTTP on port 8080/],
        { SERVE_SCTP_PORT_5060: 'sctp-5060', SERVE_TCP_PORT_5060: 'tcp-5060', SERVE_UDP_PORT_5060: 'udp-5060', SERVE_PORT_8080: 'http-8080' },
      );
    });
    after(async () => {
      const errs = await lab.cleanup();
      expect(errs, errs.join('\n')).to.deep.equal([]);
    });

    it('answers each protocol with its own value on one port number', async () => {
      const got: Record<string, string> = {};
      for (const p of ['sctp', 'tcp', 'udp']) {
        const r = await lab.agnhost(cli, ['connect', '10.251.5.2:5060', `--protocol=${p}`, '--timeout=3s', '--data=x']);
        expect(r.code, `${p}: ${r.stdout} ${r.stderr}`).to.equal(0);
        got[p] = r.stdout.trim();
      }
      got.http = (await lab.sh(cli, 'busybox wget -q -O - http://10.251.5.2:8080/anything')).trim();
      expect(got).to.deep.equal({ sctp: 'sctp-5060', tcp: 'tcp-5060', udp: 'udp-5060', http: 'http-8080' });
    });
  });
});
