// Specs declare their waits by name instead of adding up timeouts (the import boundaries between the rooms
// are checked by boundaries.ts with rules.ts).

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect } from 'chai';

const root = resolve(import.meta.dirname, '../..');
const files = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => relative(root, join(d.parentPath, d.name)));

describe('specs', () => {
  it('specs declare what they wait for (f.budget): no this.timeout(), no arithmetic on named timeouts', () => {
    const arithmetic = /this\.timeout\(|timeouts\.\w+\s*[-+*/]|[-+*/]\s*timeouts\.\w+/;
    const out = files('suites').flatMap((f) =>
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .map((l, i) => [l, i] as const)
        .filter(([l]) => arithmetic.test(l))
        .map(([l, i]) => `${f}:${i + 1}: ${l.trim()}`),
    );
    expect(out).to.deep.equal([]);
  });
});
