// Pure host-key logic on REAL files made by ssh-keygen (lib/node/fixtures/ssh: keys, `ssh-keygen -lf`
// output, a known_hosts with plain, `ssh-keygen -H` hashed, pattern and @revoked entries).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { checkHostKey, fingerprintOf, hostFieldMatches, keyTypeOf, knownHostsName, parseKnownHosts, resolveSsh } from './ssh.ts';

const fx = (n: string) => readFileSync(new URL(`./fixtures/ssh/${n}`, import.meta.url), 'utf8');
const blob = (pub: string) => Buffer.from(pub.split(' ')[1]!, 'base64');
const hostKey = blob(fx('host_ed25519.pub'));
const otherKey = blob(fx('other_ed25519.pub'));
const knownHostsText = fx('known_hosts');
const policy = { knownHostsPath: 'fixtures/ssh/known_hosts', knownHostsText };

describe('ssh host keys (pure)', () => {
  it('fingerprints like ssh-keygen -lf', () => {
    expect(fingerprintOf(hostKey)).to.equal(fx('host_ed25519.fingerprint').split(' ')[1]);
    expect(fingerprintOf(otherKey)).to.equal(fx('other_ed25519.fingerprint').split(' ')[1]);
    expect(keyTypeOf(hostKey)).to.equal('ssh-ed25519');
  });

  it('names hosts like OpenSSH: bare on port 22, [host]:port otherwise', () => {
    expect(knownHostsName('10.199.0.2', 22)).to.equal('10.199.0.2');
    expect(knownHostsName('node1.example', 2201)).to.equal('[node1.example]:2201');
  });

  it('matches plain, ssh-keygen -H hashed, wildcard and negated entries', () => {
    const e = parseKnownHosts(knownHostsText);
    expect(e.map((x) => x.line)).to.deep.equal([2, 3, 4, 5, 6]);
    expect(hostFieldMatches(e[0]!.hosts, '[10.199.0.9]:2201')).to.equal(true);
    expect(hostFieldMatches(e[0]!.hosts, '10.199.0.9')).to.equal(false); // port matters
    expect(hostFieldMatches(e[1]!.hosts, '[node1.example]:2201')).to.equal(true); // hashed
    expect(hostFieldMatches(e[2]!.hosts, '10.199.0.2')).to.equal(true); // hashed
    expect(hostFieldMatches(e[2]!.hosts, '10.199.0.3')).to.equal(false);
    expect(hostFieldMatches(e[3]!.hosts, 'n7.pool.example')).to.equal(true);
    expect(hostFieldMatches(e[3]!.hosts, 'bad.pool.example')).to.equal(false);
    expect(e[4]!.marker).to.equal('@revoked');
  });

  it('accepts the known key and says where it was found', () => {
    const c = checkHostKey(hostKey, '10.199.0.2', 22, 'node node1', policy);
    expect(c).to.deep.equal({ ok: true, how: 'known_hosts fixtures/ssh/known_hosts:4' });
  });

  it('unknown host: refused, with host, offered fingerprint and the fix', () => {
    const c = checkHostKey(hostKey, '10.199.0.77', 22, 'node node7', policy);
    expect(c.ok).to.equal(false);
    if (c.ok) return;
    expect(c.kind).to.equal('unknown-host');
    expect(c.message)
      .to.include('node node7 (10.199.0.77) is not known')
      .and.include(fingerprintOf(hostKey))
      .and.include('ssh-keyscan -t ed25519 10.199.0.77 >> fixtures/ssh/known_hosts');
  });

  it('mismatch: refused, with both fingerprints', () => {
    const c = checkHostKey(otherKey, 'node1.example', 2201, 'node node1', policy);
    expect(c.ok).to.equal(false);
    if (c.ok) return;
    expect(c.kind).to.equal('mismatch');
    expect(c.message)
      .to.include(`offered ssh-ed25519 ${fingerprintOf(otherKey)}`)
      .and.include(fingerprintOf(hostKey));
  });

  it('@revoked key: refused even if no other entry exists', () => {
    const c = checkHostKey(otherKey, 'revoked.example', 2201, 'node r', policy);
    expect(c.ok ? 'ok' : c.kind).to.equal('revoked');
  });

  it('pinned fingerprint: exact match only', () => {
    expect(checkHostKey(hostKey, 'any', 22, 'n', { fingerprint: fingerprintOf(hostKey) }).ok).to.equal(true);
    expect(checkHostKey(otherKey, 'any', 22, 'n', { fingerprint: fingerprintOf(hostKey) }).ok).to.equal(false);
  });
});

describe('ssh options from the environment', () => {
  it('upstream defaults: KUBE_SSH_USER, else $USER, else root; key ~/.ssh/id_rsa; missing key is one sentence', () => {
    expect(() => resolveSsh({ node: 'n', host: 'h', env: { HOME: '/nonexistent-home', USER: 'alice' } })).to.throw(
      'SSH private key /nonexistent-home/.ssh/id_rsa (from the default ~/.ssh/id_rsa) cannot be read (no such file); set KUBE_SSH_KEY_PATH or pass keyPath',
    );
  });
  it('a public key given as the private key is refused clearly', () => {
    expect(() => resolveSsh({ node: 'n', host: 'h', privateKey: fx('host_ed25519.pub'), env: {} })).to.throw(/holds no private key/);
  });
  it('garbage as a key is refused clearly', () => {
    expect(() => resolveSsh({ node: 'n', host: 'h', privateKey: 'not a key', env: {} })).to.throw(/is not a usable private key: /);
  });
});
