// Named timeouts: a bare number for time in a spec is a review comment.
// SCTP_E2E_TIMEOUT_SCALE multiplies them all (slow clusters, emulated nodes).

const scale = (() => {
  const raw = process.env.SCTP_E2E_TIMEOUT_SCALE;
  if (!raw) return 1;
  const v = Number(raw);
  return Number.isFinite(v) && v > 0 ? v : 1;
})();

const s = (seconds: number) => Math.round(seconds * 1000 * scale);

const base = {
  /** One API call (create/get/delete). */
  apiCall: s(20),
  /** Namespace creation until the default ServiceAccount exists. */
  namespace: s(60), // the ServiceAccount controller can lag ~40 s after an API server restart (seen in CI)
  /** Pod scheduled, image present, containers running and ready. */
  podStart: s(120),
  /** Endpoints / EndpointSlices reflect a pod change. */
  endpoints: s(60),
  /** kube-proxy (or the CNI) has written rules for a new Service or hostPort. */
  proxySync: s(60),
  /** A LoadBalancer Service gets its ingress address, or the provider says why not (kube-proxy's sync budget). */
  loadBalancer: s(60),
  /** One command on a node. */
  nodeExec: s(30),
  /** One connectivity probe (connect + exchange). */
  probe: s(5),
  /** DNS records appear for a new Service. */
  dns: s(60),
  /** One cleanup entry (deleting a namespace waits for its pods). */
  cleanup: s(120),
  /** After a basic test, before the sctp.ko check: long enough for kubelet and kube-proxy to act on it. */
  moduleSettle: s(3),
  /** Polling interval for eventually(). */
  poll: Math.max(200, s(1)),
};

/** The connect timeout of one truth-table probe: short, since a deny matrix costs about this once. */
const matrixProbe = Math.min(base.probe, 2_000 * Math.max(1, base.probe / 5_000));

export const timeouts = {
  ...base,
  matrixProbe,
  /**
   * Cells re-probed until each is accepted (lib/connectivity/probe-matrix.ts settleOptions with the connect
   * timeout `probe`): two observations (connect + exec each), then up to one sync period of re-probes.
   */
  cellsSettle: base.proxySync + 2 * (base.probe + base.nodeExec) + base.poll,
  /**
   * A whole truth-table matrix (connect timeout `matrixProbe`), retries included: one settle to prove the
   * policy in force, one more for the held-back allowed cells.
   */
  matrix: 2 * (base.proxySync + 2 * (matrixProbe + base.nodeExec) + base.poll),
} as const;

export type TimeoutName = keyof typeof timeouts;

/**
 * What a test or hook waits for: how many times each named timeout, and `ms` for a span of the test's own
 * making (e.g. an association it holds open). A spec declares this (f.budget); the framework adds it up.
 */
export type Waits = { readonly [K in TimeoutName]?: number } & { readonly ms?: number };

/** Slack on every budget: what a test does between its waits (logging, local work, the framework's own calls). */
export const budgetMargin = s(10);

/** `n` times the same waits (a loop in the test: rounds, nodes, associations). */
export function times(n: number, ...ws: Waits[]): Waits {
  const out: Record<string, number> = {};
  for (const w of ws) for (const [k, v] of Object.entries(w)) out[k] = (out[k] ?? 0) + (v ?? 0) * n;
  return out as Waits;
}

/** The sum of the waits, no margin: a deadline for one call that is made of named waits. */
export function span(...ws: Waits[]): number {
  let total = 0;
  for (const w of ws) {
    for (const [k, n] of Object.entries(w)) {
      if (n === undefined) continue;
      if (!(Number.isFinite(n) && n >= 0)) throw new Error(`waits: ${k} must be a count >= 0, got ${n}`);
      if (k === 'ms') total += n;
      else if (k in timeouts) total += timeouts[k as TimeoutName] * n;
      else throw new Error(`waits: ${k} is not a named timeout (lib/framework/timeouts.ts)`);
    }
  }
  return total;
}

/** The mocha timeout for a test or hook that waits for `ws`: their sum plus the margin. */
export function budget(...ws: Waits[]): number {
  return span(...ws) + budgetMargin;
}

/** Kept for importers of the old place: the formatter lives in duration.ts. */
export { formatDuration } from './duration.ts';
