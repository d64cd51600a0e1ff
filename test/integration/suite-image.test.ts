// The suite image (suite-image/build.ts), built here twice into a temporary directory (same inputs → same
// bytes), unpacked and run with chroot as the image's user (65534) with a clean environment: Node 24 starts
// from the image's own glibc, the entrypoint works, a dry run hands over e2e.log/e2e.tar.gz/done, and the
// in-cluster path (a service account token, KUBERNETES_SERVICE_HOST) is taken. No cluster: the API server
// of the in-cluster case is a closed loopback port. Needs root (chroot); skips with the reason otherwise.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { readTar, type TarEntry } from '../../lib/image/archive.ts';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const nodeVersion = (JSON.parse(readFileSync('node_modules/node/package.json', 'utf8')) as { version: string }).version;

describe('suite image (registry.local/sctp-e2e-suite): built offline, reproducible, runs from its own rootfs', function () {
  this.timeout(240_000);
  let work: string;
  let rootfs: string;
  let image: { path: string; digest: string; layerDigest: string; configDigest: string; size: number; name: string };
  let layer: TarEntry[];

  before(function () {
    if (process.getuid?.() !== 0) this.skip(); // chroot needs root
    if (!existsSync('/bin/busybox')) this.skip();
    work = mkdtempSync(join(tmpdir(), 'sctp-e2e-suite-image-'));
    const build = (out: string) => {
      const p = spawnSync(process.execPath, ['--import', 'tsx', 'suite-image/build.ts', '--out', out, '--force'], { encoding: 'utf8', timeout: 180_000 });
      if (p.status !== 0) throw new Error(`suite-image/build.ts failed (${p.status}):\n${p.stderr}`);
      return JSON.parse(p.stdout.trim().split('\n').pop()!) as typeof image;
    };
    image = build(join(work, 'a'));
    const again = build(join(work, 'b'));
    expect(again.digest, 'same inputs, same digest').to.equal(image.digest);
    expect(
      readFileSync(join(work, 'b', `sctp-e2e-suite-${version}.tar`)).equals(readFileSync(join(work, 'a', `sctp-e2e-suite-${version}.tar`))),
      'byte-identical archives',
    ).to.equal(true);
    rmSync(join(work, 'b'), { recursive: true, force: true });
    const archive = readTar(readFileSync(join(work, 'a', `sctp-e2e-suite-${version}.tar`)));
    const blob = (d: string) => archive.find((e) => e.path === `blobs/sha256/${d.slice(7)}`)!.data!;
    layer = readTar(gunzipSync(blob(image.layerDigest)));
    rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    const x = spawnSync('tar', ['-xzf', '-', '-C', rootfs], { input: blob(image.layerDigest) });
    if (x.status !== 0) throw new Error(`unpacking the layer failed: ${x.stderr}`);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs argv in the rootfs as the image's user with the image's environment only. */
  const run = (argv: string[], env: Record<string, string> = {}) =>
    spawnSync(
      'chroot',
      [
        '--userspec=65534:65534',
        rootfs,
        '/bin/env',
        '-i',
        'PATH=/usr/local/bin:/bin',
        'RESULTS_DIR=/tmp/results',
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        '/bin/sh',
        '-c',
        `cd /usr/local/lib/sctp-e2e && exec "$@"`,
        'sh',
        ...argv,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
  const entry = ['/usr/local/bin/node', '--import', 'tsx', '/usr/local/lib/sctp-e2e/bin/conformance-entry.ts'];

  it("is named after package.json's version and holds node, its libraries, busybox, the suite and its runtime modules only", () => {
    expect(image.name).to.equal(`registry.local/sctp-e2e-suite:${version}`);
    const paths = new Set(layer.map((e) => e.path));
    for (const p of [
      'usr/local/bin/node',
      'lib64/ld-linux-x86-64.so.2',
      'lib/x86_64-linux-gnu/libc.so.6',
      'lib/x86_64-linux-gnu/libstdc++.so.6',
      'bin/busybox',
      'bin/sh',
      'bin/cat',
      'usr/local/bin/e2e.test',
      'usr/local/lib/sctp-e2e/bin/conformance-entry.ts',
      'usr/local/lib/sctp-e2e/lib/cli/conformance-entry.ts',
      'usr/local/lib/sctp-e2e/suites/sctp/node-rules.spec.ts',
      'usr/local/lib/sctp-e2e/node_modules/tsx/package.json',
      'usr/local/lib/sctp-e2e/node_modules/@esbuild/linux-x64/bin/esbuild',
      'usr/local/lib/sctp-e2e/node_modules/@kubernetes/client-node/dist/index.js',
      'usr/local/lib/sctp-e2e/node_modules/mocha/package.json',
      'etc/passwd',
      'tmp/',
      'licenses/node',
    ]) {
      expect(paths, p).to.include(p);
    }
    const unwanted = [...paths].filter((p) => /\.test\.ts$|\.d\.ts$|\.map$|node_modules\/(typescript|playwright-core|@types|node)\/|\/testdata\//.test(p));
    expect(unwanted, 'dev-only files in the image').to.deep.equal([]);
    expect(layer.find((e) => e.path === 'bin/sh')!.linkname).to.equal('busybox');
    expect(image.size, 'archive size').to.be.below(80e6);
  });

  it("runs Node from the image's own loader and glibc, as user 65534 with a clean environment", () => {
    const v = run(['/usr/local/bin/node', '-e', 'console.log(process.version, process.getuid())']);
    expect(v.stderr).to.equal('');
    expect(v.stdout.trim()).to.equal(`v${nodeVersion} 65534`);
    const h = run([...entry, '--help']);
    expect(h.status, h.stderr).to.equal(0);
    expect(h.stdout).to.contain('E2E_FOCUS → --grep').and.contain('RESULTS_DIR (default /tmp/results)');
    // hydrophone reads progress with `sh -c "cat /tmp/results/e2e.log"` in this container
    expect(run(['sh', '-c', 'echo hello > /tmp/results/x && cat /tmp/results/x && rm /tmp/results/x']).stdout).to.equal('hello\n');
  });

  it("a dry run of the whole suite (hydrophone's default focus) hands over e2e.log, e2e.tar.gz and done", () => {
    const r = run(entry, { E2E_DRYRUN: 'true', E2E_FOCUS: '\\[Conformance\\]', E2E_PROVIDER: 'skeleton' });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    const res = join(rootfs, 'tmp/results');
    const log = readFileSync(join(res, 'e2e.log'), 'utf8');
    expect(log).to.match(/^sctp-e2e conformance: E2E_FOCUS=\\\[Conformance\\\] is upstream's default/);
    expect(log).to.match(/Will run (\d+) of \1 specs/);
    expect(log).to.contain('Ginkgo ran 1 suite');
    expect(readFileSync(join(res, 'done'), 'utf8')).to.equal('/tmp/results/e2e.tar.gz');
    const files = readTar(gunzipSync(readFileSync(join(res, 'e2e.tar.gz')))).map((e) => e.path);
    expect(files).to.include('e2e.log');
  });

  it('in a pod (service account token, KUBERNETES_SERVICE_HOST) it uses in-cluster credentials; an unreachable API server is exit 4', () => {
    const sa = join(rootfs, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'not-a-real-token');
    writeFileSync(join(sa, 'ca.crt'), '');
    writeFileSync(join(sa, 'namespace'), 'sctp-e2e');
    try {
      // port 1 on loopback: nothing listens, the connection is refused at once
      const r = run(entry, { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '1', E2E_FOCUS: 'HostPort' });
      expect(r.status, r.stdout + r.stderr).to.equal(4);
      const log = readFileSync(join(rootfs, 'tmp/results/e2e.log'), 'utf8');
      expect(log).to.match(/^sctp-e2e conformance: Will run 1 of \d+ specs/);
      expect(log).to.contain(
        'cannot reach the API server at https://127.0.0.1:1 (kubeconfig in-cluster service account (/var/run/secrets/kubernetes.io/serviceaccount, ' +
          'API server 127.0.0.1:1))',
      );
      expect(log).to.match(/exit 4 \(API server unreachable\); .*Ginkgo ran 1 suite/);
    } finally {
      rmSync(join(rootfs, 'var'), { recursive: true, force: true });
    }
  });
});
