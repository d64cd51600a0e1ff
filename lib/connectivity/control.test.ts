import { expect } from 'chai';
import { classifyControl } from './control.ts';
import { type ProbeResult, probeMatrix } from './probe-matrix.ts';
import type { CellObservation, ProbeState } from './truth-table.ts';

const ob = (seq: ProbeState[], o: Partial<CellObservation> = {}): CellObservation => ({
  state: seq.at(-1) ?? 'not-probed',
  attempts: seq.length,
  elapsedMs: 60_000,
  detail: 'OK',
  command: 'kubectl exec -n x b -- /agnhost-sctp connect 10.0.0.7:80 --protocol=tcp --timeout=5s',
  sequence: seq,
  accepted: seq.length >= 2 && seq.at(-1) === seq.at(-2),
  ...o,
});
const what = 'TCP x/b -> x/a 10.0.0.7:80';
const policy = 'a deny-all ingress policy on x/a';

describe('classifyControl', () => {
  it('blocked twice in a row: enforced', () => {
    const v = classifyControl({ what, policy, observation: ob(['allowed', 'blocked', 'blocked'], { detail: 'TIMEOUT' }) });
    expect(v.kind).to.equal('enforced');
    expect(v.text).to.include('observed blocked twice in a row (3 observations in 60s: . X X)');
  });

  it('allowed in every observation across the wait, no error: no implementation (the skip reason carries the evidence)', () => {
    const v = classifyControl({ what, policy, observation: ob(['allowed', 'allowed', 'allowed', 'allowed']) });
    expect(v).to.deep.equal({
      kind: 'not-enforced',
      text: 'no NetworkPolicy implementation enforces policies in this cluster: with a deny-all ingress policy on x/a, TCP x/b -> x/a 10.0.0.7:80 stayed allowed in every observation (4 observations in 60s: . . . .); last: OK; reproduce: kubectl exec -n x b -- /agnhost-sctp connect 10.0.0.7:80 --protocol=tcp --timeout=5s',
    });
  });

  it('a probe error anywhere is a failure with the probe\'s evidence, never "no implementation"', () => {
    const timedOut = classifyControl({
      what,
      policy,
      observation: ob(['error', 'error'], { detail: 'probe failed: exec failed: container not found [probe error]' }),
    });
    expect(timedOut.kind).to.equal('failed');
    expect(timedOut.text.split('\n')).to.deep.equal([
      'the control could not be verified (a deny-all ingress policy on x/a): a probe error is not a verdict, so whether any NetworkPolicy implementation enforces policies is unknown (fix the probe: exec, image, pod)',
      'TCP x/b -> x/a 10.0.0.7:80 expected X observed ! (2 observations in 60s: ! !)',
      '  detail: probe failed: exec failed: container not found [probe error]',
      '  reproduce: kubectl exec -n x b -- /agnhost-sctp connect 10.0.0.7:80 --protocol=tcp --timeout=5s',
    ]);
    const once = classifyControl({
      what,
      policy,
      observation: ob(['allowed', 'error', 'allowed', 'allowed'], { lastError: { attempt: 2, detail: 'ErrImagePull', command: 'c' } }),
    });
    expect(once.kind).to.equal('failed');
    expect(once.text).to.include('probe error at observation 2: ErrImagePull');
  });

  it('observations that never settle, or one alone, are a failure too', () => {
    expect(classifyControl({ what, policy, observation: ob(['allowed', 'blocked', 'allowed', 'blocked']) }).text).to.match(/never settled/);
    expect(classifyControl({ what, policy, observation: ob(['allowed']) }).text).to.match(/fewer than two observations/);
    expect(classifyControl({ what, policy, observation: ob([]) }).kind).to.equal('failed');
  });
});

// The composition both NetworkPolicy specs use: a one-cell matrix expected blocked, re-probed across the wait,
// then classified. Fakes answer by call count.
describe('the deny-all control as the specs run it (probeMatrix + classifyControl)', () => {
  const cell = { from: 'x/b', to: 'x/a' };
  const run = async (answers: string) => {
    const steps = answers.split(' ');
    let n = 0;
    const r = await probeMatrix({
      cells: [cell],
      expected: () => 'blocked',
      concurrency: 1,
      timeoutMs: 1000,
      retries: 6,
      retryIntervalMs: 1,
      retryDeadlineMs: 10_000,
      probe: async (): Promise<ProbeResult> => {
        const s = steps[Math.min(n++, steps.length - 1)];
        if (s === '.') return { state: 'allowed', detail: 'OK', command: 'cmd' };
        if (s === 'X') return { state: 'blocked', blockedBy: 'timeout', detail: 'TIMEOUT', command: 'cmd' };
        throw new Error('exec failed: image not found');
      },
    });
    return classifyControl({ what, policy, observation: r.observed.get(cell.from, cell.to) });
  };

  it('a policy that takes effect after a few probes: enforced', async () => {
    expect((await run('. . . X')).kind).to.equal('enforced');
  });
  it('allowed across the whole wait: not enforced (skip, or fail under --require)', async () => {
    const v = await run('.');
    expect(v.kind).to.equal('not-enforced');
    expect(v.text).to.include('stayed allowed in every observation (8 observations');
  });
  it('a probe that cannot run: a failure naming the probe error, not "no implementation"', async () => {
    const v = await run('!');
    expect(v.kind).to.equal('failed');
    expect(v.text)
      .to.match(/a probe error is not a verdict/)
      .and.match(/probe failed: exec failed: image not found/);
  });
  it('one probe error among allowed observations: still a failure', async () => {
    const v = await run('. . ! .');
    expect(v.kind).to.equal('failed');
    expect(v.text).to.include('. . ! . . . . .').and.to.include('probe error at observation 3: probe failed: exec failed: image not found');
  });
});
