// Kubernetes clients with deadlines and errors that read as one sentence.

import { existsSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { IN_CLUSTER, serviceAccountDir } from '../framework/config.ts';
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
  if (kubeconfigPath === IN_CLUSTER) return inCluster(source);
  if (!existsSync(kubeconfigPath)) {
    throw new UserError(
      `kubeconfig ${kubeconfigPath} (from ${source}) does not exist; point KUBECONFIG or --kubeconfig at a readable kubeconfig file`,
      ExitCode.kubeconfig,
    );
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
    throw new UserError(
      `kubeconfig ${kubeconfigPath} (from ${source}) has no usable current-context with a cluster; set one with \`kubectl config use-context\``,
      ExitCode.kubeconfig,
    );
  }
  return clients(kc, source, cluster.server);
}

/** In a pod: the service account's token and CA (KubeConfig.loadFromCluster), the API server from the environment. */
function inCluster(source: string): Cluster {
  const dir = serviceAccountDir();
  if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(`${dir}/token`)) {
    throw new UserError(
      `no in-cluster credentials: KUBERNETES_SERVICE_HOST is ${process.env.KUBERNETES_SERVICE_HOST ? 'set' : 'unset'} ` +
        `and ${dir}/token ${existsSync(`${dir}/token`) ? 'exists' : 'is missing'} (automountServiceAccountToken: false?)`,
      ExitCode.kubeconfig,
    );
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster(process.env.SCTP_E2E_IN_CLUSTER_ROOT);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError(`in-cluster credentials from ${dir} gave no cluster`, ExitCode.kubeconfig);
  return clients(kc, source, cluster.server);
}

function clients(kc: k8s.KubeConfig, source: string, server: string): Cluster {
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    discovery: kc.makeApiClient(k8s.DiscoveryV1Api),
    net: kc.makeApiClient(k8s.NetworkingV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    authz: kc.makeApiClient(k8s.AuthorizationV1Api),
    version: kc.makeApiClient(k8s.VersionApi),
    source,
    server,
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
      try {
        body = JSON.parse(body);
      } catch {
        /* plain text */
      }
    }
    const msg = (body as { message?: string })?.message ?? (typeof body === 'string' ? body : '');
    return `HTTP ${status}${msg ? `: ${msg}` : ''}`;
  }
  const err = e as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = err?.cause?.code ?? err?.code;
  const base = firstLine(err?.cause?.message ?? err?.message ?? String(e));
  return code && !base.includes(code) ? `${code}: ${base}` : base;
}

/** What a 403 denied, from the API server's Status body (its message names verb, resource, group, scope). */
export interface Denied {
  verb?: string;
  /** "pods", "pods/exec", "endpointslices" */
  resource?: string;
  group?: string;
  namespace?: string;
  user?: string;
  /** The API server's own message. */
  message: string;
}

/** Parses a 403 body ("pods \"x\" is forbidden: User \"u\" cannot create resource \"pods\" in API group \"\" in the namespace \"n\""). */
export function deniedOf(e: unknown): Denied | undefined {
  if (apiStatus(e) !== 403 && (e as { status?: number })?.status !== 403) return undefined;
  let body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* plain text */
    }
  }
  const b = (body ?? {}) as { message?: string; details?: { kind?: string; group?: string } };
  const message = b.message ?? (typeof body === 'string' ? body : '');
  const m = /User "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/.exec(message);
  if (m) return { user: m[1], verb: m[2], resource: m[3], group: m[4], namespace: m[5], message };
  return { resource: b.details?.kind, group: b.details?.group, message };
}

/** A 403 from the API server: the message names what was denied and where to grant it; exit code 5 at top level. */
export class ApiForbidden extends UserError {
  readonly status = 403;
  constructor(
    readonly what: string,
    readonly denied: Denied,
    options?: { cause?: unknown },
  ) {
    const d = denied;
    const res = d.resource ? `${d.resource}${d.group ? `.${d.group}` : ''}` : undefined;
    const scope = d.namespace ? `in namespace ${d.namespace}` : d.verb ? 'at cluster scope' : '';
    const head =
      d.verb && res
        ? `forbidden: ${d.user ? `${d.user} may not` : 'the credentials may not'} ${d.verb} ${res} ${scope}`.trimEnd()
        : `forbidden${res ? ` (resource ${res})` : ''}`;
    super(
      `${what}: ${head} (HTTP 403); grant ${d.verb ?? 'the verb'} on ${res ?? 'the resource'} to the suite's account ` +
        `(suite-image/rbac.yaml lists every rule the suite needs). API server: ${d.message || '(no message)'}`,
      ExitCode.forbidden,
    );
    this.name = 'ApiForbidden';
    if (options?.cause) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** One API call with a deadline; errors name the call, a 403 names the verb and resource denied (ApiForbidden). */
export async function api<T>(what: string, fn: () => Promise<T>, timeout: number = timeouts.apiCall): Promise<T> {
  try {
    return await withDeadline(what, timeout, () => fn());
  } catch (e) {
    if ((e as Error).name === 'DeadlineExceeded') throw e;
    const denied = deniedOf(e);
    if (denied) throw new ApiForbidden(what, denied, { cause: e });
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
      throw new UserError(
        `the API server at ${c.server} (kubeconfig ${c.source}) rejected our credentials (HTTP 401); refresh the kubeconfig`,
        ExitCode.forbidden,
      );
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
      throw new UserError(
        `cannot check permissions at ${c.server} (kubeconfig ${c.source}): ${apiErrorMessage(e)}`,
        apiStatus(e) === 403 ? ExitCode.forbidden : ExitCode.unreachable,
      );
    }
    if (!allowed) denied.push(`${verb} ${group ? `${resource}.${group}` : resource}`);
  }
  if (denied.length) {
    throw new UserError(
      `the credentials in ${c.source} may not ${denied.join(', ')} (RBAC); suite-image/rbac.yaml holds the ClusterRole the suite needs`,
      ExitCode.forbidden,
    );
  }
  return { gitVersion: info.gitVersion };
}
