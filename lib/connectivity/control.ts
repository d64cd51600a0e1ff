// The deny-all control of a NetworkPolicy test: is any NetworkPolicy implementation enforcing policies
// here at all? Three answers, each from the observations themselves (never from how a wait ended):
//   enforced      the control cell was observed blocked twice in a row
//   not-enforced  it stayed allowed in every observation across the whole wait (at least two, no probe
//                 error): no implementation — the test skips with this evidence, or fails when the user
//                 declared the capability required (f.skipFor('networkpolicy', ...))
//   failed        anything else — a probe error (exec failure, image problem) or observations that never
//                 settled: the test fails with the probe's evidence; a probe that could not tell is not
//                 evidence that no implementation exists
import { formatDuration } from '../framework/duration.ts';
import { type CellObservation, renderCell, renderSequence } from './truth-table.ts';

export interface ControlVerdict {
  kind: 'enforced' | 'not-enforced' | 'failed';
  /** Stands alone: the skip reason (not-enforced), the failure message (failed), a log line (enforced). */
  text: string;
}

export interface ControlOptions {
  /** The probed path, e.g. "TCP netpol-x-7k2lq/b -> netpol-x-7k2lq/a 10.244.0.7:80". */
  what: string;
  /** The control policy, e.g. "a deny-all ingress policy on netpol-x-7k2lq/a (control-deny-all)". */
  policy: string;
  /** The control cell's observation (probeMatrix with that one cell expected blocked). */
  observation: CellObservation;
}

export function classifyControl(o: ControlOptions): ControlVerdict {
  const ob = o.observation;
  const seq = ob.sequence ?? (ob.attempts ? [ob.state] : []);
  const seen = `${seq.length} observation${seq.length === 1 ? '' : 's'} in ${formatDuration(ob.elapsedMs)}: ${renderSequence(seq) || 'none'}`;
  const evidence = renderCell(o.what, 'blocked', ob).join('\n');
  if (ob.state === 'blocked' && ob.accepted !== false && seq.length >= 2 && seq.at(-2) === 'blocked') {
    return { kind: 'enforced', text: `NetworkPolicy is enforced: with ${o.policy}, ${o.what} was observed blocked twice in a row (${seen})` };
  }
  if (seq.length >= 2 && seq.every((s) => s === 'allowed')) {
    return {
      kind: 'not-enforced',
      text: `no NetworkPolicy implementation enforces policies in this cluster: with ${o.policy}, ${o.what} stayed allowed in every observation (${seen}); last: ${ob.detail}${ob.command ? `; reproduce: ${ob.command}` : ''}`,
    };
  }
  const why = seq.includes('error')
    ? 'a probe error is not a verdict, so whether any NetworkPolicy implementation enforces policies is unknown (fix the probe: exec, image, pod)'
    : seq.length < 2
      ? 'fewer than two observations: neither "blocked" nor "not enforced" is proven'
      : 'the observations never settled: neither blocked twice in a row nor allowed throughout';
  return { kind: 'failed', text: `the control could not be verified (${o.policy}): ${why}\n${evidence}` };
}
