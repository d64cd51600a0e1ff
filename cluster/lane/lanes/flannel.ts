// The flannel lane: a two-node local cluster (kube-proxy iptables), the LoadBalancer add-on and flannel v0.28.10
// with the VXLAN backend as the pod network (cluster/flannel), up before the first test so every test pod is on
// flannel and cross-node pod traffic crosses flannel.1. flannel enforces no NetworkPolicy: those tests skip with
// the deny-all control's evidence (networkpolicy is not required). Known results:
// cluster/flannel/known-results/flannel-v0.28.10.yaml.
import { type LaneSpec, npm } from '../lane.ts';

export const flannel: LaneSpec = {
  name: 'flannel',
  title: 'flannel v0.28.10 (VXLAN, kube subnet manager), 2 nodes, kube-proxy iptables, the LoadBalancer add-on',
  known: 'cluster/flannel/known-results/flannel-v0.28.10.yaml',
  requires: 'multi-node,loadbalancer',
  setup: [
    { name: 'cluster:up', argv: npm('cluster:up', '--nodes', '2'), undo: { name: 'cluster:down', argv: npm('cluster:down') } },
    { name: 'lb:up', argv: npm('lb:up'), undo: { name: 'lb:down', argv: npm('lb:down') } },
    { name: 'flannel:up', argv: npm('flannel:up'), undo: { name: 'flannel:down', argv: npm('flannel:down') } },
  ],
};
