// The labels on everything the suite creates: the run label lets `npm run e2e:sweep` (and the next run)
// find what a run left behind; the suite label says which spec created a namespace.

export const RUN_LABEL = 'sctp-e2e.io/run';
export const SUITE_LABEL = 'sctp-e2e.io/suite';
