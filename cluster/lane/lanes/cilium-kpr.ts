// The Cilium kube-proxy-replacement lane: a two-node local cluster with no kube-proxy (cluster:up --proxy-mode none),
// Cilium v1.15.19 serving Services per packet in eBPF (NodePort, externalIPs, hostPort, LoadBalancer IPs, affinity;
// socket LB off: cluster/netpol/render.ts kprArgs says why) and NetworkPolicy, up before the first test, then the
// LoadBalancer add-on. Its known failures: cluster/netpol/known-results/cilium-kpr-v1.15.19.yaml.
import { type LaneSpec, npm } from '../lane.ts';

export const ciliumKpr: LaneSpec = {
  name: 'cilium-kpr',
  title: 'Cilium v1.15.19 as kube-proxy replacement (eBPF Services, no kube-proxy), 2 nodes, the LoadBalancer add-on',
  known: 'cluster/netpol/known-results/cilium-kpr-v1.15.19.yaml',
  requires: 'multi-node,networkpolicy,loadbalancer',
  setup: [
    {
      name: 'cluster:up',
      argv: npm('cluster:up', '--nodes', '2', '--proxy-mode', 'none'),
      undo: { name: 'cluster:down', argv: npm('cluster:down') },
    },
    // Services need Cilium before anything else: the LB add-on's addresses are only served once it runs.
    { name: 'netpol:up', argv: npm('netpol:up', '--kpr'), undo: { name: 'netpol:down', argv: npm('netpol:down') } },
    { name: 'lb:up', argv: npm('lb:up'), undo: { name: 'lb:down', argv: npm('lb:down') } },
  ],
};
