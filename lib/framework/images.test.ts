// The image table: the agnhost tag per Kubernetes minor, registry rewrites (--image-repo, KUBE_TEST_REPO_LIST
// files), the roles a selection uses, and a scan of lib/ and suites/ proving every image a test or helper
// runs is read from a role of this table (so --list-images cannot miss one).

import { globSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { UserError } from './errors.ts';
import {
  AGNHOST_SCTP_IMAGE,
  AGNHOST_TAGS,
  agnhostTagFor,
  IMAGE_ROLES,
  listImages,
  minorOf,
  parseRepoList,
  REPO_LIST_DEFAULTS,
  type Rewrite,
  ROLE_NAMES,
  resolveImages,
  resolveRewrite,
  rewriteImage,
  rolesUsed,
  splitImage,
} from './images.ts';

const none: Rewrite = { kind: 'none' };

describe("images: the agnhost tag follows the cluster's Kubernetes minor", () => {
  it('minorOf reads gitVersion as clusters report it', () => {
    expect(minorOf('v1.34.2')).to.equal(34);
    expect(minorOf('v1.33.0-gke.1234000')).to.equal(33);
    expect(minorOf('v1.31.4+k3s1')).to.equal(31);
    expect(minorOf('1.35')).to.equal(35);
    expect(minorOf('unknown')).to.equal(undefined);
    expect(minorOf(undefined)).to.equal(undefined);
    expect(minorOf('v2.0.0')).to.equal(undefined);
  });

  it("each minor of 1.30..1.36 has its row; 1.34 is 2.56 (what v1.34's e2e.test lists)", () => {
    expect(AGNHOST_TAGS.map((r) => r.minor)).to.deep.equal([30, 31, 32, 33, 34, 35, 36]);
    expect(Object.fromEntries([30, 31, 32, 33, 34, 35, 36].map((m) => [m, agnhostTagFor(m).tag]))).to.deep.equal({
      30: '2.47',
      31: '2.52',
      32: '2.53',
      33: '2.53',
      34: '2.56',
      35: '2.56',
      36: '2.63.0',
    });
    expect(agnhostTagFor(34)).to.deep.equal({ tag: '2.56', minor: 34, why: "the tag upstream's e2e.test uses for Kubernetes 1.34" });
    for (const r of AGNHOST_TAGS) expect(r.evidence, `1.${r.minor}`).to.match(/\S/);
  });

  it('outside the table: newest row for a newer or unknown minor, oldest row for an older one, and says so', () => {
    expect(agnhostTagFor(40)).to.deep.equal({
      tag: '2.63.0',
      minor: 36,
      why: 'Kubernetes 1.40 is newer than the table: the tag of 1.36, the newest minor known',
    });
    expect(agnhostTagFor(undefined)).to.deep.equal({
      tag: '2.63.0',
      minor: 36,
      why: 'cluster version unknown: the tag of Kubernetes 1.36, the newest minor known',
    });
    expect(agnhostTagFor(27)).to.deep.equal({
      tag: '2.47',
      minor: 30,
      why: 'Kubernetes 1.27 is older than the table: the tag of 1.30, the oldest minor known',
    });
  });

  it("resolveImages: the agnhost flavor takes the server version's tag; without one it says the version is unknown", () => {
    const v134 = resolveImages({ flavor: 'agnhost', serverVersion: 'v1.34.1', rewrite: none });
    expect(v134.images.test).to.equal('registry.k8s.io/e2e-test-images/agnhost:2.56');
    expect(v134.versionUnknown).to.equal(false);
    const unknown = resolveImages({ flavor: 'agnhost', rewrite: none });
    expect(unknown.images.test).to.equal('registry.k8s.io/e2e-test-images/agnhost:2.63.0');
    expect(unknown.versionUnknown).to.equal(true);
    expect(unknown.why).to.contain('cluster version unknown');
  });

  it('resolveImages: --image wins over the flavor; agnhost-sctp from the local cluster, else the default; every role gets it', () => {
    expect(resolveImages({ flavor: 'agnhost', explicit: 'my/agnhost:dev', serverVersion: 'v1.34.0', rewrite: none }).images).to.deep.equal({
      test: 'my/agnhost:dev',
      hostExec: 'my/agnhost:dev',
      outside: 'my/agnhost:dev',
    });
    expect(resolveImages({ flavor: 'agnhost-sctp', localAgnhostSctp: 'registry.local/agnhost-sctp:abc', rewrite: none }).images.test).to.equal(
      'registry.local/agnhost-sctp:abc',
    );
    expect(resolveImages({ flavor: 'agnhost-sctp', rewrite: none }).images.outside).to.equal(AGNHOST_SCTP_IMAGE);
  });
});

describe('images: registry rewrites', () => {
  it("splitImage: registry and path, then name:tag (a bare name is Docker Hub's library)", () => {
    expect(splitImage('registry.k8s.io/e2e-test-images/agnhost:2.56')).to.deep.equal({ registry: 'registry.k8s.io/e2e-test-images', nameTag: 'agnhost:2.56' });
    expect(splitImage('localhost:5000/agnhost-sctp@sha256:abcd')).to.deep.equal({ registry: 'localhost:5000', nameTag: 'agnhost-sctp@sha256:abcd' });
    expect(splitImage('busybox:1.36')).to.deep.equal({ registry: 'docker.io/library', nameTag: 'busybox:1.36' });
  });

  it('--image-repo moves every image to the registry, keeping name:tag', () => {
    const rw = resolveRewrite({ SCTP_E2E_IMAGE_REPO: 'my.registry:5000/mirror/' });
    expect(rw).to.deep.equal({ kind: 'repo', registry: 'my.registry:5000/mirror', source: '--image-repo' });
    expect(rewriteImage('registry.k8s.io/e2e-test-images/agnhost:2.56', rw)).to.equal('my.registry:5000/mirror/agnhost:2.56');
    expect(rewriteImage(AGNHOST_SCTP_IMAGE, rw)).to.equal('my.registry:5000/mirror/agnhost-sctp:0.1.0');
    expect(resolveImages({ flavor: 'agnhost', serverVersion: 'v1.32.3', rewrite: rw }).images.hostExec).to.equal('my.registry:5000/mirror/agnhost:2.53');
  });

  it('--image-repo refuses something that is not a registry', () => {
    for (const bad of ['my.registry/agnhost:2.56', 'a b', 'reg/x@sha256:00', ' ']) {
      expect(() => resolveRewrite({ SCTP_E2E_IMAGE_REPO: bad }), bad).to.throw(UserError, /^--image-repo must be a registry such as my\.registry:5000\/e2e/);
    }
  });

  it('a KUBE_TEST_REPO_LIST file: promoterE2eRegistry moves upstream agnhost; agnhostSctpRegistry moves agnhost-sctp; other keys leave both', () => {
    const map = parseRepoList('promoterE2eRegistry: mirror.example/e2e-test-images\ngcRegistry: mirror.example\n', 'f.yaml');
    const rw: Rewrite = { kind: 'list', map, source: 'f.yaml' };
    expect(rewriteImage('registry.k8s.io/e2e-test-images/agnhost:2.56', rw)).to.equal('mirror.example/e2e-test-images/agnhost:2.56');
    expect(rewriteImage(AGNHOST_SCTP_IMAGE, rw)).to.equal(AGNHOST_SCTP_IMAGE);
    const own: Rewrite = { kind: 'list', map: parseRepoList('agnhostSctpRegistry: mirror.example/sctp/\n', 'g.yaml'), source: 'g.yaml' };
    expect(rewriteImage(AGNHOST_SCTP_IMAGE, own)).to.equal('mirror.example/sctp/agnhost-sctp:0.1.0');
    expect(rewriteImage('busybox:1.36', { kind: 'list', map: { dockerLibraryRegistry: 'hub.mirror/library' }, source: 'x' })).to.equal(
      'hub.mirror/library/busybox:1.36',
    );
    expect(parseRepoList('', 'empty.yaml')).to.deep.equal({});
  });

  it("the keys are upstream's RegistryList keys (plus older releases' and our own)", () => {
    expect(Object.keys(REPO_LIST_DEFAULTS)).to.include.members([
      'promoterE2eRegistry',
      'dockerLibraryRegistry',
      'gcRegistry',
      'gcEtcdRegistry',
      'buildImageRegistry',
      'sigStorageRegistry',
      'privateRegistry',
      'invalidRegistry',
      'gcAuthenticatedRegistry',
      'cloudProviderGcpRegistry',
      'agnhostSctpRegistry',
    ]);
    expect(REPO_LIST_DEFAULTS.promoterE2eRegistry).to.equal('registry.k8s.io/e2e-test-images');
  });

  it('an unknown key, a non-string value, a list or bad YAML: one usage sentence naming the file', () => {
    const err = (text: string) => {
      try {
        parseRepoList(text, '--image-repo-list r.yaml');
      } catch (e) {
        expect(e).to.be.instanceOf(UserError);
        expect((e as UserError).exitCode).to.equal(2);
        expect((e as Error).message).not.to.contain('\n');
        return (e as Error).message;
      }
      throw new Error(`accepted: ${text}`);
    };
    expect(err('promoterE2eRegistr: x/y\n')).to.match(
      /^unknown key "promoterE2eRegistr" in --image-repo-list r\.yaml; known: gcAuthenticatedRegistry, promoterE2eRegistry, /,
    );
    expect(err('gcRegistry: [a]\n')).to.equal('gcRegistry in --image-repo-list r.yaml must be a registry such as my.registry/e2e-test-images, not ["a"]');
    expect(err('- a\n- b\n')).to.match(/^--image-repo-list r\.yaml must be a mapping of registry keys/);
    expect(err('gcRegistry: [\n')).to.match(/^--image-repo-list r\.yaml is not valid YAML: \S/);
  });

  it('precedence: --image-repo, then --image-repo-list, then $KUBE_TEST_REPO_LIST; a URL in KUBE_TEST_REPO_LIST is refused', () => {
    expect(resolveRewrite({ SCTP_E2E_IMAGE_REPO: 'a.example', KUBE_TEST_REPO_LIST: '/nonexistent' }).kind).to.equal('repo');
    expect(() => resolveRewrite({ SCTP_E2E_IMAGE_REPO_LIST: '/nonexistent/r.yaml' })).to.throw('--image-repo-list /nonexistent/r.yaml cannot be read: ENOENT');
    expect(() => resolveRewrite({ KUBE_TEST_REPO_LIST: '/nonexistent/r.yaml' })).to.throw('KUBE_TEST_REPO_LIST=/nonexistent/r.yaml cannot be read: ENOENT');
    expect(() => resolveRewrite({ KUBE_TEST_REPO_LIST: 'https://example.com/r.yaml' })).to.throw(/a URL is not supported here/);
    expect(resolveRewrite({})).to.deep.equal({ kind: 'none' });
  });
});

describe('images: the roles a selection uses', () => {
  const src: Record<string, string> = { 'a.spec.ts': 'await f.runPod(...)', 'o.spec.ts': 'const choice = await findOutside(f.config);' };
  const source = (f: string) => src[f]!;

  it('no selected test: no image; any test: the test image; host pods unless node access is ssh/docker/none; outside only for files that use it', () => {
    expect(rolesUsed({ tests: [], nodeAccess: 'auto', source })).to.deep.equal([]);
    expect(rolesUsed({ tests: [{ fullTitle: 'x', file: 'a.spec.ts' }], nodeAccess: 'ssh', source })).to.deep.equal(['test']);
    expect(rolesUsed({ tests: [{ fullTitle: 'x', file: 'a.spec.ts' }], nodeAccess: 'auto', source })).to.deep.equal(['test', 'hostExec']);
    expect(
      rolesUsed({
        tests: [
          { fullTitle: 'x', file: 'a.spec.ts' },
          { fullTitle: 'y', file: 'o.spec.ts' },
        ],
        nodeAccess: 'hostpod',
        source,
      }),
    ).to.deep.equal(['test', 'hostExec', 'outside']);
  });

  it('listImages prints each reference once', () => {
    expect(listImages({ test: 'a/b:1', hostExec: 'a/b:1', outside: 'c/d:2' }, ['test', 'hostExec', 'outside'])).to.deep.equal(['a/b:1', 'c/d:2']);
  });

  it('the full suite with host pods uses every role (so every role is listed by --list-images)', () => {
    const files = globSync('suites/**/*.spec.ts');
    const tests = files.map((file) => ({ fullTitle: file, file }));
    expect(rolesUsed({ tests, nodeAccess: 'auto', source: (f) => readFileSync(f, 'utf8') })).to.deep.equal(ROLE_NAMES);
  });
});

describe('images: every image in lib/ and suites/ comes from a role of lib/framework/images.ts', () => {
  const files = globSync('{lib,suites}/**/*.ts').filter((f) => !f.endsWith('.test.ts') && f !== 'lib/framework/images.ts');
  const code = (f: string) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .map((text, i) => ({ f, n: i + 1, text: text.replace(/\s\/\/ .*$/, '') }))
      .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l.text));

  it('no image reference is written as a literal anywhere else', () => {
    const literal = /['"`](?:[a-z0-9.-]+(?::\d+)?\/)+[a-z0-9._-]+(?::[\w.-]+|@sha256:[0-9a-f]+)['"`]/;
    const hits = files
      .flatMap(code)
      .filter((l) => literal.test(l.text))
      .map((l) => `${l.f}:${l.n}: ${l.text.trim()}`);
    expect(hits, hits.join('\n')).to.deep.equal([]);
    expect(files.length).to.be.above(30);
  });

  it('every `image:` given to a pod or container is images.<role> (or the pass-through parameter of a builder)', () => {
    const passThrough = new Set(['lib/k8s/builders.ts', 'lib/node/hostpod.ts']);
    const seen = new Set<string>();
    const bad: string[] = [];
    for (const l of files.flatMap(code)) {
      for (const m of l.text.matchAll(/\bimage:\s*([^,}\s]+)/g)) {
        const v = m[1]!;
        if (v === 'string;' || v === '{' || v === "'image'" || v.startsWith('${')) continue; // types, parseArgs, config keys, messages
        const role = /^(?:[\w.]+\.)?images\.(\w+)$/.exec(v)?.[1];
        if (role && role in IMAGE_ROLES) seen.add(role);
        else if (!(v === 'o.image' && passThrough.has(l.f))) bad.push(`${l.f}:${l.n}: image: ${v}`);
      }
    }
    expect(bad, bad.join('\n')).to.deep.equal([]);
    expect([...seen].sort(), 'each role is used somewhere (no dead role, none missing)').to.deep.equal([...ROLE_NAMES].sort());
  });
});
