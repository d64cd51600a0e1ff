// The cluster behind the spec facade: one client per run (from the run's kubeconfig), and the namespaces
// the framework creates, deletes and dumps (lib/framework's NamespaceHost, over lib/k8s).

import { getRunConfig } from './framework/config.ts';
import type { NamespaceHost } from './framework/framework.ts';
import { timeouts } from './framework/timeouts.ts';
import { api, type Cluster, isNotFound, loadCluster } from './k8s/client.ts';

let shared: Cluster | undefined;

/** The run's cluster client, created on first use. */
export function cluster(): Cluster {
  if (!shared) {
    const cfg = getRunConfig();
    shared = loadCluster(cfg.kubeconfig, cfg.kubeconfigSource);
  }
  return shared;
}

/** Namespaces for lib/framework, in the run's cluster. */
export const k8sNamespaces: NamespaceHost = {
  async createNamespace(base, labels) {
    const created = await api(`create namespace ${base}-*`, () => cluster().core.createNamespace({ body: { metadata: { generateName: `${base}-`, labels } } }));
    return created.metadata!.name!;
  },
  async deleteNamespace(name) {
    try {
      await api(`delete namespace ${name}`, () => cluster().core.deleteNamespace({ name }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  async namespaceReady(name) {
    await api('get serviceaccount default', () => cluster().core.readNamespacedServiceAccount({ namespace: name, name: 'default' }));
  },
  dumps(ns) {
    const c = cluster();
    return {
      'pods.json': () => api('list pods', () => c.core.listNamespacedPod({ namespace: ns }), timeouts.apiCall),
      'events.json': () => api('list events', () => c.core.listNamespacedEvent({ namespace: ns })),
      'services.json': () => api('list services', () => c.core.listNamespacedService({ namespace: ns })),
      'endpointslices.json': () => api('list endpointslices', () => c.discovery.listNamespacedEndpointSlice({ namespace: ns })),
      'networkpolicies.json': () => api('list networkpolicies', () => c.net.listNamespacedNetworkPolicy({ namespace: ns })),
    };
  },
};
