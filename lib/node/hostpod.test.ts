// Pure parts of the host-pod transport; the transport itself is exercised against a cluster only.
import { expect } from 'chai';
import { exitCodeFromStatus, HOST_PATH, hostPodArgv, hostPodSpec } from './hostpod.ts';

describe('host pod transport (pure parts)', () => {
  it('enters PID 1 mount/uts/ipc/pid namespaces but NOT its network namespace', () => {
    const argv = hostPodArgv("iptables-save -t nat | grep -c 'sctp'", undefined, '1');
    expect(argv).to.deep.equal([
      '/bin/busybox',
      'nsenter',
      '-t',
      '1',
      '-m',
      '-u',
      '-i',
      '-p',
      '--',
      'sh',
      '-c',
      `PATH=${HOST_PATH}; export PATH; iptables-save -t nat | grep -c 'sctp'`,
    ]);
    expect(argv).to.not.include('-n');
  });
  it("'auto' target: the kubelet's PID, else PID 1; the command travels as $1, unquoted", () => {
    const argv = hostPodArgv("echo 'a b'");
    expect(argv.slice(0, 3)).to.deep.equal(['/bin/busybox', 'sh', '-c']);
    expect(argv.slice(3)[1]).to.equal('hostexec');
    // the node's PATH, not the image's (an image PATH of /bin:/ hides iptables-save in /usr/sbin)
    expect(argv[5]).to.equal(`PATH=${HOST_PATH}; export PATH; echo 'a b'`);
    expect(argv[3]).to.include('pidof kubelet').and.include(`exec '/bin/busybox' 'nsenter' -t "$t" -m -u -i -p -- sh -c "$1"`).and.not.include(' -n ');
  });
  it('pod: hostNetwork, hostPID, privileged, pinned by nodeName, tolerates all taints, no grace period', () => {
    const p = hostPodSpec({ node: 'sctp-e2e-node1', namespace: 'ns-1', image: 'registry.local/busybox:sctp-e2e' });
    expect(p.metadata?.generateName).to.equal('hostexec-sctp-e2e-node1-');
    expect(p.spec).to.include({ nodeName: 'sctp-e2e-node1', hostNetwork: true, hostPID: true, terminationGracePeriodSeconds: 0 });
    expect(p.spec?.containers[0]?.securityContext?.privileged).to.equal(true);
    expect(p.spec?.tolerations).to.deep.equal([{ operator: 'Exists' }]);
  });
  it('exit code from the exec status channel', () => {
    expect(exitCodeFromStatus({ status: 'Success' })).to.equal(0);
    expect(exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } })).to.equal(3);
    expect(exitCodeFromStatus({ status: 'Failure', reason: 'InternalError' })).to.equal(undefined);
  });
});
