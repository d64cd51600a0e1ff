import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { shq } from '../framework/shell.ts';
import { connectOutcome, dialOutcome, podVantage, probeFrom, type RawRun, renderProbeLine, reproduceCommand, type Vantage } from './probe.ts';

const run = (code: number | null, stdout = '', stderr = ''): RawRun => ({ code, stdout, stderr });

/** A vantage point whose runs are answered from a list, recording each argv and deadline. */
function fake(answers: Array<RawRun | Error>, o: Partial<Vantage> = {}): Vantage & { calls: Array<{ argv: string[]; timeoutMs: number }> } {
  const calls: Array<{ argv: string[]; timeoutMs: number }> = [];
  return {
    calls,
    name: 'ns1/client',
    flavor: 'agnhost-sctp',
    run: async (argv, timeoutMs) => {
      calls.push({ argv, timeoutMs });
      const a = answers.shift() ?? run(0);
      if (a instanceof Error) throw a;
      return a;
    },
    command: (argv) => reproduceCommand({ pod: 'client', ns: 'ns1' }, argv),
    ...o,
  };
}

describe('shq (lib/framework/shell.ts): the one shell quoting, used by every reproduce command', () => {
  it('leaves plain words alone', () => {
    for (const w of ['/agnhost-sctp', 'connect', '10.0.0.1:80', '--protocol=sctp', '--timeout=2s', 'a,b@c%d+e']) expect(shq(w)).to.equal(w);
  });

  it('quotes a value with a quote, a space, a $, brackets or an & so that a shell reads it back unchanged', () => {
    const words = [`it's`, 'two words', '$HOME', '`id`', '[fd00::1]:80', 'http://127.0.0.1:8080/dial?request=hostname&port=80', '', `'`, 'a\nb'];
    for (const w of words) {
      expect(shq(w), w).to.match(/^'.*'$/s);
      expect(execFileSync('sh', ['-c', `printf %s ${shq(w)}`], { encoding: 'utf8' }), `sh reads back ${JSON.stringify(w)}`).to.equal(w);
    }
  });
});

describe('reproduceCommand', () => {
  it('builds the kubectl exec, docker exec and local forms, every word quoted', () => {
    const argv = ['/agnhost-sctp', 'connect', '[fd00::1]:80', '--protocol=sctp'];
    expect(reproduceCommand({ pod: 'client', ns: 'ns1' }, argv)).to.equal(`kubectl exec -n ns1 client -- /agnhost-sctp connect '[fd00::1]:80' --protocol=sctp`);
    expect(reproduceCommand({ container: '0123456789ab' }, argv)).to.equal(`docker exec 0123456789ab /agnhost-sctp connect '[fd00::1]:80' --protocol=sctp`);
    expect(reproduceCommand({ here: true }, ['nsenter', '--net=/run/netns/o', '--', 'b', 'x y'])).to.equal(`nsenter --net=/run/netns/o -- b 'x y'`);
  });
});

describe('the probe line on captured real outputs', () => {
  // lib/framework/testdata: a real run's summary.json; its skip reasons carry the probe commands as the suite wrote them.
  const summary = readFileSync(new URL('../framework/testdata/summary-20261204t213718.json', import.meta.url), 'utf8');
  const captured = [...new Set([...summary.matchAll(/reproduce: (kubectl exec [^"(]+?) \(capability/g)].map((m) => m[1]!))];

  it('a pod probe and a matrix probe reproduce the captured commands word for word', async () => {
    expect(captured).to.include('kubectl exec -n sctp-netpol-basic-m6f2r client -- /agnhost-sctp connect 10.244.1.7:5060 --protocol=tcp --timeout=5s');
    expect(captured).to.include('kubectl exec -n netpol-x-4k2wq b -- /agnhost-sctp connect 10.244.1.13:80 --protocol=tcp --timeout=2s');
    const exec = async () => run(0);
    const basic = await probeFrom(podVantage({ ns: 'sctp-netpol-basic-m6f2r', pod: 'client', flavor: 'agnhost-sctp', exec }), {
      host: '10.244.1.7',
      port: 5060,
      protocol: 'TCP',
      timeoutMs: 5000,
    });
    const cell = await probeFrom(podVantage({ ns: 'netpol-x-4k2wq', pod: 'b', flavor: 'agnhost-sctp', exec }), {
      host: '10.244.1.13',
      port: 80,
      protocol: 'TCP',
      timeoutMs: 2000,
    });
    expect(captured).to.include.members([basic.command, cell.command]);
    // "last: OK: connected" in the same skip reasons: the detail of an allowed probe without data
    expect(summary).to.include(`last: ${basic.detail}; reproduce: ${basic.command}`);
  });

  it('renders captured agnhost-sctp answers: a timeout is blocked, an ICMP refusal is refused, OTHER is a probe error', () => {
    const cmd = 'kubectl exec -n ns1 client -- /agnhost-sctp connect 10.96.0.12:80 --protocol=sctp --timeout=1s';
    const t = connectOutcome('SCTP ns1/client -> 10.96.0.12:80', cmd, run(2, 'TIMEOUT: no SCTP association with 10.96.0.12:80 within 1000ms (kernel stack)\n'));
    expect(t).to.include({ state: 'blocked', blockedBy: 'timeout', cls: 'TIMEOUT', reply: '' });
    expect(t.render()).to.equal(
      `SCTP ns1/client -> 10.96.0.12:80: blocked — TIMEOUT: no SCTP association with 10.96.0.12:80 within 1000ms (kernel stack)\n  reproduce: ${cmd}`,
    );
    const r = connectOutcome(
      'SCTP ns1/client -> 10.96.0.12:80',
      cmd,
      run(3, 'REFUSED: ICMP type 3 code 3 from 10.244.1.5 for sctp to 10.96.0.12:80 after 3ms\n'),
    );
    expect(r).to.include({ state: 'blocked', blockedBy: 'refused' });
    const o = connectOutcome('SCTP ns1/client -> 10.96.0.12:80', cmd, run(1, 'OTHER: sctp connect to 10.96.0.12:80: Invalid argument\n'));
    expect(o.state).to.equal('error');
    expect(o.render().split('\n')[0]).to.equal(
      'SCTP ns1/client -> 10.96.0.12:80: error — OTHER: sctp connect to 10.96.0.12:80: Invalid argument [probe error: unclassified failure, not a policy verdict]',
    );
  });

  it('with data: hostname, the first line of the answer is who answered', () => {
    const o = connectOutcome('SCTP outside 10.199.0.100 -> 10.199.0.2:30080', 'c', run(0, 'backend-a\n'), { hostname: true });
    expect(o).to.include({ state: 'allowed', reply: 'backend-a', detail: 'OK: answered by backend-a' });
    expect(renderProbeLine(o)).to.equal(o.render());
  });
});

describe('probeFrom', () => {
  it('an exec that failed is a probe error with the command, never blocked', async () => {
    const v = fake([new Error('exec timed out after 35s')]);
    const o = await probeFrom(v, { host: '10.0.0.1', port: 80, protocol: 'TCP', timeoutMs: 2000 });
    expect(o).to.include({ state: 'error', cls: 'EXEC' });
    expect(o.render()).to.equal(
      'TCP ns1/client -> 10.0.0.1:80: error — probe did not run: exec timed out after 35s\n  reproduce: kubectl exec -n ns1 client -- /agnhost-sctp connect 10.0.0.1:80 --protocol=tcp --timeout=2s',
    );
  });

  it('gives the exec the connect timeout plus one node exec, and the vantage point its own binary', async () => {
    const v = fake([run(0, 'backend-b\n')], { name: 'outside 10.199.0.100', bin: '/x/agnhost-sctp' });
    const o = await probeFrom(v, { host: '10.199.0.2', port: 30080, protocol: 'SCTP', timeoutMs: 2000, data: 'hostname' });
    expect(v.calls[0]!.argv).to.deep.equal(['/x/agnhost-sctp', 'connect', '10.199.0.2:30080', '--protocol=sctp', '--timeout=2s', '--data=hostname']);
    expect(v.calls[0]!.timeoutMs).to.be.greaterThan(2000);
    expect(o.what).to.equal('SCTP outside 10.199.0.100 -> 10.199.0.2:30080');
    expect(o.reply).to.equal('backend-b');
  });

  it("upstream agnhost: a hostname probe asks the pod's netexec /dial, quoted in the reproduce command", async () => {
    const v = fake([run(0, '{"responses":["backend-a"]}'), run(0, '{"errors":["read udp: i/o timeout"]}'), run(7, 'curl: (7) Failed to connect')], {
      flavor: 'agnhost',
    });
    const t = { host: '10.96.0.12', port: 5060, protocol: 'SCTP' as const, timeoutMs: 5000, data: 'hostname' as const };
    const ok = await probeFrom(v, t);
    expect(ok).to.include({ state: 'allowed', reply: 'backend-a', detail: 'OK: backend-a' });
    expect(ok.command).to.equal(
      `kubectl exec -n ns1 client -- curl -s --max-time 10 'http://127.0.0.1:8080/dial?request=hostname&protocol=sctp&host=10.96.0.12&port=5060&tries=1'`,
    );
    expect(await probeFrom(v, t)).to.include({ state: 'blocked', blockedBy: 'timeout', cls: 'TIMEOUT' });
    const bad = await probeFrom(v, t);
    expect(bad.state).to.equal('error');
    expect(bad.detail).to.match(/^netexec \/dial answered no JSON \(exit 7\): curl: \(7\)/);
  });

  it('without data, upstream agnhost probes with its own connect', async () => {
    const v = fake([run(1, '', 'OTHER: dial sctp 10.96.0.12:80: connection refused\n')], { flavor: 'agnhost' });
    const o = await probeFrom(v, { host: '10.96.0.12', port: 80, protocol: 'SCTP', timeoutMs: 1000 });
    expect(v.calls[0]!.argv[0]).to.equal('/agnhost');
    expect(o).to.include({ state: 'blocked', blockedBy: 'refused' });
  });

  it('dialOutcome: a response list without answers is a probe error', () => {
    expect(dialOutcome('w', 'c', run(0, '{"responses":[],"errors":["dns: no such host"]}')).state).to.equal('error');
  });
});
