import { expect } from 'chai';
import { UsageError } from '../lib/framework/errors.ts';
import { parseArgs, proxyModeOf, USAGE } from './args.ts';

describe('cluster/args parseArgs', () => {
  const env = {};

  it('defaults: iptables, one node, /var/lib/sctp-e2e/cluster', () => {
    const o = parseArgs(['up'], env);
    expect(o).to.deep.include({ command: 'up', proxyMode: 'iptables', nodes: 1, stateDir: '/var/lib/sctp-e2e/cluster', keepOnFailure: false });
    expect(o.binDir).to.equal(undefined);
  });

  it('--proxy-mode A,B gives node1 A and every further node B (the last repeats); one mode for all otherwise', () => {
    const o = parseArgs(['up', '--nodes', '2', '--proxy-mode', 'iptables,nftables'], env);
    expect([o.proxyMode, proxyModeOf(o, 1), proxyModeOf(o, 2), proxyModeOf(o, 3)]).to.deep.equal(['iptables', 'iptables', 'nftables', 'nftables']);
    const one = parseArgs(['up', '--nodes', '2', '--proxy-mode', 'nftables'], env);
    expect([proxyModeOf(one, 1), proxyModeOf(one, 2)]).to.deep.equal(['nftables', 'nftables']);
  });

  it('--proxy-mode none: no kube-proxy on any node (a kube-proxy replacement serves Services)', () => {
    const o = parseArgs(['up', '--nodes', '2', '--proxy-mode', 'none'], env);
    expect([o.proxyMode, proxyModeOf(o, 1), proxyModeOf(o, 2)]).to.deep.equal(['none', 'none', 'none']);
  });

  it('reads --proxy-mode in both spellings and the env overrides', () => {
    expect(parseArgs(['up', '--proxy-mode', 'nftables'], env).proxyMode).to.equal('nftables');
    expect(parseArgs(['up', '--proxy-mode=nftables'], env).proxyMode).to.equal('nftables');
    const o = parseArgs(['up', '--nodes', '2', '--bin-dir', '/b'], { SCTP_E2E_CLUSTER_DIR: '/tmp/c', SCTP_E2E_BIN_DIR: '/x' });
    expect(o).to.deep.include({ nodes: 2, binDir: '/b', stateDir: '/tmp/c' });
    expect(parseArgs(['down'], { SCTP_E2E_BIN_DIR: '/x' }).binDir).to.equal('/x');
  });

  const bad: [string[], RegExp][] = [
    [[], /^missing command: expected up, down or status$/],
    [['start'], /^unknown command "start"/],
    [
      ['up', '--proxy-mode', 'ipvs'],
      /--proxy-mode must be iptables, nftables or none \(no kube-proxy; ipvs is not built into this kernel\), or a comma list of them per node, got "ipvs"/,
    ],
    [['up', '--proxy-mode', 'iptables,ipvs'], /got "ipvs"/],
    [['up', '--proxy-mode'], /option --proxy-mode needs a value/],
    [['up', '--nodes', '3'], /--nodes must be 1 or 2, got "3"/],
    [['up', '--nodes', 'x'], /--nodes must be 1 or 2, got "x"/],
    [['down', '--proxy-mode', 'nftables'], /option --proxy-mode does not apply to "down"/],
    [['up', '--ip-family', 'ipv6'], /--ip-family ipv6 \(IPv6-only\) is not built/],
    [['up', '--ip-family', 'both'], /--ip-family must be ipv4 or dual, got "both"/],
    [['status', '--ip-family', 'dual'], /option --ip-family does not apply to "status"/],
    [['status', '--frobnicate'], /unknown option "--frobnicate" for "status"/],
  ];
  for (const [argv, re] of bad) {
    it(`rejects ${JSON.stringify(argv)} with one sentence`, () => {
      let err: unknown;
      try {
        parseArgs(argv, env);
      } catch (e) {
        err = e;
      }
      expect(err, `parseArgs(${JSON.stringify(argv)}) should throw`).to.be.instanceOf(UsageError);
      expect((err as Error).message).to.match(re);
      expect((err as Error).message, 'one line').not.to.include('\n');
    });
  }

  it('--ip-family: ipv4 by default, dual on request', () => {
    expect(parseArgs(['up'], env).ipFamily).to.equal('ipv4');
    expect(parseArgs(['up', '--ip-family', 'dual'], env).ipFamily).to.equal('dual');
    expect(parseArgs(['up', '--ip-family=dual'], env).ipFamily).to.equal('dual');
  });

  it('rejects a relative state dir', () => {
    expect(() => parseArgs(['up'], { SCTP_E2E_CLUSTER_DIR: 'rel/dir' })).to.throw(UsageError, 'SCTP_E2E_CLUSTER_DIR must be an absolute path, got "rel/dir"');
  });

  it('--help yields the usage text', () => {
    expect(() => parseArgs(['up', '--help'], env)).to.throw(UsageError, USAGE);
  });
});
