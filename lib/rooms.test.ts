// The rooms of docs/ARCHITECTURE.md, checked on the sources: the core (lib/framework) imports no optional
// part of lib/, specs reach the cluster only through the facade (lib/e2e.ts), never lib/k8s/client.ts, and
// specs declare their waits by name instead of adding up timeouts.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const files = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => relative(root, join(d.parentPath, d.name)));

/** The repository paths a file imports (relative specifiers only). */
function imports(file: string): string[] {
  const src = readFileSync(join(root, file), 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => relative(root, resolve(root, dirname(file), m[1]!)));
}

describe('rooms', () => {
  it('lib/framework imports nothing else of lib/ (the core imports no optional part)', () => {
    const out = files('lib/framework').filter((f) => !f.endsWith('.test.ts'))
      .flatMap((f) => imports(f).filter((i) => i.startsWith('lib/') && !i.startsWith('lib/framework/')).map((i) => `${f} imports ${i}`));
    expect(out).to.deep.equal([]);
  });

  it('specs and their helpers never import lib/k8s/client.ts (they go through useE2E)', () => {
    const out = files('suites').flatMap((f) => imports(f).filter((i) => i === 'lib/k8s/client.ts').map(() => f));
    expect(out).to.deep.equal([]);
  });

  it('specs declare what they wait for (f.budget): no this.timeout(), no arithmetic on named timeouts', () => {
    const arithmetic = /this\.timeout\(|timeouts\.\w+\s*[-+*/]|[-+*/]\s*timeouts\.\w+/;
    const out = files('suites').flatMap((f) => readFileSync(join(root, f), 'utf8').split('\n')
      .map((l, i) => [l, i] as const).filter(([l]) => arithmetic.test(l)).map(([l, i]) => `${f}:${i + 1}: ${l.trim()}`));
    expect(out).to.deep.equal([]);
  });
});
