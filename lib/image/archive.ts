// Reproducible single-layer image archives, written with node:crypto/zlib/fs only.
//
// The archive is at the same time an OCI image layout (oci-layout, index.json, blobs/sha256/…)
// and a docker-archive (manifest.json with Config, RepoTags, Layers pointing into blobs/), the
// dual layout recent `docker save` writes. So `ctr images import`, `docker load`,
// `kind load image-archive` and `skopeo … oci-archive:/docker-archive:` all accept it.
// Same spec and same input bytes → same bytes out → same digests: every tar entry has mtime 0,
// uid/gid 0, empty owner names, entries sorted by path, gzip without name or timestamp.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ImageFile {
  /** Host path to copy, or literal content. Exactly one of src/content. */
  src?: string;
  content?: string | Uint8Array;
  /** Absolute path inside the image, e.g. "/agnhost-sctp". */
  dest: string;
  /** Permission bits; default 0o644, or 0o755 when the source file is executable. */
  mode?: number;
}

export interface ImageSymlink {
  target: string;
  dest: string;
}
export type ImageDir = string | { path: string; mode?: number };

export interface ImageSpec {
  /** Full reference, e.g. "registry.local/agnhost-sctp:1.0.0" (":latest" is added when no tag). */
  name: string;
  files: ImageFile[];
  dirs?: ImageDir[];
  symlinks?: ImageSymlink[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  labels?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** RFC 3339 creation time in the config; default the epoch (reproducible). */
  created?: string;
}

export interface ImageArchiveResult {
  path: string;
  /** Digest of the image manifest ("sha256:…"): what `ctr images ls` shows as DIGEST. */
  digest: string;
  /** Digest of the config blob: the image ID docker shows. */
  configDigest: string;
  /** Digest of the layer blob as stored (gzip) and of the uncompressed tar (rootfs diff_id). */
  layerDigest: string;
  diffId: string;
  /** Size of the archive file in bytes. */
  size: number;
  /** Normalised full name, with tag. */
  name: string;
}

// ---------- tar (ustar) ----------

export interface TarEntry {
  path: string; // relative, no leading "/", directories end with "/"
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  data?: Uint8Array; // files only
  linkname?: string; // symlinks only
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the trailing NUL
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: value ${value} does not fit in ${width - 1} octal digits`);
  return s.padStart(width - 1, '0') + '\0';
}

function splitUstarName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  // split at a "/" so that name ≤ 100 and prefix ≤ 155 bytes
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  for (let i = trimmed.lastIndexOf('/'); i > 0; i = trimmed.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(name) <= 100 && Buffer.byteLength(prefix) <= 155 && name.length > 0) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function tarHeader(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitUstarName(e.path);
  const put = (s: string, off: number, len: number) => {
    const b = Buffer.from(s, 'utf8');
    if (b.length > len) throw new Error(`tar: field too long: ${s}`);
    b.copy(h, off);
  };
  put(name, 0, 100);
  put(octal(e.mode & 0o7777, 8), 100, 8);
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12); // mtime
  h.fill(0x20, 148, 156); // checksum placeholder: spaces
  put(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 1);
  if (e.linkname !== undefined) put(e.linkname, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  // uname/gname empty; devmajor/devminor
  put(octal(0, 8), 329, 8);
  put(octal(0, 8), 337, 8);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** Serialises entries in the given order (callers sort) and appends the two zero end blocks. */
export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? Buffer.from(e.data ?? new Uint8Array()) : Buffer.alloc(0);
    parts.push(tarHeader(e, data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}

/** Parses a ustar archive (as written by writeTar, GNU tar or docker) into entries. */
export function readTar(buf: Uint8Array): TarEntry[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: TarEntry[] = [];
  const str = (off: number, len: number) => {
    const s = b.subarray(off, off + len);
    const z = s.indexOf(0);
    return s.subarray(0, z < 0 ? len : z).toString('utf8');
  };
  const num = (off: number, len: number) => parseInt(str(off, len).trim() || '0', 8);
  let off = 0;
  while (off + BLOCK <= b.length) {
    const h = b.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = num(off + 148, 8);
    if (stored !== sum) throw new Error(`tar: bad header checksum at offset ${off} (stored ${stored}, computed ${sum})`);
    const name = str(off, 100);
    const prefix = str(off + 345, 155);
    const path = prefix ? `${prefix}/${name}` : name;
    const size = num(off + 124, 12);
    const flag = String.fromCharCode(h[156]!);
    const mode = num(off + 100, 8);
    const linkname = str(off + 157, 100);
    off += BLOCK;
    const data = b.subarray(off, off + size);
    off += Math.ceil(size / BLOCK) * BLOCK;
    if (flag === '5') out.push({ path, type: 'dir', mode });
    else if (flag === '2') out.push({ path, type: 'symlink', mode, linkname });
    else if (flag === '0' || flag === '\0') out.push({ path, type: 'file', mode, data: new Uint8Array(data) });
    // other types (pax headers, hard links) are not produced by this module and are skipped
  }
  return out;
}

// ---------- image ----------

const sha256 = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export function normaliseName(name: string): string {
  if (!name || /\s/.test(name)) throw new Error(`image name "${name}" is empty or contains whitespace`);
  const lastSlash = name.lastIndexOf('/');
  const hasTag = name.slice(lastSlash + 1).includes(':') || name.includes('@');
  return hasTag ? name : `${name}:latest`;
}

function rel(p: string): string {
  const r = p.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!r || r.split('/').some((s) => s === '..' || s === '.' || s === '')) throw new Error(`image path "${p}" is not a clean absolute path`);
  return r;
}

/** Builds the root filesystem layer (uncompressed tar) from the spec: parents implied, sorted. */
export function buildLayerTar(spec: ImageSpec): Buffer {
  const entries = new Map<string, TarEntry>();
  const addParents = (r: string) => {
    const segs = r.split('/');
    for (let i = 1; i < segs.length; i++) {
      const d = segs.slice(0, i).join('/') + '/';
      if (!entries.has(d)) entries.set(d, { path: d, type: 'dir', mode: 0o755 });
    }
  };
  const claim = (key: string, e: TarEntry) => {
    const clash = entries.get(key) ?? entries.get(key + '/') ?? entries.get(key.replace(/\/$/, ''));
    if (clash && !(clash.type === 'dir' && e.type === 'dir')) throw new Error(`image path /${key.replace(/\/$/, '')} is given twice`);
    entries.set(key, e);
  };
  for (const d of spec.dirs ?? []) {
    const { path, mode } = typeof d === 'string' ? { path: d, mode: 0o755 } : { path: d.path, mode: d.mode ?? 0o755 };
    const r = rel(path);
    addParents(r);
    claim(r + '/', { path: r + '/', type: 'dir', mode });
  }
  for (const f of spec.files) {
    const r = rel(f.dest);
    if ((f.src === undefined) === (f.content === undefined)) throw new Error(`image file ${f.dest}: give exactly one of src or content`);
    let data: Uint8Array;
    let mode = f.mode;
    if (f.src !== undefined) {
      data = readFileSync(f.src);
      if (mode === undefined) mode = statSync(f.src).mode & 0o111 ? 0o755 : 0o644;
    } else {
      data = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content!;
    }
    addParents(r);
    claim(r, { path: r, type: 'file', mode: mode ?? 0o644, data });
  }
  for (const s of spec.symlinks ?? []) {
    const r = rel(s.dest);
    addParents(r);
    claim(r, { path: r, type: 'symlink', mode: 0o777, linkname: s.target });
  }
  const sorted = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return writeTar(sorted);
}

function json(o: unknown): Buffer {
  return Buffer.from(JSON.stringify(o), 'utf8');
}

/** Writes the image archive to outPath (atomically: temp file + rename) and returns its digests. */
export function writeImageArchive(spec: ImageSpec, outPath: string): ImageArchiveResult {
  const name = normaliseName(spec.name);
  const layerTar = buildLayerTar(spec);
  const diffId = sha256(layerTar);
  // level 9, no file name, mtime 0: zlib's gzip header is fixed for the same input
  const layerGz = gzipSync(layerTar, { level: 9 });
  const layerDigest = sha256(layerGz);

  const cfg: Record<string, unknown> = {};
  if (spec.user) cfg.User = spec.user;
  if (spec.env?.length) cfg.Env = spec.env;
  if (spec.entrypoint) cfg.Entrypoint = spec.entrypoint;
  if (spec.cmd) cfg.Cmd = spec.cmd;
  if (spec.workingDir) cfg.WorkingDir = spec.workingDir;
  if (spec.labels && Object.keys(spec.labels).length) {
    cfg.Labels = Object.fromEntries(Object.entries(spec.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  const created = spec.created ?? '1970-01-01T00:00:00Z';
  const config = json({
    architecture: 'amd64',
    os: 'linux',
    created,
    config: cfg,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'lib/image/archive.ts writeImageArchive' }],
  });
  const configDigest = sha256(config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerGz.length }],
  });
  const digest = sha256(manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest,
        size: manifest.length,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name },
      },
    ],
  });
  const blob = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
  const dockerManifest = json([{ Config: blob(configDigest), RepoTags: [name], Layers: [blob(layerDigest)] }]);

  const blobs = new Map<string, Buffer>([
    [blob(configDigest), config],
    [blob(layerDigest), layerGz],
    [blob(digest), manifest],
  ]);
  const entries: TarEntry[] = [
    { path: 'blobs/', type: 'dir', mode: 0o755 },
    { path: 'blobs/sha256/', type: 'dir', mode: 0o755 },
    ...[...blobs.keys()].sort().map((p): TarEntry => ({ path: p, type: 'file', mode: 0o644, data: blobs.get(p)! })),
    { path: 'index.json', type: 'file', mode: 0o644, data: index },
    { path: 'manifest.json', type: 'file', mode: 0o644, data: dockerManifest },
    { path: 'oci-layout', type: 'file', mode: 0o644, data: json({ imageLayoutVersion: '1.0.0' }) },
  ];
  const archive = writeTar(entries);
  mkdirSync(dirname(outPath), { recursive: true });
  const tmp = `${outPath}.tmp-${process.pid}`;
  writeFileSync(tmp, archive);
  renameSync(tmp, outPath);
  return { path: outPath, digest, configDigest, layerDigest, diffId, size: archive.length, name };
}
