import { expect } from 'chai';
import { classifyControl } from './control.ts';
import type { CellObservation, ProbeState } from './truth-table.ts';

const ob = (seq: ProbeState[], o: Partial<CellObservation> = {}): CellObservation => ({
  state: seq.at(-1) ?? 'not-probed', attempts: seq.length, elapsedMs: 60_000, detail: 'OK', command: 'kubectl exec -n x b -- /agnhost-sctp connect 10.0.0.7:80 --protocol=tcp --timeout=5s',
  sequence: seq, accepted: seq.length >= 2 && seq.at(-1) === seq.at(-2), ...o,
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
    const timedOut = classifyControl({ what, policy, observation: ob(['error', 'error'], { detail: 'probe failed: exec failed: container not found [probe error]' }) });
    expect(timedOut.kind).to.equal('failed');
    expect(timedOut.text.split('\n')).to.deep.equal([
      'the control could not be verified (a deny-all ingress policy on x/a): a probe error is not a verdict, so whether any NetworkPolicy implementation enforces policies is unknown (fix the probe: exec, image, pod)',
      'TCP x/b -> x/a 10.0.0.7:80 expected X observed ! (2 observations in 60s: ! !)',
      '  detail: probe failed: exec failed: container not found [probe error]',
      '  reproduce: kubectl exec -n x b -- /agnhost-sctp connect 10.0.0.7:80 --protocol=tcp --timeout=5s',
    ]);
    const once = classifyControl({
      what, policy,
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
