// The known-results checker (known.ts) on the captured real run of the whole suite with Cilium v1.15.19
// (testdata/cilium-2node/, see testdata/README.md) and the file cluster/netpol/known-results/cilium-v1.15.19.yaml.

import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { escapeHtml, renderReportHtml } from './html.ts';
import {
  checkKnown,
  KNOWN_VERDICTS,
  KnownResultsError,
  parseKnownResults,
  parseRunResults,
  type RunResults,
  readKnownResults,
  readRunResults,
  renderCheckTable,
  withKnownResults,
} from './known.ts';
import { mainKnown } from './known-cli.ts';
import { type ReportModel, renderReportJson } from './model.ts';

const CILIUM = new URL('../../cluster/netpol/known-results/cilium-v1.15.19.yaml', import.meta.url).pathname;
const RUN = (f: string) => new URL(`./testdata/cilium-2node/${f}`, import.meta.url).pathname;
const CLUSTERIP =
  'SCTPConnectivity Services [Feature:SCTPConnectivity] [Disruptive] [LinuxOnly] A pod can connect to another pod via SCTP via a Service IP (port 5060 -> targetPort 5061, every backend answers)';
const HAIRPIN =
  'SCTPConnectivity Services [Feature:SCTPConnectivity] [Disruptive] [LinuxOnly] A backend can reach its own SCTP Service (hairpin), every backend answers';
const POD_POD = 'SCTPConnectivity Pods [Feature:SCTPConnectivity] [Disruptive] [LinuxOnly] A pod can connect directly to another pod via SCTP on another node';

const known = () => readKnownResults(CILIUM);
const junit = () => readRunResults(RUN('junit.xml'));
const edit = (r: RunResults, title: string, patch: Partial<RunResults['cases'][number]> | 'drop'): RunResults => ({
  ...r,
  cases: patch === 'drop' ? r.cases.filter((c) => c.title !== title) : r.cases.map((c) => (c.title === title ? { ...c, ...patch } : c)),
});

describe('known results: the Cilium v1.15.19 file', () => {
  it('parses: plugin, one cause with evidence and the Cilium doc link, six failures each with message regexes', () => {
    const k = known();
    expect(k.label).to.equal('Cilium v1.15.19');
    expect(k.plugin.cni).to.equal('Cilium');
    expect(k.causes.map((c) => [c.id, c.summary, c.link])).to.deep.equal([
      ['sctp-port-rewrite', 'Services with port ≠ targetPort', 'https://docs.cilium.io/en/stable/configuration/sctp/'],
    ]);
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
      expect(r.rows.find((x) => x.title === CLUSTERIP)).to.deep.include({
        verdict: 'known failure (matches)',
        ok: true,
        detail: 'Services with port ≠ targetPort (Service port 5060 -> targetPort 5061)',
      });
    });
  }

  it("from summary.json (the reporter's results): the same verdicts", () => {
    const report = JSON.parse(readFileSync(RUN('report.json'), 'utf8')) as {
      tests: Array<{ fullTitle: string; title: string; verdict: string; message?: string; reason?: string }>;
    };
    const summary = {
      results: report.tests.map((t) => ({
        fullTitle: t.fullTitle,
        title: t.title,
        suite: 's',
        outcome: t.verdict,
        durationMs: 1,
        message: t.message,
        reason: t.reason,
      })),
    };
    const run = parseRunResults(JSON.stringify(summary), 'summary.json');
    expect(run.format).to.equal('summary.json');
    expect(checkKnown(run, known()).line).to.equal('Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped');
  });

  it('the table: one row per test, the verdict line, ok', () => {
    const t = renderCheckTable(checkKnown(junit(), known()));
    expect(t).to.contain(
      `\nknown failure (matches)${' '.repeat(35)}${CLUSTERIP}\n${' '.repeat(58)}└ Services with port ≠ targetPort (Service port 5060 -> targetPort 5061)\n`,
    );
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
    expect(r.rows.find((x) => x.title === POD_POD)).to.deep.include({
      verdict: KNOWN_VERDICTS.unexpected,
      ok: false,
      detail: 'timed out after 10s waiting for SCTP client -> 10.244.2.5:5060',
    });
    expect(r.ok).to.equal(false);
    expect(r.line).to.equal('Cilium v1.15.19: 29 passed, 6 known failures (Services with port ≠ targetPort), 1 unexpected, 4 skipped');
    expect(renderCheckTable(r)).to.match(/\nNOT OK: /);
  });

  it('a known failure that passed: "did not fail (now passes? update the list)", not ok', () => {
    const r = checkKnown(edit(junit(), HAIRPIN, { outcome: 'passed', message: undefined }), known());
    expect(r.rows.find((x) => x.title === HAIRPIN)).to.deep.include({
      verdict: 'known failure did not fail (now passes? update the list)',
      ok: false,
      detail: 'it passed',
    });
    expect(r.ok).to.equal(false);
    expect(r.line).to.equal(
      'Cilium v1.15.19: 30 passed, 5 known failures (Services with port ≠ targetPort), 0 unexpected, 1 known failure did not fail, 4 skipped',
    );
  });

  it('a known failure that was skipped did not fail either, and says why it skipped', () => {
    const r = checkKnown(edit(junit(), HAIRPIN, { outcome: 'skipped', message: 'needs two ready schedulable nodes' }), known());
    expect(r.rows.find((x) => x.title === HAIRPIN)).to.deep.include({
      verdict: KNOWN_VERDICTS.didNotFail,
      detail: 'it was skipped: needs two ready schedulable nodes',
    });
  });

  it('a known failure with another message (another fault) is not the known one: names the regexes that did not match', () => {
    const message = 'timed out after 120s waiting for pod sctp-svc-x/backend-a to be Running: ErrImagePull registry.local/agnhost-sctp:0.1.0';
    const r = checkKnown(edit(junit(), CLUSTERIP, { message }), known());
    const row = r.rows.find((x) => x.title === CLUSTERIP)!;
    expect(row).to.include({ verdict: 'known failure failed with a different message', ok: false });
    expect(row.detail).to.equal(
      `did not match /blocked — TIMEOUT: no SCTP association with 10\\.96\\.[0-9.]+:5060 within/, /only SCTP fails between these pods/, /no SCTP, DROP or REJECT rule counted it/, /DNAT --to-destination 10\\.244\\.[0-9.]+:5061/; message: ${message}`,
    );
    expect(r.ok).to.equal(false);
  });

  it('the same drop on a Service whose port equals its targetPort would not match (the regexes pin :5060 -> :5061)', () => {
    const r = checkKnown(
      edit(junit(), CLUSTERIP, {
        message: junit()
          .cases.find((c) => c.title === CLUSTERIP)!
          .message!.replaceAll(':5061', ':5060'),
      }),
      known(),
    );
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
    expect(bad(base.replace('schema: sctp-e2e/known-results/v1', 'schema: v0'))).to.throw(
      KnownResultsError,
      'k.yaml: schema must be sctp-e2e/known-results/v1 (got "v0")',
    );
    expect(bad(base.replace('cause: sctp-port-rewrite', 'cause: nope'))).to.throw(
      KnownResultsError,
      'k.yaml: failures[0].cause names no cause under causes: (got nope; known: sctp-port-rewrite)',
    );
    expect(bad(base.replace(`'only SCTP fails between these pods'`, `'only (SCTP'`))).to.throw(
      KnownResultsError,
      /^k\.yaml: failures\[0\]\.message\[1\] is not a valid regex/,
    );
    expect(
      bad(
        base.replace(
          'A backend can reach its own SCTP Service (hairpin), every backend answers',
          'A pod can connect via SCTP to a Service without selector through a hand-made EndpointSlice',
        ),
      ),
    ).to.throw(KnownResultsError, /failures\[2\]\.title is listed twice/);
    expect(bad(base.replace(/\n {4}why: The backend's[^\n]*/, ''))).to.throw(KnownResultsError, 'k.yaml: failures[1].why must be a non-empty string');
    expect(bad('schema: [')).to.throw(KnownResultsError, /^k\.yaml is not valid YAML/);
    expect(() => readKnownResults('/nonexistent/k.yaml')).to.throw(KnownResultsError, 'cannot read known-results file /nonexistent/k.yaml: ENOENT');
  });
  it('a plugin with no known failure says `failures: []` (no causes); a list of causes with no failure, or no failures key, is refused', () => {
    const head = base.slice(0, base.indexOf('\ncauses:'));
    const none = parseKnownResults(`${head}\nfailures: []\n`, 'k.yaml');
    expect(none.failures).to.deep.equal([]);
    expect(none.causes).to.deep.equal([]);
    expect(none.label).to.equal('Cilium v1.15.19');
    expect(bad(`${head}\n`)).to.throw(KnownResultsError, 'k.yaml: failures must be a list (`failures: []` for a plugin with no known failure)');
    expect(bad(base.replace(/\nfailures:[\s\S]*$/, '\nfailures: []\n'))).to.throw(
      KnownResultsError,
      'k.yaml: causes names causes, but failures is empty: list the failures, or drop the causes',
    );
  });
  it('results that are neither JUnit nor summary/report JSON', () => {
    expect(() => parseRunResults('{"x":1}', 'r.json')).to.throw(
      KnownResultsError,
      'r.json: JSON with neither "results" (summary.json) nor "tests" of a report (report.json)',
    );
    expect(() => parseRunResults('nope', 'r')).to.throw(KnownResultsError, /^r is neither JUnit XML nor JSON/);
  });
});

describe('known results on the report card (report.json + report.html of the captured run)', () => {
  const model = () => JSON.parse(readFileSync(RUN('report.json'), 'utf8')) as ReportModel;
  const carded = (run: RunResults = readRunResults(RUN('report.json')), m: ReportModel = model()) => withKnownResults(m, checkKnown(run, known()), known());

  it('report.json: the per-plugin verdict, and each known failure marked with why, cause, evidence and link; other tests untouched', () => {
    const m = carded();
    expect(m.known).to.deep.include({
      plugin: 'Cilium v1.15.19',
      ok: true,
      line: 'Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped',
      missing: [],
      problems: [],
    });
    const marked = m.tests.filter((t) => t.known);
    expect(marked.map((t) => [t.verdict, t.known!.verdict])).to.deep.equal(Array(6).fill(['failed', 'matches']));
    expect(marked.find((t) => t.fullTitle === HAIRPIN)!.known).to.deep.include({
      plugin: 'Cilium v1.15.19',
      cause: 'Services with port ≠ targetPort',
      link: 'https://docs.cilium.io/en/stable/configuration/sctp/',
      issue: 'https://github.com/cilium/cilium/issues/20490',
      why: "The backend's SCTP INIT to its own ClusterIP:5060 needs the same rewrite to :5061 in its own bpf_lxc program and is dropped there.",
    });
    expect(m.tests.filter((t) => !t.known)).to.deep.equal(model().tests.filter((t) => !marked.some((k) => k.fullTitle === t.fullTitle)));
    expect(JSON.parse(renderReportJson(m))).to.deep.equal(m);
  });

  it('report.html: the verdict line in the banner, no unexpected failure, the six under "Known failures of Cilium v1.15.19" with why and link', () => {
    const html = renderReportHtml(carded());
    expect(html).to.contain('<p>6 of 40 results failed: 6 known failures of Cilium v1.15.19, 0 unexpected (see Failures below).</p>');
    expect(html).to.contain(
      '<p class="known-verdict" id="known-verdict">Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped — every failure is a known failure of Cilium v1.15.19, each failed as described</p>',
    );
    expect(html).to.contain('<h2 id="failures">Unexpected failures (0)</h2>\n<p>None: every failure is a known failure of Cilium v1.15.19.</p>');
    expect(html).to.contain('<h2 id="known-failures">Known failures of Cilium v1.15.19 (6)</h2>');
    expect(html).to.contain(
      `<h3 class="v-known">known failure of Cilium v1.15.19: ${escapeHtml(CLUSTERIP)}</h3><p>The client&#39;s SCTP INIT to ClusterIP:5060`,
    );
    expect(html).to.contain(
      'documented: <a href="https://docs.cilium.io/en/stable/configuration/sctp/">https://docs.cilium.io/en/stable/configuration/sctp/</a> · upstream: <a href="https://github.com/cilium/cilium/issues/20490">',
    );
    expect(html.match(/<tr class="known"><td><span class="v-known">known failure of Cilium v1.15.19<\/span>/g)).to.have.length(6);
    expect(html).not.to.contain('<tr class="failed">');
    expect(html).not.to.match(/<(script|link|img|iframe)\b/i);
  });

  it('an unexpected failure beside the known ones stays red and apart; a known failure with another message is not counted as known', () => {
    const run = edit(edit(readRunResults(RUN('report.json')), POD_POD, { outcome: 'failed', message: 'pod to pod blocked' }), HAIRPIN, {
      message: 'ErrImagePull',
    });
    const m0 = model();
    const t = m0.tests.find((x) => x.fullTitle === POD_POD)!;
    Object.assign(t, { verdict: 'failed', message: 'pod to pod blocked' });
    Object.assign(m0.tests.find((x) => x.fullTitle === HAIRPIN)!, { message: 'ErrImagePull' });
    Object.assign(m0.counts, { passed: 29, failed: 7 });
    const m = carded(run, m0);
    expect(m.known!.ok).to.equal(false);
    const html = renderReportHtml(m);
    expect(html).to.contain('<p>7 of 40 results failed: 5 known failures of Cilium v1.15.19, 2 unexpected (see Failures below).</p>');
    expect(html).to.contain('<h2 id="failures">Unexpected failures (2)</h2>');
    expect(html).to.contain(`<h3 class="v-failed">✗ ${escapeHtml(POD_POD)}</h3><pre>pod to pod blocked</pre>`);
    expect(html).to.contain(
      '<span class="v-failed">UNEXPECTED failure</span><br><small>listed as a known failure of Cilium v1.15.19, but failed with a different message</small>',
    );
    expect(html).to.contain(`! ${escapeHtml(HAIRPIN)}: known failure failed with a different message — did not match`);
    expect(html).to.contain('<h2 id="known-failures">Known failures of Cilium v1.15.19 (5)</h2>');
    expect(html).to.contain('NOT as known: see Failures below');
  });
});

describe('known results CLI (tsx lib/report/known-cli.ts)', () => {
  const run = (args: string[]) => {
    let out = '';
    let err = '';
    const code = mainKnown(
      args,
      (s) => {
        out += s;
      },
      (s) => {
        err += s;
      },
    );
    return { code, out, err };
  };
  it('the captured run: prints the table, exit 0; with --report rewrites the card and writes known-results.txt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'known-cli-'));
    try {
      copyFileSync(RUN('report.json'), join(dir, 'report.json'));
      const r = run(['--known', CILIUM, '--results', RUN('junit.xml'), '--report', dir]);
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.contain('Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped\nok: ');
      expect((JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportModel).known!.ok).to.equal(true);
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).to.contain('Known failures of Cilium v1.15.19 (6)');
      expect(readFileSync(join(dir, 'known-results.txt'), 'utf8')).to.contain('known failure (matches)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('not as known: exit 1; bad input: exit 2 with one sentence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'known-cli-'));
    try {
      const xml = readFileSync(RUN('junit.xml'), 'utf8').replace(
        /(A pod can connect directly to another pod via SCTP on another node" time="[\d.]+")\/>/,
        '$1><failure message="blocked">blocked</failure></testcase>',
      );
      writeFileSync(join(dir, 'j.xml'), xml);
      const r = run(['--known', CILIUM, '--results', join(dir, 'j.xml')]);
      expect(r.code).to.equal(1);
      expect(r.out).to.contain(`UNEXPECTED failure${' '.repeat(40)}${POD_POD}`);
      expect(run(['--known', CILIUM]).code).to.equal(2);
      expect(run(['--known', '/nonexistent.yaml', '--results', RUN('junit.xml')])).to.deep.include({
        code: 2,
        err: 'known-results: cannot read known-results file /nonexistent.yaml: ENOENT\n',
      });
      expect(run(['--known', CILIUM, '--report', dir]).err).to.equal(`known-results: cannot read results ${join(dir, 'report.json')}: ENOENT\n`);
      expect(run(['--bogus']).code).to.equal(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('known results files: every listed test still exists', () => {
  it('each title of every file under cluster/*/known-results/ is a describeE2E title + an it title of suites/ (a rename breaks here, not at lane time)', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const specs = readdirSync(join(root, 'suites'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.spec.ts'))
      .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'));
    // a title in '…', "…" (e.g. "… a pod's hostPort") or `…`
    const lit = String.raw`(['"\`])((?:(?!\1).)*)\1`;
    const toRe = (s: string) => s.replace(/\$\{[^}]+\}|[.*+?^${}()|[\]\\]/g, (m) => (m.startsWith('${') ? '.+' : `\\${m}`));
    const describes = specs.flatMap((s) => [...s.matchAll(new RegExp(String.raw`describeE2E\(${lit}`, 'g'))].map((m) => toRe(m[2]!)));
    const its = specs.flatMap((s) => [...s.matchAll(new RegExp(String.raw`\bit\(${lit}`, 'g'))].map((m) => toRe(m[2]!)));
    const files = readdirSync(join(root, 'cluster'), { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)known-results\/[^/]+\.ya?ml$/.test(f));
    expect(files).to.include('netpol/known-results/cilium-v1.15.19.yaml');
    for (const f of files) {
      for (const k of readKnownResults(join(root, 'cluster', f)).failures) {
        const found = describes.some((d) => its.some((i) => new RegExp(`^${d} (\\[[^\\]]+\\] )*${i}$`).test(k.title)));
        expect(found, `${f}: no describeE2E + it in suites/ gives "${k.title}"`).to.equal(true);
      }
    }
  });
});
