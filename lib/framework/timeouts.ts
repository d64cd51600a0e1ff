// Named timeouts: a bare number for time in a spec is a review comment.
// SCTP_E2E_TIMEOUT_SCALE multiplies them all (slow clusters, emulated nodes).

const scale = (() => {
  const raw = process.env.SCTP_E2E_TIMEOUT_SCALE;
  if (!raw) return 1;
  const v = Number(raw);
  return Number.isFinite(v) && v > 0 ? v : 1;
})();

const s = (seconds: number) => Math.round(seconds * 1000 * scale);

export const timeouts = {
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
  /** One command on a node. */
  nodeExec: s(30),
  /** One connectivity probe (connect + exchange). */
  probe: s(5),
  /** A whole connectivity matrix, retries included. */
  matrix: s(120),
  /** DNS records appear for a new Service. */
  dns: s(60),
  /** One cleanup entry (deleting a namespace waits for its pods). */
  cleanup: s(120),
  /** After a basic test, before the sctp.ko check: long enough for kubelet and kube-proxy to act on it. */
  moduleSettle: s(3),
  /** Polling interval for eventually(). */
  poll: Math.max(200, s(1)),
} as const;

export type TimeoutName = keyof typeof timeouts;

/** Kept for importers of the old place: the formatter lives in duration.ts. */
export { formatDuration } from './duration.ts';
