// KEP-614: "NetworkPolicy can be used to allow or deny traffic to SCTP ports", as truth tables over a
// small model (2 namespaces x 2 pods, every pod serving SCTP, TCP and UDP on port 80). Build the world,
// prove it is all-allowed with the same probe, apply one policy, compare the whole matrix.
// A TCP deny-all control runs first: without an enforcing NetworkPolicy implementation the tests skip.

import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { connectArgv, connectProbeResult } from '../../lib/connectivity/connect.ts';
import { newModel, podKeys, parsePodKey, type Protocol } from '../../lib/connectivity/model.ts';
import { probeMatrix } from '../../lib/connectivity/probe-matrix.ts';
import { compare, Reachability, render, type Cell } from '../../lib/connectivity/truth-table.ts';
import type { NetworkPolicyOptions } from '../../lib/k8s/builders.ts';

const PORT = 80;
const OTHER_PORT = 81;
const model = newModel({ namespaces: ['x', 'y'], pods: ['a', 'b'], ports: [{ port: PORT, protocol: 'SCTP' }] });
const PODS = podKeys(model); // x/a x/b y/a y/b: 12 cells
/** A matrix probe's connect timeout: a deny matrix costs about this once, retries aside. */
const MATRIX_PROBE = Math.min(timeouts.probe, 2_000 * Math.max(1, timeouts.probe / 5_000));

describeE2E('SCTPConnectivity NetworkPolicy', [Tag.SCTPConnectivity, Tag.NetworkPolicy, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-netpol', { scope: 'all' });
  const nsOf: Record<string, string> = {}; // model namespace -> real namespace
  const ipOf: Record<string, string> = {}; // pod key -> pod IP
  const policies: Array<{ name: string; ns: string }> = [];

  const probeCell = async (c: Cell, protocol: Protocol) => {
    const from = parsePodKey(c.from);
    const argv = connectArgv({ host: ipOf[c.to]!, port: PORT, protocol, timeoutMs: MATRIX_PROBE, flavor: f.config.flavor });
    const command = `kubectl exec -n ${nsOf[from.namespace]} ${from.pod} -- ${argv.join(' ')}`;
    const r = await f.exec(from.pod, argv, { ns: nsOf[from.namespace], timeout: MATRIX_PROBE + timeouts.nodeExec });
    return connectProbeResult(r, command, f.config.flavor);
  };

  /** Probe every cell (bounded, retrying only cells that differ) and fail with the three tables. */
  async function expectMatrix(title: string, protocol: Protocol, expected: Reachability) {
    const r = await probeMatrix({
      cells: expected.allCells(), expected, concurrency: PODS.length * (PODS.length - 1),
      timeoutMs: MATRIX_PROBE + timeouts.nodeExec, retries: 8, retryDeadlineMs: timeouts.proxySync,
      probe: (c) => probeCell(c, protocol),
    });
    const text = render({ title: `${title} (${protocol}/${PORT}; namespaces ${Object.entries(nsOf).map(([m, n]) => `${m}=${n}`).join(' ')})`, expected, observed: r.observed });
    f.log(`${text.split('\n')[0]} — ${r.probes} probes in ${Math.round(r.elapsedMs / 100) / 10}s`);
    if (compare(expected, r.observed).wrong.length) expect.fail(text);
  }

  async function applyPolicy(model: string, o: NetworkPolicyOptions) {
    await f.createNetworkPolicy(o, nsOf[model]);
    policies.push({ name: o.name, ns: nsOf[model]! });
  }
  const nsSelector = (m: string) => ({ 'kubernetes.io/metadata.name': nsOf[m]! });
  const allowed = () => new Reachability(PODS, true);

  before(async function () {
    this.timeout(timeouts.namespace * 2 + timeouts.podStart + timeouts.matrix + timeouts.proxySync * 2);
    for (const n of model.namespaces) nsOf[n.name] = await f.createNamespace(`netpol-${n.name}`, n.labels);
    const pods = await Promise.all(model.pods.map((p) => f.runPod({
      name: p.name, image: f.config.image, labels: p.labels, readinessPort: PORT,
      args: ['netexec', `--http-port=${PORT}`, `--udp-port=${PORT}`, `--sctp-port=${PORT}`],
      ports: [{ protocol: 'TCP', containerPort: PORT }, { protocol: 'UDP', containerPort: PORT }, { protocol: 'SCTP', containerPort: PORT }],
    }, nsOf[p.namespace])));
    model.pods.forEach((p, i) => (ipOf[`${p.namespace}/${p.name}`] = pods[i]!.status!.podIP!));

    // Readiness, with the probe the tests use: without any policy everything connects.
    await expectMatrix('no policy: every pod reaches every pod', 'SCTP', allowed());

    // Control: is any NetworkPolicy enforced? A deny-all ingress policy on x/a must stop TCP.
    const x = nsOf.x!;
    await f.createNetworkPolicy({ name: 'control-deny-all', podSelector: { pod: 'a' }, ingress: [] }, x);
    type Last = Awaited<ReturnType<typeof probeCell>>;
    const leak = await f.eventually(`TCP x/b -> x/a blocked by the deny-all control policy in ${x}`, {
      timeout: timeouts.proxySync, probe: () => probeCell({ from: 'x/b', to: 'x/a' }, 'TCP'), until: (r) => r.state === 'blocked', describe: (r) => `${r.state}: ${r.detail}\n  reproduce: ${r.command}`,
    }).then(() => undefined, (e: Error & { last?: Last }) => e.last ?? { state: 'error' as const, detail: e.message, command: '' });
    await f.deleteNetworkPolicy('control-deny-all', x);
    f.skipIf(leak?.state === 'allowed', `no NetworkPolicy implementation enforces policies in this cluster: with a deny-all ingress policy on ${x}/a, TCP from ${x}/b still connected after ${timeouts.proxySync / 1000}s (last probe: ${leak?.detail}; reproduce: ${leak?.command})`);
    if (leak) expect.fail(`the deny-all control policy on ${x}/a could not be verified: the last TCP probe from ${x}/b was a probe error, not a verdict: ${leak.detail}${leak.command ? `\n  reproduce: ${leak.command}` : ''}`);
    await expectMatrix('control removed: every pod reaches every pod again', 'TCP', allowed());
  });

  afterEach(async function () {
    this.timeout(timeouts.apiCall * (policies.length + 1));
    while (policies.length) {
      const p = policies.pop()!;
      await f.deleteNetworkPolicy(p.name, p.ns);
    }
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: default-deny-ingress', async function () {
    this.timeout(timeouts.matrix * 2);
    await expectMatrix('before the policy: all allowed', 'SCTP', allowed());
    await applyPolicy('x', { name: 'default-deny-ingress', podSelector: {}, ingress: [] });
    await expectMatrix('default-deny-ingress in x', 'SCTP', allowed().expectPeer({}, { namespace: 'x' }, false));
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: allow by port', async function () {
    this.timeout(timeouts.matrix * 3);
    await expectMatrix('before the policy: all allowed', 'SCTP', allowed());
    await applyPolicy('x', { name: 'allow-sctp-81-only', podSelector: { pod: 'a' }, ingress: [{ ports: [{ protocol: 'SCTP', port: OTHER_PORT }] }] });
    await expectMatrix(`x/a admits only SCTP/${OTHER_PORT}: SCTP/${PORT} into x/a denied`, 'SCTP', allowed().expectAllIngress('x/a', false));
    await applyPolicy('x', { name: 'allow-sctp-80', podSelector: { pod: 'a' }, ingress: [{ ports: [{ protocol: 'SCTP', port: PORT }] }] });
    await expectMatrix(`x/a also admits SCTP/${PORT}: allowed again`, 'SCTP', allowed());
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: SCTP allowed on a port leaves TCP and UDP on that port denied', async function () {
    this.timeout(timeouts.matrix * 4);
    await applyPolicy('x', { name: 'allow-only-sctp-80', podSelector: { pod: 'a' }, ingress: [{ ports: [{ protocol: 'SCTP', port: PORT }] }] });
    await expectMatrix(`x/a admits SCTP/${PORT}`, 'SCTP', allowed());
    await expectMatrix(`x/a admits only SCTP/${PORT}: TCP into x/a denied`, 'TCP', allowed().expectAllIngress('x/a', false));
    await expectMatrix(`x/a admits only SCTP/${PORT}: UDP into x/a denied`, 'UDP', allowed().expectAllIngress('x/a', false));
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: allow from a pod in another namespace by pod and namespace selector', async function () {
    this.timeout(timeouts.matrix * 2);
    await applyPolicy('x', {
      name: 'allow-y-b', podSelector: { pod: 'a' },
      ingress: [{ from: [{ namespaceSelector: nsSelector('y'), podSelector: { pod: 'b' } }], ports: [{ protocol: 'SCTP', port: PORT }] }],
    });
    await expectMatrix('x/a admits SCTP only from y/b', 'SCTP', allowed().expectAllIngress('x/a', false).expect('y/b', 'x/a', true));
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: egress to SCTP in one namespace', async function () {
    this.timeout(timeouts.matrix * 2);
    await applyPolicy('x', {
      name: 'egress-sctp-to-y', podSelector: { pod: 'a' }, policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: nsSelector('y') }], ports: [{ protocol: 'SCTP', port: PORT }] }],
    });
    await expectMatrix('x/a may send SCTP only to namespace y', 'SCTP', allowed().expectAllEgress('x/a', false).expect('x/a', 'y/a', true).expect('x/a', 'y/b', true));
  });
});
