// lib/image archives are accepted by a real containerd: imported under the full name with the
// digest writeImageArchive reported, and run with runc.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type PrivateContainerd, startPrivateContainerd } from '../../agnhost-sctp/testing/containerd.ts';
import { AGNHOST_DIR, ensureBinary, Lab, must, run } from '../../agnhost-sctp/testing/lab.ts';
import { skipTest } from '../../lib/framework/skip.ts';
import { writeImageArchive } from '../../lib/image/archive.ts';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return `needs root (uid ${process.getuid?.()})`;
  for (const bin of ['containerd', 'ctr', 'runc', 'containerd-shim-runc-v2']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} not on PATH (run .ci/install-deps.sh)`;
    }
  }
  return undefined;
}

describe('lib/image archive in containerd', function () {
  this.timeout(120_000);
  const ns = `agt-${process.pid}-img`;
  let cd: PrivateContainerd | undefined;
  let dir: string;

  before(async function () {
    const why = missing();
    if (why) {
      skipTest(this, `${why}`);
    }
    dir = mkdtempSync(join(tmpdir(), 'agt-image-'));
    cd = await startPrivateContainerd(ns);
  });
  const lab = new Lab('img');
  after(async () => {
    const errs = await lab.cleanup();
    await cd?.stop();
    expect(errs, errs.join('\n')).to.deep.equal([]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ctr images import registers the full name with the reported manifest digest, and ctr run executes it', async () => {
    const r = writeImageArchive(
      {
        name: `registry.local/agt-busybox:${process.pid}`,
        files: [{ src: '/bin/busybox', dest: '/bin/busybox', mode: 0o755 }],
        symlinks: [
          { target: 'busybox', dest: '/bin/sh' },
          { target: 'busybox', dest: '/bin/cat' },
        ],
        env: ['PATH=/bin'],
        entrypoint: ['/bin/sh'],
        labels: { 'org.example.test': 'yes' },
      },
      join(dir, 'img.tar'),
    );
    const imp = await cd!.ctr(['images', 'import', r.path]);
    expect(imp.stdout).to.contain(`${r.name} (${r.digest})`);
    const ls = await cd!.ctr(['images', 'ls']);
    const row = ls.stdout.split('\n').find((l) => l.startsWith(r.name + ' '));
    expect(row, ls.stdout).to.be.a('string');
    expect(row).to.contain(r.digest).and.contain('linux/amd64');
    const check = await cd!.ctr(['images', 'check']);
    expect(check.stdout).to.match(new RegExp(`${r.name.replace(/[.]/g, '\\.')} .*complete \\(2/2\\).*true`));
    const ran = await cd!.ctr(['run', '--rm', r.name, `agt-run-${process.pid}`, '/bin/sh', '-c', 'echo hello-from-$(cat /proc/1/comm); echo $PATH'], 60_000);
    expect(ran.stdout.trim().split('\n')).to.deep.equal(['hello-from-sh', '/bin']);
    await cd!.ctr(['images', 'rm', r.name]);
  });

  it('the agnhost-sctp image is reproducible, ≤ 5 MB, imports, runs SCTP inside a container in a netns of ours, and carries the busybox tools', async () => {
    await ensureBinary();
    const archive = (await must(['bash', `${AGNHOST_DIR}/build.sh`], 300_000)).trim().split('\n').pop()!;
    const meta = JSON.parse(readFileSync(`${AGNHOST_DIR}/out/image.json`, 'utf8'));
    await must(['bash', `${AGNHOST_DIR}/build.sh`], 300_000);
    const again = JSON.parse(readFileSync(`${AGNHOST_DIR}/out/image.json`, 'utf8'));
    expect(again.digest, 'build.sh twice from the same sources gives the same image digest').to.equal(meta.digest);
    expect(statSync(archive).size)
      .to.equal(meta.size)
      .and.to.be.below(5 * 1024 * 1024);
    const version = readFileSync(`${AGNHOST_DIR}/VERSION`, 'utf8').trim();
    expect(meta.name).to.equal(`registry.local/agnhost-sctp:${version}`);
    const imp = await cd!.ctr(['images', 'import', archive]);
    expect(imp.stdout).to.contain(`${meta.name} (${meta.digest})`);
    const ns = await lab.addNetns('ctr');
    const script = [
      'for a in sh nsenter cat ls ip nslookup sleep; do test -x /bin/$a || echo missing $a; done',
      '/agnhost-sctp netexec --http-port=-1 --udp-port=-1 --sctp-port=8082 2>/tmp/srv.log &',
      'sleep 0.5',
      '/agnhost-sctp connect 127.0.0.1:8082 --protocol=sctp --timeout=3s --data="echo from-container" 2>/dev/null; echo rc=$?',
      'head -1 /tmp/srv.log',
    ].join('\n');
    const ran = await cd!.ctr(['run', '--rm', '--with-ns', `network:/run/netns/${ns}`, meta.name, `agt-sctp-${process.pid}`, '/bin/sh', '-c', script], 60_000);
    expect(ran.stdout.trim().split('\n')).to.deep.equal([
      'from-container',
      'rc=0',
      'agnhost-sctp: sctp stack: userspace (usrsctp over raw IP, blackhole=2; --sctp-stack=auto; kernel SCTP: socket(AF_INET, ' +
        'SOCK_STREAM, IPPROTO_SCTP): Protocol not supported)',
    ]);
    await cd!.ctr(['images', 'rm', meta.name]);
  });

  it('skopeo reads the same archive as docker-archive: and as oci-archive: (digest, platform, labels, entrypoint)', async function () {
    if ((await run(['sh', '-c', 'command -v skopeo'])).code !== 0) {
      skipTest(this, 'skopeo not installed (.ci/install-deps.sh installs it)');
    }
    await ensureBinary();
    await must(['bash', `${AGNHOST_DIR}/build.sh`], 300_000);
    const meta = JSON.parse(readFileSync(`${AGNHOST_DIR}/out/image.json`, 'utf8'));
    const oci = JSON.parse(await must(['skopeo', 'inspect', `oci-archive:${meta.path}`]));
    expect(oci).to.include({ Digest: meta.digest, Architecture: 'amd64', Os: 'linux' });
    const docker = JSON.parse(await must(['skopeo', 'inspect', '--config', `docker-archive:${meta.path}`]));
    expect(docker.config.Entrypoint).to.deep.equal(['/agnhost-sctp']);
    expect(docker.config.Labels['sctp-e2e.io/requires-capabilities']).to.equal('NET_RAW');
    expect(docker.rootfs.diff_ids).to.deep.equal([meta.diffId]);
  });
});
