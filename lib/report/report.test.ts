// The report card's pure parts (model.ts, html.ts) on the model of a real run (testdata/README.md).
import { expect } from 'chai';
import { ExitCode } from '../framework/errors.ts';
import type { Result } from '../framework/reporter.ts';
import { escapeHtml, renderReportHtml, reportTitle } from './html.ts';
import { buildReport, commandLine, renderReportJson, summarizeTags } from './model.ts';
import { realRunInput, realRunModel } from './testdata/real-run.ts';

const HOSTILE = `expected <script>alert("x")</script> & 'quotes' in rule -A KUBE-SVC -p sctp -j DNAT --to 1.2.3.4:5060`;

describe('report card model (real run 20261204t215606)', () => {
  const m = realRunModel();

  it('holds every result of summary.json with its verdict, tags, duration, and the failure message or skip reason', () => {
    expect(m.counts).to.deep.equal({ passed: 16, failed: 1, skipped: 2, pending: 0, total: 19 });
    const failed = m.tests.filter((t) => t.verdict === 'failed');
    expect(failed.map((t) => [t.fullTitle, t.kind])).to.deep.equal([['[Feature:SCTP] basic phase: sctp.ko module check at end of phase', 'phase-check']]);
    expect(failed[0]!.message).to.contain('sctp.ko was loaded on node sctp-e2e-vm between after "a headless SCTP Service resolves to its pods\' IPs"');
    const nft = m.tests.find((t) => t.title.endsWith('when using the nftables proxier'))!;
    expect(nft).to.include({ verdict: 'skipped', durationMs: 0 });
    expect(nft.reason).to.match(/^no ready node runs kube-proxy in nftables mode; proxy mode per node:\n {2}sctp-e2e-node1: iptables/);
    expect(nft.tags).to.deep.equal(['[Feature:SCTP]', '[Serial]', '[LinuxOnly]']);
    expect(m.tests.filter((t) => t.verdict === 'passed').every((t) => t.durationMs > 0 && !t.message && !t.reason)).to.equal(true);
  });

  it('the run: exit code 1 with its meaning and sentence, status failed, start and wall time, command', () => {
    expect(m.run).to.deep.equal({
      id: '20261204t215606',
      command: 'bin/sctp-e2e.ts run --tag SCTP',
      startedAt: '2026-12-04T21:56:06.000Z',
      wallMs: 84_000,
      exitCode: 1,
      exitMeaning: 'tests failed',
      status: 'failed',
      sentence: '1 of 19 results failed (see Failed: above)',
    });
  });

  it('the cluster from the capability report: per node kernel, kernel SCTP and proxy mode; the capability rows unchanged', () => {
    expect(m.cluster.nodes.map((n) => [n.node, n.kernel, n.kernelSctp, n.proxyMode])).to.deep.equal([
      ['sctp-e2e-node1', '6.18.44-fc-v1272', 'none', 'iptables'],
      ['sctp-e2e-node2', '6.18.44-fc-v1272', 'none', 'iptables'],
      ['sctp-e2e-vm', '6.1.0-57-amd64', 'loadable', 'iptables'],
    ]);
    expect(m.cluster.nodeAccess.mode).to.equal('ssh');
    expect(m.capabilities.rows).to.deep.equal(realRunInput().capabilities!.rows);
    expect(m.capabilities.rows.map((r) => `${r.capability}=${r.status}`)).to.include.members(['kernel-sctp=yes', 'nftables=no', 'networkpolicy=per test']);
  });

  it('per-tag counts: every result under each of its tags (the phase check counts under [Feature:SCTP])', () => {
    const byTag = Object.fromEntries(m.tags.map(({ tag, ...c }) => [tag, c]));
    expect(byTag['[Feature:SCTP]']).to.deep.equal({ passed: 16, failed: 1, skipped: 2, pending: 0 });
    expect(byTag['[Serial]']).to.deep.equal({ passed: 3, failed: 0, skipped: 2, pending: 0 });
    expect(byTag['[LinuxOnly]']).to.deep.equal({ passed: 16, failed: 0, skipped: 2, pending: 0 });
    expect(Object.keys(byTag)).to.deep.equal(['[Feature:SCTP]', '[LinuxOnly]', '[Serial]']);
  });

  it('a declared-pending test and an untagged one are counted as such', () => {
    const t = (x: Partial<Result>): Result => ({ title: 'x', fullTitle: 'x', suite: 's', outcome: 'passed', durationMs: 1, ...x });
    const mm = buildReport({
      ...realRunInput(),
      results: [t({ fullTitle: 'a [Feature:SCTPConnectivity]', outcome: 'skipped', pending: true }), t({ fullTitle: 'b' })],
    });
    expect(mm.tests[0]).to.include({ verdict: 'pending', reason: 'pending: declared without a body (not written yet)' });
    expect(summarizeTags(mm.tests)).to.deep.equal([
      { tag: '(untagged)', passed: 1, failed: 0, skipped: 0, pending: 0 },
      { tag: '[Feature:SCTPConnectivity]', passed: 0, failed: 0, skipped: 0, pending: 1 },
    ]);
  });

  it('no capability report (the probe failed): says why instead of inventing nodes', () => {
    const mm = buildReport({
      ...realRunInput(),
      capabilities: undefined,
      capabilitiesMissing: 'capability probe failed: list nodes timed out after 20s',
      cluster: undefined,
    });
    expect(mm.capabilities).to.deep.equal({ rows: [], missing: 'capability probe failed: list nodes timed out after 20s' });
    expect(mm.cluster).to.include({ version: 'unknown', server: 'unknown' });
    expect(mm.cluster.cni.name).to.equal('unknown');
    expect(renderReportHtml(mm)).to.contain('No capability table: capability probe failed: list nodes timed out after 20s.');
  });

  it('report.json is the model, round-trips', () => {
    expect(JSON.parse(renderReportJson(m))).to.deep.equal(m);
    expect(m.schema).to.equal('sctp-e2e/report/v1');
  });
});

describe('report card HTML', () => {
  it('escapes &, <, >, quotes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).to.equal('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('a failure message with <script> and & appears escaped, never as markup; the page has no script at all', () => {
    const html = renderReportHtml(
      realRunModel((i) => ({
        ...i,
        results: [
          ...i.results,
          { title: 'hostile', fullTitle: 'hostile <b>title</b> [Feature:SCTP]', suite: 's', outcome: 'failed', durationMs: 5, message: HOSTILE },
        ],
      })),
    );
    expect(html).to.contain('expected &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; in rule -A KUBE-SVC');
    expect(html).to.contain('hostile &lt;b&gt;title&lt;/b&gt; [Feature:SCTP]');
    expect(html).not.to.match(/<script|<b>title/i);
    // the real message's quotes, escaped, in full
    expect(html).to.contain('between after &quot;a headless SCTP Service resolves to its pods&#39; IPs&quot; (21:56:51.710 UTC: not loaded)');
  });

  it('self-contained: no external URL, stylesheet, image or script reference', () => {
    const html = renderReportHtml(realRunModel());
    expect(html).not.to.match(/<(script|link|img|iframe)\b/i);
    expect(html).not.to.match(/(src|href)=/i);
    expect(html).not.to.match(/url\(/i);
  });

  it('a failed run is red at the top: the first element of the body is the failed banner', () => {
    const html = renderReportHtml(realRunModel());
    expect(html).to.match(/<body>\s*<header class="banner status-failed" id="banner">\s*<h1>SCTP conformance: FAILED<\/h1>/);
    expect(html).to.match(/\.status-failed\{background:#cf222e\}/);
    expect(html).to.contain('<p>1 of 19 results failed (see Failures below).</p>');
    expect(reportTitle(realRunModel())).to.equal('SCTP conformance FAILED: 16 passed, 1 failed, 2 skipped, 0 pending — Kubernetes v1.34.4');
  });

  it('a run that verified nothing says so in the banner, not green', () => {
    const sentence = 'every one of the 2 selected tests skipped, so nothing was verified (reasons under Skipped: above)';
    const html = renderReportHtml(
      realRunModel((i) => ({
        ...i,
        results: i.results.filter((r) => r.outcome === 'skipped'),
        verdict: { exitCode: ExitCode.nothingVerified, sentence },
      })),
    );
    expect(html).to.contain('<header class="banner status-nothing-verified" id="banner">\n<h1>SCTP conformance: NOTHING VERIFIED</h1>');
    expect(html).to.contain('<p>Nothing was verified: every one of the 2 selected tests skipped. This run is not green.</p>');
    expect(html).to.contain('exit code 8: nothing verified (no test ran, or every selected test skipped)');
    const none = renderReportHtml(realRunModel((i) => ({ ...i, results: [], verdict: { exitCode: ExitCode.nothingVerified } })));
    expect(none).to.contain('<p>Nothing was verified: no test ran (the selection matched no test). This run is not green.</p>');
  });

  it('a green run is green', () => {
    const html = renderReportHtml(realRunModel((i) => ({ ...i, results: i.results.filter((r) => r.outcome === 'passed'), verdict: { exitCode: 0 } })));
    expect(html).to.contain('<header class="banner status-passed" id="banner">\n<h1>SCTP conformance: PASSED</h1>\n<p>16 of 16 results passed.</p>');
    const withSkips = renderReportHtml(realRunModel((i) => ({ ...i, results: i.results.filter((r) => r.outcome !== 'failed'), verdict: { exitCode: 0 } })));
    expect(withSkips).to.contain('<p>16 of 18 results passed, 2 skipped or pending (reasons below).</p>');
  });

  it('per-tag table rows, the capability rows, the run notes by topic, the command line', () => {
    const html = renderReportHtml(realRunModel());
    expect(html).to.contain('<tr><td>[Feature:SCTP]</td><td class="n">16</td><td class="n">1</td><td class="n">2</td><td class="n">0</td></tr>');
    expect(html).to.contain(
      '<tr><td>kernel-sctp</td><td>yes</td><td></td><td>on sctp-e2e-vm (loadable); not on sctp-e2e-node1 (none), sctp-e2e-node2 (none)</td></tr>',
    );
    expect(html).to.contain('<h3>sctp.ko module check</h3>');
    expect(html).to.contain('<code>bin/sctp-e2e.ts run --tag SCTP</code>');
  });
});

describe('report card command line', () => {
  const argv = ['/x/node', '/w/bin/sctp-e2e.ts', 'run', '--tag', 'SCTP', '--report', 'out dir', '--grep', '\\[Feature:SCTP\\]'];
  it('as typed through npm: the npm script, then only the arguments after --, shell-quoted', () => {
    expect(commandLine(argv, { npm_lifecycle_event: 'e2e:basic', npm_lifecycle_script: 'tsx bin/sctp-e2e.ts run --tag SCTP' })).to.equal(
      `npm run e2e:basic -- --report 'out dir' --grep '\\[Feature:SCTP\\]'`,
    );
    expect(commandLine(argv.slice(0, 3), { npm_lifecycle_event: 'e2e', npm_lifecycle_script: 'tsx bin/sctp-e2e.ts run' })).to.equal('npm run e2e');
  });
  it('without npm: the script and its arguments', () => {
    expect(commandLine(argv.slice(0, 5))).to.equal('/w/bin/sctp-e2e.ts run --tag SCTP');
  });
});
