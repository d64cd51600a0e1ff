import { expect } from 'chai';
import Mocha from 'mocha';
import { clearRunNotes, runNotes } from './run-notes.ts';
import { orderFiles, orderSuitesByPhase, phaseOfFile, phaseOfTitle } from './runner.ts';
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

describe('phases: basic before connectivity, whatever the alphabet', () => {
  it('files: suites/sctp/ first, suites/sctp-connectivity/ last (alphabet would put it first)', () => {
    const files = ['suites/sctp-connectivity/a.spec.ts', 'suites/x/m.spec.ts', 'suites/sctp/z.spec.ts', 'suites/sctp/b.spec.ts'];
    expect([...files].sort()[0]).to.equal('suites/sctp-connectivity/a.spec.ts');
    expect(orderFiles(files)).to.deep.equal(['suites/sctp/b.spec.ts', 'suites/sctp/z.spec.ts', 'suites/x/m.spec.ts', 'suites/sctp-connectivity/a.spec.ts']);
    expect(phaseOfFile('lib/node/sctp-module.test.ts')).to.equal('other');
  });

  it("a test's phase comes from its tags; [Feature:SCTPConnectivity] wins", () => {
    expect(phaseOfTitle(titles[0]!)).to.equal('basic');
    expect(phaseOfTitle(titles[1]!)).to.equal('basic');
    expect(phaseOfTitle(titles[2]!)).to.equal('connectivity');
    expect(phaseOfTitle('untagged thing')).to.equal('other');
    expect(phaseOfTitle('both [Feature:SCTP] [Feature:SCTPConnectivity]')).to.equal('connectivity');
  });

  const tree = () => {
    const root = new Mocha.Suite('', new Mocha.Context());
    const add = (title: string, tests: string[]) => {
      const s = Mocha.Suite.create(root, title);
      for (const t of tests) s.addTest(new Mocha.Test(t, () => {}));
      return s;
    };
    add('A conn [Feature:SCTPConnectivity]', ['pod to pod', 'via Service']);
    add('B basic [Feature:SCTP]', ['declares ports']);
    add('C untagged', ['x']);
    add('D basic [Feature:SCTP]', ['HostPort rules', 'ServicePort rules']);
    return root;
  };

  it('top-level describes reordered stably by phase; the basic phase ends after the last selected basic describe', () => {
    clearRunNotes();
    const root = tree();
    const plan = orderSuitesByPhase(root);
    expect(root.suites.map((s) => s.title[0])).to.deep.equal(['B', 'D', 'C', 'A']);
    expect(plan.counts).to.deep.equal({ basic: 3, other: 1, connectivity: 2 });
    expect(plan.lastBasic?.title).to.equal('D basic [Feature:SCTP]');
    expect(plan.line).to.equal(
      'phase 1: 3 basic tests ([Feature:SCTP]) before phase 2: 2 connectivity tests ([Feature:SCTPConnectivity]); 1 untagged tests in between',
    );
  });

  it('with a selection: counts and the end of the basic phase follow the selected tests; one phase: no line', () => {
    const root = tree();
    const plan = orderSuitesByPhase(root, (t) => /declares|pod to pod/.test(t.title));
    expect(plan.lastBasic?.title).to.equal('B basic [Feature:SCTP]');
    expect(plan.counts).to.deep.equal({ basic: 1, other: 0, connectivity: 1 });
    const only = orderSuitesByPhase(tree(), (t) => /rules/.test(t.title));
    expect(only.line).to.equal(undefined);
    expect(only.lastBasic?.title).to.equal('D basic [Feature:SCTP]');
  });

  it('a describe holding both phases runs in phase 2 and says so in a warning run note', () => {
    clearRunNotes();
    const root = new Mocha.Suite('', new Mocha.Context());
    const mixed = Mocha.Suite.create(root, 'mixed');
    mixed.addTest(new Mocha.Test('one [Feature:SCTP]', () => {}));
    mixed.addTest(new Mocha.Test('two [Feature:SCTPConnectivity]', () => {}));
    const basic = Mocha.Suite.create(root, 'basic [Feature:SCTP]');
    basic.addTest(new Mocha.Test('three', () => {}));
    orderSuitesByPhase(root);
    expect(root.suites.map((s) => s.title)).to.deep.equal(['basic [Feature:SCTP]', 'mixed']);
    expect(runNotes()).to.deep.equal([
      { topic: 'phases', text: '"mixed" holds both [Feature:SCTP] and [Feature:SCTPConnectivity] tests: its basic tests run in phase 2', level: 'warning' },
    ]);
    clearRunNotes();
  });
});
