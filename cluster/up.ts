// `cluster up`: a real single- (or two-) node Kubernetes cluster whose nodes live in network
// namespaces created here. Daemons run with `nsenter --net=...` so they share the host mount namespace.
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '../lib/framework/duration.ts';
import { type ImageSpec, writeImageArchive } from '../lib/image/archive.ts';
import { type Options, proxyModeOf } from './args.ts';
import { renderClusterJson } from './contract.ts';
import { down } from './down.ts';
import { findAddressClash, findClusterLinks } from './parse.ts';
import {
  API_PORT,
  apiServerURL,
  apiserverArgs,
  BRIDGE,
  CLUSTER_DOMAIN,
  certSpecs,
  certSubject,
  cgroupRoot,
  controllerManagerArgs,
  DNS_IP,
  EXTERNAL_IP_RANGE,
  EXTERNAL_IP_RANGE6,
  etcdArgs,
  HOST_IP,
  HOST_IP6,
  IMAGES,
  type IpFamilyMode,
  KUBERNETES_SERVICE_IP,
  kubeletArgs,
  kubeProxyArgs,
  type Layout,
  LINK_PREFIX,
  LINK_PREFIX6,
  layout,
  NODE_NET6,
  type NodeSpec,
  nodeSpec,
  OUTSIDE,
  proxyRulesProbe,
  renderCertExtensions,
  renderCniConflist,
  renderContainerdConfig,
  renderCoreDNSManifests,
  renderKubeconfig,
  renderKubeletConfig,
  renderKubeProxyConfig,
  renderSmokeManifests,
  renderSshdConfig,
  SERVICE_CIDR,
  SERVICE_CIDR6,
  SMOKE_NAMESPACE,
  schedulerArgs,
} from './render.ts';
import { alive, ClusterError, cmdline, type Daemon, log, run, startDaemon, stopAborting, tail, waitFor } from './run.ts';
import { KUBELET_SYSCTLS, missingHostDirs, type State, writeState } from './state.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);

export const K8S_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl', 'etcd', 'coredns'];

/** Host tools and the Debian package that provides each. */
const HOST_TOOLS: [string, string][] = [
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['containerd', 'containerd'],
  ['containerd-shim-runc-v2', 'containerd'],
  ['ctr', 'containerd'],
  ['runc', 'runc'],
  ['iptables', 'iptables'],
  ['nft', 'nftables'],
  ['conntrack', 'conntrack'],
  ['openssl', 'openssl'],
  ['sshd', 'openssh-server'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['dig', 'dnsutils'],
  ['gcc', 'build-essential'],
  ['tar', 'tar'],
  ['busybox', 'busybox-static'],
  ['mount', 'mount'],
];
const CNI_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'];

function which(tool: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin'])) {
    if (!d) continue;
    const p = join(d, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Another `cluster/build.sh` running right now (we must not start a second build). */
function runningBuild(): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const c = cmdline(Number(e));
    if (c[0]?.endsWith('bash') && c.some((a) => a.endsWith('cluster/build.sh'))) return Number(e);
  }
  return undefined;
}

/** "iptables", or "sctp-e2e-node1 iptables, sctp-e2e-node2 nftables" when the nodes differ. */
function modesLine(o: Pick<Options, 'proxyMode' | 'proxyModes'>, nodes: { index: number; name: string }[]): string {
  const modes = nodes.map((n) => proxyModeOf(o, n.index));
  return new Set(modes).size <= 1 ? (modes[0] ?? o.proxyMode) : nodes.map((n, i) => `${n.name} ${modes[i]}`).join(', ');
}

export async function preflight(o: Options): Promise<void> {
  if (process.getuid?.() !== 0) throw new ClusterError('cluster up must run as root (it creates network namespaces, mounts and cgroups); re-run it as root');
  for (const [tool, pkg] of HOST_TOOLS) {
    if (!which(tool))
      throw new ClusterError(`${tool} is not installed; add the Debian package ${pkg} to PKGS in .ci/install-deps.sh and run \`bash .ci/install-deps.sh\``);
  }
  for (const p of CNI_PLUGINS) {
    if (!existsSync(`/usr/lib/cni/${p}`))
      throw new ClusterError(`CNI plugin /usr/lib/cni/${p} is missing; install containernetworking-plugins with \`bash .ci/install-deps.sh\``);
  }
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables'))
    throw new ClusterError(
      'br_netfilter is not available (/proc/sys/net/bridge/bridge-nf-call-iptables is missing); this kernel cannot run the bridge CNI with kube-proxy',
    );
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory']) {
    if (!existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`))
      throw new ClusterError(
        `the cgroup v1 ${c} hierarchy is not mounted at /sys/fs/cgroup/${c}; the kubelet (cgroupfs driver) needs cpu, cpuacct, cpuset and memory`,
      );
  }
  // Leftovers of an earlier cluster.
  const leftovers: string[] = [];
  const l = layout(o.stateDir);
  if (existsSync(l.stateJson) || existsSync(l.clusterJson)) leftovers.push(`state in ${o.stateDir}`);
  for (const ns of existsSync('/run/netns') ? readdirSync('/run/netns') : []) if (ns.startsWith('sctpe2e-')) leftovers.push(`netns ${ns}`);
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
  for (const link of findClusterLinks(links)) leftovers.push(`link ${link}`);
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const i of [1, 2])
      if (existsSync(`/sys/fs/cgroup/${h}${cgroupRoot(nodeSpec(i))}`)) leftovers.push(`cgroup /sys/fs/cgroup/${h}${cgroupRoot(nodeSpec(i))}`);
  }
  if (existsSync(l.clusterJson)) throw new ClusterError(`a cluster is already up (${l.clusterJson}); use it, or run \`npm run cluster:down\` first`);
  if (leftovers.length)
    throw new ClusterError(
      `leftovers of a previous cluster exist (${leftovers.slice(0, 4).join(', ')}${leftovers.length > 4 ? ', …' : ''}); run \`npm run cluster:down\` first`,
    );
  // Addresses and routes this cluster needs must be free in the host namespace.
  const addrs = (await run('ip', ['-o', '-4', 'addr', 'show'])).stdout;
  const clash = findAddressClash(addrs);
  if (clash) throw new ClusterError(`address range 10.199.0.0/24 is already used on the host (${clash}); remove it or stop whatever owns it`);
  const routes = (await run('ip', ['-4', 'route', 'show'])).stdout;
  for (const cidr of [SERVICE_CIDR, '10.244.0.0/16', '10.199.0.0/24', EXTERNAL_IP_RANGE]) {
    const net = cidr.split('/')[0]!.split('.').slice(0, 2).join('.') + '.';
    const r = routes.split('\n').find((line) => line.startsWith(net));
    if (r) throw new ClusterError(`the host already has a route into ${cidr} (\`${r.trim()}\`); remove it before bringing the cluster up`);
  }
  if (o.ipFamily === 'dual') {
    if (readFileSync('/proc/sys/net/ipv6/conf/default/disable_ipv6', 'utf8').trim() !== '0')
      throw new ClusterError('--ip-family dual needs IPv6: net.ipv6.conf.default.disable_ipv6 is not 0 on this host');
    const addrs6 = (await run('ip', ['-o', '-6', 'addr', 'show'])).stdout;
    const used = addrs6.split('\n').find((line) => / fd00:199:/.test(line));
    if (used) throw new ClusterError(`address range ${NODE_NET6} is already used on the host (${used.trim()}); remove it or stop whatever owns it`);
    const routes6 = (await run('ip', ['-6', 'route', 'show'])).stdout;
    for (const cidr of [SERVICE_CIDR6, 'fd00:244::/48', NODE_NET6, EXTERNAL_IP_RANGE6]) {
      const r = routes6.split('\n').find((line) => line.startsWith(cidr.split('::')[0]! + ':'));
      if (r) throw new ClusterError(`the host already has a route into ${cidr} (\`${r.trim()}\`); remove it before bringing the cluster up`);
    }
  }
  const b = runningBuild();
  if (b && !o.binDir)
    throw new ClusterError(
      `the cluster binaries are being built right now by cluster/build.sh (PID ${b}); wait for it to finish (tail /tmp/build.log) or pass --bin-dir`,
    );
}

async function resolveBinDir(o: Options): Promise<string> {
  let dir = o.binDir;
  if (!dir) {
    log('resolving binaries with cluster/build.sh (builds only when not cached)');
    const r = await run('bash', [join(here, 'build.sh')], { timeoutMs: 90 * 60_000, allowFail: true });
    if (r.code !== 0) throw new ClusterError(`cluster/build.sh failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
    dir = r.stdout.trim().split('\n').pop();
  }
  if (!dir || !existsSync(dir)) throw new ClusterError(`binary directory ${dir ?? '(none)'} does not exist; run \`bash cluster/build.sh\` or pass --bin-dir`);
  for (const b of K8S_BINARIES) {
    if (!existsSync(join(dir, b))) throw new ClusterError(`binary ${b} is missing in ${dir}; run \`bash cluster/build.sh\` to build it`);
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------

async function ns(netns: string, ...args: string[]) {
  return run('ip', args, { netns });
}

async function setupNetwork(nodes: NodeSpec[], fam: IpFamilyMode): Promise<void> {
  const dual = fam === 'dual';
  log(
    `network: bridge ${BRIDGE} ${HOST_IP}/${LINK_PREFIX}${dual ? ` ${HOST_IP6}/${LINK_PREFIX6}` : ''}, netns ${nodes.map((n) => n.netns).join(', ')}, ${OUTSIDE.netns}`,
  );
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${HOST_IP}/${LINK_PREFIX}`, 'dev', BRIDGE]);
  // nodad: the addresses are ours alone, and DAD would hold them "tentative" for a second or two
  if (dual) await run('ip', ['-6', 'addr', 'add', `${HOST_IP6}/${LINK_PREFIX6}`, 'dev', BRIDGE, 'nodad']);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
  const attach = async (netns: string, hostVeth: string, ip: string, ip6: string) => {
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await run('ip', ['link', 'set', hostVeth, 'master', BRIDGE, 'up']);
    await ns(netns, 'addr', 'add', `${ip}/${LINK_PREFIX}`, 'dev', 'eth0');
    if (dual) await ns(netns, '-6', 'addr', 'add', `${ip6}/${LINK_PREFIX6}`, 'dev', 'eth0', 'nodad');
    await ns(netns, 'link', 'set', 'eth0', 'up');
    await ns(netns, 'link', 'set', 'lo', 'up');
  };
  for (const n of nodes) {
    await attach(n.netns, n.hostVeth, n.ip, n.ip6);
    // Service VIPs from the node itself need a route before DNAT. This kernel has no dummy device: an on-link
    // route on eth0 (nobody answers ARP for a VIP) drops anything kube-proxy did not DNAT.
    await ns(n.netns, 'route', 'add', SERVICE_CIDR, 'dev', 'eth0', 'src', n.ip);
    for (const other of nodes) if (other !== n) await ns(n.netns, 'route', 'add', other.podSubnet, 'via', other.ip);
    await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1'], {
      netns: n.netns,
    });
    await run('ip', ['route', 'add', n.podSubnet, 'via', n.ip, 'dev', BRIDGE]);
    if (dual) {
      // the same in IPv6: the Service range on-link on eth0, other nodes' pod ranges via them, forwarding on
      await ns(n.netns, '-6', 'route', 'add', SERVICE_CIDR6, 'dev', 'eth0', 'src', n.ip6);
      for (const other of nodes) if (other !== n) await ns(n.netns, '-6', 'route', 'add', other.podSubnet6, 'via', other.ip6);
      await run('sysctl', ['-q', '-w', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.default.accept_dad=0'], { netns: n.netns });
      await run('ip', ['-6', 'route', 'add', n.podSubnet6, 'via', n.ip6, 'dev', BRIDGE]);
    }
  }
  await attach(OUTSIDE.netns, OUTSIDE.hostVeth, OUTSIDE.ip, OUTSIDE.ip6);
  const cp = nodes[0]!;
  await ns(OUTSIDE.netns, 'route', 'add', SERVICE_CIDR, 'via', cp.ip);
  await ns(OUTSIDE.netns, 'route', 'add', EXTERNAL_IP_RANGE, 'via', cp.ip);
  await run('ip', ['route', 'add', EXTERNAL_IP_RANGE, 'via', cp.ip, 'dev', BRIDGE]);
  for (const n of nodes) await ns(OUTSIDE.netns, 'route', 'add', n.podSubnet, 'via', n.ip);
  await run('ip', ['route', 'add', SERVICE_CIDR, 'via', cp.ip, 'dev', BRIDGE]);
  if (dual) {
    await ns(OUTSIDE.netns, '-6', 'route', 'add', SERVICE_CIDR6, 'via', cp.ip6);
    await ns(OUTSIDE.netns, '-6', 'route', 'add', EXTERNAL_IP_RANGE6, 'via', cp.ip6);
    await run('ip', ['-6', 'route', 'add', EXTERNAL_IP_RANGE6, 'via', cp.ip6, 'dev', BRIDGE]);
    for (const n of nodes) await ns(OUTSIDE.netns, '-6', 'route', 'add', n.podSubnet6, 'via', n.ip6);
    await run('ip', ['-6', 'route', 'add', SERVICE_CIDR6, 'via', cp.ip6, 'dev', BRIDGE]);
  }
}

async function makePki(l: Layout, nodes: NodeSpec[]): Promise<void> {
  log('pki: CA, serving and client certificates, service-account key (openssl)');
  const k = l.pki;
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    `${k}/ca.key`,
    '-out',
    `${k}/ca.crt`,
    '-days',
    '30',
    '-subj',
    '/CN=sctp-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  await run('openssl', ['genrsa', '-out', `${k}/sa.key`, '2048']);
  await run('openssl', ['rsa', '-in', `${k}/sa.key`, '-pubout', '-out', `${k}/sa.pub`]);
  await Promise.all(
    certSpecs(nodes).map(async (c) => {
      writeFileSync(`${k}/${c.stem}.ext`, renderCertExtensions(c));
      await run('openssl', ['req', '-new', ...ec, '-keyout', `${k}/${c.stem}.key`, '-out', `${k}/${c.stem}.csr`, '-subj', certSubject(c)]);
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        `${k}/${c.stem}.csr`,
        '-CA',
        `${k}/ca.crt`,
        '-CAkey',
        `${k}/ca.key`,
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '30',
        '-out',
        `${k}/${c.stem}.crt`,
        '-extfile',
        `${k}/${c.stem}.ext`,
      ]);
    }),
  );
  const pem = (f: string) => readFileSync(`${k}/${f}`, 'utf8');
  const kc = (stem: string, user: string) => renderKubeconfig({ user, caPem: pem('ca.crt'), certPem: pem(`${stem}.crt`), keyPem: pem(`${stem}.key`) });
  writeFileSync(l.adminKubeconfig, kc('admin', 'kubernetes-admin'), { mode: 0o600 });
  writeFileSync(`${l.dir}/controller-manager.kubeconfig`, kc('controller-manager', 'system:kube-controller-manager'), { mode: 0o600 });
  writeFileSync(`${l.dir}/scheduler.kubeconfig`, kc('scheduler', 'system:kube-scheduler'), { mode: 0o600 });
  for (const n of nodes) {
    writeFileSync(l.node(n).kubeletKubeconfig, kc(`kubelet-${n.name}`, `system:node:${n.name}`), { mode: 0o600 });
    writeFileSync(l.node(n).proxyKubeconfig, kc('kube-proxy', 'system:kube-proxy'), { mode: 0o600 });
  }
}

async function makeSshKeys(l: Layout, nodes: NodeSpec[]): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sctp-e2e-client', '-f', `${l.ssh}/id_ed25519`]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sctp-e2e-host', '-f', `${l.ssh}/ssh_host_ed25519_key`]);
  copyFileSync(`${l.ssh}/id_ed25519.pub`, `${l.ssh}/authorized_keys`);
  const hostPub = readFileSync(`${l.ssh}/ssh_host_ed25519_key.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(`${l.ssh}/known_hosts`, nodes.map((n) => `${n.ip} ${hostPub}\n`).join(''));
}

/**
 * Image archives via lib/image (reproducible OCI + docker-archive). Gzip of the 76 MB CoreDNS binary takes ~7 s,
 * so archives are cached in $SCTP_E2E_CACHE/images keyed by their inputs (like the binaries in bin-<key>).
 */
async function buildImages(bin: string): Promise<string[]> {
  const cache = join(process.env.SCTP_E2E_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sctp-e2e'), 'images');
  mkdirSync(cache, { recursive: true });
  const libHash = createHash('sha256')
    .update(readFileSync(join(repo, 'lib', 'image', 'archive.ts')))
    .digest('hex');
  const pauseSrc = join(here, 'images', 'pause.c');
  const pauseKey = createHash('sha256').update(readFileSync(pauseSrc)).digest('hex').slice(0, 12);
  const pauseBin = join(cache, `pause-${pauseKey}`);
  if (!existsSync(pauseBin)) {
    await run('gcc', ['-Os', '-static', '-o', `${pauseBin}.tmp`, pauseSrc], { timeoutMs: 60_000 });
    renameSync(`${pauseBin}.tmp`, pauseBin);
  }
  const specs: ImageSpec[] = [
    { name: IMAGES.pause, files: [{ src: pauseBin, dest: '/pause', mode: 0o755 }], entrypoint: ['/pause'] },
    { name: IMAGES.coredns, files: [{ src: join(bin, 'coredns'), dest: '/coredns', mode: 0o755 }], dirs: ['etc/coredns', 'tmp'], entrypoint: ['/coredns'] },
    {
      name: IMAGES.busybox,
      files: [{ src: '/usr/bin/busybox', dest: '/bin/busybox', mode: 0o755 }],
      dirs: ['tmp', 'etc'],
      symlinks: [{ target: 'busybox', dest: '/bin/sh' }],
      entrypoint: ['/bin/sh'],
    },
  ];
  return specs.map((spec) => {
    const inputs = spec.files.map((f) => {
      const st = statSync(f.src!);
      return `${f.src}:${st.size}:${st.mtimeMs}`;
    });
    const key = createHash('sha256').update(JSON.stringify({ spec, inputs, libHash })).digest('hex').slice(0, 16);
    const out = join(cache, `${spec.name.replace(/[^A-Za-z0-9.-]+/g, '_')}-${key}.tar`);
    if (!existsSync(out)) {
      writeImageArchive(spec, `${out}.tmp`);
      renameSync(`${out}.tmp`, out);
    }
    return out;
  });
}

/** agnhost-sctp (built by another part): import when its build script yields an archive. */
async function agnhostArchive(): Promise<{ path: string; name: string } | undefined> {
  let path = process.env.SCTP_E2E_AGNHOST_ARCHIVE ?? '';
  if (path && !existsSync(path))
    throw new ClusterError(`SCTP_E2E_AGNHOST_ARCHIVE=${path} does not exist; unset it or build the archive with \`bash agnhost-sctp/build.sh\``);
  if (!path) {
    const script = join(repo, 'agnhost-sctp', 'build.sh');
    if (!existsSync(script)) {
      log('agnhost-sctp: agnhost-sctp/build.sh does not exist yet; cluster.json gets no images.agnhost');
      return undefined;
    }
    const r = await run('bash', [script], { timeoutMs: 10 * 60_000, allowFail: true });
    path = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !path || !existsSync(path)) {
      log(`agnhost-sctp: build.sh exited ${r.code} without an archive (${r.stderr.trim().split('\n').pop() ?? ''}); continuing without it`);
      return undefined;
    }
  }
  const m = await run('tar', ['-xOf', path, 'manifest.json'], { allowFail: true });
  let name: string | undefined;
  try {
    name = (JSON.parse(m.stdout) as { RepoTags?: string[] }[])[0]?.RepoTags?.[0];
  } catch {
    /* not a docker-archive */
  }
  if (!name) {
    const idx = await run('tar', ['-xOf', path, 'index.json'], { allowFail: true });
    try {
      const j = JSON.parse(idx.stdout) as { manifests?: { annotations?: Record<string, string> }[] };
      name = j.manifests?.[0]?.annotations?.['io.containerd.image.name'];
    } catch {
      /* neither */
    }
  }
  if (!name) {
    log(`agnhost-sctp: ${path} has no image name (no manifest.json RepoTags, no io.containerd.image.name); continuing without it`);
    return undefined;
  }
  return { path, name };
}

function cgroupHierarchies(): string[] {
  return readdirSync('/sys/fs/cgroup').filter((h) => existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`));
}

function makeCgroupRoot(n: NodeSpec): void {
  for (const h of cgroupHierarchies()) {
    const d = `/sys/fs/cgroup/${h}${cgroupRoot(n)}`;
    mkdirSync(d);
    if (h === 'cpuset') {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(`${d}/${f}`, readFileSync(`/sys/fs/cgroup/cpuset/${f}`, 'utf8').trim());
    }
  }
}

async function readSysctls(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of KUBELET_SYSCTLS) {
    try {
      out[k] = readFileSync(`/proc/sys/${k.replaceAll('.', '/')}`, 'utf8').trim();
    } catch {
      /* absent on this kernel */
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export interface UpResult {
  clusterJson: string;
  seconds: number;
}

export async function up(o: Options): Promise<UpResult> {
  const started = Date.now();
  await preflight(o);
  const bin = await resolveBinDir(o);
  const nodes = Array.from({ length: o.nodes }, (_, i) => nodeSpec(i + 1));
  const cp = nodes[0]!;
  const l = layout(o.stateDir);
  for (const d of [l.dir, l.pki, l.ssh, l.logs, l.pids, l.etcd, l.images, l.manifests]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const state: State = {
    startedAt: new Date().toISOString(),
    proxyMode: o.proxyMode,
    nodes: o.nodes,
    binDir: bin,
    savedSysctls: {},
    createdHostDirs: missingHostDirs(),
  };
  try {
    writeState(l.stateJson, state, { exclusive: true }); // two concurrent `up`s: only one gets past here
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ClusterError(`another cluster up is running or left state in ${l.dir}; wait for it, or run \`npm run cluster:down\``);
    throw e;
  }
  const daemons: Daemon[] = [];
  const watch = () => {
    for (const d of daemons) {
      if (!alive(d.pid))
        throw new ClusterError(
          `${d.name} (PID ${d.pid}) exited during cluster up; its log tail is printed above${o.keepOnFailure ? ` and the full log is ${d.logFile}` : ' (re-run with --keep-on-failure to keep ' + d.logFile + ')'}`,
          tail(d.logFile, 30),
        );
    }
  };
  const daemon = (name: string, b: string, args: string[], netns: string, env?: NodeJS.ProcessEnv) => {
    const d = startDaemon(name, b, args, { netns, logFile: `${l.logs}/${name}.log`, pidDir: l.pids, env });
    daemons.push(d);
    log(`started ${name} (PID ${d.pid}) in netns ${netns}`);
    return d;
  };
  const kubectl = (args: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}) =>
    run(join(bin, 'kubectl'), ['--kubeconfig', l.adminKubeconfig, '--request-timeout=10s', ...args], { timeoutMs: 20_000, ...opts });

  try {
    log(`up: proxy mode ${modesLine(o, nodes)}, ${nodes.length} node(s), ip family ${o.ipFamily}, state ${l.dir}, binaries ${bin}`);
    if (state.createdHostDirs.includes('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
    for (const n of nodes) {
      const p = l.node(n);
      for (const d of [
        p.dir,
        dirname(p.containerdSock),
        p.containerdRoot,
        p.containerdState,
        p.runcRoot,
        p.optDir,
        p.cniConfDir,
        p.cniIpamDir,
        p.kubeletRoot,
        p.podLogs,
      ])
        mkdirSync(d, { recursive: true });
      writeFileSync(p.containerdConfig, renderContainerdConfig(l, n));
      writeFileSync(`${p.cniConfDir}/10-sctpe2e.conflist`, renderCniConflist(l, n, proxyModeOf(o, n.index), o.ipFamily));
      writeFileSync(p.kubeletConfig, renderKubeletConfig(l, n));
      const pm = proxyModeOf(o, n.index);
      if (pm !== 'none') writeFileSync(p.proxyConfig, renderKubeProxyConfig(l, n, pm, o.ipFamily));
      writeFileSync(p.sshdConfig, renderSshdConfig(l, n));
      writeFileSync(p.resolvConf, `# no upstream resolver: the cluster has no outside network\nsearch ${CLUSTER_DOMAIN}\n`);
    }
    await setupNetwork(nodes, o.ipFamily);
    await Promise.all([makePki(l, nodes), makeSshKeys(l, nodes)]);
    const images = buildImages(bin);
    const agnhost = agnhostArchive();
    // Awaited below; marked handled now so that an earlier failure does not turn them into unhandled rejections.
    images.catch(() => undefined);
    agnhost.catch(() => undefined);

    daemon('etcd', join(bin, 'etcd'), etcdArgs(l), cp.netns);
    for (const n of nodes) {
      daemon(`containerd-${n.name}`, which('containerd')!, ['--config', l.node(n).containerdConfig], n.netns);
      daemon(`sshd-${n.name}`, which('sshd')!, ['-D', '-e', '-f', l.node(n).sshdConfig], n.netns);
    }
    await waitFor('etcd /health on 127.0.0.1:2379', {
      timeoutMs: 30_000,
      watch,
      probe: () => run('busybox', ['wget', '-q', '-O', '-', 'http://127.0.0.1:2379/health'], { netns: cp.netns, timeoutMs: 5_000 }),
      until: (r) => r.stdout.includes('"health":"true"'),
    });
    daemon('kube-apiserver', join(bin, 'kube-apiserver'), apiserverArgs(l, cp, o.ipFamily), cp.netns);

    const archives = await images;
    for (const n of nodes) {
      const sock = l.node(n).containerdSock;
      await waitFor(`containerd socket of ${n.name}`, {
        timeoutMs: 30_000,
        watch,
        probe: () => run('ctr', ['--address', sock, 'version'], { timeoutMs: 5_000 }),
        until: () => true,
      });
      for (const a of archives) await run('ctr', ['--address', sock, '-n', 'k8s.io', 'images', 'import', a], { timeoutMs: 120_000 });
    }
    log(`imported ${archives.length} images (${Object.values(IMAGES).join(', ')})`);

    await waitFor(`kube-apiserver /readyz at ${apiServerURL()}`, {
      timeoutMs: 90_000,
      watch,
      probe: () => kubectl(['get', '--raw', '/readyz'], { allowFail: true }),
      until: (r) => r.code === 0 && r.stdout.trim() === 'ok',
      describe: (r, e) => (r ? (r.stdout + r.stderr).trim().split('\n').slice(-2).join(' | ') : String(e)),
    });
    log('kube-apiserver ready');
    daemon('kube-controller-manager', join(bin, 'kube-controller-manager'), controllerManagerArgs(l, o.ipFamily), cp.netns);
    daemon('kube-scheduler', join(bin, 'kube-scheduler'), schedulerArgs(l), cp.netns);

    state.savedSysctls = await readSysctls();
    writeState(l.stateJson, state);
    for (const n of nodes) {
      makeCgroupRoot(n);
      daemon(`kubelet-${n.name}`, join(bin, 'kubelet'), kubeletArgs(l, n, o.ipFamily), n.netns);
      if (proxyModeOf(o, n.index) !== 'none') daemon(`kube-proxy-${n.name}`, join(bin, 'kube-proxy'), kubeProxyArgs(l, n), n.netns);
      else log(`${n.name}: no kube-proxy (--proxy-mode none): Services wait for a kube-proxy replacement`);
    }

    const noProxy = (n: NodeSpec) => proxyModeOf(o, n.index) === 'none';
    // Without kube-proxy on some node, CoreDNS there could not reach the kubernetes Service: give it the API server.
    const apiServer = nodes.some(noProxy) ? { host: cp.ip, port: API_PORT } : undefined;
    writeFileSync(`${l.manifests}/coredns.yaml`, renderCoreDNSManifests({ apiServer }));
    writeFileSync(`${l.manifests}/smoke.yaml`, renderSmokeManifests(nodes.length > 1 ? nodes[nodes.length - 1]!.name : undefined, o.ipFamily));
    for (const m of ['coredns', 'smoke']) {
      await waitFor(`kubectl apply -f ${m}.yaml (needs the default ServiceAccount)`, {
        timeoutMs: 60_000,
        watch,
        probe: () => kubectl(['apply', '-f', `${l.manifests}/${m}.yaml`], { allowFail: true }),
        until: (r) => r.code === 0,
        describe: (r, e) => (r ? (r.stderr.trim().split('\n').pop() ?? '') : String(e)),
      });
    }
    for (const n of nodes) {
      await waitFor(`node ${n.name} Ready`, {
        timeoutMs: 90_000,
        watch,
        probe: () =>
          kubectl(['get', 'node', n.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}'], {
            allowFail: true,
          }),
        until: (r) => r.code === 0 && r.stdout.startsWith('True'),
        describe: (r, e) => (r ? (r.stdout || r.stderr).trim() : String(e)),
      });
      log(`node ${n.name} Ready`);
    }
    const podState = async (ns: string, sel: string) =>
      (
        await kubectl(
          [
            'get',
            'pods',
            '-n',
            ns,
            '-l',
            sel,
            '-o',
            'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.containerStatuses[*].state}{"\\n"}{end}',
          ],
          { allowFail: true },
        )
      ).stdout.trim();
    // No kube-proxy on the control-plane node: no ClusterIP answers from its netns until a kube-proxy replacement
    // is up, so DNS, the smoke pod and NodePorts are checked at the pods' own addresses (the Service checks deferred).
    const podIP = async (ns: string, sel: string) =>
      (await kubectl(['get', 'pods', '-n', ns, '-l', sel, '-o', 'jsonpath={.items[0].status.podIP}'], { allowFail: true })).stdout.trim();
    let dnsAt = DNS_IP;
    if (noProxy(cp)) {
      await waitFor('a CoreDNS pod IP', {
        timeoutMs: 120_000,
        watch,
        probe: () => podIP('kube-system', 'k8s-app=kube-dns'),
        until: (ip) => ip !== '',
      });
      dnsAt = await podIP('kube-system', 'k8s-app=kube-dns');
      log(`deferred: DNS via the ClusterIP ${DNS_IP} (no kube-proxy on ${cp.name}, --proxy-mode none); asking the CoreDNS pod ${dnsAt} itself`);
    }
    await waitFor(`DNS: dig @${dnsAt} kubernetes.default.svc.${CLUSTER_DOMAIN} from netns ${cp.netns}`, {
      timeoutMs: 120_000,
      watch,
      intervalMs: 1_000,
      probe: () =>
        run('dig', ['+short', '+time=1', '+tries=1', `@${dnsAt}`, `kubernetes.default.svc.${CLUSTER_DOMAIN}`, 'A'], {
          netns: cp.netns,
          allowFail: true,
          timeoutMs: 5_000,
        }),
      until: (r) => r.stdout.trim() === KUBERNETES_SERVICE_IP,
      describe: (r) => `expected ${KUBERNETES_SERVICE_IP}, got "${(r?.stdout ?? '').trim()}"; coredns pods: ${'(see kubectl -n kube-system get pods)'}`,
    });
    log(`DNS answers: kubernetes.default.svc.${CLUSTER_DOMAIN} -> ${KUBERNETES_SERVICE_IP}`);
    // Every family's ClusterIP (dual: the smoke Service is RequireDualStack), its AAAA record, and NodePort on every node address.
    // No kube-proxy on the control-plane node: the smoke pod is checked at its own address (the ClusterIP check deferred).
    const svcIPs = (await kubectl(['get', 'svc', '-n', SMOKE_NAMESPACE, 'smoke', '-o', 'jsonpath={.spec.clusterIPs[*]}'])).stdout.trim().split(/\s+/);
    const url = (ip: string, port?: string) => `http://${ip.includes(':') ? `[${ip}]` : ip}${port ? `:${port}` : ''}/index.html`;
    let lastPods = '';
    let smokeAt = svcIPs.map((ip) => ({ ip, port: undefined as string | undefined, what: `ClusterIP ${ip} port 80` }));
    if (noProxy(cp)) {
      await waitFor('the smoke pod IP', { timeoutMs: 120_000, watch, probe: () => podIP(SMOKE_NAMESPACE, 'app=smoke'), until: (ip) => ip !== '' });
      const ip = await podIP(SMOKE_NAMESPACE, 'app=smoke');
      log(
        `deferred: the smoke pod through its ClusterIP(s) ${svcIPs.join(', ')} (no kube-proxy on ${cp.name}, --proxy-mode none); checking the pod at ${ip}:8080`,
      );
      smokeAt = [{ ip, port: '8080', what: `pod ${ip} port 8080` }];
    }
    for (const at of smokeAt) {
      await waitFor(`smoke pod reachable through ${at.what} from netns ${cp.netns}`, {
        timeoutMs: 120_000,
        watch,
        intervalMs: 1_000,
        probe: async () => {
          lastPods = await podState(SMOKE_NAMESPACE, 'app=smoke');
          return run('busybox', ['wget', '-q', '-O', '-', url(at.ip, at.port)], { netns: cp.netns, allowFail: true, timeoutMs: 5_000 });
        },
        until: (r) => r.stdout.trim() === 'smoke-ok',
        describe: (r) => `wget said "${(r?.stderr ?? '').trim()}"; pod: ${lastPods || '(none)'}`,
      });
      log(`${at.what} -> smoke pod answers`);
    }
    if (o.ipFamily === 'dual') {
      const v6 = svcIPs.find((a) => a.includes(':'));
      if (!v6)
        throw new ClusterError(
          `the RequireDualStack smoke Service got no IPv6 ClusterIP (clusterIPs: ${svcIPs.join(', ')}); is --service-cluster-ip-range dual?`,
        );
      const name = `smoke.${SMOKE_NAMESPACE}.svc.${CLUSTER_DOMAIN}`;
      await waitFor(`DNS: dig @${dnsAt} ${name} AAAA from netns ${cp.netns}`, {
        timeoutMs: 30_000,
        watch,
        intervalMs: 1_000,
        probe: () => run('dig', ['+short', '+time=1', '+tries=1', `@${dnsAt}`, name, 'AAAA'], { netns: cp.netns, allowFail: true, timeoutMs: 5_000 }),
        until: (r) => r.stdout.trim() === v6,
        describe: (r) => `expected ${v6}, got "${(r?.stdout ?? '').trim()}"`,
      });
      log(`DNS answers AAAA: ${name} -> ${v6}`);
    }
    const nodePort = (await kubectl(['get', 'svc', '-n', SMOKE_NAMESPACE, 'smoke', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout.trim();
    const proxied = nodes.filter((n) => !noProxy(n));
    for (const n of nodes.filter(noProxy)) log(`skipped: NodePort ${n.ip}:${nodePort} (no kube-proxy on ${n.name}, --proxy-mode none)`);
    const nodeAddrs = proxied.flatMap((n) => (o.ipFamily === 'dual' ? [n.ip, n.ip6] : [n.ip]));
    for (const a of nodeAddrs) {
      await waitFor(`NodePort ${a} port ${nodePort} from netns ${OUTSIDE.netns}`, {
        timeoutMs: 30_000,
        watch,
        intervalMs: 1_000,
        probe: () => run('busybox', ['wget', '-q', '-O', '-', url(a, nodePort)], { netns: OUTSIDE.netns, allowFail: true, timeoutMs: 5_000 }),
        until: (r) => r.stdout.trim() === 'smoke-ok',
        describe: (r) => `wget said "${(r?.stderr ?? '').trim()}"`,
      });
    }
    if (nodeAddrs.length) log(`NodePort ${nodePort} answers from ${OUTSIDE.netns} on ${nodeAddrs.join(', ')}`);
    // The kubelet rewrote machine-wide kernel.panic/panic_on_oops/overcommit at start-up (once). This VM is shared:
    // put them back now rather than only at down.
    for (const [k, v] of Object.entries(state.savedSysctls)) {
      const path = `/proc/sys/${k.replaceAll('.', '/')}`;
      if (readFileSync(path, 'utf8').trim() !== v) writeFileSync(path, v);
    }
    // Leave no test objects behind. Waiting for the namespace to go costs ~15 s, so it finishes in the background.
    await kubectl(['delete', 'pod', 'smoke', '-n', SMOKE_NAMESPACE, '--grace-period=0', '--force', '--wait=false'], { allowFail: true });
    await kubectl(['delete', 'namespace', SMOKE_NAMESPACE, '--wait=false'], { allowFail: true });

    // SSH to every node, as the suite will.
    for (const n of nodes) {
      const pm = proxyModeOf(o, n.index);
      await waitFor(pm === 'none' ? `ssh root@${n.ip} (no kube-proxy there: no rules to check)` : `ssh root@${n.ip} and ${pm} rules of kube-proxy there`, {
        timeoutMs: 20_000,
        watch,
        probe: () =>
          run(
            'ssh',
            [
              '-i',
              `${l.ssh}/id_ed25519`,
              '-o',
              `UserKnownHostsFile=${l.ssh}/known_hosts`,
              '-o',
              'StrictHostKeyChecking=yes',
              '-o',
              'BatchMode=yes',
              '-o',
              'ConnectTimeout=3',
              `root@${n.ip}`,
              `ip -o addr show dev eth0${pm === 'none' ? '' : ` && ${proxyRulesProbe(pm, o.ipFamily)}`}`,
            ],
            { allowFail: true, timeoutMs: 10_000 },
          ),
        until: (r) => r.code === 0 && r.stdout.includes(`${n.ip}/`) && (o.ipFamily !== 'dual' || r.stdout.includes(`${n.ip6}/`)),
        describe: (r) => `exit ${r?.code}: ${(r?.stdout ?? '').trim()} ${(r?.stderr ?? '').trim()}`,
      });
    }
    log(`ssh works on ${nodes.map((n) => n.ip).join(', ')}; kube-proxy rules present where it runs (${modesLine(o, nodes)})`);

    const ag = await agnhost;
    if (ag) {
      for (const n of nodes) await run('ctr', ['--address', l.node(n).containerdSock, '-n', 'k8s.io', 'images', 'import', ag.path], { timeoutMs: 180_000 });
      log(`imported ${ag.name} from ${ag.path}`);
    }
    const cj = renderClusterJson(l, nodes, o.proxyMode, ag?.name, o.ipFamily);
    writeFileSync(l.clusterJson, JSON.stringify(cj, null, 2) + '\n');
    const seconds = (Date.now() - started) / 1000;
    log(`cluster ready in ${formatDuration(seconds * 1000)}`);
    const out = [
      `cluster ${cj.name} is up (kube-proxy ${modesLine(o, nodes)}, ${nodes.length} node(s), ${o.ipFamily === 'dual' ? 'dual-stack IPv4/IPv6, ' : ''}ready in ${formatDuration(seconds * 1000)})`,
      `  cluster.json: ${l.clusterJson}`,
      `  kubeconfig:   ${l.adminKubeconfig}   (apiserver ${apiServerURL()})`,
      ...nodes.map((n) => `  ssh ${n.name}: ssh -i ${l.ssh}/id_ed25519 -o UserKnownHostsFile=${l.ssh}/known_hosts root@${n.ip} -p 22   (netns ${n.netns})`),
      `  outside:      netns ${OUTSIDE.netns} ${OUTSIDE.ip}   (ip netns exec ${OUTSIDE.netns} …)`,
      `  try:          KUBECONFIG=${l.adminKubeconfig} ${join(bin, 'kubectl')} get nodes,pods -A`,
    ];
    process.stdout.write(out.join('\n') + '\n');
    return { clusterJson: l.clusterJson, seconds };
  } catch (e) {
    stopAborting();
    if (e instanceof ClusterError && e.details) process.stderr.write(`--- ${e.message}\n${e.details}\n---\n`);
    for (const d of daemons) {
      if (alive(d.pid)) continue;
      if (e instanceof ClusterError && e.message.startsWith(`${d.name} `)) continue;
      process.stderr.write(`--- ${d.name} is not running; last lines of ${d.logFile}:\n${tail(d.logFile, 15)}\n---\n`);
    }
    if (o.keepOnFailure) {
      log(`--keep-on-failure: leaving the half-started cluster in ${l.dir}; run \`npm run cluster:down\` to remove it`);
    } else {
      log('up failed: tearing down what was started');
      await down({ ...o, command: 'down' }, { quiet: true }).catch((d) => log(`down after failed up also failed: ${(d as Error).message}`));
    }
    throw e;
  }
}

export { API_PORT };
