// The kernel-lane VM as a worker node of the local cluster (cluster/): tsx vm/join.ts up|down|status
//
//   `npm run vm:up -- --join-cluster` boots the VM with a second NIC on tap sctpe2e-vm0 in the cluster's bridge
//   sctpe2e-br0 (MAC 52:54:00:c7:00:14; the image configures 10.199.0.20/24 on it), then runs `join up`:
//     - routes: host, every cluster node netns and sctpe2e-outside get 10.244.20.0/24 via 10.199.0.20; the VM gets
//       each cluster node's pod subnet via that node and the service CIDR on the cluster NIC (as cluster/up.ts does);
//     - a kubelet client certificate for system:node:sctp-e2e-vm signed by the cluster CA;
//     - kubelet and kube-proxy (the cluster's binaries), pause/busybox/coredns/agnhost images exported from node1's
//       containerd, configs rendered by cluster/components.ts for a node {sctp-e2e-vm, 10.199.0.20, 10.244.20.0/24};
//     - containerd, kubelet, kube-proxy as transient systemd units in the guest; waits for the node to be Ready;
//     - a merged cluster.json (cluster's + the VM node with its ssh parameters) in $SCTP_E2E_VM_DIR/join/cluster/,
//       so the suite can ssh to the VM node: SCTP_E2E_CLUSTER_DIR=/var/lib/sctp-e2e/vm/join/cluster npm run e2e ...
//   `join down` (also run by `npm run vm:down`) deletes the Node object and the routes; vm:down removes the tap.
// Nothing in the guest loads sctp.ko: the suite's module checks must still see "not loaded" on this node.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  apiServerURL,
  BRIDGE,
  type ClusterJson,
  ContractError,
  certSubject,
  clusterJsonPath,
  IMAGES,
  isNetnsNode,
  KUBERNETES_SERVICE_IP,
  kubeletArgs,
  kubeProxyArgs,
  layout,
  NODE_PROXY_MODES,
  type NodeProxyMode,
  type NodeSpec,
  nodeSpec,
  OUTSIDE,
  type ProxyMode,
  readClusterJson,
  readClusterState,
  renderCertExtensions,
  renderCniConflist,
  renderContainerdConfig,
  renderKubeconfig,
  renderKubeletConfig,
  renderKubeProxyConfig,
  SERVICE_CIDR,
} from '../cluster/contract.ts';
import { formatDuration, roundSeconds } from '../lib/framework/duration.ts';
import { UsageError } from '../lib/framework/errors.ts';
import { runMain } from '../lib/framework/main.ts';
import { readVmJson, VmError, type VmJson, vmStateDir } from './vm.ts';

export const TAP = 'sctpe2e-vm0';
export const TAP_MAC = '52:54:00:c7:00:14';
export const VM_NODE: NodeSpec = {
  index: 20,
  name: 'sctp-e2e-vm',
  netns: 'sctpe2e-vm',
  ip: '10.199.0.20',
  ip6: 'fd00:199::20', // unused: the kernel-lane node joins IPv4 clusters only
  hostVeth: TAP,
  podSubnet: '10.244.20.0/24',
  podSubnet6: 'fd00:244:20::/64',
  controlPlane: false,
};
export const VM_NODE_LABEL = 'sctp-e2e.io/kernel-lane=true';
/** Where the guest keeps the node's files: layout() of cluster/topology.ts rooted here, so the renderers apply unchanged. */
const GUEST_DIR = '/var/lib/sctpe2e';

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};
const clusterDir = (): string => process.env.SCTP_E2E_CLUSTER_DIR_REAL ?? process.env.SCTP_E2E_CLUSTER_DIR ?? '/var/lib/sctp-e2e/cluster';
export const joinDir = (): string => join(vmStateDir(), 'join');

interface JoinState {
  node: string;
  ip: string;
  podSubnet: string;
  hostRoutes: string[]; // `ip route` specs added in the root netns
  netnsRoutes: { netns: string; route: string }[];
  kubeconfig: string;
  kubectl: string;
  clusterJson: string; // merged cluster.json for SCTP_E2E_CLUSTER_DIR
  proxyMode?: NodeProxyMode; // this node's kube-proxy mode (the cluster's, or ipvs)
  joinedAt?: string;
  joinSeconds?: number;
}

function sh(cmd: string, args: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, input: opts.input, maxBuffer: 64 << 20 });
  if (!opts.allowFail && r.status !== 0) {
    throw new VmError(
      `${cmd} ${args.join(' ').slice(0, 160)} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' | ')}`,
    );
  }
  return r;
}

function sshBase(vm: VmJson): string[] {
  const s = vm.ssh;
  return [
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${s.knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-i',
    s.keyPath,
  ];
}

function guest(vm: VmJson, script: string, opts: { timeoutMs?: number; allowFail?: boolean } = {}) {
  return sh('ssh', [...sshBase(vm), '-p', String(vm.ssh.port), 'root@127.0.0.1', 'bash -euo pipefail -s'], {
    ...opts,
    input: script,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

/** scp over the cluster NIC (user-mode networking under TCG manages only a few MB/s); known_hosts has the guest key for 10.199.0.20. */
function copyIn(vm: VmJson, knownHosts: string, files: [string, string][], timeoutMs = 300_000): void {
  const base = sshBase(vm).map((a) => (a.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${knownHosts}` : a));
  sh('scp', [...base, '-q', ...files.map(([src]) => src), `root@${VM_NODE.ip}:/tmp/`], { timeoutMs });
  guest(vm, files.map(([src, dest]) => `install -D -m 0755 /tmp/${src.split('/').pop()} ${dest} && rm -f /tmp/${src.split('/').pop()}`).join('\n'), {
    timeoutMs,
  });
}

// ---------------------------------------------------------------- host side: tap (called by vm/cli.ts up/down)
export function tapExists(): boolean {
  return sh('ip', ['link', 'show', TAP], { allowFail: true }).status === 0;
}

export function createTap(): void {
  if (sh('ip', ['link', 'show', BRIDGE], { allowFail: true }).status !== 0) {
    throw new VmError(`the cluster bridge ${BRIDGE} does not exist; bring the cluster up first (npm run cluster:up -- --nodes 1).`, 2);
  }
  if (tapExists()) throw new VmError(`tap ${TAP} already exists (left by an earlier run); npm run vm:down removes it.`, 3);
  sh('ip', ['tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
  sh('ip', ['link', 'set', TAP, 'master', BRIDGE, 'up']);
}

export function deleteTap(): boolean {
  if (!tapExists()) return false;
  sh('ip', ['link', 'del', TAP]);
  return true;
}

export function qemuTapArgs(): string[] {
  return ['-netdev', `tap,id=n1,ifname=${TAP},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n1,mac=${TAP_MAC}`];
}

// ---------------------------------------------------------------- join
function readCluster(): { cj: ClusterJson; binDir: string; kubectl: string } {
  let cj: ClusterJson | undefined;
  try {
    cj = readClusterJson(clusterDir());
  } catch (e) {
    throw e instanceof ContractError
      ? new VmError(`${e.message}; bring the cluster down and up again (npm run cluster:down; npm run cluster:up -- --nodes 1).`, 2)
      : e;
  }
  if (!cj) throw new VmError(`no local cluster (${clusterJsonPath(clusterDir())} is missing); run npm run cluster:up -- --nodes 1 first.`, 2);
  const st = readClusterState(clusterDir());
  if (!st?.binDir || !existsSync(join(st.binDir, 'kubelet')))
    throw new VmError(`the cluster's state.json names no binary dir with a kubelet; run bash cluster/build.sh.`, 2);
  return { cj, binDir: st.binDir, kubectl: join(st.binDir, 'kubectl') };
}

/** Pod subnet of a cluster node (cluster/topology.ts nodeSpec: sctp-e2e-nodeN → 10.244.N.0/24). */
function podSubnetOf(name: string): string | undefined {
  const m = /-node(\d)$/.exec(name);
  return m ? nodeSpec(Number(m[1])).podSubnet : undefined;
}

function kubectlRun(st: { kubectl: string; kubeconfig: string }, args: string[], allowFail = false) {
  return sh(st.kubectl, ['--kubeconfig', st.kubeconfig, '--request-timeout=10s', ...args], { timeoutMs: 20_000, allowFail });
}

function readJoin(): JoinState | undefined {
  const p = join(joinDir(), 'join.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as JoinState) : undefined;
}

function writeJoin(s: JoinState): void {
  writeFileSync(join(joinDir(), 'join.json'), `${JSON.stringify(s, null, 2)}\n`);
}

/** `--proxy-mode M` of `vm up --join-cluster` / `join.ts up`: the node's kube-proxy mode (default: the cluster's). */
export function joinProxyModeArg(argv: string[]): NodeProxyMode | undefined {
  const i = argv.findIndex((a) => a === '--proxy-mode' || a.startsWith('--proxy-mode='));
  if (i < 0) return undefined;
  const v = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  if (!(NODE_PROXY_MODES as readonly string[]).includes(v ?? ''))
    throw new VmError(`--proxy-mode must be one of ${NODE_PROXY_MODES.join(', ')} (ipvs: the VM's kernel has IPVS), not ${JSON.stringify(v ?? '')}`, 2);
  return v as NodeProxyMode;
}

export async function joinUp(o: { proxyMode?: NodeProxyMode } = {}): Promise<JoinState> {
  if (process.getuid?.() !== 0) throw new VmError('vm join must run as root; rerun with sudo.', 2);
  const t0 = performance.now();
  const vm = readVmJson();
  if (!vm) throw new VmError(`no running VM (${vmStateDir()}/vm.json missing); start it with npm run vm:up -- --join-cluster.`, 3);
  if (!tapExists())
    throw new VmError(`tap ${TAP} does not exist: the VM was started without --join-cluster; npm run vm:down, then npm run vm:up -- --join-cluster.`, 3);
  if (readJoin()) throw new VmError(`the VM already joined (${joinDir()}/join.json); tsx vm/join.ts down first.`, 3);
  const { cj, binDir, kubectl } = readCluster();
  const d = joinDir();
  mkdirSync(join(d, 'cluster'), { recursive: true, mode: 0o700 });
  const st: JoinState = {
    node: VM_NODE.name,
    ip: VM_NODE.ip,
    podSubnet: VM_NODE.podSubnet,
    hostRoutes: [],
    netnsRoutes: [],
    kubeconfig: cj.kubeconfig,
    kubectl,
    clusterJson: join(d, 'cluster', 'cluster.json'),
  };
  if (!o.proxyMode && cj.proxyMode === 'none')
    throw new VmError('the cluster runs no kube-proxy (cluster up --proxy-mode none): pass the VM node its own --proxy-mode', 2);
  writeJoin(st);
  const mode: NodeProxyMode = o.proxyMode ?? (cj.proxyMode as Exclude<ProxyMode, 'none'>);
  // the CNI's portmap follows the cluster's iptables/nftables; with ipvs kube-proxy still writes iptables rules
  const cniMode: ProxyMode = mode === 'ipvs' ? 'iptables' : mode;
  st.proxyMode = mode;
  log(`vm join: kube-proxy ${mode} on ${VM_NODE.name}${mode !== cj.proxyMode ? ` (the cluster's nodes: ${cj.proxyMode})` : ''}`);
  const nodeNetns = cj.nodes.filter(isNetnsNode).map((n) => n.netns);

  // 1. Routes (recorded before they are added, so down removes exactly these).
  log(`vm join: routes ${VM_NODE.podSubnet} via ${VM_NODE.ip} (host, ${nodeNetns.join(', ')}, ${OUTSIDE.netns})`);
  const hostRoute = `${VM_NODE.podSubnet} via ${VM_NODE.ip} dev ${BRIDGE}`;
  st.hostRoutes.push(hostRoute);
  writeJoin(st);
  sh('ip', ['route', 'replace', ...hostRoute.split(' ')]);
  for (const netns of [...nodeNetns, cj.outside.netns]) {
    const route = `${VM_NODE.podSubnet} via ${VM_NODE.ip}`;
    st.netnsRoutes.push({ netns, route });
    writeJoin(st);
    sh('ip', ['-n', netns, 'route', 'replace', ...route.split(' ')]);
  }

  // 2. PKI: the kubelet's client certificate, signed by the cluster CA as cluster/up.ts does for its nodes.
  const pki = join(clusterDir(), 'pki');
  const k = join(d, 'pki');
  mkdirSync(k, { recursive: true, mode: 0o700 });
  const cert = { stem: `kubelet-${VM_NODE.name}`, cn: `system:node:${VM_NODE.name}`, o: 'system:nodes', usage: 'client' as const };
  writeFileSync(`${k}/${cert.stem}.ext`, renderCertExtensions(cert));
  sh('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${k}/${cert.stem}.key`,
    '-out',
    `${k}/${cert.stem}.csr`,
    '-subj',
    certSubject(cert),
  ]);
  sh('openssl', [
    'x509',
    '-req',
    '-in',
    `${k}/${cert.stem}.csr`,
    '-CA',
    `${pki}/ca.crt`,
    '-CAkey',
    `${pki}/ca.key`,
    '-set_serial',
    `0x${Date.now().toString(16)}`,
    '-days',
    '30',
    '-out',
    `${k}/${cert.stem}.crt`,
    '-extfile',
    `${k}/${cert.stem}.ext`,
  ]);
  const pem = (f: string) => readFileSync(f, 'utf8');
  const gl = layout(GUEST_DIR);
  const gp = gl.node(VM_NODE);
  const files: Record<string, string> = {
    [`${gl.pki}/ca.crt`]: pem(`${pki}/ca.crt`),
    [gp.kubeletKubeconfig]: renderKubeconfig({
      user: `system:node:${VM_NODE.name}`,
      caPem: pem(`${pki}/ca.crt`),
      certPem: pem(`${k}/${cert.stem}.crt`),
      keyPem: pem(`${k}/${cert.stem}.key`),
      server: apiServerURL(),
    }),
    [gp.proxyKubeconfig]: pem(layout(clusterDir()).node(nodeSpec(1)).proxyKubeconfig),
    [gp.containerdConfig]: renderContainerdConfig(gl, VM_NODE),
    [`${gp.cniConfDir}/10-sctpe2e.conflist`]: renderCniConflist(gl, VM_NODE, cniMode),
    [gp.kubeletConfig]: renderKubeletConfig(gl, VM_NODE),
    [gp.proxyConfig]: renderKubeProxyConfig(gl, VM_NODE, mode),
    [gp.resolvConf]: '# no upstream resolver: the cluster has no outside network\nsearch cluster.local\n',
  };

  // 3. Binaries and images into the guest.
  const archive = join(d, 'images.tar');
  const node1Sock = layout(clusterDir()).node(nodeSpec(1)).containerdSock;
  // coredns too: when its pod is rescheduled (e.g. scaled down and up) it may land on this node
  const images = [IMAGES.pause, IMAGES.busybox, IMAGES.coredns, ...(cj.images.agnhost ? [cj.images.agnhost] : [])];
  sh('ctr', ['--address', node1Sock, '-n', 'k8s.io', 'images', 'export', archive, ...images], { timeoutMs: 120_000 });
  const tc = performance.now();
  const hostKey = readFileSync(vm.ssh.knownHostsPath, 'utf8').trim().split(/\s+/).slice(1, 3).join(' ');
  const kh = join(d, 'known_hosts');
  writeFileSync(kh, `${VM_NODE.ip} ${hostKey}\n`);
  copyIn(vm, kh, [
    [join(binDir, 'kubelet'), '/usr/local/bin/kubelet'],
    [join(binDir, 'kube-proxy'), '/usr/local/bin/kube-proxy'],
    [archive, `${GUEST_DIR}/images.tar`],
  ]);
  log(`vm join: copied kubelet, kube-proxy and ${images.length} images into the guest in ${formatDuration(performance.now() - tc)}`);

  // 4. Guest configuration and daemons.
  // Pod ranges of the cluster nodes: what the host routes via a node (add-ons such as cluster/netpol's Cilium move
  // node1's pods to other ranges), plus the cluster/topology.ts convention sctp-e2e-nodeN -> 10.244.N.0/24.
  const nodeIPs = new Set(cj.nodes.map((n) => n.ip));
  const podRoutes = new Map<string, string>();
  for (const n of cj.nodes) {
    const s = podSubnetOf(n.name);
    if (s) podRoutes.set(s, n.ip);
  }
  for (const line of sh('ip', ['-4', 'route', 'show']).stdout.split('\n')) {
    const m = /^(10\.244\.\d+\.\d+\/\d+) via (\S+) dev /.exec(line.trim());
    if (m && nodeIPs.has(m[2]!) && m[1] !== VM_NODE.podSubnet) podRoutes.set(m[1]!, m[2]!);
  }
  const routes = [...podRoutes].map(([cidr, via]) => `ip route replace ${cidr} via ${via} dev "$nic"`);
  // Persistent units (not transient): `tsx vm/cli.ts reboot` -- the only way to unload sctp.ko -- brings the node back.
  const netUp = [
    '#!/bin/bash',
    '# Written by vm/join.ts: the cluster NIC, routes and sysctls of node ' + VM_NODE.name,
    'set -eu',
    `nic=$(ip -o link | awk -F': ' 'tolower($0) ~ /${TAP_MAC}/ {print $2; exit}')`,
    `[ -n "$nic" ] || { echo "no NIC with MAC ${TAP_MAC}" >&2; exit 1; }`,
    'ip link set "$nic" up',
    `ip -o -4 addr show dev "$nic" | grep -q ' ${VM_NODE.ip}/' || ip addr add ${VM_NODE.ip}/24 dev "$nic"`,
    ...routes,
    `ip route replace ${SERVICE_CIDR} dev "$nic" src ${VM_NODE.ip}`,
    'modprobe br_netfilter; modprobe overlay',
    // kube-proxy ipvs: the IPVS modules and schedulers (it checks for them; ipset comes from vm/packages.txt)
    ...(mode === 'ipvs' ? ['modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack'] : []),
    'sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1',
    // cgroup v2: the kubelet wants its cgroupRoot to exist, with the controllers delegated down to it.
    `for c in cpuset cpu io memory pids hugetlb; do echo +$c > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || ` +
      `true; done; mkdir -p /sys/fs/cgroup/${VM_NODE.netns}`,
    `mkdir -p ${[gp.containerdRoot, gp.containerdState, gp.runcRoot, gp.optDir, gp.cniIpamDir, gp.kubeletRoot, gp.podLogs].join(' ')} ` +
      `/var/lib/kubelet /run/containerd`,
    'echo "nic=$nic"',
    '',
  ].join('\n');
  files[`${GUEST_DIR}/net-up.sh`] = netUp;
  const unitFile = (desc: string, after: string, exec: string, extra: string[] = []) =>
    [
      '[Unit]',
      `Description=${desc} (vm/join.ts)`,
      `After=${after}`,
      `Requires=${after}`,
      '',
      '[Service]',
      ...extra,
      `ExecStart=${exec}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
  files['/etc/systemd/system/sctpe2e-net.service'] = unitFile('cluster NIC and routes', 'systemd-networkd.service', `/bin/bash ${GUEST_DIR}/net-up.sh`, [
    'Type=oneshot',
    'RemainAfterExit=yes',
  ]);
  files['/etc/systemd/system/sctpe2e-containerd.service'] = unitFile(
    'containerd',
    'sctpe2e-net.service',
    `/usr/bin/containerd --config ${gp.containerdConfig}`,
    ['Delegate=yes', 'KillMode=process', 'Restart=always', 'LimitNOFILE=1048576'],
  );
  files['/etc/systemd/system/sctpe2e-kubelet.service'] = unitFile(
    'kubelet',
    'sctpe2e-containerd.service',
    ['/usr/local/bin/kubelet', ...kubeletArgs(gl, VM_NODE), `--node-labels=${VM_NODE_LABEL}`].join(' '),
    ['Delegate=yes', 'Restart=always', 'RestartSec=2'],
  );
  files['/etc/systemd/system/sctpe2e-kube-proxy.service'] = unitFile(
    'kube-proxy',
    'sctpe2e-net.service',
    ['/usr/local/bin/kube-proxy', ...kubeProxyArgs(gl, VM_NODE)].join(' '),
    ['Restart=always', 'RestartSec=2'],
  );
  const script = [
    ...Object.entries(files).map(
      ([p, c]) => `mkdir -p ${p.replace(/\/[^/]+$/, '')}; base64 -d > ${p} <<'B64'\n${Buffer.from(c).toString('base64')}\nB64\nchmod 600 ${p}`,
    ),
    'systemctl daemon-reload',
    'systemctl enable -q --now sctpe2e-net.service sctpe2e-containerd.service',
    `for i in $(seq 60); do ctr --address ${gp.containerdSock} version >/dev/null 2>&1 && break; sleep 1; done`,
    `ctr --address ${gp.containerdSock} -n k8s.io images import ${GUEST_DIR}/images.tar >/dev/null && rm -f ${GUEST_DIR}/images.tar`,
    'systemctl enable -q --now sctpe2e-kubelet.service sctpe2e-kube-proxy.service',
    'systemctl show -p ActiveState --value sctpe2e-kubelet.service',
  ].join('\n');
  const r = guest(vm, script, { timeoutMs: 300_000 });
  log(
    `vm join: guest configured (kubelet ${r.stdout.trim().split('\n').pop()}); containerd, kubelet and kube-proxy ` +
      `started; waiting for node ${VM_NODE.name} Ready`,
  );

  // 5. Ready.
  const deadline = Date.now() + 240_000;
  let last = '';
  for (;;) {
    const q = kubectlRun(
      st,
      ['get', 'node', VM_NODE.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}'],
      true,
    );
    last = (q.stdout || q.stderr).trim();
    if (q.status === 0 && q.stdout.startsWith('True')) break;
    if (Date.now() > deadline) {
      const tail = guest(vm, 'journalctl -u sctpe2e-kubelet --no-pager | tail -n 15', { allowFail: true }).stdout;
      throw new VmError(`node ${VM_NODE.name} not Ready after 240s (last: ${last}); kubelet journal tail:\n${tail}`);
    }
    await sleep(2000);
  }
  // kube-proxy has programmed the kubernetes Service in its mode (else the suite's first look at the node finds no rules)
  const rulesProbe = {
    iptables: 'iptables-save -t nat | grep -q -- "-A KUBE-SERVICES"',
    nftables: 'nft list chain ip kube-proxy services >/dev/null 2>&1',
    ipvs: `ipvsadm -Ln | grep -q -- '${KUBERNETES_SERVICE_IP}:443'`,
  }[mode];
  const rulesDeadline = Date.now() + 60_000;
  while (guest(vm, rulesProbe, { allowFail: true }).status !== 0) {
    if (Date.now() > rulesDeadline) {
      const tail = guest(vm, 'journalctl -u sctpe2e-kube-proxy --no-pager | tail -n 15', { allowFail: true }).stdout;
      throw new VmError(`kube-proxy (${mode}) on ${VM_NODE.name} programmed no Service rules within 60s (${rulesProbe}); its journal tail:\n${tail}`);
    }
    await sleep(1000);
  }

  // 6. Merged cluster.json: the suite's ssh access (lib/node/select.ts) needs ssh parameters for every node.
  const merged: ClusterJson = {
    ...cj,
    // no netns: the VM node is not a network namespace of this host (SCTP_E2E_NODE_ACCESS=local skips it)
    nodes: [
      ...cj.nodes,
      { name: VM_NODE.name, ip: VM_NODE.ip, ssh: { host: VM_NODE.ip, port: 22, user: 'root', keyPath: vm.ssh.keyPath, knownHostsPath: kh } },
    ],
  };
  writeFileSync(st.clusterJson, `${JSON.stringify(merged, null, 2)}\n`);
  st.joinedAt = new Date().toISOString();
  st.joinSeconds = roundSeconds(performance.now() - t0);
  writeJoin(st);
  log(`vm join: node ${VM_NODE.name} Ready in ${formatDuration(st.joinSeconds * 1000)}; for the suite: SCTP_E2E_CLUSTER_DIR=${join(d, 'cluster')}`);
  return st;
}

// ---------------------------------------------------------------- leave
export async function joinDown(opts: { quiet?: boolean } = {}): Promise<boolean> {
  const say = opts.quiet ? (_: string) => {} : log;
  const st = readJoin();
  if (!st) {
    rmSync(joinDir(), { recursive: true, force: true });
    return false;
  }
  const vm = readVmJson();
  if (vm) {
    // Stop the node's daemons and pods so nothing keeps talking to the apiserver while the Node object goes.
    guest(
      vm,
      'systemctl disable -q --now sctpe2e-kubelet.service sctpe2e-kube-proxy.service 2>/dev/null || true; ' +
        'ctr --address /var/lib/sctpe2e/sctp-e2e-vm/containerd/containerd.sock -n k8s.io tasks ls -q 2>/dev/null | xargs ' +
        '-r -n1 ctr --address /var/lib/sctpe2e/sctp-e2e-vm/containerd/containerd.sock -n k8s.io tasks kill -s KILL 2>/dev/null || true',
      { allowFail: true, timeoutMs: 60_000 },
    );
  }
  if (existsSync(st.kubeconfig)) {
    const r = kubectlRun(st, ['delete', 'node', st.node, '--ignore-not-found', '--wait=false'], true);
    say(`vm join down: node ${st.node}: ${r.status === 0 ? r.stdout.trim() || 'not found' : `delete failed: ${r.stderr.trim()}`}`);
    // Pods bound to the deleted node are garbage-collected by the controller manager; force-delete the rest.
    const pods = kubectlRun(
      st,
      [
        'get',
        'pods',
        '-A',
        '--field-selector',
        `spec.nodeName=${st.node}`,
        '-o',
        'jsonpath={range .items[*]}{.metadata.namespace} {.metadata.name}{"\\n"}{end}',
      ],
      true,
    );
    for (const line of pods.stdout.trim().split('\n').filter(Boolean)) {
      const [ns, name] = line.split(' ');
      kubectlRun(st, ['delete', 'pod', '-n', ns!, name!, '--grace-period=0', '--force', '--wait=false'], true);
    }
  }
  for (const r of st.hostRoutes) sh('ip', ['route', 'del', ...r.split(' ')], { allowFail: true });
  for (const { netns, route } of st.netnsRoutes) sh('ip', ['-n', netns, 'route', 'del', ...route.split(' ')], { allowFail: true });
  say(`vm join down: removed ${st.hostRoutes.length} host route(s) and ${st.netnsRoutes.length} netns route(s)`);
  rmSync(joinDir(), { recursive: true, force: true });
  return true;
}

function status(): number {
  const st = readJoin();
  if (!st) {
    log('vm join status: not joined');
    return 3;
  }
  const r = kubectlRun(st, ['get', 'node', st.node, '-o', 'wide'], true);
  process.stdout.write(`${JSON.stringify(st, null, 2)}\n${r.stdout}`);
  return r.status === 0 ? 0 : 3;
}

async function main(): Promise<number> {
  switch (process.argv[2]) {
    case 'up':
      await joinUp({ proxyMode: joinProxyModeArg(process.argv) });
      return 0;
    case 'down':
      await joinDown();
      return 0;
    case 'status':
      return status();
    default:
      throw new UsageError(process.argv[2] ? `unknown command ${JSON.stringify(process.argv[2])}` : 'missing command');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(`vm join ${process.argv[2] ?? ''}`.trim(), main, { usage: 'usage: tsx vm/join.ts up|down|status' });
}
