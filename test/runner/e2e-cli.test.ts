// `npm run e2e` input that is checked before any cluster is touched: --require, --config, and the usage text
// (exit codes). The real CLI in a child process; no cluster needed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CAPABILITIES } from '../../lib/framework/capabilities.ts';
import { mergeConfigFile, parseConfigFile } from '../../lib/framework/config.ts';
import { ExitCode } from '../../lib/framework/errors.ts';

function e2e(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  // SCTP_E2E_CLUSTER_DIR: never this machine's local cluster, whatever state it is in (a lane may be running)
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig', SCTP_E2E_CLUSTER_DIR: '/nonexistent/cluster-dir', ...extraEnv };
  delete env.SCTP_E2E_REQUIRE;
  for (const k of ['SCTP_E2E_IMAGE', 'SCTP_E2E_FLAVOR', 'SCTP_E2E_IMAGE_REPO', 'SCTP_E2E_IMAGE_REPO_LIST', 'SCTP_E2E_SERVER_VERSION', 'ARTIFACTS'])
    delete env[k];
  if (!extraEnv.KUBE_TEST_REPO_LIST) delete env.KUBE_TEST_REPO_LIST;
  const p = spawnSync(process.execPath, ['--import', 'tsx', 'bin/sctp-e2e.ts', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

describe('e2e CLI: --require, --config and --report', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('an unknown capability in --require is a usage error naming the known ones', () => {
    const r = e2e(['run', '--require', 'node-access,warp-drive']);
    expect(r.code, r.stderr).to.equal(ExitCode.usage);
    expect(r.stderr).to.contain('unknown capability "warp-drive" in --require; known: ' + Object.keys(CAPABILITIES).join(', '));
  });

  it('an unknown capability in the config file names the file', () => {
    const r = e2e(['run', '--config', file('bad-cap.yaml', 'require: [loadbalancer, teleport]\n')]);
    expect(r.code, r.stderr).to.equal(ExitCode.usage);
    expect(r.stderr).to.contain(`unknown capability "teleport" in require in --config ${join(dir, 'bad-cap.yaml')}`);
  });

  it('an unknown key, a wrong type, bad YAML or a missing file: usage errors in one sentence', () => {
    const unknown = e2e(['run', '--config', file('bad-key.yaml', 'requires: [dns]\n')]);
    expect(unknown.code).to.equal(ExitCode.usage);
    expect(unknown.stderr).to.contain('unknown key "requires" in --config').and.contain('known: require, tag, skipTag, nodeAccess, junit');
    const badNodeAccess = e2e(['run', '--config', file('na.json', '{"nodeAccess": "telnet"}')]);
    expect(badNodeAccess.code).to.equal(ExitCode.usage);
    expect(badNodeAccess.stderr).to.contain('--node-access must be one of auto, ssh, hostpod, docker, none, not "telnet"');
    const missing = e2e(['run', '--config', join(dir, 'nope.yaml')]);
    expect(missing.code).to.equal(ExitCode.usage);
    expect(missing.stderr).to.contain('cannot be read: ENOENT');
  });

  it('--lab: an unknown kind, or --lab with --kubeconfig, is a usage error before any cluster is touched', () => {
    const bad = e2e(['run', '--lab', 'huge']);
    expect(bad.code, bad.stderr).to.equal(ExitCode.usage);
    expect(bad.stderr).to.contain('--lab must be one of full, minimal, kernel, not "huge"');
    const both = e2e(['run', '--lab', 'full', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(both.code, both.stderr).to.equal(ExitCode.usage);
    expect(both.stderr).to.contain('--lab brings up (or reuses) the embedded local cluster; it does not go with --kubeconfig');
    expect(e2e(['--help']).stdout)
      .to.contain('--lab KIND')
      .and.contain('full (default: two nodes, the LoadBalancer controller, Cilium');
  });

  it('--help lists --require, --config and every exit code including 8 (nothing verified)', () => {
    const r = e2e(['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('--require LIST').and.contain('--config FILE').and.contain('--report DIR');
    expect(r.stdout).to.match(/8 nothing verified \(no test ran, or every selected test skipped\)/);
  });

  it('--report DIR that cannot be a writable directory: one sentence, usage exit code, no stack, before any cluster', () => {
    const notDir = file('plain-file', 'x');
    for (const [args, why] of [
      [['--report', join(notDir, 'out')], 'ENOTDIR'],
      [['--report', notDir], 'EEXIST'],
    ] as const) {
      const r = e2e(['run', ...args]);
      expect(r.code, r.stderr).to.equal(ExitCode.usage);
      expect(r.stderr).to.equal(`sctp-e2e: --report ${args[1]} is not a writable directory: ${why}\n`);
    }
    const viaConfig = e2e(['run', '--config', file('report.yaml', `report: ${join(notDir, 'out')}\n`)]);
    expect(viaConfig.code).to.equal(ExitCode.usage);
    expect(viaConfig.stderr).to.contain(`--report ${join(notDir, 'out')} is not a writable directory: ENOTDIR`);
  });

  it('--report DIR that is writable passes the check (the run then stops at the missing kubeconfig, exit 3)', () => {
    const r = e2e(['run', '--report', join(dir, 'new', 'report'), '--no-cluster-up']);
    expect(r.code, r.stderr).to.equal(ExitCode.kubeconfig);
  });

  it('config file: YAML and JSON, lists or comma strings; flags override it', () => {
    expect(parseConfigFile('require: node-access, dns\ntag: [SCTP]\nnodeAccess: ssh\n', 'x.yaml')).to.deep.equal({
      require: ['node-access', 'dns'],
      tag: ['SCTP'],
      nodeAccess: 'ssh',
    });
    expect(parseConfigFile('{"skipTag": ["Disruptive"], "junit": "out/j.xml"}', 'x.json')).to.deep.equal({ skipTag: ['Disruptive'], junit: 'out/j.xml' });
    expect(parseConfigFile('', 'empty.yaml')).to.deep.equal({});
    expect(() => parseConfigFile('tag: [SCTP', 'broken.yaml')).to.throw(/--config broken\.yaml is not valid YAML or JSON/);
    expect(() => parseConfigFile('junit: [a]', 'x.yaml')).to.throw('junit in --config x.yaml must be a string');
    const merged = mergeConfigFile({ require: ['dns'], tag: undefined, 'node-access': 'none' } as Record<string, unknown>, {
      require: ['loadbalancer'],
      tag: ['SCTP'],
      nodeAccess: 'ssh',
      junit: 'out/j.xml',
    });
    expect(merged).to.deep.equal({ require: ['dns'], tag: ['SCTP'], 'node-access': 'none', junit: 'out/j.xml' });
  });
});

describe('e2e CLI: --list-images, --image-repo, --image-repo-list (no cluster contacted)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-images-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it("prints the selection's images one per line and exits 0, with no kubeconfig to read", () => {
    const r = e2e(['run', '--list-images']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('registry.local/agnhost-sctp:0.1.0\n');
    expect(r.stderr).to.match(/^sctp-e2e: \d+ selected tests use test, hostExec, outside \(agnhost-sctp default\)\n$/);
  });

  it("--flavor agnhost without a cluster: the newest known minor's tag, and stderr says no cluster was contacted", () => {
    const r = e2e(['run', '--list-images', '--flavor', 'agnhost', '--tag', 'SCTP', '--node-access', 'ssh']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('registry.k8s.io/e2e-test-images/agnhost:2.63.0\n');
    expect(r.stderr).to.contain('selected tests use test (upstream agnhost, cluster version unknown: the tag of Kubernetes 1.36, the newest minor known)');
    expect(r.stderr).to.contain("no cluster contacted: a run picks the agnhost tag of the cluster's Kubernetes minor");
  });

  it('a selection that matches no test uses no image', () => {
    const r = e2e(['run', '--list-images', '--grep', 'no test is called this']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain('the selection matches no test, so no image is used');
  });

  it('--image-repo rewrites the registry and keeps name:tag; so does a repo-list file, by flag, by config file or by $KUBE_TEST_REPO_LIST', () => {
    expect(e2e(['run', '--list-images', '--image-repo', 'mirror.example:5000/e2e']).stdout).to.equal('mirror.example:5000/e2e/agnhost-sctp:0.1.0\n');
    const list = file('repo-list.yaml', 'promoterE2eRegistry: mirror.example/e2e-test-images\nagnhostSctpRegistry: mirror.example/sctp\n');
    expect(e2e(['run', '--list-images', '--flavor', 'agnhost', '--image-repo-list', list]).stdout).to.equal('mirror.example/e2e-test-images/agnhost:2.63.0\n');
    expect(e2e(['run', '--list-images', '--config', file('c.yaml', `imageRepoList: ${list}\n`)]).stdout).to.equal('mirror.example/sctp/agnhost-sctp:0.1.0\n');
    expect(e2e(['run', '--list-images', '--flavor', 'agnhost'], { KUBE_TEST_REPO_LIST: list }).stdout).to.equal(
      'mirror.example/e2e-test-images/agnhost:2.63.0\n',
    );
    expect(e2e(['run', '--list-images', '--image', 'registry.example/agnhost-sctp:dev', '--image-repo', 'mirror.example']).stdout).to.equal(
      'mirror.example/agnhost-sctp:dev\n',
    );
  });

  it('an unknown key or a malformed repo-list file: one line, usage exit code, no stack', () => {
    const unknown = e2e(['run', '--list-images', '--image-repo-list', file('bad.yaml', 'promoterRegistry: x/y\n')]);
    expect(unknown.code).to.equal(ExitCode.usage);
    expect(unknown.stderr).to.match(/^sctp-e2e: unknown key "promoterRegistry" in --image-repo-list \S+bad\.yaml; known: [^\n]*promoterE2eRegistry[^\n]*\n$/);
    const broken = e2e(['run'], { KUBE_TEST_REPO_LIST: file('broken.yaml', 'gcRegistry: [\n') });
    expect(broken.code).to.equal(ExitCode.usage);
    expect(broken.stderr).to.match(/^sctp-e2e: KUBE_TEST_REPO_LIST=\S+broken\.yaml is not valid YAML: [^\n]+\n$/);
    const missing = e2e(['run', '--image-repo-list', join(dir, 'nope.yaml')]);
    expect(missing.code).to.equal(ExitCode.usage);
    expect(missing.stderr).to.match(/^sctp-e2e: --image-repo-list \S+nope\.yaml cannot be read: ENOENT\n$/);
  });

  it('--help documents the image flags and the $ARTIFACTS JUnit path', () => {
    const r = e2e(['--help']);
    expect(r.stdout)
      .to.contain('--image-repo REG')
      .and.contain('--image-repo-list F')
      .and.contain('--list-images')
      .and.contain('$KUBE_TEST_REPO_LIST')
      .and.contain('$ARTIFACTS/junit_sctp-e2e.xml')
      .and.contain('imageRepo, imageRepoList');
  });
});
