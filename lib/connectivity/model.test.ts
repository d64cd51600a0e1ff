import { expect } from 'chai';
import { describePorts, findPod, newModel, parsePodKey, podKeys, selectPods } from './model.ts';

describe('model', () => {
  it("builds upstream's world: x, y, z × a, b, c serving SCTP/80, labelled pod=<name> and ns=<name>", () => {
    const m = newModel();
    expect(podKeys(m)).to.deep.equal(['x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c']);
    expect(findPod(m, 'y/b').labels).to.deep.equal({ pod: 'b' });
    expect(m.namespaces.map((n) => n.labels.ns)).to.deep.equal(['x', 'y', 'z']);
    expect(describePorts(m.ports)).to.equal('SCTP/80');
  });

  it('selects pods like a NetworkPolicy peer (namespaceSelector AND podSelector)', () => {
    const m = newModel({ namespaceLabels: { y: { team: 'blue' } }, podLabels: { 'x/c': { role: 'db' } } });
    expect(selectPods(m, { namespaceLabels: { team: 'blue' }, podLabels: { pod: 'a' } })).to.deep.equal(['y/a']);
    expect(selectPods(m, { podLabels: { role: 'db' } })).to.deep.equal(['x/c']);
    expect(selectPods(m, {})).to.have.lengthOf(9);
  });

  it('rejects bad names and keys with one sentence', () => {
    expect(() => parsePodKey('x-a')).to.throw('not a pod key "namespace/pod": "x-a"');
    expect(() => newModel({ pods: ['A'] })).to.throw(/not a DNS label/);
    expect(() => newModel({ ports: [{ port: 0, protocol: 'SCTP' }] })).to.throw(/port 0/);
    expect(() => findPod(newModel(), 'q/a')).to.throw(/pod q\/a is not in the model/);
  });
});
