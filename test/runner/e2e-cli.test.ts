// `npm run e2e` input that is checked before any cluster is touched: --require, --config, and the usage text
// (exit codes). The real CLI in a child process; no cluster needed.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPABILITIES } from '../../lib/framework/capabilities.ts';
import { mergeConfigFile, parseConfigFile } from '../../lib/framework/config.ts';
import { ExitCode } from '../../lib/framework/errors.ts';

function e2e(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig' };
  delete env.SCTP_E2E_REQUIRE;
  const p = spawnSync(process.execPath, ['--import', 'tsx', 'bin/sctp-e2e.ts', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

describe('e2e CLI: --require, --config and --report', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-cli-')); });
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

  it('--help lists --require, --config and every exit code including 8 (nothing verified)', () => {
    const r = e2e(['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('--require LIST').and.contain('--config FILE').and.contain('--report DIR');
    expect(r.stdout).to.match(/8 nothing verified \(no test ran, or every selected test skipped\)/);
  });

  it('--report DIR that cannot be a writable directory: one sentence, usage exit code, no stack, before any cluster', () => {
    const notDir = file('plain-file', 'x');
    for (const [args, why] of [[['--report', join(notDir, 'out')], 'ENOTDIR'], [['--report', notDir], 'EEXIST']] as const) {
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
    expect(parseConfigFile('require: node-access, dns\ntag: [SCTP]\nnodeAccess: ssh\n', 'x.yaml')).to.deep.equal({ require: ['node-access', 'dns'], tag: ['SCTP'], nodeAccess: 'ssh' });
    expect(parseConfigFile('{"skipTag": ["Disruptive"], "junit": "out/j.xml"}', 'x.json')).to.deep.equal({ skipTag: ['Disruptive'], junit: 'out/j.xml' });
    expect(parseConfigFile('', 'empty.yaml')).to.deep.equal({});
    expect(() => parseConfigFile('tag: [SCTP', 'broken.yaml')).to.throw(/--config broken\.yaml is not valid YAML or JSON/);
    expect(() => parseConfigFile('junit: [a]', 'x.yaml')).to.throw('junit in --config x.yaml must be a string');
    const merged = mergeConfigFile({ require: ['dns'], tag: undefined, 'node-access': 'none' } as Record<string, unknown>,
      { require: ['loadbalancer'], tag: ['SCTP'], nodeAccess: 'ssh', junit: 'out/j.xml' });
    expect(merged).to.deep.equal({ require: ['dns'], tag: ['SCTP'], 'node-access': 'none', junit: 'out/j.xml' });
  });
});
