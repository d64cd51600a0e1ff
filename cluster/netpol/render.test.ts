import { expect } from 'chai';
import { agentArgs, agentLauncher, CNI_CONF_NAME, ciliumPodCIDR, cniWrapper, nodePaths, renderCniConflist } from './render.ts';

const node = { name: 'sctp-e2e-node1', ip: '10.199.0.2', netns: 'sctpe2e-node1' };

describe('cluster/netpol render', () => {
  it('enables SCTP and keeps kube-proxy in charge of Services', () => {
    const a = agentArgs({ stateDir: '/s', node, kubeconfig: '/s/admin.kubeconfig', podCIDR: '10.244.0.0/16', libDir: '/b/lib' });
    expect(a).to.include('--enable-sctp=true');
    expect(a).to.include('--kube-proxy-replacement=false');
    expect(a).to.include('--enable-k8s-networkpolicy=true');
    expect(a).to.include('--socket-path=/s/netpol/sctpe2e-node1/cilium.sock');
    expect(a).to.include('--bpf-root=/s/netpol/sctpe2e-node1/bpffs');
    expect(a).to.include('--ipv4-native-routing-cidr=10.244.0.0/16');
  });

  it('gives each node a pod range outside the bridge CNI ranges', () => {
    expect(ciliumPodCIDR(1)).to.equal('10.244.101.0/24');
    expect(ciliumPodCIDR(2)).to.equal('10.244.102.0/24');
    expect(() => ciliumPodCIDR(0)).to.throw();
  });

  it('masks the irreversible global sysctls in a private mount namespace and execs the agent', () => {
    const l = agentLauncher({ nodeName: 'sctp-e2e-node1', masksDir: '/m', agent: '/b/cilium-agent', args: ["--x=it's"] });
    expect(l.slice(0, 4)).to.deep.equal(['unshare', '--mount', '--propagation', 'slave']);
    const script = l[l.length - 1]!;
    expect(script).to.match(/mount --bind '\/m\/kernel\.unprivileged_bpf_disabled' \/proc\/sys\/kernel\/unprivileged_bpf_disabled/);
    expect(script).to.contain(`export K8S_NODE_NAME='sctp-e2e-node1'`);
    expect(script).to.contain(`exec '/b/cilium-agent' '--x=it'\\''s'`);
  });

  it('CNI: cilium-cni then the cluster portmap; the wrapper picks the socket by netns', () => {
    const c = JSON.parse(renderCniConflist({ node, proxyMode: 'iptables', logFile: '/l' }));
    expect(c.plugins.map((p: { type: string }) => p.type)).to.deep.equal(['cilium-cni', 'portmap']);
    expect(c.plugins[1].externalSetMarkChain).to.equal('KUBE-MARK-MASQ');
    expect(JSON.parse(renderCniConflist({ node, proxyMode: 'nftables', logFile: '/l' })).plugins[1].externalSetMarkChain).to.equal(undefined);
    expect(CNI_CONF_NAME < '10-sctpe2e.conflist').to.equal(true);
    const w = cniWrapper({ netpolDir: '/s/netpol', realBin: '/b/cilium-cni' });
    expect(w).to.contain('CILIUM_SOCK="/s/netpol/$ns/cilium.sock"');
    expect(nodePaths('/s', node).sock).to.equal('/s/netpol/sctpe2e-node1/cilium.sock');
  });
});
