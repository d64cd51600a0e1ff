import { expect } from 'chai';
import { offendingSockets, parseSsSctp } from './sctp-sockets.ts';

// Layout of iproute2 6.1 `ss -S -a -n -p` (hand-written from the tool's format: this host has no kernel SCTP).
const out = `State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
LISTEN 0      128        10.244.0.5:5060       0.0.0.0:*    users:(("agnhost-sctp",pid=4242,fd=3))
LISTEN 0      128           0.0.0.0:30080      0.0.0.0:*    users:(("kube-proxy",pid=77,fd=12))
== rc 0
`;

describe('ss SCTP sockets', () => {
  it('parses sockets, ports and owning processes', () => {
    const r = parseSsSctp(out);
    expect(r.rc).to.equal(0);
    expect(r.sockets.map((s) => [s.port, s.processes[0]?.name])).to.deep.equal([
      [5060, 'agnhost-sctp'],
      [30080, 'kube-proxy'],
    ]);
  });
  it('flags component-held sockets and sockets on the reserved ports, not a pod server elsewhere', () => {
    const r = parseSsSctp(out);
    expect(offendingSockets(r.sockets, [31000]).map((s) => s.port)).to.deep.equal([30080]);
    expect(offendingSockets(r.sockets, [5060]).map((s) => s.port)).to.deep.equal([5060, 30080]);
  });
  it('a failing ss is an error, never "no sockets"', () => {
    const r = parseSsSctp('ss: command not found\n== rc 127\n');
    expect(r.error).to.contain('command not found');
  });
});
