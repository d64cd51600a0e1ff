// The kind lane's host-side helpers, without Docker: the runc wrapper's capability filtering (a fake runc;
// the expected set is computed from this process's own CapBnd, so on a host with a full bounding set nothing
// is dropped) and the node image's kubeadm patches (each kind config plus the patches still validates).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { validateKindConfig } from './validate.ts';

const dir = new URL('.', import.meta.url).pathname;
const CAPS = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

describe('kind engine: runc-capbnd', () => {
  const bnd = BigInt('0x' + /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  const allowed = CAPS.filter((_, i) => (bnd >> BigInt(i)) & 1n);
  let tmp = '';
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sctp-kind-capbnd-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));
  const run = (args: string[]) =>
    execFileSync('bash', [join(dir, 'engine', 'runc-capbnd'), ...args], {
      env: { ...process.env, SCTP_KIND_REAL_RUNC: '/bin/echo' },
      encoding: 'utf8',
    });
  const caps = { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: CAPS, ambient: ['CAP_NET_RAW'] };

  it('create --bundle: keeps only capabilities in CapBnd, passes the arguments on unchanged', () => {
    writeFileSync(join(tmp, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', process: { args: ['/sbin/init'], capabilities: caps } }));
    const out = run(['--root', '/run/x', 'create', '--bundle', tmp, '--pid-file', 'p', 'id1']);
    expect(out.trim()).to.equal(`--root /run/x create --bundle ${tmp} --pid-file p id1`);
    const spec = JSON.parse(readFileSync(join(tmp, 'config.json'), 'utf8'));
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable']) expect(spec.process.capabilities[set], set).to.deep.equal(allowed);
    expect(spec.process.capabilities.ambient).to.deep.equal(['CAP_NET_RAW']);
    expect(spec.process.args).to.deep.equal(['/sbin/init']);
  });

  it('exec --process FILE: filters the process spec', () => {
    const p = join(tmp, 'process.json');
    writeFileSync(p, JSON.stringify({ args: ['sh'], capabilities: caps }));
    run(['exec', '--process', p, '--detach', 'id1']);
    expect(JSON.parse(readFileSync(p, 'utf8')).capabilities.bounding).to.deep.equal(allowed);
  });

  it('leaves other commands and specs without capabilities alone', () => {
    writeFileSync(join(tmp, 'config.json'), JSON.stringify({ process: { args: ['x'] } }));
    expect(run(['state', 'id1']).trim()).to.equal('state id1');
    run(['create', '-b', tmp, 'id2']);
    expect(JSON.parse(readFileSync(join(tmp, 'config.json'), 'utf8'))).to.deep.equal({ process: { args: ['x'] } });
  });
});

describe('kind node image: kubeadm patches', () => {
  it('every default-CNI config plus the patches is still a valid kind config', () => {
    const patches = readFileSync(join(dir, 'node-image', 'kubeadm-patches.yaml'), 'utf8');
    for (const f of ['iptables.yaml', 'nftables.yaml', 'ipvs.yaml', 'dual-stack.yaml', 'bring-your-own-cni.yaml']) {
      const text = readFileSync(join(dir, f), 'utf8') + patches;
      const docs = parseAllDocuments(text);
      expect(docs).to.have.length(1);
      const cfg = (docs[0] as { toJS(): Record<string, unknown> }).toJS();
      expect(validateKindConfig(cfg), f).to.deep.equal([]);
      const p = (cfg.kubeadmConfigPatches as string[])[0]!;
      expect(p)
        .to.match(/kind: ClusterConfiguration/)
        .and.match(/imageTag: 3\.5\.35-0/)
        .and.match(/imageTag: v1\.14\.7/);
    }
  });
});
