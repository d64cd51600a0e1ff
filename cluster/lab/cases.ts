// The fault lane's expectations: for each fault, the tests that must turn red and the words their failure
// must contain to name the fault, and the tests that must stay green; plus what the same tests did on the
// healthy cluster. The fault recipes are in cluster/lab/faults.ts; each spec names its recipes in its header.

export type Expectation =
  | { kind?: 'test'; label: string; test: RegExp; outcome: 'passed' | 'failed' | 'skipped'; names?: RegExp }
  | { kind: 'exit'; label: string; code: number; names: RegExp }
  /** Some result of the run (which one depends on timing) failed with a message that names the fault. */
  | { kind: 'any'; label: string; names: RegExp };

export interface VerdictCase {
  fault: string;
  /** mocha --grep for the run under the fault. */
  grep: string;
  args?: string[];
  env?: Record<string, string>;
  expect: Expectation[];
  /** The same tests in the ordinary (healthy) run's JUnit. */
  healthy?: Expectation[];
}

const HOSTPORT = /Pods can declare SCTP HostPorts/;
const IPTABLES_RULES = /Services can declare SCTP ServicePorts when using the iptables proxier/;
const POD_OTHER_NODE = /A pod can connect directly to another pod via SCTP on another node/;
const VIA_SERVICE = /A pod can connect to another pod via SCTP via a Service IP \(port/; // not the dual-stack "… Service IP over IPv4 (port"
const OUTSIDE_HOSTPORT = /A client outside the cluster can connect via SCTP to a pod's hostPort/;
const DNS_SRV = /SCTP DNS .* a named SCTP port of a ClusterIP Service has a _sip\._sctp SRV record/;
const DNS_NO_TCP = /SCTP DNS .* the TCP SRV name of an SCTP-only port does not exist/;
const NETPOL_ALLOW_BY_PORT = /NetworkPolicy can be used to allow or deny traffic to SCTP ports: allow by port/;
const LB_POD = /A pod can connect to another pod via SCTP via a Load Balancer/;
const LB_OUTSIDE = /A client outside the cluster can connect via SCTP via a Load Balancer/;
const NETPOL_BASIC = /A NetworkPolicy matching an SCTP port does not allow TCP or UDP traffic/;
const DUAL_POD_V4 = /SCTPConnectivity dual-stack .* A pod can connect directly to another pod via SCTP over IPv4/;
const DUAL_POD_V6 = /SCTPConnectivity dual-stack .* A pod can connect directly to another pod via SCTP over IPv6/;
const DUAL_SVC_V4 = /SCTPConnectivity dual-stack .* via a Service IP over IPv4/;
const DUAL_SVC_V6 = /SCTPConnectivity dual-stack .* via a Service IP over IPv6/;

const pass = (label: string, test: RegExp): Expectation => ({ label, test, outcome: 'passed' });
const fail = (label: string, test: RegExp, names: RegExp): Expectation => ({ label, test, outcome: 'failed', names });

export const VERDICT_CASES: VerdictCase[] = [
  {
    fault: 'forward-drop-sctp',
    grep: 'via SCTP on another node|Pods can declare SCTP HostPorts',
    expect: [fail('pod->pod SCTP, other node', POD_OTHER_NODE, /FORWARD[^\n]*-p sctp[^\n]*DROP/), pass('hostPort rules (basic: sends no SCTP)', HOSTPORT)],
    healthy: [pass('pod->pod SCTP, other node', POD_OTHER_NODE)],
  },
  {
    // The eBPF-datapath counterpart of forward-drop-sctp (Cilium's bpf_host sits on eth0's tc hooks): the diagnosis
    // names the nft netdev rule whose counter moved.
    fault: 'eth0-drop-sctp',
    grep: 'via SCTP on another node',
    expect: [fail('pod->pod SCTP, other node', POD_OTHER_NODE, /nft netdev sctpe2e_lab\/eth0_(egress|ingress):[^\n]*sctp[^\n]*drop/)],
    healthy: [pass('pod->pod SCTP, other node', POD_OTHER_NODE)],
  },
  {
    // issue 14: the IPv6 half alone; needs the dual-stack cluster (cluster:up -- --ip-family dual)
    fault: 'forward-drop-sctp6',
    grep: 'SCTPConnectivity dual-stack .*(directly to another pod|via a Service IP)',
    expect: [
      // the message names the family and the [ip6]:port, and its diagnosis the ip6tables rule that counted the drop
      fail(
        'dual-stack pod->pod SCTP over IPv6',
        DUAL_POD_V6,
        /SCTP over IPv6[^\n]*\[fd[0-9a-f:]+\]:5061[\s\S]*rule counters \(ip6tables-save -c[^)]*\)[\s\S]*-A FORWARD -p sctp[^\n]*-j DROP/,
      ),
      fail('dual-stack pod->ClusterIP SCTP over IPv6', DUAL_SVC_V6, /SCTP over IPv6[^\n]*ClusterIP \[fd[0-9a-f:]+\]:5060/),
      pass('dual-stack pod->pod SCTP over IPv4', DUAL_POD_V4),
      pass('dual-stack pod->ClusterIP SCTP over IPv4', DUAL_SVC_V4),
    ],
    healthy: [
      pass('dual-stack pod->pod SCTP over IPv6', DUAL_POD_V6),
      pass('dual-stack pod->ClusterIP SCTP over IPv6', DUAL_SVC_V6),
      pass('dual-stack pod->pod SCTP over IPv4', DUAL_POD_V4),
    ],
  },
  {
    fault: 'dnat-to-tcp',
    grep: 'ServicePorts when using the iptables proxier|via a Service IP \\(port',
    expect: [fail('Service rules, iptables proxier', IPTABLES_RULES, /matches tcp/), fail('pod->Service IP SCTP', VIA_SERVICE, /matches tcp/)],
    healthy: [pass('Service rules, iptables proxier', IPTABLES_RULES), pass('pod->Service IP SCTP', VIA_SERVICE)],
  },
  {
    fault: 'dnat-no-port',
    grep: 'ServicePorts when using the iptables proxier|via a Service IP \\(port',
    expect: [
      fail('Service rules, iptables proxier', IPTABLES_RULES, /port translation|:5061/),
      fail('pod->Service IP SCTP', VIA_SERVICE, /port translation|--to-destination [0-9.]+( |$|\n)/),
    ],
  },
  {
    fault: 'portmap-removed',
    grep: "Pods can declare SCTP HostPorts|to a pod's hostPort",
    expect: [fail('hostPort rules', HOSTPORT, /hostPort[^\n]*DNAT|DNAT[^\n]*hostPort/), fail('outside -> hostPort SCTP', OUTSIDE_HOSTPORT, /hostPort/)],
    healthy: [pass('hostPort rules', HOSTPORT), pass('outside -> hostPort SCTP', OUTSIDE_HOSTPORT)],
  },
  {
    fault: 'coredns-stopped',
    grep: 'SCTP DNS',
    expect: [
      fail('SRV record of a ClusterIP Service', DNS_SRV, /SRV|DNS|nslookup/),
      fail('no TCP SRV name (a timeout is not "does not exist")', DNS_NO_TCP, /did not answer|timed out|no server|NXDOMAIN/i),
    ],
    healthy: [pass('SRV record of a ClusterIP Service', DNS_SRV), pass('no TCP SRV name', DNS_NO_TCP)],
  },
  {
    fault: 'no-netpol',
    grep: 'A NetworkPolicy matching an SCTP port does not allow TCP or UDP',
    args: ['--require', 'networkpolicy'],
    expect: [fail('basic NetworkPolicy TCP/UDP, --require networkpolicy', NETPOL_BASIC, /required capability "networkpolicy"/)],
    healthy: [{ label: 'basic NetworkPolicy TCP/UDP without --require: skipped with the reason', test: NETPOL_BASIC, outcome: 'skipped' }],
  },
  {
    // issue 9 "Why" 2: without node access, the API-only and DNS tests still run and pass; node tests skip,
    // or fail when node access is declared required
    fault: 'no-node-access',
    grep: '\\[Feature:SCTP\\]',
    args: ['--skip-tag', 'NetworkPolicy', '--node-access', 'none', '--require', 'node-access'],
    expect: [
      pass('a Pod declares an SCTP port (API only)', /a Pod declares an SCTP containerPort and keeps it/),
      pass('SRV record (DNS, no node access needed)', DNS_SRV),
      fail('hostPort rules, --require node-access', HOSTPORT, /required capability "node-access" is missing/),
    ],
  },
  {
    fault: 'netpol-sctp-disabled',
    grep: 'NetworkPolicy can be used to allow or deny traffic to SCTP ports: allow by port',
    expect: [fail('SCTP allowed by port under a policy', NETPOL_ALLOW_BY_PORT, /SCTP[^\n]*wrong|wrong: [^\n]*expected \. observed X/)],
    healthy: [pass('SCTP allowed by port under a policy', NETPOL_ALLOW_BY_PORT)],
  },
  {
    fault: 'sctp-socket-on-vm',
    grep: '\\[Feature:SCTP\\]',
    args: ['--skip-tag', 'NetworkPolicy', '--skip-tag', 'SCTPConnectivity'],
    env: { SCTP_E2E_CLUSTER_DIR: '/var/lib/sctp-e2e/vm/join/cluster' },
    expect: [
      {
        kind: 'any',
        label: 'basic phase: sctp.ko loaded on the kernel-lane node mid-run',
        names: /sctp\.ko was loaded on node sctp-e2e-vm between [^\n]* UTC: not loaded\) and [^\n]* UTC: loaded\)/,
      },
    ],
    healthy: [pass('basic phase: module check at the end of the phase', /basic phase: sctp\.ko module check at end of phase/)],
  },
  {
    fault: 'lb-rejects-sctp',
    grep: 'via SCTP via a Load Balancer',
    args: ['--require', 'loadbalancer'],
    expect: [
      fail(
        'pod -> LoadBalancer SCTP, --require loadbalancer',
        LB_POD,
        /required capability "loadbalancer" is missing[^\n]*SCTP not supported by this load balancer/,
      ),
      fail(
        'outside -> LoadBalancer SCTP, --require loadbalancer',
        LB_OUTSIDE,
        /required capability "loadbalancer" is missing[^\n]*SCTP not supported by this load balancer/,
      ),
    ],
    healthy: [pass('pod -> LoadBalancer SCTP', LB_POD), pass('outside -> LoadBalancer SCTP', LB_OUTSIDE)],
  },
  {
    // cluster/flannel up (VXLAN overlay): only the tunnelled SCTP is dropped, so TCP/UDP between the same pods pass
    fault: 'vxlan-drop-sctp',
    grep: 'via SCTP on another node',
    expect: [fail('pod->pod SCTP, other node, over VXLAN', POD_OTHER_NODE, /--dport 8472[^\n]*u32[^\n]*sctp-e2e-lab:vxlan-drop-sctp[^\n]*-j DROP/)],
    healthy: [pass('pod->pod SCTP, other node, over VXLAN', POD_OTHER_NODE)],
  },
  {
    // kube-network-policies on the kernel-lane VM (cluster/knp/README.md), the local nodes cordoned: its deny-all
    // control lets TCP through once the agent is gone, and --require networkpolicy makes that a failure
    fault: 'knp-stopped',
    grep: 'A NetworkPolicy matching an SCTP port does not allow TCP or UDP|allow or deny traffic to SCTP ports: allow by port',
    args: ['--require', 'networkpolicy'],
    env: { SCTP_E2E_CLUSTER_DIR: '/var/lib/sctp-e2e/vm/join/cluster' },
    expect: [
      fail('basic NetworkPolicy TCP/UDP, knp stopped', NETPOL_BASIC, /required capability "networkpolicy" is missing[\s\S]*control-deny-all/),
      fail('SCTP allowed by port, knp stopped', NETPOL_ALLOW_BY_PORT, /required capability "networkpolicy" is missing[\s\S]*control-deny-all/),
    ],
    healthy: [pass('basic NetworkPolicy TCP/UDP', NETPOL_BASIC), pass('SCTP allowed by port under a policy', NETPOL_ALLOW_BY_PORT)],
  },
  {
    fault: 'ssh-hostkey-changed',
    grep: 'Pods can declare SCTP HostPorts',
    args: ['--node-access', 'ssh'],
    expect: [{ kind: 'exit', label: 'run with --node-access ssh: exit 6 naming the host key', code: 6, names: /host key/i }],
  },
];
