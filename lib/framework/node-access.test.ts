import { expect } from 'chai';
import type { RunConfig } from './config.ts';
import { NODE_ACCESS_CHOICES, NODE_ACCESS_MODES, type NodeAccessChoice, TRANSPORTS } from './node-access.ts';

// Compiles only while config.ts's RunConfig['nodeAccess'] and NodeAccessChoice name the same values.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const choicesMatchConfig: Same<RunConfig['nodeAccess'], NodeAccessChoice> = true;

describe('node access names', () => {
  it('a mode is a transport or none; a choice is auto or a mode other than local', () => {
    expect(choicesMatchConfig).to.equal(true);
    expect([...NODE_ACCESS_MODES]).to.deep.equal([...TRANSPORTS, 'none']);
    expect(NODE_ACCESS_CHOICES.filter((c) => c !== 'auto').every((c) => (NODE_ACCESS_MODES as readonly string[]).includes(c))).to.equal(true);
  });
});
