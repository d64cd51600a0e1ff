// The known-results checker (known.ts) on the captured real run of the whole suite with Cilium v1.15.19
// (testdata/cilium-2node/, see testdata/README.md) and the file cluster/netpol/known-results/cilium-v1.15.19.yaml.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  KNOWN_VERDICTS, KnownResultsError, checkKnown, parseKnownResults, parseRunResults, readKnownResults, readRunResults, renderCheckTable,
  type RunResults,
} from './known.ts';

const CILIUM = new URL('../../cluster/netpol/known-results/cilium-v1.15.19.yaml', import.meta.url).pathname;
const RUN = (f: string) => new URL(`./testdata/cilium-2node/${f}`, import.meta.url).pathname;
const CLUSTERIP = 'SCTPConnectivity Services [Feature:SCTPConnectivity] [Disruptive] [LinuxOnly] A pod can connect to another pod via SCTP via a Service IP (port 5060 -> targetPort 5061, every backend answers)';
const HAIRPIN = 'SCTPConnectivity Services [Feature:SCTPConnectivity] [Disruptive] [LinuxOnly] A backend can reach its own SCTP Service (hairpin), every backend answers';
const POD_POD = 'SCTPConnectivity Pods [Feature:SCTPConnectivity] [Disruptive] [LinuxOnly] A pod can connect directly to another pod via SCTP on another node';

const known = () => readKnownResults(CILIUM);
const junit = () => readRunResults(RUN('junit.xml'));
const edit = (r: RunResults, title: string, patch: Partial<RunResults['cases'][number]> | 'drop'): RunResults => ({
  ...r, cases: patch === 'drop' ? r.cases.filter((c) => c.title !== title) : r.cases.map((c) => (c.title === title ? { ...c, ...patch } : c)),
});

describe('known results: the Cilium v1.15.19 file', () => {
  it('parses: plugin, one cause with evidence and the Cilium doc link, six failures each with message regexes', () => {
    const k = known();
    expect(k.label).to.equal('Cilium v1.15.19');
    expect(k.plugin.cni).to.equal('Cilium');
    expect(k.causes.map((c) => [c.id, c.summary, c.link])).to.deep.equal([['sctp-port-rewrite', 'Services with port ≠ targetPort', 'https://docs.cilium.io/en/stable/configuration/sctp/']]);
    expect(k.causes[0]!.evidence.join('\n')).to.contain('bpf/lib/lb.h:417-429').and.contain('the targetPort MUST equal the port');
    expect(k.failures).to.have.length(6);
    for (const f of k.failures) {
      expect(f.service, f.title).to.deep.equal({ port: 5060, targetPort: 5061 });
      expect(f.message.length, f.title).to.be.greaterThan(0);
    }
  });
});

describe('known results: checker on the captured run (30 passed, 6 failed, 4 skipped)', () => {
  for (const f of ['junit.xml', 'report.json']) {
    it(`from ${f}: every failure is a matched known failure, ok`, () => {
      const r = checkKnown(readRunResults(RUN(f)), known());
      expect(r.counts).to.deep.equal({ passed: 30, skipped: 4, known: 6, unexpected: 0, didNotFail: 0, differentMessage: 0, missing: 0 });
      expect(r.ok).to.equal(true);
      expect(r.problems).to.deep.equal([]);
      expect(r.line).to.equal('Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped');
      expect(r.rows.find((x) => x.title === CLUSTERIP)).to.deep.include({ verdict: 'known failure (matches)', ok: true, detail: 'Services with port ≠ targetPort (Service port 5060 -> targetPort 5061)' });
    });
  }

  it('from summary.json (the reporter\'s results): the same verdicts', () => {
    const report = JSON.parse(readFileSync(RUN('report.json'), 'utf8')) as { tests: Array<{ fullTitle: string; title: string; verdict: string; message?: string; reason?: string }> };
    const summary = { results: report.tests.map((t) => ({ fullTitle: t.fullTitle, title: t.title, suite: 's', outcome: t.verdict, durationMs: 1, message: t.message, reason: t.reason })) };
    const run = parseRunResults(JSON.stringify(summary), 'summary.json');
    expect(run.format).to.equal('summary.json');
    expect(checkKnown(run, known()).line).to.equal('Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped');
  });

  it('the table: one row per test, the verdict line, ok', () => {
    const t = renderCheckTable(checkKnown(junit(), known()));
    expect(t).to.contain(`\nknown failure (matches)${' '.repeat(35)}${CLUSTERIP}\n${' '.repeat(58)}└ Services with port ≠ targetPort (Service port 5060 -> targetPort 5061)\n`);
    expect(t).to.contain(`\npassed${' '.repeat(52)}${POD_POD}\n`);
    expect(t.split('\n').slice(-2)).to.deep.equal([
      'Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped',
      'ok: every failure is known and matched, every known failure failed as described',
    ]);
  });
});

describe('known results: checker verdicts when the run differs from the file', () => {
  it('a failure not in the file is an UNEXPECTED failure, not ok', () => {
    const r = checkKnown(edit(junit(), POD_POD, { outcome: 'failed', message: 'timed out after 10s waiting for SCTP client -> 10.244.2.5:5060' }), known());
    expect(r.rows.find((x) => x.title === POD_POD)).to.deep.include({ verdict: KNOWN_VERDICTS.unexpected, ok: false, detail: 'timed out after 10s waiting for SCTP client -> 10.244.2.5:5060' });
    expect(r.ok).to.equal(false);
    expect(r.line).to.equal('Cilium v1.15.19: 29 passed, 6 known failures (Services with port ≠ targetPort), 1 unexpected, 4 skipped');
    expect(renderCheckTable(r)).to.match(/\nNOT OK: /);
  });

  it('a known failure that passed: "did not fail (now passes? update the list)", not ok', () => {
    const r = checkKnown(edit(junit(), HAIRPIN, { outcome: 'passed', message: undefined }), known());
    expect(r.rows.find((x) => x.title === HAIRPIN)).to.deep.include({ verdict: 'known failure did not fail (now passes? update the list)', ok: false, detail: 'it passed' });
    expect(r.ok).to.equal(false);
    expect(r.line).to.equal('Cilium v1.15.19: 30 passed, 5 known failures (Services with port ≠ targetPort), 0 unexpected, 1 known failure did not fail, 4 skipped');
  });

  it('a known failure that was skipped did not fail either, and says why it skipped', () => {
    const r = checkKnown(edit(junit(), HAIRPIN, { outcome: 'skipped', message: 'needs two ready schedulable nodes' }), known());
    expect(r.rows.find((x) => x.title === HAIRPIN)).to.deep.include({ verdict: KNOWN_VERDICTS.didNotFail, detail: 'it was skipped: needs two ready schedulable nodes' });
  });

  it('a known failure with another message (another fault) is not the known one: names the regexes that did not match', () => {
    const message = 'timed out after 120s waiting for pod sctp-svc-x/backend-a to be Running: ErrImagePull registry.local/agnhost-sctp:0.1.0';
    const r = checkKnown(edit(junit(), CLUSTERIP, { message }), known());
    const row = r.rows.find((x) => x.title === CLUSTERIP)!;
    expect(row).to.include({ verdict: 'known failure failed with a different message', ok: false });
    expect(row.detail).to.equal(`did not match /blocked — TIMEOUT: no SCTP association with 10\\.96\\.[0-9.]+:5060 within/, /only SCTP fails between these pods/, /no SCTP, DROP or REJECT rule counted it/, /DNAT --to-destination 10\\.244\\.[0-9.]+:5061/; message: ${message}`);
    expect(r.ok).to.equal(false);
  });

  it('the same drop on a Service whose port equals its targetPort would not match (the regexes pin :5060 -> :5061)', () => {
    const r = checkKnown(edit(junit(), CLUSTERIP, { message: junit().cases.find((c) => c.title === CLUSTERIP)!.message!.replaceAll(':5061', ':5060') }), known());
    expect(r.rows.find((x) => x.title === CLUSTERIP)!.verdict).to.equal(KNOWN_VERDICTS.differentMessage);
  });

  it('a known failure whose title is not in the run is an error naming it', () => {
    const r = checkKnown(edit(junit(), HAIRPIN, 'drop'), known());
    expect(r.rows.at(-1)).to.deep.include({ title: HAIRPIN, verdict: 'known failure missing from the run', ok: false });
    expect(r.rows.at(-1)!.detail).to.match(/junit\.xml has no test with this exact title/);
    expect(r.ok).to.equal(false);
    expect(r.line).to.contain('1 known failure missing from the run');
  });

  it('a run on another CNI (report.json names it) is not ok, whatever the verdicts', () => {
    const run = readRunResults(RUN('report.json'));
    const r = checkKnown({ ...run, cni: 'Calico' }, known());
    expect(r.problems).to.deep.equal([`the run's CNI is "Calico", but ${CILIUM} is for Cilium v1.15.19 (plugin.cni /Cilium/i)`]);
    expect(r.ok).to.equal(false);
    expect(checkKnown(run, known()).problems).to.deep.equal([]); // "Cilium, bridge + portmap (CNI plugins)"
  });
});

describe('known results: bad files say what is wrong', () => {
  const base = readFileSync(CILIUM, 'utf8');
  const bad = (text: string) => () => parseKnownResults(text, 'k.yaml');
  it('wrong schema, unknown cause, bad regex, duplicate title, missing why, not YAML', () => {
    expect(bad(base.replace('schema: sctp-e2e/known-results/v1', 'schema: v0'))).to.throw(KnownResultsError, 'k.yaml: schema must be sctp-e2e/known-results/v1 (got "v0")');
    expect(bad(base.replace('cause: sctp-port-rewrite', 'cause: nope'))).to.throw(KnownResultsError, 'k.yaml: failures[0].cause names no cause under causes: (got nope; known: sctp-port-rewrite)');
    expect(bad(base.replace(`'only SCTP fails between these pods'`, `'only (SCTP'`))).to.throw(KnownResultsError, /^k\.yaml: failures\[0\]\.message\[1\] is not a valid regex/);
    expect(bad(base.replace('A backend can reach its own SCTP Service (hairpin), every backend answers', 'A pod can connect via SCTP to a Service without selector through a hand-made EndpointSlice'))).to.throw(KnownResultsError, /failures\[2\]\.title is listed twice/);
    expect(bad(base.replace(/\n {4}why: The backend's[^\n]*/, ''))).to.throw(KnownResultsError, 'k.yaml: failures[1].why must be a non-empty string');
    expect(bad('schema: [')).to.throw(KnownResultsError, /^k\.yaml is not valid YAML/);
    expect(() => readKnownResults('/nonexistent/k.yaml')).to.throw(KnownResultsError, 'cannot read known-results file /nonexistent/k.yaml: ENOENT');
  });
  it('results that are neither JUnit nor summary/report JSON', () => {
    expect(() => parseRunResults('{"x":1}', 'r.json')).to.throw(KnownResultsError, 'r.json: JSON with neither "results" (summary.json) nor "tests" of a report (report.json)');
    expect(() => parseRunResults('nope', 'r')).to.throw(KnownResultsError, /^r is neither JUnit XML nor JSON/);
  });
});
