// Minimal single-layer docker-archive writer (manifest.json + config + layer.tar), enough for
// `ctr -n k8s.io images import`. Stop-gap until lib/image/archive.ts (CONTRACTS.md) is committed.
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './run.ts';

export interface ImageSpec {
  name: string; // registry.local/x:tag
  files: { src: string; dest: string; mode?: number }[];
  dirs?: string[];
  symlinks?: { target: string; dest: string }[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
}

const TAR_FLAGS = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=gnu'];

export async function writeDockerArchive(spec: ImageSpec, outPath: string): Promise<{ path: string; name: string; digest: string }> {
  const tmp = mkdtempSync(join(dirname(outPath), '.img-'));
  try {
    const root = join(tmp, 'rootfs');
    mkdirSync(root);
    for (const d of spec.dirs ?? []) mkdirSync(join(root, d), { recursive: true });
    for (const f of spec.files) {
      const dest = join(root, f.dest);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f.src, dest);
      chmodSync(dest, f.mode ?? 0o755);
    }
    for (const s of spec.symlinks ?? []) {
      const dest = join(root, s.dest);
      mkdirSync(dirname(dest), { recursive: true });
      symlinkSync(s.target, dest);
    }
    const layerDir = join(tmp, 'layer');
    mkdirSync(layerDir);
    await run('tar', [...TAR_FLAGS, '-C', root, '-cf', join(layerDir, 'layer.tar'), '.'], { timeoutMs: 60_000 });
    const diffId = 'sha256:' + createHash('sha256').update(readFileSync(join(layerDir, 'layer.tar'))).digest('hex');
    const config = {
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Entrypoint: spec.entrypoint ?? null,
        Cmd: spec.cmd ?? null,
        Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        WorkingDir: '/',
      },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'sctp-e2e cluster/image-archive.ts' }],
    };
    const configJson = JSON.stringify(config);
    const configHex = createHash('sha256').update(configJson).digest('hex');
    writeFileSync(join(tmp, `${configHex}.json`), configJson);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [spec.name], Layers: ['layer/layer.tar'] }]));
    await run('tar', [...TAR_FLAGS, '-C', tmp, '-cf', outPath, 'manifest.json', `${configHex}.json`, 'layer/layer.tar'], { timeoutMs: 60_000 });
    return { path: outPath, name: spec.name, digest: `sha256:${configHex}` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
