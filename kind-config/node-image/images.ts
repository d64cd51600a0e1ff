// Image archives preloaded into the kind node image, built offline with lib/image from the binaries the
// project already builds (cluster/build.sh) — no registry is contacted.
//
//   tsx kind-config/node-image/images.ts --bin DIR --pause FILE --out DIR
//
// Writes one docker-archive per image into --out and prints a JSON list [{name, file}] on stdout.
// Names are what kubeadm v1.34 deploys (registry.k8s.io/<component>:<k8s version>), except where our build
// has another version than kubeadm's default, which keeps its real tag and is selected with the
// kubeadmConfigPatches run-kind.sh adds (etcd 3.5.x: kubeadm then passes etcd 3.5's flags; CoreDNS), and
// the sandbox image, which has the local cluster's name (containerd's sandbox_image in the node names it).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../../lib/framework/errors.ts';
import { runMain } from '../../lib/framework/main.ts';
import { type ImageFile, type ImageSpec, type ImageSymlink, writeImageArchive } from '../../lib/image/archive.ts';

export const K8S_VERSION = process.env.K8S_VERSION ?? 'v1.34.4';
export const ETCD_TAG = `${(process.env.ETCD_VERSION ?? 'v3.5.35').replace(/^v/, '')}-0`;
export const COREDNS_TAG = process.env.COREDNS_VERSION ?? 'v1.14.7';
export const NODE_IMAGES = {
  apiserver: `registry.k8s.io/kube-apiserver:${K8S_VERSION}`,
  controllerManager: `registry.k8s.io/kube-controller-manager:${K8S_VERSION}`,
  scheduler: `registry.k8s.io/kube-scheduler:${K8S_VERSION}`,
  proxy: `registry.k8s.io/kube-proxy:${K8S_VERSION}`,
  etcd: `registry.k8s.io/etcd:${ETCD_TAG}`,
  coredns: `registry.k8s.io/coredns/coredns:${COREDNS_TAG}`,
  pause: 'registry.local/pause:sctp-e2e',
  busybox: 'registry.local/busybox:sctp-e2e',
};

/** Shared libraries a dynamically linked binary loads (ldd), as absolute host paths (symlinks resolved later). */
function lddDeps(bin: string): string[] {
  const out = execFileSync('ldd', [bin], { encoding: 'utf8' });
  const paths: string[] = [];
  for (const line of out.split('\n')) {
    const m = line.match(/=>\s+(\/\S+)/) ?? line.match(/^\s+(\/\S+)\s+\(/);
    if (m) paths.push(m[1]!);
  }
  return paths;
}

/** Files and symlinks that copy host binaries (and every library they load) to the same paths in an image. */
export function hostClosure(bins: string[], extraDirs: string[] = []): { files: ImageFile[]; symlinks: ImageSymlink[] } {
  const files = new Map<string, ImageFile>();
  const symlinks = new Map<string, ImageSymlink>();
  const addPath = (p: string): void => {
    // keep the path as the program names it; a symlink becomes a symlink to its resolved target
    const real = realpathSync(p);
    if (real !== p && !symlinks.has(p)) symlinks.set(p, { target: real, dest: p });
    if (!files.has(real)) files.set(real, { src: real, dest: real, mode: statSync(real).mode & 0o7777 });
  };
  const libs = new Set<string>();
  for (const b of bins) {
    addPath(b);
    for (const l of lddDeps(realpathSync(b))) libs.add(l);
  }
  for (const d of extraDirs) {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (!statSync(p).isFile()) continue;
      addPath(p);
      if (f.endsWith('.so')) for (const l of lddDeps(p)) libs.add(l);
    }
  }
  for (const l of libs) addPath(l);
  return { files: [...files.values()], symlinks: [...symlinks.values()] };
}

export function imageSpecs(bin: string, pause: string): ImageSpec[] {
  const label = (title: string, source: string): Record<string, string> => ({
    'org.opencontainers.image.title': title,
    'org.opencontainers.image.source': source,
    'org.opencontainers.image.description': 'built offline by kind-config/node-image/images.ts for the sctp-e2e kind node image',
  });
  const k8s = `k8s.io/kubernetes@${K8S_VERSION}`;
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  const control = (name: string, cmd: string): ImageSpec => ({
    name,
    env,
    dirs: ['tmp:1777'],
    labels: label(cmd, k8s),
    files: [{ src: join(bin, cmd), dest: `/usr/local/bin/${cmd}`, mode: 0o755 }],
    entrypoint: [`/usr/local/bin/${cmd}`],
  });
  // kube-proxy runs iptables(-save/-restore), ip6tables, nft, ipset and conntrack: Debian's, with their libraries.
  // iptables names the nft backend (the node's docker rules are nft; kind's wrapper would pick nft here too).
  const xt = '/usr/sbin/xtables-nft-multi';
  const proxyBins = [xt, '/usr/sbin/xtables-legacy-multi', '/usr/sbin/nft', '/usr/sbin/ipset', '/usr/sbin/conntrack'];
  const xtDir = '/usr/lib/x86_64-linux-gnu/xtables';
  const closure = hostClosure(proxyBins, existsSync(xtDir) ? [xtDir] : []);
  const iptLinks: ImageSymlink[] = [];
  for (const fam of ['iptables', 'ip6tables']) {
    for (const suffix of ['', '-save', '-restore']) {
      iptLinks.push({ target: 'xtables-nft-multi', dest: `/usr/sbin/${fam}${suffix}` });
      iptLinks.push({ target: 'xtables-nft-multi', dest: `/usr/sbin/${fam}-nft${suffix}` });
      iptLinks.push({ target: 'xtables-legacy-multi', dest: `/usr/sbin/${fam}-legacy${suffix}` });
    }
  }
  return [
    control(NODE_IMAGES.apiserver, 'kube-apiserver'),
    control(NODE_IMAGES.controllerManager, 'kube-controller-manager'),
    control(NODE_IMAGES.scheduler, 'kube-scheduler'),
    {
      ...control(NODE_IMAGES.proxy, 'kube-proxy'),
      files: [{ src: join(bin, 'kube-proxy'), dest: '/usr/local/bin/kube-proxy', mode: 0o755 }, ...closure.files],
      symlinks: [...closure.symlinks, ...iptLinks],
      dirs: ['tmp:1777', 'run', 'var/lib', 'etc'],
    },
    {
      name: NODE_IMAGES.etcd,
      env,
      dirs: ['tmp:1777', 'var/lib/etcd'],
      labels: label('etcd', `go.etcd.io/etcd/server/v3@v${ETCD_TAG.replace(/-0$/, '')}`),
      files: [{ src: join(bin, 'etcd'), dest: '/usr/local/bin/etcd', mode: 0o755 }],
      entrypoint: ['/usr/local/bin/etcd'],
    },
    {
      name: NODE_IMAGES.coredns,
      dirs: ['etc/coredns', 'tmp:1777'],
      labels: label('coredns', `github.com/coredns/coredns@${COREDNS_TAG}`),
      files: [{ src: join(bin, 'coredns'), dest: '/coredns', mode: 0o755 }],
      entrypoint: ['/coredns'],
    },
    { name: NODE_IMAGES.pause, files: [{ src: pause, dest: '/pause', mode: 0o755 }], entrypoint: ['/pause'], labels: label('pause', 'cluster/images/pause.c') },
    {
      // the default CNI's DaemonSet: a shell that chroots into the node (kind-config/node-image/files/kind/bin/sctp-kind-cni)
      name: NODE_IMAGES.busybox,
      files: [{ src: '/usr/bin/busybox', dest: '/bin/busybox', mode: 0o755 }],
      dirs: ['tmp:1777', 'etc'],
      symlinks: [{ target: 'busybox', dest: '/bin/sh' }],
      entrypoint: ['/bin/sh'],
      labels: label('busybox', 'Debian busybox-static'),
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(
    'images.ts',
    () => {
      const args = process.argv.slice(2);
      const opt = (k: string): string => {
        const i = args.indexOf(k);
        if (i < 0 || !args[i + 1]) throw new UsageError(`${k} is required`);
        return args[i + 1]!;
      };
      const bin = opt('--bin');
      const pause = opt('--pause');
      const out = opt('--out');
      mkdirSync(out, { recursive: true });
      const list = imageSpecs(bin, pause).map((spec) => {
        const file = join(out, `${spec.name.replace(/[^A-Za-z0-9.-]+/g, '_')}.tar`);
        writeImageArchive(spec, file);
        return { name: spec.name, file: basename(file) };
      });
      writeFileSync(join(out, 'images.json'), JSON.stringify(list, null, 1) + '\n');
      process.stdout.write(JSON.stringify(list) + '\n');
    },
    { usage: 'usage: tsx kind-config/node-image/images.ts --bin DIR --pause FILE --out DIR' },
  );
}
