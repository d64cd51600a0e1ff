import { expect } from 'chai';
import {
  agentArgs,
  describeStatus,
  inClusterEnv,
  isRunning,
  nodesToCordon,
  parseGuestStatus,
  renderRbac,
  renderStartScript,
  renderStatusScript,
  renderStopScript,
  systemdRunArgv,
} from './render.ts';

describe('cluster/knp: kube-network-policies on the kernel-lane VM', () => {
  it('gets install.yaml least-privilege RBAC: list/watch of pods, namespaces and networkpolicies, nothing else', () => {
    const docs = renderRbac()
      .split('\n---\n')
      .map((d) => JSON.parse(d));
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).to.deep.equal([
      'ServiceAccount/kube-network-policies',
      'ClusterRole/kube-network-policies',
      'ClusterRoleBinding/kube-network-policies',
    ]);
    const rules = docs[1].rules as Array<{ resources: string[]; verbs: string[] }>;
    expect(rules.flatMap((r) => r.resources).sort()).to.deep.equal(['namespaces', 'networkpolicies', 'pods']);
    expect([...new Set(rules.flatMap((r) => r.verbs))].sort()).to.deep.equal(['list', 'watch']);
    expect(docs[2].subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'kube-network-policies', namespace: 'kube-system' }]);
  });

  it("runs the DaemonSet's binary with its args for the VM node, metrics on loopback", () => {
    expect(agentArgs('sctp-e2e-vm')).to.deep.equal(['--hostname-override=sctp-e2e-vm', '--v=2', '--nfqueue-id=98', '--metrics-bind-address=127.0.0.1:9080']);
    expect(agentArgs('n', { verbosity: 4, queueId: 100 })).to.include.members(['--v=4', '--nfqueue-id=100']);
  });

  it('gives the in-cluster config the API server address (the binary has no --kubeconfig)', () => {
    expect(inClusterEnv('https://10.199.0.11:6443')).to.deep.equal({ KUBERNETES_SERVICE_HOST: '10.199.0.11', KUBERNETES_SERVICE_PORT: '6443' });
    expect(inClusterEnv('https://api.example').KUBERNETES_SERVICE_PORT).to.equal('443');
    expect(() => inClusterEnv('http://10.0.0.1:8080')).to.throw(/https/);
  });

  it('starts a transient unit that stops with SIGINT and sees the token only in its own mount namespace', () => {
    const argv = systemdRunArgv({ node: 'sctp-e2e-vm', apiServer: 'https://10.199.0.11:6443' });
    expect(argv.slice(0, 2)).to.deep.equal(['systemd-run', '--unit=sctpe2e-knp']);
    expect(argv).to.include('--property=KillSignal=SIGINT');
    expect(argv).to.include('--property=BindReadOnlyPaths=/var/lib/sctpe2e/knp/serviceaccount:/var/run/secrets/kubernetes.io/serviceaccount');
    expect(argv).to.include.members(['--setenv=KUBERNETES_SERVICE_HOST=10.199.0.11', '--setenv=KUBERNETES_SERVICE_PORT=6443']);
    expect(argv.indexOf('/var/lib/sctpe2e/knp/kube-network-policies')).to.be.lessThan(argv.indexOf('--hostname-override=sctp-e2e-vm'));
  });

  it('writes the token and CA base64-encoded (nothing to quote) and prints the MainPID last', () => {
    const s = renderStartScript({ node: 'sctp-e2e-vm', apiServer: 'https://10.199.0.11:6443', token: "ey'J$x", caPem: '-----BEGIN CERTIFICATE-----\n' });
    expect(s).to.include(`echo ${Buffer.from("ey'J$x").toString('base64')} | base64 -d > /var/lib/sctpe2e/knp/serviceaccount/token`);
    expect(s).not.to.include("ey'J$x");
    expect(s).to.match(/modprobe -a nfnetlink_queue nft_queue/);
    expect(s.trim().split('\n').pop()).to.equal('systemctl show -p MainPID --value sctpe2e-knp');
  });

  it('down deletes the table even when the agent could not (SIGKILL leaves queue rules that drop every queued packet)', () => {
    const s = renderStopScript();
    expect(s.indexOf('systemctl stop sctpe2e-knp')).to.be.lessThan(s.indexOf('nft delete table inet kube-network-policies'));
    expect(s).to.include('rm -rf /var/lib/sctpe2e/knp/serviceaccount');
  });

  const healthy = [
    'active=active',
    'pid=1234',
    'table=yes',
    'queue_rules=8',
    'podips=10.244.20.5 10.244.20.6 ',
    'queue=listener portid 1234, queued 0, dropped 0, user-dropped 0, packets 42',
  ].join('\n');

  it('is running only with the unit active, its table, its queue rules and a listener on the queue', () => {
    const s = parseGuestStatus(healthy);
    expect(s).to.deep.include({ active: 'active', pid: 1234, table: true, queueRules: 8, podIPs: ['10.244.20.5', '10.244.20.6'] });
    expect(isRunning(s)).to.equal(true);
    expect(describeStatus(s)).to.match(/unit sctpe2e-knp active \(PID 1234\); nft table inet kube-network-policies present, 8 queue rule\(s\)/);
    expect(isRunning(parseGuestStatus(healthy.replace('table=yes', 'table=no')))).to.equal(false);
    expect(isRunning(parseGuestStatus(healthy.replace(/queue=.*/, 'queue=')))).to.equal(false);
    expect(isRunning(parseGuestStatus(healthy.replace('active=active', 'active=failed').replace('pid=1234', 'pid=0')))).to.equal(false);
    const gone = parseGuestStatus('active=inactive\npid=0\ntable=no\nqueue_rules=0\npodips=\nqueue=\n');
    expect(describeStatus(gone)).to.equal(
      'unit sctpe2e-knp inactive; nft table inet kube-network-policies absent; nfqueue without listener; pod IPs under policy: none',
    );
  });

  it('the status script counts queue rules in both nft spellings and reads the queue from /proc', () => {
    const s = renderStatusScript(98);
    expect(s).to.include("grep -E -c 'queue( flags [a-z,]+)? (to|num) 98( |$)'");
    expect(s).to.include('/proc/net/netfilter/nfnetlink_queue');
    for (const line of ['ip daddr @podips-v4 queue to 98', 'ip saddr @podips-v4 queue flags bypass to 98', 'ip daddr @podips-v4 queue num 98 '])
      expect(line).to.match(/queue( flags [a-z,]+)? (to|num) 98( |$)/);
    expect('queue to 980').not.to.match(/queue( flags [a-z,]+)? (to|num) 98( |$)/);
  });

  it('cordons the netns nodes that are schedulable, never the VM node', () => {
    const nodes = [{ name: 'sctp-e2e-node1', netns: 'sctpe2e-node1' }, { name: 'sctp-e2e-node2', netns: 'sctpe2e-node2' }, { name: 'sctp-e2e-vm' }];
    expect(nodesToCordon(nodes, new Set())).to.deep.equal(['sctp-e2e-node1', 'sctp-e2e-node2']);
    expect(nodesToCordon(nodes, new Set(['sctp-e2e-node2']))).to.deep.equal(['sctp-e2e-node1']);
  });
});
