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

  it('--kpr: Cilium serves Services per packet (NodePort, externalIPs, hostPort, affinity), socket LB off, API server direct', () => {
    const a = agentArgs({
      stateDir: '/s',
      node,
      kubeconfig: '/s/admin.kubeconfig',
      podCIDR: '10.244.0.0/16',
      libDir: '/b/lib',
      kprApiServer: 'https://10.199.0.2:6443',
    });
    for (const f of [
      '--enable-sctp=true',
      '--k8s-api-server=https://10.199.0.2:6443',
      '--enable-node-port=true',
      '--enable-external-ips=true',
      '--enable-host-port=true',
      '--enable-session-affinity=true',
      '--bpf-lb-sock=false',
      '--devices=eth0',
    ])
      expect(a).to.include(f);
    expect(a).not.to.include('--enable-node-port=false');
    // v1.15's =true would force socket LB on the host's shared cgroup root (kube_proxy_replacement.go:74-86)
    expect(a.filter((x) => x.startsWith('--kube-proxy-replacement='))).to.deep.equal(['--kube-proxy-replacement=false']);
    const c = JSON.parse(renderCniConflist({ node, proxyMode: 'none', logFile: '/l', kpr: true }));
    expect(
      c.plugins.map((p: { type: string }) => p.type),
      'the agent serves hostPorts: no portmap',
    ).to.deep.equal(['cilium-cni']);
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
