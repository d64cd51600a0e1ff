// The flags of `sctp-e2e run|sweep` (lib/cli/e2e-main.ts), in one table, so that what drives the suite from
// outside (the conformance entrypoint, lib/cli/conformance-entry.ts, and its fixture stand-in) is checked
// against the real parser.
import { parseArgs } from 'node:util';

export const E2E_OPTIONS = {
  kubeconfig: { type: 'string' },
  grep: { type: 'string' },
  skip: { type: 'string' },
  tag: { type: 'string', multiple: true },
  'skip-tag': { type: 'string', multiple: true },
  spec: { type: 'string', multiple: true },
  image: { type: 'string' },
  flavor: { type: 'string' },
  'node-access': { type: 'string' },
  junit: { type: 'string' },
  artifacts: { type: 'string' },
  run: { type: 'string' },
  require: { type: 'string', multiple: true },
  config: { type: 'string' },
  report: { type: 'string' },
  'image-repo': { type: 'string' },
  'image-repo-list': { type: 'string' },
  'list-images': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  lab: { type: 'string' },
  'no-cluster-up': { type: 'boolean' },
  'down-after': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Strict: an unknown flag or a missing value throws (the caller turns it into a usage error). */
export function parseE2eArgs(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: E2E_OPTIONS });
}
