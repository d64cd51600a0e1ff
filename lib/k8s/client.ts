// Kubernetes clients with deadlines and errors that read as one sentence.

import * as k8s from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { ExitCode, UserError, withDeadline } from '../framework/errors.ts';
import { timeouts } from '../framework/timeouts.ts';

export interface Cluster {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  discovery: k8s.DiscoveryV1Api;
  net: k8s.NetworkingV1Api;
  apps: k8s.AppsV1Api;
  authz: k8s.AuthorizationV1Api;
  version: k8s.VersionApi;
  /** Where the kubeconfig came from (for messages). */
  source: string;
  server: string;
}

export function loadCluster(kubeconfigPath: string, source = kubeconfigPath): Cluster {
  if (!existsSync(kubeconfigPath)) {
    throw new UserError(`kubeconfig ${kubeconfigPath} (from ${source}) does not exist; point KUBECONFIG or --kubeconfig at a readable kubeconfig file`, ExitCode.kubeconfig);
  }
  const kc = new k8s.KubeConfig();
  try {
    const text = readFileSync(kubeconfigPath, 'utf8');
    kc.loadFromString(text);
  } catch (e) {
    throw new UserError(`kubeconfig ${kubeconfigPath} (from ${source}) is not a valid kubeconfig: ${firstLine((e as Error).message)}`, ExitCode.kubeconfig);
  }
  const cluster = kc.getCurrentCluster();
  if (!kc.getCurrentContext() || !cluster) {
    throw new UserError(`kubeconfig ${kubeconfigPath} (from ${source}) has no usable current-context with a cluster; set one with \`kubectl config use-context\``, ExitCode.kubeconfig);
  }
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    discovery: kc.makeApiClient(k8s.DiscoveryV1Api),
    net: kc.makeApiClient(k8s.NetworkingV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    authz: kc.makeApiClient(k8s.AuthorizationV1Api),
    version: kc.makeApiClient(k8s.VersionApi),
    source,
    server: cluster.server,
  };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** HTTP status of an API error, if it is one. */
export function apiStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A short message for an API error: "HTTP 403: pods is forbidden: User ... cannot create ...". */
export function apiErrorMessage(e: unknown): string {
  const status = apiStatus(e);
  if (status !== undefined) {
    let body = (e as { body?: unknown }).body;
    if (typeof body === 'string') {
      try { body = JSON.parse(body); } catch { /* plain text */ }
    }
    const msg = (body as { message?: string })?.message ?? (typeof body === 'string' ? body : '');
    return `HTTP ${status}${msg ? `: ${msg}` : ''}`;
  }
  const err = e as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = err?.cause?.code ?? err?.code;
  const base = firstLine(err?.cause?.message ?? err?.message ?? String(e));
  return code && !base.includes(code) ? `${code}: ${base}` : base;
}

/** One API call with a deadline; errors name the call. */
export async function api<T>(what: string, fn: () => Promise<T>, timeout: number = timeouts.apiCall): Promise<T> {
  try {
    return await withDeadline(what, timeout, () => fn());
  } catch (e) {
    if ((e as Error).name === 'DeadlineExceeded') throw e;
    const err = new Error(`${what}: ${apiErrorMessage(e)}`, { cause: e });
    (err as { status?: number }).status = apiStatus(e);
    throw err;
  }
}

export function isNotFound(e: unknown): boolean {
  return apiStatus(e) === 404 || (e as { status?: number })?.status === 404;
}

/**
 * Checks that the API server answers and that we may do what the suite does. Throws a UserError with a
 * distinct exit code: unreachable (4), forbidden (5).
 */
export async function preflight(c: Cluster, timeout = 10_000): Promise<{ gitVersion: string }> {
  let info: k8s.VersionInfo;
  try {
    info = await withDeadline(`GET ${c.server}/version`, timeout, () => c.version.getCode());
  } catch (e) {
    const status = apiStatus(e);
    if (status === 401) {
      throw new UserError(`the API server at ${c.server} (kubeconfig ${c.source}) rejected our credentials (HTTP 401); refresh the kubeconfig`, ExitCode.forbidden);
    }
    if (status === 403) {
      // /version is normally readable by anyone authenticated; fall through to the access review
      info = { gitVersion: 'unknown' } as k8s.VersionInfo;
    } else {
      throw new UserError(`cannot reach the API server at ${c.server} (kubeconfig ${c.source}): ${apiErrorMessage(e)}`, ExitCode.unreachable);
    }
  }
  const needs: Array<[string, string, string]> = [
    ['create', '', 'namespaces'],
    ['delete', '', 'namespaces'],
    ['create', '', 'pods'],
    ['create', '', 'pods/exec'],
    ['create', '', 'services'],
    ['create', 'networking.k8s.io', 'networkpolicies'],
    ['create', 'discovery.k8s.io', 'endpointslices'],
    ['list', '', 'nodes'],
  ];
  const denied: string[] = [];
  for (const [verb, group, resource] of needs) {
    const [res, sub] = resource.split('/');
    let allowed = false;
    try {
      const r = await withDeadline('SelfSubjectAccessReview', timeout, () =>
        c.authz.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { verb, group, resource: res, subresource: sub } } },
        }),
      );
      allowed = !!r.status?.allowed;
    } catch (e) {
      throw new UserError(`cannot check permissions at ${c.server} (kubeconfig ${c.source}): ${apiErrorMessage(e)}`, apiStatus(e) === 403 ? ExitCode.forbidden : ExitCode.unreachable);
    }
    if (!allowed) denied.push(`${verb} ${group ? `${resource}.${group}` : resource}`);
  }
  if (denied.length) {
    throw new UserError(`the credentials in ${c.source} may not ${denied.join(', ')} (RBAC); the suite needs cluster-admin-like rights for test namespaces`, ExitCode.forbidden);
  }
  return { gitVersion: info.gitVersion };
}
