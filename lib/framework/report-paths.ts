// Where a run writes its JUnit and JSON summary. Prow (and TestGrid) collect $ARTIFACTS and read
// junit_*.xml there: when $ARTIFACTS is set and no --junit was given, JUnit goes to
// $ARTIFACTS/junit_sctp-e2e.xml and the summary is written beside it as well.

import { join } from 'node:path';

export const PROW_JUNIT = 'junit_sctp-e2e.xml';
export const PROW_SUMMARY = 'sctp-e2e-summary.json';

export interface ReportPaths {
  junit: string;
  /** The run's own summary first, then any copy. */
  summaryJson: string[];
  /** Set when $ARTIFACTS chose the paths (one line for the run's header). */
  prow?: string;
}

export function reportPaths(o: { junit?: string; defaultJunit: string; runSummary: string }, env: NodeJS.ProcessEnv = process.env): ReportPaths {
  if (o.junit || !env.ARTIFACTS) return { junit: o.junit ?? o.defaultJunit, summaryJson: [o.runSummary] };
  const junit = join(env.ARTIFACTS, PROW_JUNIT);
  const summary = join(env.ARTIFACTS, PROW_SUMMARY);
  return { junit, summaryJson: [o.runSummary, summary], prow: `$ARTIFACTS is set: JUnit to ${junit}, summary also to ${summary}` };
}
