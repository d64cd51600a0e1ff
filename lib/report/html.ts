// The report card as one self-contained HTML page: inline CSS, no script, no external asset, readable from
// file://. Every text from the run (titles, messages, evidence) goes through escapeHtml.

import { formatDuration } from '../framework/duration.ts';
import { type ReportModel, type ReportTest, type RunStatus, VERDICTS } from './model.ts';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const e = escapeHtml;

const HEADLINE: Record<RunStatus, string> = {
  passed: 'PASSED',
  failed: 'FAILED',
  'nothing-verified': 'NOTHING VERIFIED',
  error: 'DID NOT COMPLETE',
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f23;background:#fff}
main{max-width:1200px;margin:0 auto;padding:0 1.5rem 3rem}
header.banner{padding:1.2rem 1.5rem;color:#fff}
header.banner h1{margin:0;font-size:1.6rem}
header.banner p{margin:.3rem 0 0}
.status-passed{background:#1a7f37}.status-failed{background:#cf222e}
.status-nothing-verified{background:#9a6700}.status-error{background:#6e7781}
h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;border:1px solid #d0d7de;padding:.6rem;margin:.3rem 0;font-size:12.5px}
.v-passed{color:#1a7f37;font-weight:600}.v-failed{color:#cf222e;font-weight:600}
.v-skipped{color:#9a6700;font-weight:600}.v-pending{color:#6e7781;font-weight:600}
tr.failed td{background:#ffebe9}
.v-known{color:#9a6700;font-weight:600}tr.known td{background:#fff8c5}
p.known-verdict{font-weight:600}
.counts span{display:inline-block;margin-right:1.2rem;font-size:1.1rem}
.warning{color:#9a6700;font-weight:600}
.tag{display:inline-block;background:#eaeef2;border-radius:3px;padding:0 .3rem;margin:0 .2rem .1rem 0;font-size:12px}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dl.kv dt{font-weight:600}dl.kv dd{margin:0}
details summary{cursor:pointer;color:#57606a}
`;

function table(head: string[], rows: string[][], rowClass: (i: number) => string = () => ''): string {
  return `<table>\n<thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${rows
    .map((r, i) => `<tr${rowClass(i) ? ` class="${rowClass(i)}"` : ''}>${r.join('')}</tr>`)
    .join('\n')}\n</tbody>\n</table>`;
}
const td = (s: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${e(s)}</td>`;
const tdHtml = (html: string) => `<td>${html}</td>`;
const evidence = (summary: string, text: string) => `${e(summary)}<details><summary>evidence</summary><pre>${e(text)}</pre></details>`;

/** The banner's sentence, from the model's counts (the runner's own sentence points at its console summary). */
export function bannerSentence(m: ReportModel): string {
  const c = m.counts;
  switch (m.run.status) {
    case 'passed':
      return `${c.passed} of ${c.total} results passed${c.skipped + c.pending ? `, ${c.skipped + c.pending} skipped or pending (reasons below)` : ''}.`;
    case 'failed': {
      const k = m.known;
      if (!k) return `${c.failed} of ${c.total} results failed (see Failures below).`;
      const unexpected = c.failed - k.counts.known;
      return `${c.failed} of ${c.total} results failed: ${k.counts.known} known failure${k.counts.known === 1 ? '' : 's'} of ${k.plugin}, ${unexpected} unexpected (see Failures below).`;
    }
    case 'nothing-verified': {
      const tests = m.tests.filter((t) => t.kind === 'test').length;
      return `Nothing was verified: ${tests ? `every one of the ${tests} selected tests skipped` : 'no test ran (the selection matched no test)'}. This run is not green.`;
    }
    default:
      return m.run.sentence ?? m.run.exitMeaning;
  }
}

function banner(m: ReportModel): string {
  const what = bannerSentence(m);
  return `<header class="banner status-${m.run.status}" id="banner">
<h1>SCTP conformance: ${HEADLINE[m.run.status]}</h1>
<p>${e(what)}</p>
${m.known ? `<p class="known-verdict" id="known-verdict">${e(m.known.line)} — ${m.known.ok ? `every failure is a known failure of ${e(m.known.plugin)}, each failed as described` : 'NOT as known: see Failures below'}</p>\n` : ''}<p>exit code ${m.run.exitCode}: ${e(m.run.exitMeaning)} · Kubernetes ${e(m.cluster.version)} · CNI ${e(m.cluster.cni.name)}</p>
</header>`;
}

function counts(m: ReportModel): string {
  return `<p class="counts" id="counts">${VERDICTS.map((v) => `<span class="v-${v}">${m.counts[v]} ${v}</span>`).join('')}<span>${m.counts.total} results</span></p>`;
}

function runSection(m: ReportModel): string {
  const kv: Array<[string, string]> = [
    ['command', m.run.command],
    ['run', m.run.id],
    ['started', m.run.startedAt],
    ['wall time', formatDuration(m.run.wallMs)],
    ['exit code', `${m.run.exitCode} — ${m.run.exitMeaning}`],
  ];
  return `<h2>Run</h2>\n<dl class="kv">${kv.map(([k, v]) => `<dt>${e(k)}</dt><dd>${k === 'command' ? `<code>${e(v)}</code>` : e(v)}</dd>`).join('')}</dl>`;
}

function clusterSection(m: ReportModel): string {
  const c = m.cluster;
  const kv =
    `<dl class="kv"><dt>API server</dt><dd>${e(c.server)}</dd><dt>Kubernetes</dt><dd>${e(c.version)}</dd>` +
    `<dt>CNI</dt><dd>${evidence(c.cni.name, c.cni.evidence)}</dd><dt>node access</dt><dd>${e(`${c.nodeAccess.mode}: ${c.nodeAccess.reason}`)}</dd></dl>`;
  const nodes = c.nodes.length
    ? table(
        ['node', 'role', 'ready', 'schedulable', 'kernel', 'kernel SCTP', 'proxy mode'],
        c.nodes.map((n) => [
          td(n.node),
          td(n.controlPlane ? 'control plane' : 'worker'),
          td(n.ready ? 'yes' : 'NO'),
          td(n.schedulable ? 'yes' : 'no'),
          td(n.kernel),
          tdHtml(evidence(n.kernelSctp, n.kernelSctpEvidence)),
          tdHtml(evidence(n.proxyMode, n.proxyModeEvidence)),
        ]),
      )
    : `<p>Nodes: unknown (${e(m.capabilities.missing ?? 'no capability report')}).</p>`;
  return `<h2>Cluster</h2>\n${kv}\n${nodes}`;
}

function capabilitiesSection(m: ReportModel): string {
  const cap = m.capabilities;
  if (!cap.rows.length) return `<h2>Capabilities</h2>\n<p class="warning">No capability table: ${e(cap.missing ?? 'no capability report')}.</p>`;
  return `<h2>Capabilities</h2>\n${cap.probedInMs !== undefined ? `<p>Probed in ${e(formatDuration(cap.probedInMs))} before the first test.</p>\n` : ''}${table(
    ['capability', 'status', 'required', 'detail'],
    cap.rows.map((r) => [td(r.capability), td(r.status), td(r.required ? (r.status === 'no' ? 'REQUIRED, missing' : 'required') : ''), td(r.detail)]),
    (i) => (cap.rows[i]!.required && cap.rows[i]!.status === 'no' ? 'failed' : ''),
  )}`;
}

function tagSection(m: ReportModel): string {
  return `<h2>By tag</h2>\n${table(
    ['tag', ...VERDICTS],
    m.tags.map((t) => [td(t.tag), ...VERDICTS.map((v) => td(String(t[v]), 'n'))]),
  )}`;
}

const tags = (t: ReportTest) => t.tags.map((x) => `<span class="tag">${e(x)}</span>`).join('');

/** A failed test that its plugin's known-results file lists, failing as described. */
const isKnownFailure = (t: ReportTest) => t.verdict === 'failed' && t.known?.verdict === 'matches';
const link = (url: string) => (/^https?:\/\//.test(url) ? `<a href="${e(url)}">${e(url)}</a>` : e(url));

function knownSection(m: ReportModel): string {
  const k = m.known!;
  const unexpected = m.tests.filter((t) => t.verdict === 'failed' && !isKnownFailure(t));
  const known = m.tests.filter(isKnownFailure);
  const notAsKnown = m.tests.filter((t) => t.known && t.known.verdict !== 'matches');
  const problems = [
    ...k.problems,
    ...notAsKnown.map(
      (t) =>
        `${t.fullTitle}: known failure ${t.known!.verdict === 'did not fail' ? 'did not fail (now passes? update the list)' : 'failed with a different message'} — ${t.known!.detail ?? ''}`,
    ),
    ...k.missing.map((t) => `${t}: known failure missing from the run (no test with this exact title)`),
  ];
  const out = [
    `<h2 id="known">Known results of ${e(k.plugin)}</h2>`,
    `<p class="known-verdict">${e(k.line)}</p>`,
    `<dl class="kv"><dt>applies to</dt><dd>${e(k.config)}</dd><dt>file</dt><dd><code>${e(k.file)}</code></dd><dt>verdict</dt><dd>${k.ok ? 'ok: every failure is known and matched, every known failure failed as described' : '<span class="v-failed">NOT OK</span>'}</dd></dl>`,
  ];
  if (problems.length) out.push(`<ul>${problems.map((p) => `<li class="warning">! ${e(p)}</li>`).join('')}</ul>`);
  out.push(`<h2 id="failures">Unexpected failures (${unexpected.length})</h2>`);
  out.push(
    unexpected.length
      ? unexpected.map((t) => `<section class="failure"><h3 class="v-failed">✗ ${e(t.fullTitle)}</h3><pre>${e(t.message ?? '')}</pre></section>`).join('\n')
      : `<p>None: every failure is a known failure of ${e(k.plugin)}.</p>`,
  );
  if (known.length) {
    out.push(`<h2 id="known-failures">Known failures of ${e(k.plugin)} (${known.length})</h2>`);
    const byCause = new Map<string, ReportTest[]>();
    for (const t of known) byCause.set(t.known!.cause, [...(byCause.get(t.known!.cause) ?? []), t]);
    for (const [cause, ts] of byCause) {
      const c = ts[0]!.known!;
      out.push(
        `<section class="known-cause"><h3 class="v-known">${e(cause)} (${ts.length})</h3><p>${e(c.causeWhy)}</p>` +
          `<p>documented: ${link(c.link)}${c.issue ? ` · upstream: ${link(c.issue)}` : ''}</p>` +
          `<details><summary>evidence</summary><ul>${c.evidence.map((x) => `<li>${e(x)}</li>`).join('')}</ul></details></section>`,
      );
      out.push(
        ts
          .map(
            (t) =>
              `<section class="failure known"><h3 class="v-known">known failure of ${e(k.plugin)}: ${e(t.fullTitle)}</h3><p>${e(t.known!.why)}</p>` +
              `<details><summary>failure message</summary><pre>${e(t.message ?? '')}</pre></details></section>`,
          )
          .join('\n'),
      );
    }
  }
  return out.join('\n');
}

function failuresSection(m: ReportModel): string {
  if (m.known) return knownSection(m);
  const failed = m.tests.filter((t) => t.verdict === 'failed');
  if (!failed.length) return '';
  return `<h2 id="failures">Failures (${failed.length})</h2>\n${failed
    .map((t) => `<section class="failure"><h3 class="v-failed">✗ ${e(t.fullTitle)}</h3><pre>${e(t.message ?? '')}</pre></section>`)
    .join('\n')}`;
}

/** The verdict cell: a listed test says how it fared against its plugin's known results. */
function verdictCell(t: ReportTest): string {
  const k = t.known;
  if (!k) return td(t.verdict, `v-${t.verdict}`);
  if (isKnownFailure(t)) return tdHtml(`<span class="v-known">known failure of ${e(k.plugin)}</span><br><small>${e(k.cause)} · ${link(k.link)}</small>`);
  if (k.verdict === 'did not fail')
    return tdHtml(
      `<span class="v-${t.verdict}">${e(t.verdict)}</span><br><small class="warning">known failure of ${e(k.plugin)} did not fail: update the list</small>`,
    );
  return tdHtml(
    `<span class="v-failed">UNEXPECTED failure</span><br><small>listed as a known failure of ${e(k.plugin)}, but failed with a different message</small>`,
  );
}

function testsSection(m: ReportModel): string {
  const detail = (t: ReportTest) =>
    t.verdict === 'failed'
      ? `${isKnownFailure(t) ? `<p>${e(t.known!.why)}</p>` : ''}<pre>${e(t.message ?? '')}</pre>`
      : t.reason
        ? `<pre>${e(t.reason)}</pre>`
        : '';
  return `<h2 id="tests">Tests (${m.tests.length})</h2>\n${table(
    ['verdict', 'test', 'tags', 'duration', 'message / skip reason'],
    m.tests.map((t) => [
      verdictCell(t),
      tdHtml(`${e(t.fullTitle)}${t.kind === 'phase-check' ? ' <em>(run-level check)</em>' : ''}`),
      tdHtml(tags(t)),
      td(formatDuration(t.durationMs), 'n'),
      tdHtml(detail(t)),
    ]),
    (i) => (isKnownFailure(m.tests[i]!) ? 'known' : m.tests[i]!.verdict),
  )}`;
}

function notesSection(m: ReportModel): string {
  if (!m.notes.length) return `<h2>Run notes</h2>\n<p>None.</p>`;
  const byTopic = new Map<string, ReportModel['notes']>();
  for (const n of m.notes) byTopic.set(n.topic, [...(byTopic.get(n.topic) ?? []), n]);
  return `<h2>Run notes</h2>\n${[...byTopic]
    .map(
      ([topic, ns]) =>
        `<h3>${e(topic)}</h3>\n<ul>${ns
          .map((n) => `<li${n.level === 'warning' ? ' class="warning"' : ''}>${n.level === 'warning' ? '! warning: ' : ''}${e(n.text)}</li>`)
          .join('')}</ul>`,
    )
    .join('\n')}`;
}

export function reportTitle(m: ReportModel): string {
  return `SCTP conformance ${HEADLINE[m.run.status]}: ${m.counts.passed} passed, ${m.counts.failed} failed, ${m.counts.skipped} skipped, ${m.counts.pending} pending — Kubernetes ${m.cluster.version}`;
}

export function renderReportHtml(m: ReportModel): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sctp-e2e ${e(m.schema)}">
<title>${e(reportTitle(m))}</title>
<style>${CSS}</style>
</head>
<body>
${banner(m)}
<main>
${counts(m)}
${runSection(m)}
${clusterSection(m)}
${capabilitiesSection(m)}
${tagSection(m)}
${failuresSection(m)}
${testsSection(m)}
${notesSection(m)}
<p><small>Generated by sctp-e2e (${e(m.schema)}); the same data is in report.json beside this file.</small></p>
</main>
</body>
</html>
`;
}
