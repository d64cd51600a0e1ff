// Benchmark of agnhost-sctp's SCTP path on this machine, printed as figures.
//   tsx bench/agnhost-bench.ts [--associations=200] [--concurrency=8] [--seconds=3]
// Topology: client netns ─ router netns (iptables DNAT 10.96.252.9:95 → server:8082) ─ server netns,
// i.e. the ClusterIP path the suite uses. Measures, for the stack agnhost-sctp picks (userspace here):
// - in-process: association setup time and echo round trip (sequential, `agnhost-sctp bench`),
//   and echo throughput with N concurrent associations;
// - per probe as the suite pays it: wall time of one `agnhost-sctp connect --protocol=sctp`
//   process (process start, stack init, handshake, shutdown), sequential and 50 in parallel.
// Everything it creates carries the prefix agt-<pid>-bench and is removed at the end.

import { cpus, loadavg } from 'node:os';
import { ensureBinary, Lab, labUnavailable } from '../agnhost-sctp/testing/lab.ts';
import { ExitCode, UserError } from '../lib/framework/errors.ts';
import { runMain } from '../lib/framework/main.ts';

const arg = (name: string, dflt: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const pctl = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))] ?? NaN;
};
const f = (n: number) => n.toFixed(1);

async function main(): Promise<number> {
  const why = labUnavailable();
  if (why) throw new UserError(`cannot run: ${why}`, ExitCode.usage);
  await ensureBinary();
  const lab = new Lab('bench');
  try {
    const cli = await lab.addNetns('cli');
    const rtr = await lab.addNetns('rtr');
    const srv = await lab.addNetns('srv');
    await lab.link(cli, 'eth0', '10.252.2.2/24', rtr, 'c0', '10.252.2.1/24');
    await lab.link(srv, 'eth0', '10.252.3.2/24', rtr, 's0', '10.252.3.1/24');
    await lab.sh(cli, 'ip route add default via 10.252.2.1');
    await lab.sh(srv, 'ip route add default via 10.252.3.1');
    await lab.sh(
      rtr,
      'sysctl -qw net.ipv4.ip_forward=1 && iptables -t nat -A PREROUTING -p sctp -d 10.96.252.9 --dport 95 -j DNAT --to-destination 10.252.3.2:8082',
    );
    await lab.serve(srv, ['netexec', '--http-port=-1', '--udp-port=-1', '--sctp-port=8082'], [/serving SCTP on/]);

    console.log(
      `agnhost-bench: ${new Date().toISOString()} ${cpus().length} CPUs, load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log('path: client netns → router DNAT 10.96.252.9:95 → server 10.252.3.2:8082 (veth, iptables-nft)');

    const r = await lab.agnhost(
      cli,
      [
        'bench',
        '10.96.252.9:95',
        `--associations=${arg('associations', 200)}`,
        '--messages=20',
        `--concurrency=${arg('concurrency', 8)}`,
        `--seconds=${arg('seconds', 3)}`,
        '--size=100',
      ],
      300_000,
    );
    if (r.code !== 0) throw new UserError(`agnhost-sctp bench exited ${r.code}: ${r.stdout}${r.stderr}`, ExitCode.failed);
    const b = JSON.parse(r.stdout);
    console.log(`stack: ${b.stack}`);
    console.log(`association setup (in-process, ${b.associations} sequential): p50 ${b.setup_ms.p50} ms, p95 ${b.setup_ms.p95} ms, max ${b.setup_ms.max} ms`);
    console.log(
      `echo round trip (9-byte request, ${b.echo_rtt_ms.n} samples): p50 ${b.echo_rtt_ms.p50} ms, p95 ${b.echo_rtt_ms.p95} ms, max ${b.echo_rtt_ms.max} ms`,
    );
    console.log(
      `concurrent echo: ${b.concurrent.associations} associations × ${b.concurrent.seconds} s, ${b.concurrent.size}-byte payload: ` +
        `${b.concurrent.echoes} echoes, ${b.concurrent.echoes_per_s}/s, ${b.concurrent.payload_MBps} MB/s payload both ` +
        `ways, errors ${b.concurrent.errors}; sequential failures ${b.failures}`,
    );

    const seq: number[] = [];
    for (let i = 0; i < 30; i++) {
      const c = await lab.agnhost(cli, ['connect', '10.96.252.9:95', '--protocol=sctp', '--timeout=5s']);
      if (c.code !== 0) throw new UserError(`connect probe ${i} failed: ${c.stdout}`, ExitCode.failed);
      seq.push(c.ms);
    }
    console.log(`connect probe process (sequential, 30): p50 ${f(pctl(seq, 0.5))} ms, p95 ${f(pctl(seq, 0.95))} ms, max ${f(Math.max(...seq))} ms`);

    const t0 = performance.now();
    const par = await Promise.all(
      Array.from({ length: 50 }, (_, i) => lab.agnhost(cli, ['connect', '10.96.252.9:95', '--protocol=sctp', '--timeout=10s', `--data=echo p${i}`], 60_000)),
    );
    const wall = performance.now() - t0;
    const ok = par.filter((c, i) => c.code === 0 && c.stdout.trim() === `p${i}`).length;
    console.log(
      `connect+echo probe processes (50 in parallel, one netns): ${ok}/50 answered, wall ${f(wall)} ms, ` +
        `per-process p50 ${f(
          pctl(
            par.map((c) => c.ms),
            0.5,
          ),
        )} ms, max ${f(Math.max(...par.map((c) => c.ms)))} ms`,
    );
    return ok === 50 ? 0 : 1;
  } finally {
    const errs = await lab.cleanup();
    for (const e of errs) console.error(`agnhost-bench: ${e}`);
  }
}

runMain('agnhost-bench', main);
