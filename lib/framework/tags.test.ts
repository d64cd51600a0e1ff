import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { bracketTags, checkGrepPattern, escapeRegex, resolveTag, Tag, tagged, unknownTags } from './tags.ts';

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...specFiles(p));
    else if (name.endsWith('.spec.ts')) out.push(p);
  }
  return out;
}

describe('tag registry', () => {
  it('finds bracketed tags and flags unknown ones', () => {
    expect(bracketTags('x [Feature:SCTP] [Serial]')).to.deep.equal(['[Feature:SCTP]', '[Serial]']);
    expect(unknownTags('x [Feature:SCTP] [Feature:Bogus]')).to.deep.equal(['[Feature:Bogus]']);
  });

  it('every bracketed tag used in suites/ is registered', () => {
    const files = specFiles(new URL('../../suites', import.meta.url).pathname);
    expect(files.length, 'spec files under suites/').to.be.greaterThan(0);
    const bad: string[] = [];
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      // string literals only: titles are written as literals or built with tagged()
      for (const m of src.matchAll(/(['"`])((?:(?!\1).)*)\1/g)) {
        for (const t of unknownTags(m[2]!)) if (/^\[(Feature:|Serial|Disruptive|LinuxOnly|sig-)/.test(t)) bad.push(`${f}: ${t}`);
      }
    }
    expect(bad, `unregistered tags:\n${bad.join('\n')}`).to.be.empty;
  });

  it('renders ginkgo-style titles and escapes for --grep', () => {
    const t = tagged('Pods can declare SCTP HostPorts', [Tag.SCTP, Tag.Serial]);
    expect(t).to.equal('Pods can declare SCTP HostPorts [Feature:SCTP] [Serial]');
    expect(new RegExp(escapeRegex(Tag.SCTP)).test(t)).to.equal(true);
    expect(new RegExp(escapeRegex(Tag.SCTP)).test('x [Feature:SCTPConnectivity]')).to.equal(false);
  });

  it('refuses an unescaped tag in --grep and an invalid regex', () => {
    expect(checkGrepPattern('[Feature:SCTP]')).to.match(/unescaped/);
    expect(checkGrepPattern('(')).to.match(/invalid --grep/);
    expect(checkGrepPattern('\\[Feature:SCTP\\]')).to.equal(undefined);
  });

  it('resolves tag names', () => {
    expect(resolveTag('SCTP')).to.equal(Tag.SCTP);
    expect(resolveTag('Feature:SCTPConnectivity')).to.equal(Tag.SCTPConnectivity);
    expect(resolveTag('Serial')).to.equal(Tag.Serial);
    expect(resolveTag('nope')).to.equal(undefined);
  });
});
