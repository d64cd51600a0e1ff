import { expect } from 'chai';
import {
  CNI_CONF_NAME,
  cniWrapper,
  flanneldArgs,
  flanneldEnv,
  flannelPodCIDR,
  isFlannelPodIP,
  nodeIndex,
  nodePaths,
  POD_BRIDGE,
  parseSubnetEnv,
  parseVxlanLink,
  renderCniConflist,
  renderNetConf,
  WRAPPER_MARK,
} from './render.ts';

const node = { name: 'sctp-e2e-node1', ip: '10.199.0.2', netns: 'sctpe2e-node1' };

describe('cluster/flannel render', () => {
  it('flanneld: Kubernetes subnet manager, eth0 of the node netns, --ip-masq, every path under the state dir', () => {
    const a = flanneldArgs({ stateDir: '/s', node, kubeconfig: '/s/admin.kubeconfig' });
    expect(a).to.include.members(['--kube-subnet-mgr', '--kubeconfig-file=/s/admin.kubeconfig', '--iface=eth0', '--public-ip=10.199.0.2', '--ip-masq']);
    expect(a).to.include('--net-config-path=/s/flannel/sctpe2e-node1/net-conf.json');
    expect(a).to.include('--subnet-file=/s/flannel/sctpe2e-node1/subnet.env');
    expect(a).to.include('--healthz-ip=127.0.0.1');
    expect(a.filter((x) => x.startsWith('/') || x.includes('=/')).every((x) => x.includes('/s/'))).to.equal(true);
    expect(flanneldEnv({ PATH: '/bin' }, 'sctp-e2e-node2')).to.deep.equal({ PATH: '/bin', NODE_NAME: 'sctp-e2e-node2' });
  });

  it('net-conf.json: the cluster pod network, backend vxlan with VNI 1 on UDP 8472', () => {
    const c = JSON.parse(renderNetConf('10.244.0.0/16'));
    expect(c).to.deep.include({ Network: '10.244.0.0/16', EnableNFTables: false });
    expect(c.Backend).to.deep.equal({ Type: 'vxlan', VNI: 1, Port: 8472 });
  });

  it('gives node N a pod range outside the bridge CNI ranges, and recognises its pod IPs', () => {
    expect(flannelPodCIDR(1)).to.equal('10.244.101.0/24');
    expect(flannelPodCIDR(2)).to.equal('10.244.102.0/24');
    expect(() => flannelPodCIDR(0)).to.throw();
    expect(nodeIndex('sctp-e2e-node2')).to.equal(2);
    expect(() => nodeIndex('sctp-e2e-vm')).to.throw(/cannot tell/);
    expect(isFlannelPodIP('10.244.102.7')).to.equal(true);
    expect(isFlannelPodIP('10.244.2.7')).to.equal(false);
    expect(isFlannelPodIP('10.244.10.7')).to.equal(false);
  });

  it('CNI: flannel (its own bridge, per-node subnet.env and leases) then the cluster portmap; sorts first', () => {
    const c = JSON.parse(renderCniConflist({ stateDir: '/s', node, proxyMode: 'iptables' }));
    expect(c.plugins.map((p: { type: string }) => p.type)).to.deep.equal(['flannel', 'portmap']);
    expect(c.plugins[0]).to.deep.include({ subnetFile: '/s/flannel/sctpe2e-node1/subnet.env', dataDir: '/s/flannel/sctpe2e-node1/cni' });
    expect(c.plugins[0].ipam).to.deep.equal({ type: 'host-local', dataDir: '/s/flannel/sctpe2e-node1/ipam' });
    expect(c.plugins[0].delegate).to.deep.equal({ bridge: POD_BRIDGE, hairpinMode: true, isDefaultGateway: true });
    expect(POD_BRIDGE).to.not.equal('cni0');
    expect(POD_BRIDGE.length).to.be.at.most(15);
    expect(c.plugins[1].externalSetMarkChain).to.equal('KUBE-MARK-MASQ');
    expect(JSON.parse(renderCniConflist({ stateDir: '/s', node, proxyMode: 'nftables' })).plugins[1].externalSetMarkChain).to.equal(undefined);
    expect(CNI_CONF_NAME < '10-sctpe2e.conflist').to.equal(true);
    expect(CNI_CONF_NAME > '05-cilium.conflist').to.equal(true);
    expect(cniWrapper('/b/flannel')).to.contain(WRAPPER_MARK).and.contain('exec "/b/flannel" "$@"');
    expect(nodePaths('/s', node).log).to.equal('/s/flannel/logs/flanneld-sctp-e2e-node1.log');
  });

  it('reads subnet.env and `ip -d -s -j link show flannel.1`', () => {
    expect(parseSubnetEnv('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.101.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n')).to.deep.equal({
      FLANNEL_NETWORK: '10.244.0.0/16',
      FLANNEL_SUBNET: '10.244.101.1/24',
      FLANNEL_MTU: '1450',
      FLANNEL_IPMASQ: 'true',
    });
    const link = JSON.stringify([
      {
        ifname: 'flannel.1',
        mtu: 1450,
        linkinfo: { info_kind: 'vxlan', info_data: { id: 1, local: '10.199.0.2', port: 8472 } },
        stats64: { rx: { packets: 12 }, tx: { packets: 34 } },
      },
    ]);
    expect(parseVxlanLink(link)).to.deep.equal({ present: true, vni: 1, local: '10.199.0.2', port: 8472, mtu: 1450, rxPackets: 12, txPackets: 34 });
    expect(parseVxlanLink('[]')).to.deep.equal({ present: false });
    expect(parseVxlanLink('not json')).to.deep.equal({ present: false });
  });
});
