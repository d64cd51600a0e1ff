import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { classifySctpModule, compareSctpModule, parseSctpModuleProbe } from './sctp-module.ts';

/** vm-debian-6.1-*: captured in the kernel-lane VM by vm/capture-fixtures.sh, read where it writes them; the rest: ./fixtures. */
const fx = (name: string) =>
  readFileSync(new URL(name.startsWith('vm-') ? `../../vm/fixtures/sctp-module/${name}` : `./fixtures/sctp-module/${name}`, import.meta.url), 'utf8');

describe('sctp module probe classification', () => {
  it('this machine (captured): no SCTP in the kernel, evidence names CONFIG_IP_SCTP', () => {
    const c = classifySctpModule(fx('host-6.18-no-sctp.txt'), 0);
    expect(c.state).to.equal('no-sctp');
    expect(c.evidence).to.include('# CONFIG_IP_SCTP is not set');
    expect(c.evidence).to.include('/proc/config.gz');
    expect(c.facts.procModules).to.equal('absent');
    expect(c.facts.configModules).to.equal('not set');
  });

  it('Debian 6.1 VM before sctp.ko is loaded (captured in the vm/ lane): not-loaded (CONFIG_IP_SCTP=m, no /proc/modules line)', () => {
    const c = classifySctpModule(fx('vm-debian-6.1-not-loaded.txt'), 0);
    expect(c.state).to.equal('not-loaded');
    expect(c.evidence).to.include('CONFIG_IP_SCTP=m');
    expect(c.facts.sctpKoFiles).to.deep.equal(['/lib/modules/6.1.0-56-amd64/kernel/net/sctp/sctp.ko']);
  });

  it('Debian 6.1 VM after a socket() loaded sctp.ko (captured in the vm/ lane): loaded, evidence quotes the /proc/modules line', () => {
    const c = classifySctpModule(fx('vm-debian-6.1-loaded.txt'), 0);
    expect(c.state).to.equal('loaded');
    expect(c.evidence).to.include('sctp 446464 2 - Live');
    expect(c.facts.relatedModules).to.have.length(1);
    expect(c.facts.relatedModules[0]).to.match(/^libcrc32c 16384 1 sctp, Live 0x/);
    expect(c.facts.sysModuleInitstate).to.equal('live');
  });

  it('built-in SCTP (invisible to lsmod) is builtin, not not-loaded', () => {
    const c = classifySctpModule(fx('builtin-sctp.txt'), 0);
    expect(c.state).to.equal('builtin');
    expect(c.evidence).to.include('CONFIG_IP_SCTP=y');
  });

  it('no kernel config but /proc/modules readable and sctp.ko on disk: not-loaded; nf_conntrack_sctp is not sctp', () => {
    const c = classifySctpModule(fx('not-loaded-no-config.txt'), 0);
    expect(c.state).to.equal('not-loaded');
    expect(c.evidence).to.include('sctp.ko.zst exists');
    expect(c.facts.relatedModules[0]).to.match(/^nf_conntrack_sctp /);
  });

  it('truncated output is unknown, never not-loaded', () => {
    const c = classifySctpModule(fx('truncated.txt'));
    expect(c.state).to.equal('unknown');
    expect(c.evidence).to.include('end marker missing');
  });

  it('a non-zero exit code is unknown even with a complete-looking output', () => {
    const c = classifySctpModule(fx('vm-debian-6.1-not-loaded.txt'), 126);
    expect(c.state).to.equal('unknown');
    expect(c.evidence).to.include('exit code 126');
  });

  it('empty output (command failed) is unknown', () => {
    expect(classifySctpModule('', 1).state).to.equal('unknown');
    expect(classifySctpModule('').state).to.equal('unknown');
  });

  it('unreadable /proc/modules on a modular kernel without config is unknown', () => {
    const out =
      '== uname\n6.1.0\n== proc-modules\nabsent\n== sys-module-sctp\nabsent\n== proc-net-sctp\nabsent\n== config\nsource ' +
      'none\n== lib-modules\nabsent\n== end\n';
    const c = classifySctpModule(out, 0);
    expect(c.state).to.equal('unknown');
    expect(c.evidence).to.include('/proc/modules absent');
  });

  it('config says not set but /proc/net/sctp exists: unknown (contradiction shown)', () => {
    const out = fx('host-6.18-no-sctp.txt').replace('== proc-net-sctp\nabsent', '== proc-net-sctp\npresent');
    expect(parseSctpModuleProbe(out).procNetSctp).to.equal('present');
    expect(classifySctpModule(out, 0).state).to.equal('unknown');
  });
});

describe('compareSctpModule', () => {
  const notLoaded = { ...classifySctpModule(fx('vm-debian-6.1-not-loaded.txt'), 0), node: 'worker-1' };
  const loaded = { ...classifySctpModule(fx('vm-debian-6.1-loaded.txt'), 0), node: 'worker-1' };
  const unknown = { ...classifySctpModule(fx('truncated.txt')), node: 'worker-1' };
  const noSctp = { ...classifySctpModule(fx('host-6.18-no-sctp.txt'), 0), node: 'worker-1' };

  it('not-loaded -> loaded is a violation naming the node and both evidences', () => {
    const v = compareSctpModule(notLoaded, loaded);
    expect(v?.kind).to.equal('loaded-during-test');
    expect(v?.message).to.include('node worker-1');
    expect(v?.message).to.include('CONFIG_IP_SCTP=m');
    expect(v?.message).to.include('sctp 446464 2 - Live');
  });

  it('not-loaded -> not-loaded is fine', () => {
    expect(compareSctpModule(notLoaded, notLoaded)).to.equal(undefined);
  });

  it('not-loaded -> unknown is reported as cannot-tell, not a pass', () => {
    expect(compareSctpModule(notLoaded, unknown)?.kind).to.equal('cannot-tell-after');
  });

  it('loaded before, or no SCTP in the kernel: nothing to compare', () => {
    expect(compareSctpModule(loaded, loaded)).to.equal(undefined);
    expect(compareSctpModule(noSctp, noSctp)).to.equal(undefined);
  });
});
