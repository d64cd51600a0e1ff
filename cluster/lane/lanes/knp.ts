// The kube-network-policies lane: a one-node local cluster, the kernel-lane VM joined as node sctp-e2e-vm, and
// kube-network-policies v0.8.0 (nftables + nfqueue) on it (cluster/knp: this host's kernel has no nft queue); the
// local node is cordoned for the run, so every test pod is on the VM node, under the agent. Its known results:
// cluster/knp/known-results/kube-network-policies-v0.8.0.yaml.
import { type LaneSpec, npm } from '../lane.ts';

export const knp: LaneSpec = {
  name: 'knp',
  title: 'kube-network-policies v0.8.0 (nftables + nfqueue) on the kernel-lane VM node (bridge CNI, kube-proxy iptables), the local node cordoned',
  known: 'cluster/knp/known-results/kube-network-policies-v0.8.0.yaml',
  requires: 'networkpolicy',
  // the cluster.json merged by `vm join` holds the VM node's ssh parameters: the capability probes read its kernel SCTP
  // and kube-proxy mode over ssh (with the cluster's own dir the run fell back to host pods and probed no node)
  e2eEnv: { SCTP_E2E_CLUSTER_DIR: '/var/lib/sctp-e2e/vm/join/cluster' },
  setup: [
    { name: 'cluster:up', argv: npm('cluster:up', '--nodes', '1'), undo: { name: 'cluster:down', argv: npm('cluster:down') } },
    { name: 'vm:up', argv: npm('vm:up', '--join-cluster'), undo: { name: 'vm:down', argv: npm('vm:down') } },
    { name: 'knp:up', argv: npm('knp:up'), undo: { name: 'knp:down', argv: npm('knp:down') } },
    {
      name: 'cordon',
      argv: ['tsx', 'cluster/knp/cli.ts', 'cordon'],
      undo: { name: 'uncordon', argv: ['tsx', 'cluster/knp/cli.ts', 'uncordon'] },
    },
  ],
};
