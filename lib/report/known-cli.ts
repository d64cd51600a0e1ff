// The known-results checker: `tsx lib/report/known-cli.ts --known FILE [--results FILE] [--report DIR]`.
// Holds a run (JUnit XML, summary.json or report.json) to a plugin's known-results file (known.ts), prints the
// verdict table and the per-plugin verdict line; with --report DIR it also rewrites DIR/report.json and
// DIR/report.html with each known failure marked, and writes DIR/known-results.txt (the table).
// Exit 0: every failure known and matched, every known failure failed as described; 1: not so; 2: bad input.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runMain } from '../framework/main.ts';
import { checkKnown, KnownResultsError, readKnownResults, readRunResults, renderCheckTable, withKnownResults } from './known.ts';
import type { ReportModel } from './model.ts';
import { REPORT_FILES, writeReport } from './write.ts';

export const KNOWN_USAGE = `usage: tsx lib/report/known-cli.ts --known FILE [--results junit.xml|summary.json|report.json] [--report DIR]
  --known FILE     the plugin's known-results file (e.g. cluster/netpol/known-results/cilium-v1.15.19.yaml)
  --results FILE   the run's results; default DIR/report.json of --report
  --report DIR     the run's report card: rewritten with the known failures marked (report.json, report.html)
exit 0: every failure is known and matched and every known failure failed as described; 1: not so; 2: bad input`;

export function mainKnown(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): number {
  let values: { known?: string; results?: string; report?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { known: { type: 'string' }, results: { type: 'string' }, report: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    err(`known-results: ${(e as Error).message}\n${KNOWN_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    out(`${KNOWN_USAGE}\n`);
    return 0;
  }
  if (!values.known || (!values.results && !values.report)) {
    err(`known-results: ${values.known ? 'give --results or --report' : '--known FILE is required'}\n${KNOWN_USAGE}\n`);
    return 2;
  }
  const reportJson = values.report ? join(values.report, REPORT_FILES.json) : undefined;
  try {
    const known = readKnownResults(values.known);
    const results = readRunResults(values.results ?? reportJson!);
    let check = checkKnown(results, known);
    let model: ReportModel | undefined;
    if (reportJson) {
      if (!existsSync(reportJson))
        throw new KnownResultsError(`--report ${values.report}: no ${REPORT_FILES.json} there (did the run get --report ${values.report}?)`);
      model = JSON.parse(readFileSync(reportJson, 'utf8')) as ReportModel;
      // the report names the run's CNI: the check holds it to the file's plugin too
      if (results.cni === undefined) check = checkKnown({ ...results, cni: model.cluster?.cni?.name }, known);
    }
    const table = renderCheckTable(check);
    out(`${table}\n`);
    if (model && values.report) {
      const { html } = writeReport(values.report, withKnownResults(model, check, known));
      writeFileSync(join(values.report, 'known-results.txt'), `${table}\n`);
      out(`Report: ${html} (known failures of ${known.label} marked)\n`);
    }
    return check.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof KnownResultsError || e instanceof SyntaxError) {
      err(`known-results: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1]?.endsWith('known-cli.ts')) runMain('known-results', () => mainKnown(process.argv.slice(2)));
