// The report input and model of a real run (the JSON files here, see README.md), for the renderer tests and the browser test.
import { readFileSync } from 'node:fs';
import type { CapabilityReport } from '../../capabilities.ts';
import type { Result, Verdict } from '../../framework/reporter.ts';
import type { RunNote } from '../../framework/run-notes.ts';
import { buildReport, type ReportInput, type ReportModel } from '../model.ts';

const RUN = '20261204t215606';
const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./${name}-${RUN}.json`, import.meta.url), 'utf8')) as T;

export function realRunInput(): ReportInput {
  const summary = read<{ results: Result[]; notes: RunNote[]; verdict: Verdict }>('summary');
  return {
    results: summary.results,
    notes: summary.notes,
    verdict: summary.verdict,
    // not in that run's summary.json (older format): its run id is its start time; its files are ~1m apart
    startedAt: '2026-12-04T21:56:06Z',
    wallMs: 84_000,
    runId: RUN,
    command: 'bin/sctp-e2e.ts run --tag SCTP',
    capabilities: read<CapabilityReport>('capabilities'),
    cluster: {
      server: 'https://10.199.0.2:6443',
      version: 'v1.34.4',
      cni: { name: 'bridge + portmap (CNI plugins)', evidence: 'conflist sctpe2e: bridge + portmap' },
    },
  };
}

export function realRunModel(patch: (i: ReportInput) => ReportInput = (i) => i): ReportModel {
  return buildReport(patch(realRunInput()));
}
