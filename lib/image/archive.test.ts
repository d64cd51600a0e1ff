import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { buildLayerTar, type ImageSpec, normaliseName, readTar, type TarEntry, writeImageArchive, writeTar } from './archive.ts';

// testdata/gnu-ustar.tar was captured from GNU tar 1.34:
//   tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf gnu-ustar.tar etc
// over a tree with dirs (one path > 100 bytes, so ustar's prefix field is used), a 0600 file,
// a 0755 700-byte file, a 0644 file and a symlink.
const GNU_FIXTURE = new URL('./testdata/gnu-ustar.tar', import.meta.url);
const D = 'etc/' + 'd'.repeat(60) + '/';
const E = D + 'e'.repeat(50) + '/';
const fixtureEntries: TarEntry[] = [
  { path: 'etc/', type: 'dir', mode: 0o755 },
  { path: D, type: 'dir', mode: 0o755 },
  { path: E, type: 'dir', mode: 0o755 },
  { path: E + 'file.txt', type: 'file', mode: 0o600, data: Buffer.from('long\n') },
  { path: 'etc/deep/', type: 'dir', mode: 0o755 },
  { path: 'etc/deep/big', type: 'file', mode: 0o755, data: Buffer.alloc(700, 'x') },
  { path: 'etc/hello.txt', type: 'file', mode: 0o644, data: Buffer.from('hello\n') },
  { path: 'etc/link', type: 'symlink', mode: 0o777, linkname: 'hello.txt' },
];

const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');

describe('lib/image tar', () => {
  it('writes byte-for-byte what GNU tar --format=ustar writes for the same tree (up to GNU record padding)', () => {
    const gnu = readFileSync(GNU_FIXTURE);
    const ours = writeTar(fixtureEntries);
    expect(ours.length).to.be.at.most(gnu.length);
    expect(Buffer.compare(ours, gnu.subarray(0, ours.length)), 'first differing header is a format bug').to.equal(0);
    expect(
      gnu.subarray(ours.length).every((b) => b === 0),
      'GNU tail is zero padding only',
    ).to.equal(true);
  });

  it('reads GNU tar output back into paths, types, modes, data and link targets', () => {
    const got = readTar(readFileSync(GNU_FIXTURE));
    expect(got.map((e) => [e.path, e.type, e.mode.toString(8), e.linkname ?? ''])).to.deep.equal(
      fixtureEntries.map((e) => [e.path, e.type, e.mode.toString(8), e.linkname ?? '']),
    );
    expect(Buffer.from(got[5]!.data!).toString()).to.equal('x'.repeat(700));
    expect(Buffer.from(got[3]!.data!).toString()).to.equal('long\n');
  });

  it('rejects a header whose checksum does not match', () => {
    const t = writeTar([{ path: 'a', type: 'file', mode: 0o644, data: Buffer.from('a') }]);
    t[0] = 'b'.charCodeAt(0);
    expect(() => readTar(t)).to.throw(/bad header checksum/);
  });
});

describe('lib/image archive', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'image-test-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const spec = (): ImageSpec => {
    const bin = join(dir, 'tool');
    writeFileSync(bin, '#!/bin/sh\necho hi\n');
    chmodSync(bin, 0o755);
    return {
      name: 'registry.local/test-image:0.1',
      files: [
        { src: bin, dest: '/usr/bin/tool' },
        { content: 'x=1\n', dest: '/etc/tool.conf', mode: 0o600 },
      ],
      dirs: ['/tmp', { path: '/var/empty', mode: 0o700 }],
      symlinks: [{ target: '/usr/bin/tool', dest: '/tool' }],
      entrypoint: ['/tool'],
      cmd: ['serve'],
      env: ['PATH=/usr/bin'],
      labels: { 'b.label': '2', 'a.label': '1' },
    };
  };

  it('gives the same bytes and digests for the same input, and a different digest for a changed file', () => {
    const a = writeImageArchive(spec(), join(dir, 'a.tar'));
    const b = writeImageArchive(spec(), join(dir, 'b.tar'));
    expect(readFileSync(a.path).equals(readFileSync(b.path))).to.equal(true);
    expect(a.digest).to.equal(b.digest);
    const s = spec();
    s.files[1] = { content: 'x=2\n', dest: '/etc/tool.conf', mode: 0o600 };
    expect(writeImageArchive(s, join(dir, 'c.tar')).digest).to.not.equal(a.digest);
  });

  it('is both an OCI layout and a docker-archive whose blobs match their digests', () => {
    const r = writeImageArchive(spec(), join(dir, 'img.tar'));
    expect(r.size).to.equal(readFileSync(r.path).length);
    const outer = readTar(readFileSync(r.path));
    expect(outer.map((e) => e.path)).to.include.members(['oci-layout', 'index.json', 'manifest.json', 'blobs/sha256/']);
    const file = (p: string) => Buffer.from(outer.find((e) => e.path === p)!.data!);
    for (const e of outer.filter((x) => x.path.startsWith('blobs/sha256/') && x.type === 'file')) {
      expect(sha(e.data!), e.path).to.equal('sha256:' + e.path.slice('blobs/sha256/'.length));
    }
    const index = JSON.parse(file('index.json').toString());
    expect(index.manifests[0].digest).to.equal(r.digest);
    expect(index.manifests[0].annotations).to.deep.equal({
      'io.containerd.image.name': 'registry.local/test-image:0.1',
      'org.opencontainers.image.ref.name': 'registry.local/test-image:0.1',
    });
    const manifest = JSON.parse(file(`blobs/sha256/${r.digest.slice(7)}`).toString());
    const docker = JSON.parse(file('manifest.json').toString());
    expect(docker).to.deep.equal([
      {
        Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
        RepoTags: ['registry.local/test-image:0.1'],
        Layers: [`blobs/sha256/${manifest.layers[0].digest.slice(7)}`],
      },
    ]);
    const config = JSON.parse(file(docker[0].Config).toString());
    expect(config).to.include({ os: 'linux', architecture: 'amd64' });
    expect(config.config).to.deep.equal({
      Entrypoint: ['/tool'],
      Cmd: ['serve'],
      Env: ['PATH=/usr/bin'],
      Labels: { 'a.label': '1', 'b.label': '2' },
    });
    const layerTar = gunzipSync(file(docker[0].Layers[0]));
    expect(config.rootfs.diff_ids).to.deep.equal([sha(layerTar)]);
    const layer = readTar(layerTar);
    expect(layer.map((e) => `${e.type} ${e.path} ${e.mode.toString(8)}${e.linkname ? ' -> ' + e.linkname : ''}`)).to.deep.equal([
      'dir etc/ 755',
      'file etc/tool.conf 600',
      'dir tmp/ 755',
      'symlink tool 777 -> /usr/bin/tool',
      'dir usr/ 755',
      'dir usr/bin/ 755',
      'file usr/bin/tool 755',
      'dir var/ 755',
      'dir var/empty/ 700',
    ]);
  });

  it('is listed by GNU tar with zero owners and mtimes (outer archive and layer)', () => {
    const r = writeImageArchive(spec(), join(dir, 'gnu-check.tar'));
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', r.path], { encoding: 'utf8', timeout: 10_000 });
    for (const line of listing.trim().split('\n')) expect(line, line).to.match(/^\S+ 0\/0 +\d+ 1970-01-01 00:00 /);
    const layer = execFileSync('sh', ['-c', `tar -xOf '${r.path}' '${'blobs/sha256/' + r.layerDigest.slice(7)}' | tar --numeric-owner -tvzf -`], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(layer).to.match(/^lrwxrwxrwx 0\/0 +0 1970-01-01 00:00 tool -> \/usr\/bin\/tool$/m);
  });

  it('rejects a spec with a path given twice, a relative escape, or a file with both src and content', () => {
    expect(() => buildLayerTar({ name: 'x', files: [{ content: 'a', dest: '/a' }], symlinks: [{ target: 'b', dest: '/a' }] })).to.throw(/given twice/);
    expect(() => buildLayerTar({ name: 'x', files: [{ content: 'a', dest: '/../a' }] })).to.throw(/not a clean absolute path/);
    expect(() => buildLayerTar({ name: 'x', files: [{ content: 'a', src: '/etc/hostname', dest: '/a' }] })).to.throw(/exactly one/);
  });

  it('adds :latest only when the name has no tag', () => {
    expect(normaliseName('registry.local:5000/a')).to.equal('registry.local:5000/a:latest');
    expect(normaliseName('registry.local:5000/a:1')).to.equal('registry.local:5000/a:1');
  });
});
