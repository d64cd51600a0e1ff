// Node predicates shared by the specs (lib/e2e.ts) and the capability probe (lib/capabilities.ts).
import type * as k8s from '@kubernetes/client-node';

export function nodeIsReady(n: k8s.V1Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Not cordoned and without a NoSchedule/NoExecute taint. */
export function nodeIsSchedulable(n: k8s.V1Node): boolean {
  return !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

export function nodeIsReadySchedulable(n: k8s.V1Node): boolean {
  return nodeIsReady(n) && nodeIsSchedulable(n);
}
