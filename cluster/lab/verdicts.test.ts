import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { classifyControl } from '../../lib/connectivity/control.ts';
import { MissingCapability } from '../../lib/framework/capabilities.ts';
import { renderJUnit } from '../../lib/framework/reporter.ts';
import { VERDICT_CASES } from './cases.ts';
import { FAULTS, forwardDropRule, knpStopped } from './faults.ts';
import { parseJUnit } from './junit.ts';
import { judge, renderMatrix } from './verdicts.ts';

describe('fault lane: JUnit read-back and verdict judgement', () => {
  const xml = renderJUnit([
    {
      title: 'a',
      fullTitle: 'SCTP node rules [Feature:SCTP] Services can declare SCTP ServicePorts when using the iptables proxier',
      suite: 's',
      outcome: 'failed',
      durationMs: 1,
      message: 'ClusterIP: rule `-A KUBE-SEP-X -m tcp -p tcp -j DNAT` matches tcp & <not> sctp',
    },
    { title: 'b', fullTitle: 'SCTP node rules [Feature:SCTP] Pods can declare SCTP HostPorts', suite: 's', outcome: 'passed', durationMs: 1 },
    { title: 'c', fullTitle: 'x NetworkPolicy skip', suite: 's', outcome: 'skipped', durationMs: 0, reason: 'no "implementation"' },
  ]);

  it('reads back what the reporter writes (names, outcomes, unescaped messages)', () => {
    const cases = parseJUnit(xml);
    expect(cases.map((c) => c.outcome)).to.deep.equal(['failed', 'passed', 'skipped']);
    expect(cases[0]!.message).to.equal('ClusterIP: rule `-A KUBE-SEP-X -m tcp -p tcp -j DNAT` matches tcp & <not> sctp');
    expect(cases[2]!.message).to.equal('no "implementation"');
  });

  it('a failure counts only when its message names the fault', () => {
    const cases = parseJUnit(xml);
    const named = judge('dnat-to-tcp', { label: 'rules', test: /iptables proxier/, outcome: 'failed', names: /matches tcp/ }, cases, { code: 1, stderr: '' });
    expect(named).to.include({ ok: true, names: 'yes', observed: 'failed' });
    const unnamed = judge('dnat-to-tcp', { label: 'rules', test: /iptables proxier/, outcome: 'failed', names: /port translation/ }, cases, {
      code: 1,
      stderr: '',
    });
    expect(unnamed).to.include({ ok: false, names: 'no' });
  });

  it('a pass where a failure was expected, and a test that did not run, are wrong verdicts', () => {
    const cases = parseJUnit(xml);
    expect(judge('f', { label: 'hp', test: /HostPorts/, outcome: 'failed', names: /x/ }, cases, { code: 0, stderr: '' }).ok).to.equal(false);
    const missing = judge('f', { label: 'gone', test: /nothing like this/, outcome: 'passed' }, cases, { code: 0, stderr: '' });
    expect(missing).to.include({ ok: false, observed: 'not run' });
  });

  it('run-level expectations judge the exit code and stderr', () => {
    const e = { kind: 'exit' as const, label: 'ssh', code: 6, names: /host key/ };
    expect(judge('ssh', e, [], { code: 6, stderr: 'sctp-e2e: node access ssh does not work: SSH host key mismatch for node1' }).ok).to.equal(true);
    expect(judge('ssh', e, [], { code: 1, stderr: 'SSH host key mismatch' }).ok).to.equal(false);
  });

  it('the matrix shows every cell and counts the wrong ones', () => {
    const cases = parseJUnit(xml);
    const text = renderMatrix([
      judge('dnat-to-tcp', { label: 'rules', test: /iptables proxier/, outcome: 'failed', names: /matches tcp/ }, cases, { code: 1, stderr: '' }),
      judge('dnat-to-tcp', { label: 'hp', test: /HostPorts/, outcome: 'failed', names: /x/ }, cases, { code: 1, stderr: '' }),
    ]);
    expect(text).to.match(/dnat-to-tcp\s+rules\s+failed\s+failed\s+yes\s+ok/);
    expect(text).to.match(/1 of 2 verdicts as expected, 1 WRONG/);
  });

  it('every case names a fault the lab knows', () => {
    for (const c of VERDICT_CASES)
      expect(
        FAULTS.map((f) => f.name),
        c.fault,
      ).to.include(c.fault);
  });

  it('knp-stopped: the failure the deny-all control gives under --require networkpolicy is what its case expects', () => {
    expect(knpStopped.breaks).to.match(/kube-network-policies[\s\S]*sctp-e2e-vm[\s\S]*nft table inet kube-network-policies gone/);
    const text = classifyControl({
      what: 'TCP netpol-x-7k2lq/b -> netpol-x-7k2lq/a 10.244.20.7:80',
      policy: 'a deny-all ingress policy on netpol-x-7k2lq/a (control-deny-all)',
      observation: {
        state: 'allowed',
        attempts: 3,
        elapsedMs: 12_000,
        detail: 'connected',
        command: 'kubectl exec ...',
        sequence: ['allowed', 'allowed', 'allowed'],
      },
    });
    expect(text.kind).to.equal('not-enforced');
    const message = new MissingCapability('networkpolicy', text.text).message;
    const c = VERDICT_CASES.find((v) => v.fault === 'knp-stopped')!;
    expect(c.args).to.deep.equal(['--require', 'networkpolicy']);
    for (const e of c.expect) {
      if (e.kind === 'exit' || e.kind === 'any' || !e.names) throw new Error(`unexpected expectation ${e.label}`);
      expect(e.outcome).to.equal('failed');
      expect(message, e.label).to.match(e.names);
    }
    // a probe error is not "the fault": the case must not accept the control's "could not be verified" failure
    const failed = classifyControl({
      what: 'TCP x/b -> x/a',
      policy: 'a deny-all ingress policy on x/a (control-deny-all)',
      observation: { state: 'error', attempts: 2, elapsedMs: 1_000, detail: 'exec failed', command: '', sequence: ['error', 'error'] },
    });
    for (const e of c.expect) if (e.kind !== 'exit' && e.kind !== 'any') expect(failed.text).not.to.match(e.names!);
  });

  it('forward-drop-sctp6 drops SCTP with ip6tables only, and its heal deletes exactly that rule', () => {
    const add6 = forwardDropRule(6, '-I');
    const del6 = forwardDropRule(6, '-D');
    expect(add6.bin).to.equal('ip6tables');
    expect(add6.args).to.deep.equal(['-w', '-I', 'FORWARD', '1', '-p', 'sctp', '-m', 'comment', '--comment', 'sctp-e2e-lab:forward-drop-sctp6', '-j', 'DROP']);
    expect(del6.args.slice(1, 3)).to.deep.equal(['-D', 'FORWARD']);
    expect(del6.args.slice(3)).to.deep.equal(add6.args.slice(4));
    expect(forwardDropRule(4, '-I').bin).to.equal('iptables');
    expect(FAULTS.find((f) => f.name === 'forward-drop-sctp6')?.breaks).to.match(/IPv6[^\n]*IPv4 untouched/);
  });

  it('every expectation of every case names exactly one test of the suite (a new spec whose title also matches would make the verdict ambiguous)', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bin/sctp-e2e.ts', 'run', '--dry-run'], {
      encoding: 'utf8',
      env: { ...process.env, SCTP_E2E_CLUSTER_DIR: '/nonexistent/cluster-dir', KUBECONFIG: '/nonexistent/kubeconfig' },
    });
    const titles = out
      .split('\n')
      .filter((l) => l.startsWith('  '))
      .map((l) => l.trim());
    expect(titles.length).to.be.greaterThan(40);
    titles.push('[Feature:SCTP] basic phase: sctp.ko module check at end of phase'); // the runner's own result (runner.ts), not a spec
    for (const c of VERDICT_CASES)
      for (const e of [...c.expect, ...(c.healthy ?? [])]) {
        if (e.kind === 'exit' || e.kind === 'any') continue;
        const hits = titles.filter((t) => e.test.test(t));
        expect(hits, `${c.fault}: ${e.label} (${e.test}) matches ${hits.length} tests:\n${hits.join('\n')}`).to.have.length(1);
      }
  });
});
