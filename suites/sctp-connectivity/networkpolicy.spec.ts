// KEP-614: "NetworkPolicy can be used to allow or deny traffic to SCTP ports", as truth tables over a
// small model (2 namespaces x 2 pods, every pod serving SCTP, TCP and UDP on port 80). Build the world,
// prove it is all-allowed with the same probe, apply one policy, compare the whole matrix.
//
// Verdicts (lib/connectivity/probe-matrix.ts): a cell counts only after two consecutive agreeing
// observations, and "allowed" only once the policy is proven in force — each matrix that expects a
// blocked cell probes its allowed cells only after one blocked cell was observed blocked twice in a row;
// a matrix that expects none says how in-force is proven (no policy; an earlier matrix of the same
// policy; cells proven blocked before and now allowed).
// A TCP deny-all control runs first (lib/connectivity/control.ts): allowed in every observation across
// one sync period means no NetworkPolicy implementation, and the tests skip with that evidence (a failure
// under --require networkpolicy); a probe error fails them with the probe's evidence. After the control is
// deleted, TCP and UDP must be proven open again.
//
// Fault-lane recipes that must turn this spec red (cluster/lab, `npm run lab:verdicts`):
//   netpol-sctp-disabled  a NetworkPolicy implementation with SCTP disabled (Cilium without
//                         --enable-sctp): SCTP policies are not enforced, or SCTP is dropped, and the
//                         truth tables show it (the TCP control still passes, so nothing skips)
//   no-netpol             no NetworkPolicy implementation, run with --require networkpolicy: the control
//                         fails every test with 'required capability "networkpolicy"' instead of skipping

import { classifyControl } from '../../lib/connectivity/control.ts';
import { newModel, type Protocol, parsePodKey, podKeys } from '../../lib/connectivity/model.ts';
import { type ProbeMatrixResult, probeMatrix, settleOptions } from '../../lib/connectivity/probe-matrix.ts';
import { type Cell, cellKey, compare, Reachability, render } from '../../lib/connectivity/truth-table.ts';
import { describeE2E, expect, Tag, timeouts, useE2E } from '../../lib/e2e.ts';
import { formatDuration } from '../../lib/framework/duration.ts';
import type { NetworkPolicyOptions } from '../../lib/k8s/builders.ts';

const PORT = 80;
const OTHER_PORT = 81;
const model = newModel({ namespaces: ['x', 'y'], pods: ['a', 'b'], ports: [{ port: PORT, protocol: 'SCTP' }] });
const PODS = podKeys(model); // x/a x/b y/a y/b: 12 cells

describeE2E('SCTPConnectivity NetworkPolicy', [Tag.SCTPConnectivity, Tag.NetworkPolicy, Tag.Disruptive, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-netpol', { scope: 'all' });
  const nsOf: Record<string, string> = {}; // model namespace -> real namespace
  const ipOf: Record<string, string> = {}; // pod key -> pod IP
  const policies: Array<{ name: string; ns: string }> = [];

  const probeCell = (c: Cell, protocol: Protocol) => {
    const from = parsePodKey(c.from);
    return f.probe({ from: from.pod, fromNs: nsOf[from.namespace], host: ipOf[c.to]!, port: PORT, protocol, timeoutMs: timeouts.matrixProbe });
  };

  /**
   * Probe every cell (bounded; a cell counts after two agreeing observations; allowed cells wait until the
   * policy is proven in force) and fail with the three tables. `inForce`: only for a matrix that expects no
   * blocked cell, how the change under test is proven in force.
   */
  async function expectMatrix(title: string, protocol: Protocol, expected: Reachability, inForce?: string): Promise<ProbeMatrixResult> {
    const r = await probeMatrix({
      cells: expected.allCells(),
      expected,
      concurrency: PODS.length * (PODS.length - 1),
      ...settleOptions(timeouts.matrixProbe),
      probe: (c) => probeCell(c, protocol),
      ...(inForce ? { inForce } : {}),
    });
    const text = render({
      title: `${title} (${protocol}/${PORT}; namespaces ${Object.entries(nsOf)
        .map(([m, n]) => `${m}=${n}`)
        .join(' ')})`,
      expected,
      observed: r.observed,
      inForce: r.inForce,
    });
    f.log(`${text.split('\n')[0]} — ${r.probes} probes in ${formatDuration(r.elapsedMs)}`);
    if (compare(expected, r.observed).wrong.length) expect.fail(text);
    return r;
  }
  const NO_POLICY = 'no policy is applied: nothing to prove in force (readiness)';

  async function applyPolicy(model: string, o: NetworkPolicyOptions) {
    await f.createNetworkPolicy(o, nsOf[model]);
    policies.push({ name: o.name, ns: nsOf[model]! });
  }
  const nsSelector = (m: string) => ({ 'kubernetes.io/metadata.name': nsOf[m]! });
  const allowed = () => new Reachability(PODS, true);

  f.before(async () => {
    // readiness, the control (a one-cell matrix), TCP and UDP open again
    f.budget({ namespace: 2, podStart: 1, matrix: 4, apiCall: 2 });
    for (const n of model.namespaces) nsOf[n.name] = await f.createNamespace(`netpol-${n.name}`, n.labels);
    const pods = await Promise.all(
      model.pods.map((p) =>
        f.runPod(
          {
            name: p.name,
            image: f.config.images.test,
            labels: p.labels,
            readinessPort: PORT,
            args: ['netexec', `--http-port=${PORT}`, `--udp-port=${PORT}`, `--sctp-port=${PORT}`],
            ports: [
              { protocol: 'TCP', containerPort: PORT },
              { protocol: 'UDP', containerPort: PORT },
              { protocol: 'SCTP', containerPort: PORT },
            ],
          },
          nsOf[p.namespace],
        ),
      ),
    );
    for (const [i, p] of model.pods.entries()) ipOf[`${p.namespace}/${p.name}`] = pods[i]!.status!.podIP!;

    // Readiness, with the probe the tests use: without any policy everything connects.
    await expectMatrix('no policy: every pod reaches every pod', 'SCTP', allowed(), NO_POLICY);

    // Control: is any NetworkPolicy enforced? A deny-all ingress policy on x/a must stop TCP from x/b,
    // observed across one sync period (a one-cell matrix expected blocked: re-probed until blocked twice).
    const x = nsOf.x!;
    const control: Cell = { from: 'x/b', to: 'x/a' };
    await f.createNetworkPolicy({ name: 'control-deny-all', podSelector: { pod: 'a' }, ingress: [] }, x);
    const c = await probeMatrix({
      cells: [control],
      expected: () => 'blocked',
      concurrency: 1,
      ...settleOptions(timeouts.matrixProbe),
      probe: (cell) => probeCell(cell, 'TCP'),
    }).finally(() => f.deleteNetworkPolicy('control-deny-all', x));
    const verdict = classifyControl({
      what: `TCP ${x}/b -> ${x}/a ${ipOf['x/a']}:${PORT}`,
      policy: `a deny-all ingress policy on ${x}/a (control-deny-all)`,
      observation: c.observed.get(control.from, control.to),
    });
    if (verdict.kind === 'not-enforced') f.skipFor('networkpolicy', verdict.text);
    if (verdict.kind === 'failed') expect.fail(verdict.text);
    f.log(verdict.text);

    // The control is gone: TCP and UDP must be proven open again (two agreeing observations per cell).
    const removed = `control-deny-all was deleted; its removal is proven by ${cellKey(control.from, control.to)}, blocked under it, answering again (a deleted policy leaves nothing else to prove in force)`;
    await expectMatrix('control removed: every pod reaches every pod again', 'TCP', allowed(), removed);
    await expectMatrix('control removed: every pod reaches every pod again', 'UDP', allowed(), removed);
  });

  f.afterEach(async () => {
    f.budget({ apiCall: policies.length + 1 });
    while (policies.length) {
      const p = policies.pop()!;
      await f.deleteNetworkPolicy(p.name, p.ns);
    }
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: default-deny-ingress', async () => {
    f.budget({ matrix: 2, apiCall: 1 });
    await expectMatrix('before the policy: all allowed', 'SCTP', allowed(), NO_POLICY);
    await applyPolicy('x', { name: 'default-deny-ingress', podSelector: {}, ingress: [] });
    await expectMatrix('default-deny-ingress in x', 'SCTP', allowed().expectPeer({}, { namespace: 'x' }, false));
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: allow by port', async () => {
    f.budget({ matrix: 3, apiCall: 2 });
    await expectMatrix('before the policy: all allowed', 'SCTP', allowed(), NO_POLICY);
    await applyPolicy('x', { name: 'allow-sctp-81-only', podSelector: { pod: 'a' }, ingress: [{ ports: [{ protocol: 'SCTP', port: OTHER_PORT }] }] });
    const denied = allowed().expectAllIngress('x/a', false);
    await expectMatrix(`x/a admits only SCTP/${OTHER_PORT}: SCTP/${PORT} into x/a denied`, 'SCTP', denied);
    await applyPolicy('x', { name: 'allow-sctp-80', podSelector: { pod: 'a' }, ingress: [{ ports: [{ protocol: 'SCTP', port: PORT }] }] });
    // allow-sctp-80 only adds: the cells into x/a were each accepted blocked by the previous matrix, so each
    // of them accepted allowed here is allow-sctp-80 in force.
    const into = denied
      .allCells()
      .filter((c) => denied.get(c.from, c.to) === 'blocked')
      .map((c) => cellKey(c.from, c.to))
      .join(', ');
    await expectMatrix(
      `x/a also admits SCTP/${PORT}: allowed again`,
      'SCTP',
      allowed(),
      `allow-sctp-80 only adds to allow-sctp-81-only: ${into} were each observed blocked twice in a row by the previous matrix, so allowed here is allow-sctp-80 in force`,
    );
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: SCTP allowed on a port leaves TCP and UDP on that port denied', async () => {
    f.budget({ matrix: 3, apiCall: 1 });
    await applyPolicy('x', { name: 'allow-only-sctp-80', podSelector: { pod: 'a' }, ingress: [{ ports: [{ protocol: 'SCTP', port: PORT }] }] });
    // TCP first: its blocked cells prove the policy in force, which the all-allowed SCTP matrix cannot.
    const tcp = await expectMatrix(`x/a admits only SCTP/${PORT}: TCP into x/a denied`, 'TCP', allowed().expectAllIngress('x/a', false));
    await expectMatrix(`x/a admits only SCTP/${PORT}: UDP into x/a denied`, 'UDP', allowed().expectAllIngress('x/a', false));
    await expectMatrix(`x/a admits SCTP/${PORT}`, 'SCTP', allowed(), `allow-only-sctp-80 was proven in force by the TCP matrix: ${tcp.inForce.text}`);
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: allow from a pod in another namespace by pod and namespace selector', async () => {
    f.budget({ matrix: 1, apiCall: 1 });
    await applyPolicy('x', {
      name: 'allow-y-b',
      podSelector: { pod: 'a' },
      ingress: [{ from: [{ namespaceSelector: nsSelector('y'), podSelector: { pod: 'b' } }], ports: [{ protocol: 'SCTP', port: PORT }] }],
    });
    await expectMatrix('x/a admits SCTP only from y/b', 'SCTP', allowed().expectAllIngress('x/a', false).expect('y/b', 'x/a', true));
  });

  f.it('NetworkPolicy can be used to allow or deny traffic to SCTP ports: egress to SCTP in one namespace', async () => {
    f.budget({ matrix: 1, apiCall: 1 });
    await applyPolicy('x', {
      name: 'egress-sctp-to-y',
      podSelector: { pod: 'a' },
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: nsSelector('y') }], ports: [{ protocol: 'SCTP', port: PORT }] }],
    });
    await expectMatrix(
      'x/a may send SCTP only to namespace y',
      'SCTP',
      allowed().expectAllEgress('x/a', false).expect('x/a', 'y/a', true).expect('x/a', 'y/b', true),
    );
  });
});
