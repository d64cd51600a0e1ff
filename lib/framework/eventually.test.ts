import { expect } from 'chai';
import { CleanupStack } from './cleanup.ts';
import { StopTrying } from './errors.ts';
import { EventuallyTimeout, eventually } from './eventually.ts';

describe('eventually', () => {
  it('returns the first value that satisfies the condition, retrying probe errors', async () => {
    let n = 0;
    const v = await eventually('counter reaches 3', {
      probe: async () => {
        n++;
        if (n === 1) throw new Error('flaky');
        return n;
      },
      until: (x) => x >= 3,
      timeout: 2000,
      interval: 5,
    });
    expect(v).to.equal(3);
  });

  it('times out with what, attempts, last observation and last error', async () => {
    let n = 0;
    const err = await eventually('rules for 10.96.0.5:5060/sctp', {
      probe: async () => {
        n++;
        if (n % 2 === 0) throw new Error(`probe boom ${n}`);
        return { sctp: 0, seen: n };
      },
      until: () => false,
      timeout: 120,
      interval: 10,
      describe: (v) => `sctp rules: ${v.sctp} (observation ${v.seen})`,
    }).catch((e: any) => e);
    expect(err).to.be.instanceOf(EventuallyTimeout);
    expect(err.message).to.match(/waiting for rules for 10\.96\.0\.5:5060\/sctp \(\d+ attempts\)/);
    expect(err.message).to.match(/last observation:\n {2}sctp rules: 0 \(observation \d+\)/);
    expect(err.attempts, 'the probe was retried').to.be.greaterThan(1);
  });

  it('stops at once on StopTrying', async () => {
    let n = 0;
    const started = Date.now();
    const err = await eventually('pod running', {
      probe: async () => {
        n++;
        throw new StopTrying('pod failed: ErrImageNeverPull');
      },
      until: () => true,
      timeout: 5000,
    }).catch((e: any) => e);
    expect(n).to.equal(1);
    expect(Date.now() - started).to.be.lessThan(1000);
    expect(err.message).to.contain('ErrImageNeverPull');
  });

  it('a probe that hangs is cut at the deadline through its abort signal', async () => {
    const err: any = await eventually('hung probe', {
      probe: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      until: () => true,
      timeout: 100,
    }).catch((e: any) => e);
    expect(err).to.be.instanceOf(EventuallyTimeout);
    expect(err.message).to.contain('last error: aborted');
  });
});

describe('CleanupStack', () => {
  it('runs LIFO, collects errors, times out a stuck entry and keeps going', async () => {
    const order: string[] = [];
    const s = new CleanupStack('t');
    s.defer('first', () => {
      order.push('first');
    });
    s.defer('stuck', () => new Promise(() => {}), 50);
    s.defer('broken', () => {
      throw new Error('nope');
    });
    s.defer('last', async () => {
      order.push('last');
    });
    const failures = await s.run();
    s.dispose();
    expect(order).to.deep.equal(['last', 'first']);
    expect(failures.map((f) => f.what)).to.deep.equal(['broken', 'stuck']);
    expect(failures[1]!.error).to.match(/timed out after 50ms/);
    expect(s.size).to.equal(0);
  });
});
