import { expect } from 'chai';
import { formatDuration, goDuration, roundSeconds } from './duration.ts';

describe('formatDuration', () => {
  it('milliseconds below a second, tenths of seconds below two minutes, then minutes and seconds', () => {
    const cases: [number, string][] = [
      [0, '0ms'],
      [250.4, '250ms'],
      [999, '999ms'],
      [1000, '1s'],
      [1049, '1s'],
      [1500, '1.5s'],
      [30_000, '30s'],
      [59_949, '59.9s'],
      [119_940, '119.9s'],
      [119_960, '2m0s'],
      [120_000, '2m0s'],
      [125_400, '2m5s'],
      [3_599_600, '60m0s'],
    ];
    expect(cases.map(([ms]) => formatDuration(ms))).to.deep.equal(cases.map(([, s]) => s));
  });

  it('roundSeconds keeps one decimal as a number', () => {
    expect([roundSeconds(0), roundSeconds(1049), roundSeconds(12_345)]).to.deep.equal([0, 1, 12.3]);
  });

  it('goDuration writes whole seconds as "Ns", else milliseconds (a flag value for agnhost)', () => {
    expect([goDuration(5000), goDuration(1500), goDuration(250), goDuration(120_000)]).to.deep.equal(['5s', '1500ms', '250ms', '120s']);
  });
});
