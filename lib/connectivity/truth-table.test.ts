import { expect } from 'chai';
import { newModel, podKeys } from './model.ts';
import { type CellObservation, compare, Observed, Reachability, render, renderCell, renderList } from './truth-table.ts';

const obs = (state: CellObservation['state'], attempts = 1, elapsedMs = 1000, detail = '', command = ''): CellObservation => ({
  state,
  attempts,
  elapsedMs,
  detail,
  command,
});

describe('Reachability', () => {
  const pods = podKeys(newModel()); // x/a .. z/c

  it('ExpectPeer / ExpectAllIngress / ExpectAllEgress set exactly the matching cells', () => {
    const r = new Reachability(pods, true)
      .expectPeer({}, { namespace: 'x' }, false) // default-deny-ingress in x
      .expect('y/a', 'x/a', true) // allow y/a -> x/a
      .expectAllEgress('z/c', false);
    const blocked = r
      .allCells({ includeSelf: true })
      .filter((c) => r.get(c.from, c.to) === 'blocked')
      .map((c) => `${c.from}>${c.to}`);
    // 9 sources × 3 pods in x = 27, minus y/a>x/a = 26; plus z/c's egress to the 6 pods outside x = 32
    expect(blocked).to.have.lengthOf(32);
    expect(r.get('y/a', 'x/a')).to.equal('allowed');
    expect(r.get('y/b', 'x/a')).to.equal('blocked');
    expect(r.get('z/c', 'z/c')).to.equal('blocked');
    expect(r.get('z/b', 'y/c')).to.equal('allowed');
    expect(() => r.get('q/a', 'x/a')).to.throw(/pod q\/a is not in this table/);
  });

  it('allCells leaves self-pairs out unless asked', () => {
    const r = new Reachability(pods);
    expect(r.allCells()).to.have.lengthOf(72);
    expect(r.allCells({ includeSelf: true })).to.have.lengthOf(81);
  });
});

describe('compare', () => {
  const pods = ['x/a', 'x/b', 'y/a'];

  it('counts wrong cells, skips unprobed self-pairs, and never treats a probe error as blocked', () => {
    const expected = new Reachability(pods, false); // everything blocked
    const observed = new Observed();
    for (const c of expected.allCells()) observed.set(c.from, c.to, obs('blocked'));
    observed.set('x/a', 'x/b', obs('error', 1, 500, 'exec failed'));
    const r = compare(expected, observed);
    expect(r.total).to.equal(6);
    expect(r.selfNotProbed).to.equal(3);
    expect(r.wrong.map((w) => [w.from, w.to, w.expected, w.observed.state])).to.deep.equal([['x/a', 'x/b', 'blocked', 'error']]);
  });

  it('counts a probed self-pair, and an unprobed non-self cell is wrong', () => {
    const expected = new Reachability(pods, true);
    const observed = new Observed();
    for (const c of expected.allCells()) observed.set(c.from, c.to, obs('allowed'));
    observed.set('x/a', 'x/a', obs('blocked'));
    const fresh = new Observed();
    const r = compare(expected, observed);
    expect(r.total).to.equal(7);
    expect(r.selfNotProbed).to.equal(2);
    expect(r.wrong.map((w) => `${w.from}>${w.to}`)).to.deep.equal(['x/a>x/a']);
    const none = compare(expected, fresh);
    expect(none.wrong).to.have.lengthOf(6);
    expect(none.wrong.every((w) => w.observed.state === 'not-probed')).to.equal(true);
  });
});

describe('render', () => {
  it('produces STYLE.md form for a hand-computed example (golden)', () => {
    const pods = ['x/a', 'x/b', 'y/a'];
    const expected = new Reachability(pods, true).expectAllIngress('y/a', false).expect('y/a', 'x/b', false);
    const observed = new Observed()
      .set('x/a', 'x/b', obs('allowed'))
      .set('x/a', 'y/a', obs('allowed', 3, 10_000, '', 'kubectl exec -n netpol-x-7k2lq a -- /agnhost-sctp connect 10.96.44.3:80 --protocol=sctp --timeout=1s'))
      .set(
        'x/b',
        'x/a',
        obs(
          'error',
          1,
          2000,
          'exec failed: container "c" not found',
          'kubectl exec -n netpol-x-7k2lq b -- /agnhost-sctp connect 10.96.44.1:80 --protocol=sctp --timeout=1s',
        ),
      )
      .set('x/b', 'y/a', obs('blocked'))
      .set('y/a', 'x/a', obs('allowed'))
      .set('y/a', 'x/b', obs('blocked'));
    const text = render({ title: 'SCTP to :80 via Service IP', expected, observed });
    expect(text).to.equal(
      [
        'SCTP to :80 via Service IP — 2 wrong of 6 (3 self-pairs not probed)',
        'legend  . allowed  X blocked  ! probe error  ? not probed',
        'expected            observed            comparison',
        '     x/a x/b y/a         x/a x/b y/a         x/a x/b y/a',
        'x/a   .   .   X     x/a   ?   .   .     x/a   ?   .   X',
        'x/b   .   .   X     x/b   !   ?   X     x/b   X   ?   .',
        'y/a   .   X   X     y/a   .   X   ?     y/a   .   .   ?',
        'wrong: x/a -> y/a expected X observed . (3 attempts in 10s)',
        '  reproduce: kubectl exec -n netpol-x-7k2lq a -- /agnhost-sctp connect 10.96.44.3:80 --protocol=sctp --timeout=1s',
        'wrong: x/b -> x/a expected . observed ! (1 attempt in 2s)',
        '  detail: exec failed: container "c" not found',
        '  reproduce: kubectl exec -n netpol-x-7k2lq b -- /agnhost-sctp connect 10.96.44.1:80 --protocol=sctp --timeout=1s',
      ].join('\n'),
    );
  });

  it('takes the reproduce command from the callback and reports a fully right matrix as 0 wrong', () => {
    const pods = ['x/a', 'y/a'];
    const expected = new Reachability(pods, true).expect('x/a', 'y/a', false);
    const observed = new Observed().set('x/a', 'y/a', obs('allowed', 2, 1500)).set('y/a', 'x/a', obs('allowed'));
    const text = render({ title: 'T', expected, observed, reproduce: (c) => `probe ${c.from} ${c.to}` });
    expect(text.split('\n')[0]).to.equal('T — 1 wrong of 2 (2 self-pairs not probed)');
    expect(text.split('\n').slice(-2)).to.deep.equal(['wrong: x/a -> y/a expected X observed . (2 attempts in 1.5s)', '  reproduce: probe x/a y/a']);
    observed.set('x/a', 'y/a', obs('blocked'));
    const ok = render({ title: 'T', expected, observed });
    expect(ok.split('\n')[0]).to.equal('T — 0 wrong of 2 (2 self-pairs not probed)');
    expect(ok).to.not.match(/wrong:/);
  });
});

describe('render: observation sequences and the in-force proof', () => {
  it('says per wrong cell how many observations, their sequence, whether accepted, and how the policy was proven in force (golden)', () => {
    const pods = ['x/a', 'y/a'];
    const expected = new Reachability(pods, true).expect('y/a', 'x/a', false);
    const observed = new Observed()
      .set('x/a', 'y/a', {
        ...obs('blocked', 4, 3100, 'TIMEOUT: no reply', 'kubectl exec -n x a -- c'),
        sequence: ['allowed', 'blocked', 'allowed', 'blocked'],
        accepted: false,
      })
      .set('y/a', 'x/a', {
        ...obs('allowed', 5, 12_000, 'OK', 'kubectl exec -n y a -- c'),
        sequence: ['allowed', 'error', 'allowed', 'allowed', 'allowed'],
        accepted: true,
        lastError: { attempt: 2, detail: 'probe failed: exec failed', command: 'kubectl exec -n y a -- c' },
      });
    const text = render({
      title: 'T',
      expected,
      observed,
      inForce: {
        proven: false,
        how: 'not-proven',
        heldBack: 1,
        text: 'NOT proven — no expected-blocked cell was observed blocked twice in a row (y/a -> x/a: . ! . . .); 1 expected-allowed cell held back, not probed',
      },
    });
    expect(text.split('\n').slice(6)).to.deep.equal([
      'in force: NOT proven — no expected-blocked cell was observed blocked twice in a row (y/a -> x/a: . ! . . .); 1 expected-allowed cell held back, not probed',
      'wrong: x/a -> y/a expected . observed X (4 observations in 3.1s: . X . X — not accepted: the last two observations differ)',
      '  detail: TIMEOUT: no reply',
      '  reproduce: kubectl exec -n x a -- c',
      'wrong: y/a -> x/a expected X observed . (5 observations in 12s: . ! . . .)',
      '  detail: OK',
      '  probe error at observation 2: probe failed: exec failed',
      '  reproduce: kubectl exec -n y a -- c',
    ]);
    // an unaccepted observation is wrong even when its last state is the expected one
    const same = new Observed().set('x/a', 'y/a', { ...obs('allowed', 1, 10), sequence: ['allowed'], accepted: false }).set('y/a', 'x/a', obs('blocked'));
    const cmp = compare(expected, same);
    expect(cmp.wrong.map((w) => `${w.from}>${w.to}`)).to.deep.equal(['x/a>y/a']);
    expect(renderCell('c', 'allowed', same.get('x/a', 'y/a'))[0]).to.equal(
      'c expected . observed . (1 observation in 10ms: . — not accepted: one observation is not a verdict)',
    );
  });
});

describe('renderList', () => {
  it('lists every cell of a non-table check, the wrong ones with evidence (golden)', () => {
    const cells = [
      { from: 'client', to: 'server 10.0.0.9:5060/TCP' },
      { from: 'client', to: 'server 10.0.0.9:5060/UDP' },
    ];
    const observed = new Observed()
      .set('client', 'server 10.0.0.9:5060/TCP', { ...obs('blocked', 2, 4000, 'TIMEOUT'), sequence: ['blocked', 'blocked'], accepted: true })
      .set('client', 'server 10.0.0.9:5060/UDP', {
        ...obs('allowed', 5, 9000, 'OK: udp-ok', 'kubectl exec -n ns client -- c'),
        sequence: ['allowed', 'blocked', 'allowed', 'allowed', 'allowed'],
        accepted: true,
      });
    const text = renderList({
      title: 'allow-only-sctp',
      cells,
      expected: () => 'blocked',
      observed,
      inForce: { proven: true, how: 'observed', heldBack: 0, text: 'proven in force by client -> server 10.0.0.9:5060/TCP: observed X X' },
    });
    expect(text).to.equal(
      [
        'allow-only-sctp — 1 wrong of 2',
        'legend  . allowed  X blocked  ! probe error  ? not probed',
        'in force: proven in force by client -> server 10.0.0.9:5060/TCP: observed X X',
        'ok: client -> server 10.0.0.9:5060/TCP expected X observed X (2 observations in 4s: X X)',
        'wrong: client -> server 10.0.0.9:5060/UDP expected X observed . (5 observations in 9s: . X . . .)',
        '  detail: OK: udp-ok',
        '  reproduce: kubectl exec -n ns client -- c',
      ].join('\n'),
    );
  });
});
