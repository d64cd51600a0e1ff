import { expect } from 'chai';
import { classifyLoadBalancer, classifyRouteGet, inClusterPath, ingressPoints, type LbEvent, parseEventLine, saysProtocolRejected } from './lb-status.ts';

// The Service of loadbalancer.spec.ts: its name and namespace both contain "sctp".
const NS = 'sctp-lb-x7k2q';
const NAMES = ['sctp-lb', NS, `${NS}/sctp-lb`];
const ev = (type: string, reason: string, message: string): LbEvent => ({ type, reason, message });
const classify = (events: LbEvent[], conditions = []) => classifyLoadBalancer({ events, conditions, names: NAMES });

/** cluster/lb started with --reject-protocols SCTP: rejectMessage() of cluster/lb/pool.ts, verbatim. */
const CLUSTER_LB_REJECT = ev(
  'Warning',
  'SyncLoadBalancerFailed',
  'Error syncing load balancer: failed to ensure load balancer: SCTP not supported by this load balancer (allowed protocols: TCP, UDP)',
);

describe('classifyLoadBalancer: harmless events about a Service named sctp-lb are not a rejection', () => {
  // Each of these was "rejected" under the old rule (/fail|error|reject/ and /sctp/ anywhere in the line).
  const harmless: Array<[string, LbEvent[]]> = [
    [
      'upstream service controller, healthy',
      [ev('Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer for sctp-lb'), ev('Normal', 'EnsuredLoadBalancer', 'Ensured load balancer')],
    ],
    ['cluster/lb assignment', [ev('Normal', 'IPAllocated', 'Assigned IP ["10.199.2.1"] from pool 10.199.2.0/26')]],
    [
      'MetalLB L2 announcement (mentions a protocol)',
      [
        ev('Normal', 'IPAllocated', 'Assigned IP ["172.18.255.200"]'),
        ev('Normal', 'nodeAssigned', 'announcing from node "kind-worker" with protocol "layer2"'),
      ],
    ],
    [
      'MetalLB pool exhausted (Warning, "Failed", names sctp-lb)',
      [ev('Warning', 'AllocationFailed', `Failed to allocate IP for "${NS}/sctp-lb": no available IPs`)],
    ],
    ['cluster/lb pool exhausted', [ev('Warning', 'AllocationFailed', 'no free address in the pool 10.199.2.0/26 (62 addresses, all assigned)')]],
    [
      'provider API error naming the Service',
      [
        ev(
          'Warning',
          'SyncLoadBalancerFailed',
          `Error syncing load balancer: failed to ensure load balancer: error creating load balancer for service ${NS}/sctp-lb: context deadline exceeded`,
        ),
      ],
    ],
    [
      'provider error that mentions SCTP without refusing it',
      [
        ev(
          'Warning',
          'SyncLoadBalancerFailed',
          'Error syncing load balancer: failed to ensure load balancer: SCTP listener creation failed: Throttling: Rate exceeded',
        ),
      ],
    ],
    [
      'a Normal event that mentions SCTP support',
      [ev('Normal', 'EnsuredLoadBalancer', 'Ensured load balancer (SCTP not supported for health checks, using TCP)')],
    ],
    [
      'TLS error from the provider API',
      [ev('Warning', 'SyncLoadBalancerFailed', `failed to ensure load balancer for sctp-lb: tls: server selected unsupported protocol version 301`)],
    ],
    [
      'mixed-protocol rule (not about a single-protocol SCTP Service)',
      [ev('Warning', 'SyncLoadBalancerFailed', 'mixed protocol is not supported for LoadBalancer')],
    ],
    [
      'Azure: SCTP listed as supported',
      [ev('Warning', 'SyncLoadBalancerFailed', `failed to ensure load balancer for ${NS}/sctp-lb: only TCP, UDP and SCTP are supported, got HTTP`)],
    ],
  ];
  for (const [what, events] of harmless) {
    it(what, () => {
      const v = classify(events);
      expect(v.state, v.lines.join('\n')).to.equal('pending');
      expect(v.lines).to.have.length(events.length);
    });
  }

  it('keeps the Warning events that are not a rejection (evidence for a skip message)', () => {
    const v = classify([
      ev('Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer for sctp-lb'),
      ev('Warning', 'AllocationFailed', `Failed to allocate IP for "${NS}/sctp-lb": no available IPs`),
    ]);
    expect(v.warnings).to.deep.equal([`Warning AllocationFailed: Failed to allocate IP for "${NS}/sctp-lb": no available IPs`]);
  });

  it('no events and no conditions: pending, nothing observed', () => {
    expect(classify([])).to.deep.equal({ state: 'pending', lines: [], warnings: [] });
  });
});

describe('classifyLoadBalancer: a provider that says it does not support SCTP', () => {
  it('cluster/lb --reject-protocols SCTP: rejected, with its event as the evidence', () => {
    const v = classify([ev('Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer for sctp-lb'), CLUSTER_LB_REJECT]);
    expect(v).to.include({
      state: 'rejected',
      evidence:
        'Warning SyncLoadBalancerFailed: Error syncing load balancer: failed to ensure load balancer: SCTP not supported ' +
        'by this load balancer (allowed protocols: TCP, UDP)',
    });
  });

  const cloud: Array<[string, string]> = [
    ['"SCTP is not supported"', 'Error syncing load balancer: failed to ensure load balancer: SCTP is not supported'],
    [
      'AWS-style "Protocol SCTP not supported by LoadBalancer"',
      'Error syncing load balancer: failed to ensure load balancer: Protocol SCTP not supported by LoadBalancer',
    ],
    ['"unsupported protocol SCTP"', `failed to ensure load balancer for ${NS}/sctp-lb: unsupported protocol SCTP`],
    ['"unsupported protocol" alone', 'Error syncing load balancer: unsupported protocol'],
    ['"invalid protocol: \\"SCTP\\""', 'failed to ensure load balancer: invalid protocol: "SCTP"'],
    ['"protocol \\"SCTP\\" is not supported"', 'failed to ensure load balancer: port 5060: protocol "SCTP" is not supported'],
    [
      'GCE-style "only TCP and UDP are supported"',
      'Error syncing load balancer: failed to ensure load balancer: Invalid protocol SCTP, only TCP and UDP are supported',
    ],
    ['"only TCP/UDP protocols are allowed"', 'listener rejected: only TCP/UDP protocols are allowed'],
    ['"does not support SCTP"', 'this load balancer does not support SCTP'],
    ['"Unsupported value: \\"SCTP\\""', 'spec.listeners[0].protocol: Unsupported value: "SCTP": supported values: "TCP", "UDP"'],
    ['lower-case "sctp not supported"', 'failed to ensure load balancer: sctp not supported'],
  ];
  for (const [what, message] of cloud) {
    it(what, () => {
      const v = classify([ev('Warning', 'SyncLoadBalancerFailed', message)]);
      expect(v.state, message).to.equal('rejected');
      if (v.state === 'rejected') expect(v.evidence).to.equal(`Warning SyncLoadBalancerFailed: ${message}`);
    });
  }

  it('the same words in a Normal event are not a rejection (only a Warning or a condition counts)', () => {
    expect(classify([ev('Normal', 'Info', 'SCTP is not supported')]).state).to.equal('pending');
  });

  it('a status condition whose message says the protocol is unsupported', () => {
    const v = classifyLoadBalancer({
      events: [],
      conditions: [{ type: 'LoadBalancerReady', status: 'False', reason: 'SyncFailed', message: 'SCTP is not supported by this provider' }],
      names: NAMES,
    });
    expect(v).to.include({ state: 'rejected', evidence: 'condition LoadBalancerReady=False SyncFailed: SCTP is not supported by this provider' });
  });

  it('a status condition whose reason is UnsupportedProtocol', () => {
    const v = classifyLoadBalancer({
      events: [],
      conditions: [{ type: 'Ready', status: 'False', reason: 'UnsupportedProtocol', message: 'listener for port 5060 not created' }],
      names: NAMES,
    });
    expect(v.state).to.equal('rejected');
  });

  it('a failing condition that is not about the protocol is a warning, not a rejection', () => {
    const v = classifyLoadBalancer({
      events: [],
      conditions: [{ type: 'Ready', status: 'False', reason: 'Provisioning', message: `load balancer for ${NS}/sctp-lb is being provisioned` }],
      names: NAMES,
    });
    expect(v.state).to.equal('pending');
    expect(v.warnings).to.have.length(1);
  });
});

describe('saysProtocolRejected: object names never count as a mention of SCTP', () => {
  it('a Service NAMED like "sctp-not-supported" is masked', () => {
    expect(saysProtocolRejected('Failed to allocate IP for "ns1/sctp-not-supported": no available IPs', ['sctp-not-supported', 'ns1'])).to.equal(false);
  });
  it('without the names, "sctp-…" still is not the word SCTP', () => {
    expect(saysProtocolRejected(`Failed to allocate IP for "${NS}/sctp-lb": no available IPs`)).to.equal(false);
  });
});

describe('parseEventLine (the lines of helpers.ts eventsFor)', () => {
  it('type, reason, and a message that contains colons', () => {
    expect(parseEventLine(`Warning SyncLoadBalancerFailed: ${CLUSTER_LB_REJECT.message}`)).to.deep.equal(CLUSTER_LB_REJECT);
  });
  it('an event without a type', () => {
    expect(parseEventLine('IPAllocated: Assigned IP ["10.199.2.1"] from pool 10.199.2.0/26')).to.deep.equal({
      type: undefined,
      reason: 'IPAllocated',
      message: 'Assigned IP ["10.199.2.1"] from pool 10.199.2.0/26',
    });
  });
  it('round trip through classifyLoadBalancer', () => {
    const lines = ['Normal EnsuringLoadBalancer: Ensuring load balancer for sctp-lb', `Warning SyncLoadBalancerFailed: ${CLUSTER_LB_REJECT.message}`];
    const v = classify(lines.map(parseEventLine));
    expect(v.lines).to.deep.equal(lines);
    expect(v.state).to.equal('rejected');
  });
});

describe('ingressPoints and what an in-cluster probe proves', () => {
  it('IP with ipMode unset is VIP (the API default): a pod probe proves kube-proxy, not the load balancer', () => {
    const [p] = ingressPoints([{ ip: '10.199.2.1' }]);
    expect(p).to.deep.equal({ address: '10.199.2.1', isIP: true, ipMode: 'VIP' });
    const path = inClusterPath(p!);
    expect(path.viaLoadBalancer).to.equal(false);
    expect(path.text).to.match(/proves kube-proxy's handling of the ingress IP, not the load balancer/);
  });
  it('ipMode Proxy and hostnames do go to the load balancer', () => {
    const [a, b] = ingressPoints([{ ip: '10.199.2.1', ipMode: 'Proxy' }, { hostname: 'lb-123.elb.example' }]);
    expect(inClusterPath(a!).viaLoadBalancer).to.equal(true);
    expect(inClusterPath(b!).viaLoadBalancer).to.equal(true);
  });
  it('empty entries are dropped; no ingress is no points', () => {
    expect(ingressPoints([{}, { ip: '' }])).to.deep.equal([]);
    expect(ingressPoints(undefined)).to.deep.equal([]);
  });
});

describe('classifyRouteGet (`ip route get` from the outside vantage point)', () => {
  it('layer 3: routed via a gateway (cluster/lb: the pool via node1)', () => {
    expect(classifyRouteGet('10.199.2.1 via 10.199.0.2 dev veth-out src 10.199.0.100 uid 0 \n    cache \n')).to.deep.equal({
      kind: 'routed',
      via: '10.199.0.2',
      dev: 'veth-out',
      line: '10.199.2.1 via 10.199.0.2 dev veth-out src 10.199.0.100 uid 0',
    });
  });
  it("layer 2 (MetalLB L2 on kind's network): on-link, probe directly — the old rule skipped this", () => {
    expect(classifyRouteGet('172.18.255.200 dev eth0 src 172.18.0.5 uid 0 \n    cache \n')).to.deep.equal({
      kind: 'on-link',
      dev: 'eth0',
      line: '172.18.255.200 dev eth0 src 172.18.0.5 uid 0',
    });
  });
  it('no route: the lookup fails (lib/outside.ts ipCmd throws with the stderr)', () => {
    const v = classifyRouteGet(
      new Error('nsenter --net=/run/netns/sctpe2e-outside -- ip route get 10.199.2.1 exited 2: RTNETLINK answers: Network is unreachable'),
    );
    expect(v.kind).to.equal('no-route');
    expect(v.line).to.contain('Network is unreachable');
  });
  it('no route: busybox prints the failure as text (the docker vantage point)', () => {
    expect(classifyRouteGet('ip: RTNETLINK answers: Network is unreachable').kind).to.equal('no-route');
    expect(classifyRouteGet('unreachable 10.9.9.9 uid 0').kind).to.equal('no-route');
    expect(classifyRouteGet('blackhole 10.9.9.9 uid 0').kind).to.equal('no-route');
  });
  it('the vantage point owns the address; unknown output and lookups that did not run are not "no route"', () => {
    expect(classifyRouteGet('local 10.199.0.100 dev lo src 10.199.0.100 uid 0').kind).to.equal('local');
    expect(classifyRouteGet(new Error('docker exec: busybox: not found')).kind).to.equal('unknown');
    expect(classifyRouteGet('Error: any valid prefix is expected rather than "lb-1.example".').kind).to.equal('unknown');
    expect(classifyRouteGet('').kind).to.equal('unknown');
  });
});
