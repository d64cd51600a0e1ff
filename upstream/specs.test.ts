import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseJUnit } from '../cluster/lab/junit.ts';
import { selectSpecs, specOf, UPSTREAM_SPECS, upstreamFocus } from './specs.ts';

const here = new URL('.', import.meta.url).pathname;
// `e2e.test --ginkgo.dry-run --ginkgo.focus='SCTP|sctp'` of the e2e.test built by upstream/build.sh at v1.34.4
const dryRun = readFileSync(join(here, 'testdata/sctp-specs-v1.34.4.txt'), 'utf8').trim().split('\n');
// e2e.test's own junit_01.xml of the basic phase on the local cluster (SCTP cases and two others kept)
const junit = parseJUnit(readFileSync(join(here, 'testdata/junit_01-basic-v1.34.4.xml'), 'utf8'));

describe('upstream SCTP spec catalogue', () => {
  it('names each of the 13 specs e2e.test v1.34.4 has, each exactly once', () => {
    expect(dryRun).to.have.length(13);
    for (const name of dryRun)
      expect(
        UPSTREAM_SPECS.filter((s) => name.includes(s.title)).map((s) => s.id),
        name,
      ).to.have.length(1);
    for (const s of UPSTREAM_SPECS)
      expect(
        dryRun.filter((n) => n.includes(s.title)),
        s.id,
      ).to.have.length(1);
  });

  it("the focus of a phase selects exactly that phase's specs", () => {
    const sel = (p: Parameters<typeof upstreamFocus>[0]) => dryRun.filter((n) => new RegExp(upstreamFocus(p)).test(n)).length;
    expect(sel(['basic'])).to.equal(2);
    expect(sel(['connectivity'])).to.equal(5);
    expect(sel(['netpol'])).to.equal(5);
    expect(sel(['dualstack'])).to.equal(1);
    expect(sel(['basic', 'connectivity', 'netpol', 'dualstack'])).to.equal(13);
  });

  it('every test of ours it cites exists in suites/ (a renamed test breaks the mapping here, not silently)', () => {
    const dir = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? dir(join(d, e.name)) : e.name.endsWith('.spec.ts') ? [join(d, e.name)] : []));
    const source = dir(join(here, '../suites'))
      .map((p) => readFileSync(p, 'utf8'))
      .join('\n');
    for (const s of UPSTREAM_SPECS) for (const re of s.ours) expect(new RegExp(re).test(source), `${s.id}: no test title matches /${re}/`).to.equal(true);
  });

  it("reads e2e.test's JUnit: verdicts, times and the spec each case is", () => {
    const sctp = junit.filter((c) => specOf(c.name));
    expect(sctp).to.have.length(13);
    const passed = sctp.filter((c) => c.outcome === 'passed');
    expect(passed.map((c) => specOf(c.name)!.id).sort()).to.deep.equal(['hostport-basic', 'svc-basic']);
    for (const c of passed) expect(c.seconds).to.be.greaterThan(1);
    // HTML entities in ginkgo's names (&#39;) are decoded
    expect(sctp.some((c) => c.name.includes("'protocol: SCTP' as 'protocol: TCP'"))).to.equal(true);
  });

  it('a selection by id narrows a phase; an unknown id is an error that lists the known ones', () => {
    expect(selectSpecs(['netpol'], ['netpol-sctp-not-tcp', 'netpol-isolate']).map((s) => s.id)).to.deep.equal(['netpol-sctp-not-tcp', 'netpol-isolate']);
    expect(dryRun.filter((n) => new RegExp(upstreamFocus(['netpol'], ['netpol-isolate'])).test(n))).to.have.length(1);
    expect(() => selectSpecs(['netpol'], ['netpol-isolat'])).to.throw(/unknown upstream spec id "netpol-isolat"; known: svc-basic, /);
  });
});

describe('upstream failure summary', () => {
  it("says what timed out and why the pod never got ready, from e2e.test's own JUnit", async () => {
    const { summarizeFailure } = await import('./run.ts');
    const [c] = parseJUnit(readFileSync(join(here, 'testdata/junit_01-connectivity-failed-v1.34.4.xml'), 'utf8'));
    expect(c!.outcome).to.equal('failed');
    expect(summarizeFailure(c!.message, c!.body)).to.equal(
      'Timed out after 300.001s. expected pod to be running and ready (containers: Error, CrashLoopBackOff, exit code 1)',
    );
  });
});
