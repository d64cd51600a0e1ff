import { expect } from 'chai';
import { checkBoundaries, globToRegExp, importsOf, renderBoundaryResult, repoTsFiles } from './boundaries.ts';
import { ALLOWED, RULES } from './rules.ts';

// A tree in memory: a spec that reaches the raw client, a core file that reaches node access, a vm file that
// reaches cluster/ beside the contract, and the contract importing the renderers.
const FIXTURE: Record<string, string> = {
  'suites/sctp/bad.spec.ts': "import { expect } from 'chai';\nimport { api } from '../../lib/k8s/client.ts';\n",
  'suites/sctp/good.spec.ts': "import { useE2E } from '../../lib/e2e.ts';\n",
  'lib/framework/bad.ts': "import type { NodeExec } from '../node/exec.ts';\nexport { x } from './ok.ts';\n",
  'lib/framework/lazy.ts': "export async function f() { return import('../report/html.ts'); }\n",
  'vm/join.ts': "import { layout } from '../cluster/contract.ts';\nimport { up } from '../cluster/up.ts';\n",
  'cluster/contract.ts': "import { nodeSpec } from './topology.ts';\nexport { renderCoreDNSManifests } from './render.ts';\n",
};
const check = (allow = [] as typeof ALLOWED) =>
  checkBoundaries({ root: '/nonexistent', files: Object.keys(FIXTURE), rules: RULES, allow, read: (p) => FIXTURE[p]! });

describe('import boundaries (lib/lint)', () => {
  it('globs: * stays within a segment, ** spans any depth', () => {
    expect(globToRegExp('suites/**').test('suites/sctp/a.spec.ts')).to.equal(true);
    expect(globToRegExp('lib/*.ts').test('lib/k8s/client.ts')).to.equal(false);
    expect(globToRegExp('lib/**/*.ts').test('lib/a.ts')).to.equal(true);
  });

  it('finds static, type-only, re-exported and dynamic relative imports with their lines', () => {
    expect(importsOf("import a from 'x';\nimport type { B } from './b.ts';\nexport * from '../c.ts';\nawait import('./d.ts');\n")).to.deep.equal([
      { specifier: './b.ts', line: 2 },
      { specifier: '../c.ts', line: 3 },
      { specifier: './d.ts', line: 4 },
    ]);
  });

  it('fails a violating tree, naming file, line, import, resolved target and rule', () => {
    const r = check();
    expect(r.violations.map((v) => `${v.rule} ${v.file}:${v.line} ${v.target}`)).to.deep.equal([
      'specs-use-the-facade suites/sctp/bad.spec.ts:2 lib/k8s/client.ts',
      'core-imports-no-optional-part lib/framework/bad.ts:1 lib/node/exec.ts',
      'core-imports-no-optional-part lib/framework/lazy.ts:1 lib/report/html.ts',
      'vm-reads-the-cluster-contract vm/join.ts:2 cluster/up.ts',
      'contract-is-a-leaf cluster/contract.ts:2 cluster/render.ts',
    ]);
    expect(renderBoundaryResult(r).split('\n')[0]).to.equal(
      "suites/sctp/bad.spec.ts:2: import '../../lib/k8s/client.ts' (lib/k8s/client.ts) breaks rule specs-use-the-facade: " +
        'specs reach the cluster through useE2E (lib/e2e.ts), never the raw API client',
    );
  });

  it('an allow-list entry admits exactly its file and target; an entry that matches nothing is reported as stale', () => {
    const allow = [
      { rule: 'specs-use-the-facade', file: 'suites/sctp/bad.spec.ts', target: 'lib/k8s/client.ts', todo: 't' },
      { rule: 'specs-use-the-facade', file: 'suites/sctp/gone.spec.ts', target: 'lib/k8s/client.ts', todo: 't' },
    ];
    const r = check(allow);
    expect(r.allowed).to.equal(1);
    expect(r.violations.map((v) => v.file)).to.not.include('suites/sctp/bad.spec.ts');
    expect(r.stale.map((s) => s.file)).to.deep.equal(['suites/sctp/gone.spec.ts']);
    expect(renderBoundaryResult(r)).to.include('suites/sctp/gone.spec.ts -> lib/k8s/client.ts matches nothing any more');
  });

  it('the repository keeps its boundaries (with the allow-list in rules.ts)', () => {
    const r = checkBoundaries({ root: '.', files: repoTsFiles('.'), rules: RULES, allow: ALLOWED });
    expect(renderBoundaryResult(r)).to.equal('');
  });
});
