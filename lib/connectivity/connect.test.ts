import { expect } from 'chai';
import { classifyConnect, connectArgv } from './connect.ts';

describe('classifyConnect', () => {
  describe('agnhost-sctp (exit code = class, "CLASS: detail" on stdout)', () => {
    const cases: [number | null, string, string, string, string | undefined][] = [
      // exit, stdout, stderr, state, blockedBy
      [0, '', '', 'allowed', undefined],
      [2, 'TIMEOUT: no SCTP association with 10.96.0.12:80 within 1000ms (kernel stack)\n', '', 'blocked', 'timeout'],
      [3, 'REFUSED: ICMP type 3 code 3 from 10.244.1.5 for sctp to 10.96.0.12:80 after 3ms\n', '', 'blocked', 'refused'],
      [4, 'PROHIBITED: ICMP type 3 code 13 from 10.244.1.1 for sctp to 10.96.0.12:80 after 2ms\n', '', 'blocked', 'prohibited'],
      [5, 'DNS: lookup s-x-a: no such host\n', '', 'error', undefined],
      [6, 'UNREACHABLE: ICMP type 3 code 1 from 10.244.1.1\n', '', 'error', undefined],
      [7, 'NOSTACK: no kernel SCTP and usrsctp failed\n', '', 'error', undefined],
      [1, 'OTHER: sctp connect to 10.96.0.12:80: Invalid argument\n', '', 'error', undefined],
      [64, '', 'agnhost-sctp: connect: want HOST:PORT\n', 'error', undefined],
      [127, '', 'exec: "/agnhost-sctp": stat /agnhost-sctp: no such file or directory\n', 'error', undefined],
      [null, '', 'error dialing backend: EOF', 'error', undefined],
    ];
    for (const [code, out, err, state, by] of cases) {
      it(`exit ${code} ${(out || err).split(':')[0] || '(no output)'} → ${state}${by ? ` (${by})` : ''}`, () => {
        const v = classifyConnect(code, out, err);
        expect(v.state).to.equal(state);
        expect(v.blockedBy).to.equal(by);
        if (state !== 'allowed') expect(v.detail).to.include((out || err).trim().slice(0, 20));
      });
    }

    it('says a refusal is an answer, not a silent drop', () => {
      expect(classifyConnect(3, 'REFUSED: sctp connect to 10.96.0.12:80: Connection refused', '').detail).to.match(/\[refused: something answered/);
    });

    it('treats an exit code that contradicts the printed class as a probe error', () => {
      const v = classifyConnect(2, 'OK: but exit 2?', '');
      expect(v.state).to.equal('error');
      expect(v.detail).to.match(/contradicts/);
    });
  });

  describe('upstream agnhost (exit 1, class on stderr)', () => {
    it('maps TIMEOUT and REFUSED to blocked, and SCTP\'s "OTHER: connection refused" (ABORT) to refused', () => {
      expect(classifyConnect(0, '', '', 'agnhost')).to.include({ state: 'allowed' });
      expect(classifyConnect(1, '', 'TIMEOUT\n', 'agnhost')).to.include({ state: 'blocked', blockedBy: 'timeout' });
      expect(classifyConnect(1, '', 'REFUSED\n', 'agnhost')).to.include({ state: 'blocked', blockedBy: 'refused' });
      expect(classifyConnect(1, '', 'OTHER: dial sctp 10.96.0.12:80: connection refused\n', 'agnhost')).to.include({ state: 'blocked', blockedBy: 'refused' });
    });

    it('maps DNS, other OTHER errors, unknown exits and unclassified output to error', () => {
      expect(classifyConnect(1, '', 'DNS: lookup foo: no such host', 'agnhost').state).to.equal('error');
      expect(classifyConnect(1, '', 'OTHER: protocol not supported', 'agnhost').state).to.equal('error');
      expect(classifyConnect(1, '', 'panic: runtime error', 'agnhost').state).to.equal('error');
      expect(classifyConnect(126, '', 'permission denied', 'agnhost').state).to.equal('error');
    });
  });
});

describe('connectArgv', () => {
  it('builds the agnhost-sctp and upstream agnhost commands, bracketing IPv6', () => {
    expect(connectArgv({ host: '10.96.44.3', port: 5060, protocol: 'SCTP', timeoutMs: 2000 })).to.deep.equal([
      '/agnhost-sctp',
      'connect',
      '10.96.44.3:5060',
      '--protocol=sctp',
      '--timeout=2s',
    ]);
    expect(connectArgv({ host: 'fd00:10:96::a', port: 80, protocol: 'TCP', timeoutMs: 1500, flavor: 'agnhost' })).to.deep.equal([
      '/agnhost',
      'connect',
      '[fd00:10:96::a]:80',
      '--protocol=tcp',
      '--timeout=1500ms',
    ]);
  });
});
