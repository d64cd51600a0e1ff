// The import boundaries between the rooms (docs/ARCHITECTURE.md), checked by boundaries.ts in `npm run lint`
// and `npm test`. Paths are relative to the repository root; `**` spans directories.
import type { AllowedViolation, BoundaryRule } from './boundaries.ts';

export const RULES: BoundaryRule[] = [
  {
    name: 'specs-use-the-facade',
    from: ['suites/**'],
    forbid: ['lib/k8s/client.ts'],
    why: 'specs reach the cluster through useE2E (lib/e2e.ts), never the raw API client',
  },
  {
    name: 'core-imports-no-optional-part',
    from: ['lib/framework/**'],
    forbid: ['lib/k8s/**', 'lib/node/**', 'lib/connectivity/**', 'lib/report/**', 'cluster/**', 'vm/**'],
    why: 'lib/framework is the core; the optional parts build on it, not the reverse',
  },
  {
    name: 'vm-reads-the-cluster-contract',
    from: ['vm/**'],
    forbid: ['cluster/**'],
    except: ['cluster/contract.ts'],
    why: 'the kernel lane reads the local cluster only through cluster/contract.ts',
  },
  {
    name: 'contract-is-a-leaf',
    from: ['cluster/contract.ts'],
    forbid: ['cluster/render.ts'],
    why: 'everyone reads the contract; it builds only on the pure leaves topology.ts and components.ts, never on the renderers',
  },
];

/**
 * Violations known today, each one exactly (rule, file, target): debt, and this list shows what is left. An entry
 * that no longer matches anything fails the check too, so a fixed violation leaves the list with its fix.
 */
export const ALLOWED: AllowedViolation[] = [
  // TODO(house-lint): config.ts reads the embedded cluster's cluster.json (findKubeconfig, RunConfig.localCluster) through
  // the contract; moving local-cluster discovery out of the core changes getRunConfig's callers (framework.ts, e2e.ts).
  { rule: 'core-imports-no-optional-part', file: 'lib/framework/config.ts', target: 'cluster/contract.ts', todo: 'house-lint' },
];
