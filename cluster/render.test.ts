// Renderers checked against the real consumers where they are installed (containerd parses its config,
// openssl signs with the extension file), and cluster.json against the example in docs/CONTRACTS.md.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { skipTest } from '../lib/framework/skip.ts';
import { renderClusterJson } from './contract.ts';
import {
  apiserverArgs,
  certSpecs,
  certSubject,
  controllerManagerArgs,
  IMAGES,
  kubeletArgs,
  layout,
  nodeSpec,
  proxyRulesProbe,
  renderCertExtensions,
  renderCniConflist,
  renderContainerdConfig,
  renderCoreDNSManifests,
  renderKubeconfig,
  renderKubeletConfig,
  renderKubeProxyConfig,
  renderSmokeManifests,
} from './render.ts';

const here = dirname(fileURLToPath(import.meta.url));
const l = layout('/var/lib/sctp-e2e/cluster');
const n1 = nodeSpec(1);
/** Skips with the precise reason in the test title (mocha's this.skip() carries none). */
function skipBecause(ctx: Mocha.Context, reason: string): never {
  return skipTest(ctx, reason);
}
const has = (bin: string) => ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, bin)));

describe('cluster/render', () => {
  it('node topology: node1 is the control plane at 10.199.0.2 with pod range 10.244.1.0/24', () => {
    expect(n1).to.deep.equal({
      index: 1,
      name: 'sctp-e2e-node1',
      netns: 'sctpe2e-node1',
      ip: '10.199.0.2',
      ip6: 'fd00:199::2',
      hostVeth: 'sctpe2e-n1',
      podSubnet: '10.244.1.0/24',
      podSubnet6: 'fd00:244:1::/64',
      controlPlane: true,
    });
    expect(nodeSpec(2)).to.deep.include({ ip: '10.199.0.3', podSubnet: '10.244.2.0/24', controlPlane: false });
    expect(() => nodeSpec(0)).to.throw('node index must be 1..9, got 0');
  });

  it('CNI conflist: bridge+host-local with hairpin; portmap references KUBE-MARK-MASQ only in iptables mode', () => {
    for (const mode of ['iptables', 'nftables'] as const) {
      const c = JSON.parse(renderCniConflist(l, n1, mode));
      const [bridge, portmap] = c.plugins;
      expect(bridge).to.deep.include({ type: 'bridge', hairpinMode: true, isGateway: true });
      expect(bridge.ipam.ranges).to.deep.equal([[{ subnet: '10.244.1.0/24' }]]);
      expect(bridge.ipam.dataDir, 'IPAM state stays in the state dir').to.match(/^\/var\/lib\/sctp-e2e\/cluster\//);
      expect(portmap.type).to.equal('portmap');
      if (mode === 'iptables') expect(portmap.externalSetMarkChain).to.equal('KUBE-MARK-MASQ');
      else expect(portmap, 'nftables mode has no KUBE-MARK-MASQ chain').not.to.have.property('externalSetMarkChain');
    }
  });

  it('kubelet config carries the settings this machine needs', () => {
    const k = parse(renderKubeletConfig(l, n1));
    expect(k).to.deep.include({
      kind: 'KubeletConfiguration',
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/sctpe2e-node1',
      oomScoreAdj: 0,
      imageGCHighThresholdPercent: 100,
      address: '10.199.0.2',
    });
    expect(k.clusterDNS).to.deep.equal(['10.96.0.10']);
    expect(k.containerRuntimeEndpoint).to.equal('unix:///var/lib/sctp-e2e/cluster/sctp-e2e-node1/containerd/containerd.sock');
  });

  it('kube-proxy config: mode, cluster CIDR, no conntrack sysctl writes, oomScoreAdj 0', () => {
    const k = parse(renderKubeProxyConfig(l, n1, 'nftables'));
    expect(k).to.deep.include({ mode: 'nftables', clusterCIDR: '10.244.0.0/16', hostnameOverride: 'sctp-e2e-node1', oomScoreAdj: 0 });
    expect(k.conntrack.maxPerCore).to.equal(0);
  });

  it('containerd accepts the config and keeps restrict_oom_score_adj, cgroupfs, the local pause image', function () {
    if (!has('containerd')) skipBecause(this, 'containerd is not installed in /usr/bin or /usr/sbin (bash .ci/install-deps.sh installs it)');
    const dir = mkdtempSync(join(tmpdir(), 'sctpe2e-render-'));
    try {
      const f = join(dir, 'config.toml');
      writeFileSync(f, renderContainerdConfig(layout(dir), n1));
      const dump = execFileSync('containerd', ['--config', f, 'config', 'dump'], { encoding: 'utf8', timeout: 10_000 });
      for (const want of [
        'restrict_oom_score_adj = true',
        'SystemdCgroup = false',
        `sandbox_image = "${IMAGES.pause}"`,
        'netns_mounts_under_state_dir = true',
        `root = "${dir}/sctp-e2e-node1/containerd/root"`,
      ]) {
        expect(dump, `containerd config dump of ${f} should contain ${want}`).to.include(want);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('openssl signs the apiserver certificate with every SAN and the kubelet client cert into system:nodes', function () {
    if (!has('openssl')) skipBecause(this, 'openssl is not installed in /usr/bin');
    const dir = mkdtempSync(join(tmpdir(), 'sctpe2e-pki-'));
    try {
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
      execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`, '-days', '1', '-subj', '/CN=t'], { stdio: 'pipe' });
      const specs = certSpecs([n1]);
      const text = (stem: string) => {
        const c = specs.find((s) => s.stem === stem)!;
        writeFileSync(`${dir}/x.ext`, renderCertExtensions(c));
        execFileSync('openssl', ['req', '-new', ...ec, '-keyout', `${dir}/x.key`, '-out', `${dir}/x.csr`, '-subj', certSubject(c)], { stdio: 'pipe' });
        execFileSync(
          'openssl',
          [
            'x509',
            '-req',
            '-in',
            `${dir}/x.csr`,
            '-CA',
            `${dir}/ca.crt`,
            '-CAkey',
            `${dir}/ca.key`,
            '-set_serial',
            '7',
            '-days',
            '1',
            '-out',
            `${dir}/x.crt`,
            '-extfile',
            `${dir}/x.ext`,
          ],
          { stdio: 'pipe' },
        );
        return execFileSync('openssl', ['x509', '-in', `${dir}/x.crt`, '-noout', '-text'], { encoding: 'utf8' });
      };
      const api = text('apiserver');
      for (const san of ['DNS:kubernetes.default.svc.cluster.local', 'IP Address:10.199.0.2', 'IP Address:10.96.0.1'])
        expect(api, 'apiserver cert SANs').to.include(san);
      expect(api).to.include('TLS Web Server Authentication');
      const kubelet = text('kubelet-sctp-e2e-node1');
      expect(kubelet).to.match(/Subject: O ?= ?system:nodes, CN ?= ?system:node:sctp-e2e-node1/);
      expect(kubelet).to.include('TLS Web Client Authentication');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kubeconfig embeds the PEMs and points at the node apiserver', () => {
    const k = parse(renderKubeconfig({ user: 'u', caPem: 'CA', certPem: 'CERT', keyPem: 'KEY' }));
    expect(k.clusters[0].cluster.server).to.equal('https://10.199.0.2:6443');
    expect(Buffer.from(k.users[0].user['client-key-data'], 'base64').toString()).to.equal('KEY');
    expect(k['current-context']).to.equal('sctp-e2e');
  });

  it('CoreDNS manifests: Service kube-dns at 10.96.0.10, no forward or loop plugin', () => {
    const docs = parseAllDocuments(renderCoreDNSManifests()).map((d) => d.toJS());
    const svc = docs.find((d) => d.kind === 'Service');
    expect(svc.spec.clusterIP).to.equal('10.96.0.10');
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    expect(cm.data.Corefile).not.to.match(/\b(forward|loop)\b/);
    expect(docs.find((d) => d.kind === 'Deployment').spec.template.spec.containers[0].image).to.equal(IMAGES.coredns);
  });

  it('CoreDNS with no kube-proxy: reaches the API server at its address (env over the kubelet Service env), not the ClusterIP', () => {
    const dep = (o?: Parameters<typeof renderCoreDNSManifests>[0]) =>
      parseAllDocuments(renderCoreDNSManifests(o))
        .map((d) => d.toJS())
        .find((d) => d.kind === 'Deployment');
    expect(dep().spec.template.spec.containers[0].env).to.equal(undefined);
    expect(dep({ apiServer: { host: '10.199.0.2', port: 6443 } }).spec.template.spec.containers[0].env).to.deep.equal([
      { name: 'KUBERNETES_SERVICE_HOST', value: '10.199.0.2' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '6443' },
    ]);
  });

  it('--ip-family dual: both families in the CNI ranges, node-ip, Service and pod ranges, kube-proxy and the up checks', () => {
    const cni = JSON.parse(renderCniConflist(l, n1, 'iptables', 'dual'));
    expect(cni.plugins[0].ipam.ranges).to.deep.equal([[{ subnet: '10.244.1.0/24' }], [{ subnet: 'fd00:244:1::/64' }]]);
    expect(cni.plugins[0].ipam.routes).to.deep.equal([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    expect(JSON.parse(renderCniConflist(l, n1, 'iptables')).plugins[0].ipam.ranges).to.deep.equal([[{ subnet: '10.244.1.0/24' }]]);
    expect(kubeletArgs(l, n1, 'dual')).to.include('--node-ip=10.199.0.2,fd00:199::2');
    expect(kubeletArgs(l, n1)).to.include('--node-ip=10.199.0.2');
    expect(apiserverArgs(l, n1, 'dual')).to.include('--service-cluster-ip-range=10.96.0.0/16,fd00:96::/112');
    expect(controllerManagerArgs(l, 'dual')).to.include.members([
      '--service-cluster-ip-range=10.96.0.0/16,fd00:96::/112',
      '--cluster-cidr=10.244.0.0/16,fd00:244::/48',
    ]);
    expect(parse(renderKubeProxyConfig(l, n1, 'nftables', 'dual')).clusterCIDR).to.equal('10.244.0.0/16,fd00:244::/48');
    const smoke = parseAllDocuments(renderSmokeManifests(undefined, 'dual'))
      .map((d) => d.toJS())
      .find((d) => d.kind === 'Service');
    expect(smoke.spec).to.deep.include({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    expect(proxyRulesProbe('nftables', 'dual')).to.equal(
      'nft list chain ip kube-proxy services | grep -c "vmap @service-ips" && nft list chain ip6 kube-proxy services | grep -c "vmap @service-ips"',
    );
    expect(proxyRulesProbe('iptables', 'dual')).to.include('ip6tables-save -t nat');
    const cj = renderClusterJson(l, [n1, nodeSpec(2)], 'iptables', undefined, 'dual');
    expect(cj).to.deep.include({ ipFamilies: ['IPv4', 'IPv6'], serviceCIDRs: ['10.96.0.0/16', 'fd00:96::/112'], podCIDRs: ['10.244.0.0/16', 'fd00:244::/48'] });
    expect(cj.nodes.map((n) => n.ips)).to.deep.equal([
      ['10.199.0.2', 'fd00:199::2'],
      ['10.199.0.3', 'fd00:199::3'],
    ]);
    expect(cj.outside.ips).to.deep.equal(['10.199.0.100', 'fd00:199::100']);
  });

  it('cluster.json has exactly the shape of the example in docs/CONTRACTS.md', () => {
    const contracts = readFileSync(join(here, '..', 'docs', 'CONTRACTS.md'), 'utf8');
    const block = /## Local cluster state[\s\S]*?```json\n([\s\S]*?)```/.exec(contracts);
    expect(block, 'docs/CONTRACTS.md has a json block under "Local cluster state"').to.not.equal(null);
    const example = JSON.parse(block![1]!.replace('"iptables|nftables|none"', '"iptables"'));
    const got = renderClusterJson(l, [n1], 'iptables', 'registry.local/agnhost-sctp:<tag>');
    const shape = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(shape) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)])) : typeof v;
    expect(shape(got)).to.deep.equal(shape(example));
    expect(got.nodes[0]!.ssh.keyPath).to.equal('/var/lib/sctp-e2e/cluster/ssh/id_ed25519');
    expect({ ...got, kubeconfig: '', nodes: [] }).to.deep.equal({
      ...example,
      kubeconfig: '',
      nodes: [],
      images: { agnhost: 'registry.local/agnhost-sctp:<tag>' },
    });
  });
});
