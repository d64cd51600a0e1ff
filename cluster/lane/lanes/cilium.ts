// The Cilium lane: a two-node local cluster (kube-proxy iptables), the LoadBalancer add-on and Cilium v1.15.19 as
// the CNI and NetworkPolicy implementation (cluster/netpol), up before the first test so every test pod is a Cilium
// endpoint. Its known failures: cluster/netpol/known-results/cilium-v1.15.19.yaml.
import { type LaneSpec, npm } from '../lane.ts';

export const cilium: LaneSpec = {
  name: 'cilium',
  title: 'Cilium v1.15.19 (eBPF, with kube-proxy iptables), 2 nodes, the LoadBalancer add-on',
  known: 'cluster/netpol/known-results/cilium-v1.15.19.yaml',
  requires: 'multi-node,networkpolicy,loadbalancer',
  setup: [
    { name: 'cluster:up', argv: npm('cluster:up', '--nodes', '2'), undo: { name: 'cluster:down', argv: npm('cluster:down') } },
    { name: 'lb:up', argv: npm('lb:up'), undo: { name: 'lb:down', argv: npm('lb:down') } },
    { name: 'netpol:up', argv: npm('netpol:up'), undo: { name: 'netpol:down', argv: npm('netpol:down') } },
  ],
};
