import { expect } from 'chai';
import { findOutside, netnsOutside, type RawRun, type Runner } from './outside.ts';

function recorder(answers: Array<RawRun | Error>): { runner: Runner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    runner: async (argv) => {
      calls.push(argv);
      const a = answers.shift() ?? { code: 0, stdout: '', stderr: '' };
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

describe('netnsOutside', () => {
  it('runs agnhost-sctp connect inside the netns and returns the echoed reply', async () => {
    const r = recorder([{ code: 0, stdout: 'backend-a\n', stderr: '' }]);
    const c = netnsOutside({ netns: 'sctpe2e-outside', ip: '10.199.0.100', binary: '/x/agnhost-sctp', runner: r.runner });
    const o = await c.connect('10.199.0.2', 30080, 'SCTP', { timeoutMs: 2000, data: 'hostname' });
    expect(r.calls[0]).to.deep.equal([
      'nsenter',
      '--net=/run/netns/sctpe2e-outside',
      '--',
      '/x/agnhost-sctp',
      'connect',
      '10.199.0.2:30080',
      '--protocol=sctp',
      '--timeout=2s',
      '--data=hostname',
    ]);
    expect(o).to.include({ state: 'allowed', reply: 'backend-a' });
    expect(o.command).to.equal(
      'nsenter --net=/run/netns/sctpe2e-outside -- /x/agnhost-sctp connect 10.199.0.2:30080 --protocol=sctp --timeout=2s --data=hostname',
    );
  });

  it('dual-stack: IPv6 targets go bracketed to connect, the probe line names both source addresses, host routes are /128', async () => {
    const r = recorder([{ code: 0, stdout: 'backend-a\n', stderr: '' }]);
    const c = netnsOutside({ netns: 'o', ip: '10.199.0.100', ips: ['10.199.0.100', 'fd00:199::100'], binary: 'b', runner: r.runner });
    const o = await c.connect('fd00:199::2', 30570, 'SCTP', { timeoutMs: 2000, data: 'hostname' });
    expect(r.calls[0]!.slice(3, 6)).to.deep.equal(['b', 'connect', '[fd00:199::2]:30570']);
    expect(o.what).to.equal('SCTP outside 10.199.0.100/fd00:199::100 -> [fd00:199::2]:30570');
    await c.addHostRoute('fd00:199:1::50', 'fd00:199::2');
    expect(r.calls[1]!.slice(3).join(' ')).to.equal('ip route add fd00:199:1::50/128 via fd00:199::2');
    await c.close();
  });

  it('classifies a timeout as blocked and a runner failure as a probe error, never blocked', async () => {
    const r = recorder([
      { code: 2, stdout: 'TIMEOUT: no SCTP association with 10.199.0.2:30080 within 2000ms (userspace stack)\n', stderr: '' },
      new Error('cannot run nsenter: ENOENT'),
    ]);
    const c = netnsOutside({ netns: 'o', ip: '10.199.0.100', binary: 'b', runner: r.runner });
    const t = await c.connect('10.199.0.2', 30080, 'SCTP');
    expect(t).to.include({ state: 'blocked', cls: 'TIMEOUT', reply: '' });
    const e = await c.connect('10.199.0.2', 30080, 'SCTP');
    expect(e.state).to.equal('error');
    expect(e.render()).to.match(/probe did not run: cannot run nsenter: ENOENT\n {2}reproduce: nsenter --net=\/run\/netns\/o -- b connect/);
  });

  it('adds a /32 route in the netns and removes it once (close removes leftovers)', async () => {
    const r = recorder([]);
    const c = netnsOutside({ netns: 'o', ip: '10.199.0.100', binary: 'b', runner: r.runner });
    const remove = await c.addHostRoute('10.199.0.50', '10.199.0.2');
    await remove();
    await remove();
    await c.addHostRoute('10.199.0.51', '10.199.0.2');
    await c.close();
    expect(r.calls.map((a) => a.slice(3).join(' '))).to.deep.equal([
      'ip route add 10.199.0.50/32 via 10.199.0.2',
      'ip route del 10.199.0.50/32 via 10.199.0.2',
      'ip route add 10.199.0.51/32 via 10.199.0.2',
      'ip route del 10.199.0.51/32',
    ]);
  });

  it('reports a failing ip command with its exit and stderr', async () => {
    const r = recorder([{ code: 2, stdout: '', stderr: 'RTNETLINK answers: File exists\n' }]);
    const c = netnsOutside({ netns: 'o', ip: '10.199.0.100', binary: 'b', runner: r.runner });
    let err: Error | undefined;
    await c.addHostRoute('10.199.0.50', '10.199.0.2').catch((e: Error) => (err = e));
    expect(err?.message).to.equal('nsenter --net=/run/netns/o -- ip route add 10.199.0.50/32 via 10.199.0.2 exited 2: RTNETLINK answers: File exists');
  });
});

describe('findOutside', () => {
  const images = { test: 'i', hostExec: 'i', outside: 'i' };
  it('says why there is no vantage point: not the local cluster and no Docker', async () => {
    const c = await findOutside({ images }, { docker: async () => false });
    expect(c.reason).to.match(/^no outside vantage point: the cluster is not the local from-source cluster .* no Docker daemon answers/);
  });

  it('says when the local cluster has no outside netns or no client binary', async () => {
    const base = { name: 'n', kubeconfig: 'k', proxyMode: 'iptables' as const, serviceCIDR: '', podCIDR: '', dnsIP: '', clusterDomain: '', nodes: [] };
    expect((await findOutside({ images, localCluster: base })).reason).to.match(/no "outside" netns/);
    const withOutside = { ...base, outside: { netns: 'sctpe2e-outside', ip: '10.199.0.100' } };
    expect((await findOutside({ images, localCluster: withOutside }, { binary: '/nonexistent/agnhost-sctp' })).reason).to.equal(
      'no outside client binary at /nonexistent/agnhost-sctp: build it with `bash agnhost-sctp/build.sh`',
    );
  });
});
