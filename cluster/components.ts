// Pure renderers of the local cluster's component configs and flags: containerd, CNI, kubelet, kube-proxy, sshd,
// kubeconfigs, certificates, control-plane flags. A joining node (vm/join.ts) uses the node-level ones through
// cluster/contract.ts, so it is configured exactly as the cluster's own nodes are. No I/O; see render.test.ts.
import { stringify } from 'yaml';
import {
  API_PORT,
  apiServerURL,
  CLUSTER_DOMAIN,
  CLUSTER_NAME,
  DNS_IP,
  IMAGES,
  type IpFamilyMode,
  KUBERNETES_SERVICE_IP,
  type Layout,
  type NodeProxyMode,
  type NodeSpec,
  nodeSpec,
  POD_CIDR,
  POD_CIDR6,
  type ProxyMode,
  SERVICE_CIDR,
  SERVICE_CIDR6,
} from './topology.ts';

/** The Service ranges of a family mode, primary first (apiserver and controller-manager flags). */
export function serviceCIDRs(fam: IpFamilyMode = 'ipv4'): string[] {
  return fam === 'dual' ? [SERVICE_CIDR, SERVICE_CIDR6] : [SERVICE_CIDR];
}
/** The pod ranges of a family mode, primary first (controller-manager --cluster-cidr, kube-proxy clusterCIDR). */
export function podCIDRs(fam: IpFamilyMode = 'ipv4'): string[] {
  return fam === 'dual' ? [POD_CIDR, POD_CIDR6] : [POD_CIDR];
}
/** A node's addresses (kubelet --node-ip) and pod ranges (host-local) in a family mode, IPv4 first. */
export function nodeIPs(n: NodeSpec, fam: IpFamilyMode = 'ipv4'): string[] {
  return fam === 'dual' ? [n.ip, n.ip6] : [n.ip];
}
export function nodePodSubnets(n: NodeSpec, fam: IpFamilyMode = 'ipv4'): string[] {
  return fam === 'dual' ? [n.podSubnet, n.podSubnet6] : [n.podSubnet];
}

/** cgroup parent given to the kubelet (cgroupRoot) so that everything it creates sits below one directory. */
export function cgroupRoot(n: NodeSpec): string {
  return `/${n.netns}`;
}

export function renderContainerdConfig(l: Layout, n: NodeSpec): string {
  const p = l.node(n);
  const q = (s: string) => JSON.stringify(s);
  return `# Written by cluster/up.ts for ${n.name}; containerd ${'1.6'} config version 2.
version = 2
root = ${q(p.containerdRoot)}
state = ${q(p.containerdState)}
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(p.containerdSock)}

[ttrpc]
  address = ${q(p.containerdSock + '.ttrpc')}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(p.optDir)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(IMAGES.pause)}
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(p.runcRoot)}

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${q(p.cniConfDir)}
    max_conf_num = 1
`;
}

export function renderCniConflist(l: Layout, n: NodeSpec, mode: ProxyMode, fam: IpFamilyMode = 'ipv4'): string {
  const portmap: Record<string, unknown> = { type: 'portmap', capabilities: { portMappings: true }, snat: true };
  // KUBE-MARK-MASQ exists only in iptables mode; in nftables mode portmap must not reference it.
  if (mode === 'iptables') portmap.externalSetMarkChain = 'KUBE-MARK-MASQ';
  const conf = {
    cniVersion: '1.0.0',
    name: 'sctpe2e',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: l.node(n).cniIpamDir,
          // one range set per family: host-local gives every pod one address of each
          ranges: nodePodSubnets(n, fam).map((subnet) => [{ subnet }]),
          routes: fam === 'dual' ? [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] : [{ dst: '0.0.0.0/0' }],
        },
      },
      portmap,
    ],
  };
  return JSON.stringify(conf, null, 2) + '\n';
}

export function renderKubeletConfig(l: Layout, n: NodeSpec): string {
  const p = l.node(n);
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: n.ip,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: `${l.pki}/ca.crt` },
    },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${p.containerdSock}`,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: true,
    cgroupRoot: cgroupRoot(n),
    clusterDNS: [DNS_IP],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf: p.resolvConf,
    failSwapOn: false,
    // runc cannot lower oom_score_adj here (no CAP_SYS_RESOURCE): keep the kubelet at 0.
    oomScoreAdj: 0,
    // containerd 1.6.20 does not pin the sandbox image: never garbage-collect images.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    // The kubelet rewrites kernel.panic & co. on the whole machine; down restores the saved values.
    protectKernelDefaults: false,
    podLogsDir: p.podLogs,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    serializeImagePulls: false,
    runtimeRequestTimeout: '2m',
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    maxPods: 110,
  });
}

export function renderKubeProxyConfig(l: Layout, n: NodeSpec, mode: NodeProxyMode, fam: IpFamilyMode = 'ipv4'): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: l.node(n).proxyKubeconfig },
    hostnameOverride: n.name,
    bindAddress: '0.0.0.0',
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    mode,
    // both ranges in dual-stack: kube-proxy's masquerade rules of each family need theirs
    clusterCIDR: podCIDRs(fam).join(','),
    oomScoreAdj: 0,
    // Skip conntrack sysctl writes (nf_conntrack_max is not writable from a child netns).
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  });
}

export function renderSshdConfig(l: Layout, n: NodeSpec): string {
  return [
    `# sshd for ${n.name}, run inside netns ${n.netns}; written by cluster/up.ts`,
    'Port 22',
    `ListenAddress ${n.ip}`,
    `HostKey ${l.ssh}/ssh_host_ed25519_key`,
    `AuthorizedKeysFile ${l.ssh}/authorized_keys`,
    'PidFile none',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    'UseDNS no',
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

export interface KubeconfigInput {
  user: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  server?: string;
}

export function renderKubeconfig(k: KubeconfigInput): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CLUSTER_NAME, cluster: { server: k.server ?? apiServerURL(), 'certificate-authority-data': b64(k.caPem) } }],
    users: [{ name: k.user, user: { 'client-certificate-data': b64(k.certPem), 'client-key-data': b64(k.keyPem) } }],
    contexts: [{ name: CLUSTER_NAME, context: { cluster: CLUSTER_NAME, user: k.user } }],
    'current-context': CLUSTER_NAME,
  });
}

/** Client and serving certificates: file stem, subject, extended key usage, SANs. */
export interface CertSpec {
  stem: string;
  cn: string;
  o?: string;
  usage: 'client' | 'server' | 'both';
  sans?: string[];
}

export function certSpecs(nodes: NodeSpec[]): CertSpec[] {
  const cp = nodes.find((n) => n.controlPlane) ?? nodeSpec(1);
  return [
    {
      stem: 'apiserver',
      cn: 'kube-apiserver',
      usage: 'server',
      sans: [
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        `DNS:kubernetes.default.svc.${CLUSTER_DOMAIN}`,
        'DNS:localhost',
        `IP:${cp.ip}`,
        `IP:${KUBERNETES_SERVICE_IP}`,
        'IP:127.0.0.1',
      ],
    },
    { stem: 'apiserver-kubelet-client', cn: 'kube-apiserver-kubelet-client', o: 'system:masters', usage: 'client' },
    { stem: 'admin', cn: 'kubernetes-admin', o: 'system:masters', usage: 'client' },
    { stem: 'controller-manager', cn: 'system:kube-controller-manager', usage: 'client' },
    { stem: 'scheduler', cn: 'system:kube-scheduler', usage: 'client' },
    { stem: 'kube-proxy', cn: 'system:kube-proxy', usage: 'client' },
    ...nodes.map((n): CertSpec => ({ stem: `kubelet-${n.name}`, cn: `system:node:${n.name}`, o: 'system:nodes', usage: 'client' })),
  ];
}

/** openssl x509 -extfile content for one certificate. */
export function renderCertExtensions(c: CertSpec): string {
  const eku = c.usage === 'client' ? 'clientAuth' : c.usage === 'server' ? 'serverAuth' : 'serverAuth,clientAuth';
  const lines = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${eku}`];
  if (c.sans?.length) lines.push(`subjectAltName=${c.sans.join(',')}`);
  return lines.join('\n') + '\n';
}

export function certSubject(c: CertSpec): string {
  return (c.o ? `/O=${c.o}` : '') + `/CN=${c.cn}`;
}

export interface Flags {
  [component: string]: string[];
}

export function etcdArgs(l: Layout): string[] {
  return [
    '--name=sctp-e2e',
    `--data-dir=${l.etcd}`,
    '--listen-client-urls=http://127.0.0.1:2379',
    '--advertise-client-urls=http://127.0.0.1:2379',
    '--listen-peer-urls=http://127.0.0.1:2380',
    '--initial-advertise-peer-urls=http://127.0.0.1:2380',
    '--initial-cluster=sctp-e2e=http://127.0.0.1:2380',
    '--listen-metrics-urls=http://127.0.0.1:2381',
    '--unsafe-no-fsync=true',
    '--log-level=warn',
    '--quota-backend-bytes=2147483648',
  ];
}

export function apiserverArgs(l: Layout, cp: NodeSpec, fam: IpFamilyMode = 'ipv4'): string[] {
  const k = l.pki;
  return [
    `--advertise-address=${cp.ip}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${API_PORT}`,
    '--etcd-servers=http://127.0.0.1:2379',
    `--service-cluster-ip-range=${serviceCIDRs(fam).join(',')}`,
    '--service-node-port-range=30000-32767',
    `--client-ca-file=${k}/ca.crt`,
    `--tls-cert-file=${k}/apiserver.crt`,
    `--tls-private-key-file=${k}/apiserver.key`,
    `--kubelet-client-certificate=${k}/apiserver-kubelet-client.crt`,
    `--kubelet-client-key=${k}/apiserver-kubelet-client.key`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-account-key-file=${k}/sa.pub`,
    `--service-account-signing-key-file=${k}/sa.key`,
    `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    '--profiling=false',
    '--endpoint-reconciler-type=lease',
  ];
}

export function controllerManagerArgs(l: Layout, fam: IpFamilyMode = 'ipv4'): string[] {
  const k = l.pki;
  const kc = `${l.dir}/controller-manager.kubeconfig`;
  return [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${k}/sa.key`,
    `--root-ca-file=${k}/ca.crt`,
    `--cluster-signing-cert-file=${k}/ca.crt`,
    `--cluster-signing-key-file=${k}/ca.key`,
    `--service-cluster-ip-range=${serviceCIDRs(fam).join(',')}`,
    `--cluster-cidr=${podCIDRs(fam).join(',')}`,
    '--allocate-node-cidrs=false',
    '--controllers=*,bootstrapsigner,tokencleaner',
    '--profiling=false',
  ];
}

export function schedulerArgs(l: Layout): string[] {
  const kc = `${l.dir}/scheduler.kubeconfig`;
  return [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
    '--profiling=false',
  ];
}

export function kubeletArgs(l: Layout, n: NodeSpec, fam: IpFamilyMode = 'ipv4'): string[] {
  const p = l.node(n);
  return [
    `--config=${p.kubeletConfig}`,
    `--kubeconfig=${p.kubeletKubeconfig}`,
    `--root-dir=${p.kubeletRoot}`,
    `--cert-dir=${p.kubeletRoot}/pki`,
    `--hostname-override=${n.name}`,
    // dual-stack: both addresses, IPv4 first (the node's primary family); kubelet without a cloud provider takes two
    `--node-ip=${nodeIPs(n, fam).join(',')}`,
  ];
}

export function kubeProxyArgs(l: Layout, n: NodeSpec): string[] {
  return [`--config=${l.node(n).proxyConfig}`];
}
