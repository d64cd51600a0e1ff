import { expect } from 'chai';
import { budget, budgetMargin, span, timeouts as t, times, type Waits } from './timeouts.ts';

// Every mocha timeout the specs set with `this.timeout(<arithmetic>)` before they declared their waits
// (f.budget), old expression next to the new declaration: no budget may become tighter.
const MATRIX_PROBE = Math.min(t.probe, 2_000 * Math.max(1, t.probe / 5_000));
const MATRIX = 2 * (t.proxySync + 2 * (MATRIX_PROBE + t.nodeExec) + t.poll);
const STEP = t.proxySync + 2 * (t.probe + t.nodeExec) + t.poll;
const LB_WAIT = t.proxySync;
const CHURN_ROUNDS = 6;
const AFFINITY_CONNECTS = 10;
const HOLD_MS = 40_000;

const table: Array<[where: string, old: number, now: Waits[]]> = [
  ['no-port-reservation', t.podStart + t.proxySync * 2 + t.nodeExec * 4, [{ podStart: 1, proxySync: 2, nodeExec: 4 }]],
  ['dns before', t.podStart * 2, [{ podStart: 2 }]],
  ['networkpolicy-tcp-udp', t.podStart * 2 + STEP * 4 + t.apiCall * 4, [{ podStart: 2, cellsSettle: 4, apiCall: 4 }]],
  ['node-rules hostPort', t.podStart + t.proxySync + t.nodeExec * 4, [{ podStart: 1, proxySync: 1, nodeExec: 4 }]],
  ['node-rules Services, before the node count', t.podStart + t.nodeExec * 4, [{ podStart: 1, nodeExec: 4 }]],
  ...[1, 2, 3, 5].map((n): [string, number, Waits[]] => [
    `node-rules Services, ${n} node(s)`,
    t.podStart + n * (t.nodeExec * 4 + 3 * (t.proxySync + t.nodeExec * 4)),
    [{ podStart: 1 }, times(n, { nodeExec: 4 }, times(3, { proxySync: 1, nodeExec: 4 }))],
  ]),
  ['services before', t.podStart * 2, [{ podStart: 2 }]],
  ['services ClusterIP / hairpin', t.endpoints + t.proxySync * 2, [{ endpoints: 1, proxySync: 2 }]],
  ['services headless', t.dns * 2 + t.proxySync * 2, [{ dns: 2, proxySync: 2 }]],
  ['services selector-less', t.proxySync * 3, [{ proxySync: 3 }]],
  ['pod-to-pod same / other node', t.podStart * 3, [{ podStart: 3 }]],
  ['pod-to-pod different kernels', t.podStart * 6, [{ podStart: 6 }]],
  ['networkpolicy before', t.namespace * 2 + t.podStart + MATRIX * 4 + t.apiCall * 2, [{ namespace: 2, podStart: 1, matrix: 4, apiCall: 2 }]],
  ...[0, 1, 2].map((p): [string, number, Waits[]] => [`networkpolicy afterEach, ${p} policies`, t.apiCall * (p + 1), [{ apiCall: p + 1 }]]),
  ['networkpolicy default-deny-ingress', MATRIX * 2 + t.apiCall, [{ matrix: 2, apiCall: 1 }]],
  ['networkpolicy allow by port', MATRIX * 3 + t.apiCall * 2, [{ matrix: 3, apiCall: 2 }]],
  ['networkpolicy SCTP leaves TCP/UDP denied', MATRIX * 3 + t.apiCall, [{ matrix: 3, apiCall: 1 }]],
  ['networkpolicy other namespace / egress', MATRIX + t.apiCall, [{ matrix: 1, apiCall: 1 }]],
  ['outside before', t.podStart + t.apiCall * 2, [{ podStart: 1, apiCall: 2 }]],
  ['outside NodePort', t.proxySync + t.endpoints + t.apiCall, [{ proxySync: 1, endpoints: 1, apiCall: 1 }]],
  ['outside hostPort', t.proxySync + t.apiCall, [{ proxySync: 1, apiCall: 1 }]],
  ['outside externalIP', t.proxySync + t.endpoints + t.nodeExec * 3, [{ proxySync: 1, endpoints: 1, nodeExec: 3 }]],
  ['loadbalancer pod', t.podStart + LB_WAIT + t.proxySync * 2, [{ podStart: 1, loadBalancer: 1, proxySync: 2 }]],
  ['loadbalancer outside', t.podStart + LB_WAIT + t.proxySync * 2 + t.apiCall, [{ podStart: 1, loadBalancer: 1, proxySync: 2, apiCall: 1 }]],
  ['resync before', t.podStart * 2, [{ podStart: 2 }]],
  [
    'resync churn',
    t.proxySync * (CHURN_ROUNDS + 2) + t.apiCall * CHURN_ROUNDS * 4 + t.endpoints,
    [{ endpoints: 1, proxySync: 2 }, times(CHURN_ROUNDS, { proxySync: 1, apiCall: 4 })],
  ],
  ['resync held association', t.proxySync * 3 + HOLD_MS + t.apiCall * 4 + t.endpoints, [{ proxySync: 3, ms: HOLD_MS, apiCall: 4, endpoints: 1 }]],
  ['resync affinity', t.proxySync * 2 + t.probe * AFFINITY_CONNECTS * 2, [{ proxySync: 2 }, times(AFFINITY_CONNECTS, { probe: 2 })]],
  ['framework namespace setup', t.namespace + t.apiCall, [{ namespace: 1, apiCall: 1 }]],
  ['framework cleanup', t.cleanup * 2, [{ cleanup: 2 }]],
];

describe('timeouts: budgets from declared waits', () => {
  for (const [where, old, now] of table) {
    it(`${where}: the declared waits add up to the old budget, plus the margin`, () => {
      expect(span(...now), where).to.equal(old);
      expect(budget(...now), where)
        .to.equal(old + budgetMargin)
        .and.to.be.at.least(old);
    });
  }

  it('the named composites are the formulas the specs used', () => {
    expect(t.matrixProbe).to.equal(MATRIX_PROBE);
    expect(t.matrix).to.equal(MATRIX);
    expect(t.cellsSettle).to.equal(STEP);
    expect(t.loadBalancer).to.equal(LB_WAIT);
  });

  it('times() repeats, span() adds without the margin, and a wrong name or count is refused', () => {
    expect(times(3, { apiCall: 2, ms: 5 })).to.deep.equal({ apiCall: 6, ms: 15 });
    expect(times(2, { nodeExec: 4 }, times(3, { proxySync: 1, nodeExec: 4 }))).to.deep.equal({ nodeExec: 32, proxySync: 6 });
    expect(span({ ms: 7 }, {})).to.equal(7);
    expect(() => span({ podstart: 1 } as Waits)).to.throw('waits: podstart is not a named timeout');
    expect(() => span({ apiCall: -1 })).to.throw('waits: apiCall must be a count >= 0, got -1');
  });
});
