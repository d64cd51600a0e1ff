// agnhost-sctp's exit classes come from one table (agnhost-sctp/exit-classes.json); the C header,
// this directory's exit-classes.generated.ts and the README table are generated from it by
// `npm run agnhost:gen`. These tests fail when a generated file is stale or the two sides differ.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AGNHOST_DIR, generatedFiles, HEADER_PATH, parseTable, readTable, staleFiles } from '../../agnhost-sctp/gen-exit-classes.ts';
import { skipTest } from '../framework/skip.ts';
import { AGNHOST_SCTP_EXIT_CLASS, AGNHOST_SCTP_EXIT_CODE } from './exit-classes.generated.ts';

const tsPairs = () =>
  Object.entries(AGNHOST_SCTP_EXIT_CLASS)
    .map(([code, name]) => [Number(code), name] as [number, string])
    .sort((a, b) => a[0] - b[0]);

/** enum cls { CLS_NAME = N, … } and EXIT_CLASSES(X) X(CLS_NAME, "NAME") … as written in the header. */
function headerPairs(text: string): { enumPairs: [number, string][]; xNames: [string, string][] } {
  const body = /enum cls \{([\s\S]*?)\};/.exec(text)?.[1] ?? '';
  const enumPairs = [...body.matchAll(/CLS_([A-Z0-9_]+) = (\d+),/g)].map((m) => [Number(m[2]), m[1]!] as [number, string]).sort((a, b) => a[0] - b[0]);
  const xNames = [...text.matchAll(/X\(CLS_([A-Z0-9_]+), "([^"]*)"\)/g)].map((m) => [m[1]!, m[2]!] as [string, string]);
  return { enumPairs, xNames };
}

describe('agnhost-sctp exit classes (one table → C header, TS module, README)', () => {
  it('the generated files match agnhost-sctp/exit-classes.json (else run `npm run agnhost:gen` and commit)', () => {
    expect(staleFiles(), 'stale generated files; run `npm run agnhost:gen`').to.deep.equal([]);
  });

  it('the TS module has exactly the table: code → class and class → code', () => {
    const t = readTable();
    expect(tsPairs()).to.deep.equal(t.map((c) => [c.exit, c.name]).sort((a, b) => (a[0] as number) - (b[0] as number)));
    expect(Object.entries(AGNHOST_SCTP_EXIT_CODE)).to.deep.equal(t.map((c) => [c.name, c.exit]));
  });

  it("the C header's enum cls and EXIT_CLASSES names equal the TS values", () => {
    const { enumPairs, xNames } = headerPairs(readFileSync(HEADER_PATH, 'utf8'));
    expect(enumPairs).to.deep.equal(tsPairs());
    expect(
      xNames
        .map(([sym, name]) => [AGNHOST_SCTP_EXIT_CODE[name as keyof typeof AGNHOST_SCTP_EXIT_CODE], sym])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
    ).to.deep.equal(tsPairs(), 'every X(CLS_NAME, "NAME") names its own class');
  });

  it('compiled, the C side gives the TS values: CLS_* codes and net.c cls_name ("OTHER" for an unknown code)', function () {
    this.timeout(60_000);
    try {
      execFileSync('sh', ['-c', 'command -v gcc'], { stdio: 'ignore' });
    } catch {
      skipTest(this, 'gcc not on PATH (build-essential; .ci/install-deps.sh)');
    }
    const dir = mkdtempSync(join(tmpdir(), 'exit-classes-'));
    try {
      writeFileSync(
        join(dir, 'p.c'),
        [
          '#include <stdio.h>',
          '#include "net.h"',
          'int main(void) {',
          '#define P(sym, name) printf("%d %s %s\\n", (int)(sym), name, cls_name(sym));',
          '  EXIT_CLASSES(P)',
          '  printf("unknown %s\\n", cls_name(200));',
          '  return 0;',
          '}',
          '',
        ].join('\n'),
      );
      execFileSync(
        'gcc',
        [
          '-std=gnu11',
          '-Wall',
          '-Wextra',
          '-Werror',
          `-I${join(AGNHOST_DIR, 'src')}`,
          '-o',
          join(dir, 'p'),
          join(dir, 'p.c'),
          join(AGNHOST_DIR, 'src', 'net.c'),
        ],
        { stdio: 'pipe' },
      );
      const lines = execFileSync(join(dir, 'p'), { encoding: 'utf8' }).trim().split('\n');
      expect(lines.pop()).to.equal('unknown OTHER');
      const c = lines
        .map((l) => l.split(' '))
        .map(([code, name, clsName]) => {
          expect(clsName, `cls_name(${code})`).to.equal(name);
          return [Number(code), name] as [number, string];
        })
        .sort((a, b) => a[0] - b[0]);
      expect(c).to.deep.equal(tsPairs());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('staleness is detected: a changed table gives different generated files', () => {
    const t = readTable();
    const changed = t.map((c) => (c.name === 'DNS' ? { ...c, exit: 9 } : c));
    const a = generatedFiles(t),
      b = generatedFiles(changed);
    for (let i = 0; i < a.length; i++) expect(b[i]!.content, a[i]!.path).to.not.equal(a[i]!.content);
  });

  it('the table is validated: duplicate codes or names, bad names, OK not 0', () => {
    const one = (c: object) => JSON.stringify({ classes: [{ name: 'OK', exit: 0, line: 'none', meaning: 'ok' }, c] });
    expect(() => parseTable(one({ name: 'X', exit: 0, line: 'stdout', meaning: 'm' }))).to.throw(/exit 0 twice|only OK/);
    expect(() => parseTable(one({ name: 'OK', exit: 1, line: 'stdout', meaning: 'm' }))).to.throw(/OK twice|only OK/);
    expect(() => parseTable(one({ name: 'lower', exit: 1, line: 'stdout', meaning: 'm' }))).to.throw(/UPPER_CASE/);
    expect(() => parseTable(one({ name: 'X', exit: 256, line: 'stdout', meaning: 'm' }))).to.throw(/0\.\.255/);
    expect(() => parseTable(one({ name: 'X', exit: 1, line: 'both', meaning: 'm' }))).to.throw(/line/);
    expect(() => parseTable(one({ name: 'X', exit: 1, line: 'stdout', meaning: 'a | b' }))).to.throw(/meaning/);
    expect(parseTable(one({ name: 'X', exit: 1, line: 'stdout', meaning: 'm' })).map((c) => c.name)).to.deep.equal(['OK', 'X']);
  });
});
