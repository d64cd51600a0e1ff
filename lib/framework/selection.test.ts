import { expect } from 'chai';
import { escapeRegex, selectionPattern, Tag } from './tags.ts';

const titles = [
  'SCTP Services declare ports [Feature:SCTP]',
  'SCTP NetworkPolicy does not allow TCP [Feature:SCTP] [Feature:NetworkPolicy]',
  'SCTPConnectivity pod to pod [Feature:SCTPConnectivity] [Disruptive]',
  'SCTPConnectivity NetworkPolicy tables [Feature:SCTPConnectivity] [Feature:NetworkPolicy] [Disruptive]',
];
const pick = (p: string | undefined) => titles.filter((t) => (p ? new RegExp(p).test(t) : true));

describe('test selection (--grep, --tag, --skip-tag)', () => {
  it('a tag selects its tests only ([Feature:SCTP] does not match [Feature:SCTPConnectivity])', () => {
    expect(pick(selectionPattern([escapeRegex(Tag.SCTP)], []))).to.deep.equal([titles[0], titles[1]]);
  });
  it('--tag with --skip-tag', () => {
    expect(pick(selectionPattern([escapeRegex(Tag.SCTPConnectivity)], [escapeRegex(Tag.NetworkPolicy)]))).to.deep.equal([titles[2]]);
  });
  it('--skip-tag alone, and --grep AND --tag', () => {
    expect(pick(selectionPattern([], [escapeRegex(Tag.NetworkPolicy)]))).to.deep.equal([titles[0], titles[2]]);
    expect(pick(selectionPattern(['pod to pod|declare', escapeRegex(Tag.SCTPConnectivity)], []))).to.deep.equal([titles[2]]);
  });
});
