import { expect } from 'chai';
import { ModuleWatch, renderCoverage } from './module-watch.ts';

const clock = () => {
  let t = Date.parse('2026-12-04T10:00:00Z');
  return () => {
    t += 1000;
    return new Date(t);
  };
};

describe('ModuleWatch: the run-level sctp.ko check', () => {
  it('a node seen not loaded and later loaded is a violation naming the node and the interval', () => {
    const w = new ModuleWatch(clock());
    expect(w.observe([{ node: 'vm', state: 'not-loaded', evidence: '/sys/module/sctp absent' }], 'before "A"')).to.deep.equal([]);
    expect(w.observe([{ node: 'vm', state: 'not-loaded', evidence: 'x' }], 'after "A"')).to.deep.equal([]);
    const v = w.observe([{ node: 'vm', state: 'loaded', evidence: 'sctp 1 live' }], 'after "B"');
    expect(v).to.have.length(1);
    expect(v[0]!.message).to.match(
      /sctp\.ko was loaded on node vm between after "A" \(10:00:02\.000 UTC: not loaded\) and after "B" \(10:00:03\.000 UTC: loaded\)/,
    );
    // reported once: the node is no longer watched
    expect(w.observe([{ node: 'vm', state: 'loaded', evidence: 'sctp 1 live' }], 'end')).to.deep.equal([]);
    expect(w.coverage()[0]).to.include({ coverage: 'performed' });
    expect(w.coverage()[0]!.reason).to.match(/cannot be checked after that/);
  });

  it('a node already loaded at the start is "not performed", never a silent pass', () => {
    const w = new ModuleWatch(clock());
    w.observe([{ node: 'vm', state: 'loaded', evidence: 'sctp 3 live' }], 'before "A"');
    expect(w.observe([{ node: 'vm', state: 'loaded', evidence: 'sctp 3 live' }], 'after "A"')).to.deep.equal([]);
    expect(w.coverage()).to.deep.equal([{ node: 'vm', coverage: 'not performed', reason: 'sctp.ko was already loaded at before "A" (sctp 3 live)' }]);
  });

  it('an unreadable round gives no verdict; the next readable one is compared with the last good one', () => {
    const w = new ModuleWatch(clock());
    w.observe([{ node: 'n1', state: 'not-loaded', evidence: 'x' }], 'before "A"');
    expect(w.observe([{ node: 'n1', evidence: 'ssh: connection reset' }], 'after "A"')).to.deep.equal([]);
    const v = w.observe([{ node: 'n1', state: 'loaded', evidence: 'y' }], 'after "B"');
    expect(v[0]!.from).to.match(/^before "A"/);
    expect(w.coverage()[0]!.reason).to.match(/unreadable 1 time\(s\): after "A": unreadable \(ssh: connection reset\)/);
  });

  it('kernels without SCTP and built-in SCTP are "not applicable"; unreadable at start is "not performed"', () => {
    const w = new ModuleWatch(clock());
    w.observe(
      [
        { node: 'a', state: 'no-sctp', evidence: 'CONFIG_IP_SCTP not set' },
        { node: 'b', state: 'builtin', evidence: 'modules.builtin lists sctp' },
        { node: 'c', evidence: 'no node access: --node-access none' },
        { node: 'd', state: 'not-loaded', evidence: 'x' },
      ],
      'before "A"',
    );
    const lines = renderCoverage(w.coverage());
    expect(lines[0]).to.match(/^module check performed on 1 node\(s\): d /);
    expect(lines[1]).to.match(/^module check not applicable on 2 node\(s\): a \(the kernel has no SCTP/);
    expect(lines[2]).to.match(
      /^module check not performed on 1 node\(s\): c \(the sctp.ko state could not be read at before "A": unreadable \(no node access: --node-access none\)\)/,
    );
  });

  it('watching(): a late load is worth waiting for only while some node was seen not loaded and still is', () => {
    const w = new ModuleWatch(clock());
    expect(w.watching(), 'nothing observed yet').to.equal(false);
    w.observe(
      [
        { node: 'a', state: 'no-sctp', evidence: 'x' },
        { node: 'b', state: 'loaded', evidence: 'y' },
      ],
      'before "A"',
    );
    expect(w.watching(), 'no SCTP / already loaded: nothing to catch').to.equal(false);
    w.observe([{ node: 'c', state: 'not-loaded', evidence: 'z' }], 'before "B"');
    expect(w.watching(), 'c can still be loaded').to.equal(true);
    w.observe([{ node: 'c', state: 'loaded', evidence: 'sctp 1' }], 'after "B"');
    expect(w.watching(), 'c was caught; no node left to watch').to.equal(false);
  });
});
