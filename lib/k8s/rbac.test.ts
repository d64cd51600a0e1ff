// suite-image/rbac.yaml grants exactly what the code calls: every Kubernetes API call in lib/, suites/ and bin/
// (a method of the client classes lib/k8s/client.ts makes, or an exec through k8s.Exec) maps to a verb on a
// resource that a ClusterRole rule allows, and every rule is used by some call. A new call without a rule, or
// a rule left behind, fails here with the file and line.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';

const ROOTS = ['lib', 'suites', 'bin'];
/** The API classes the suite uses (lib/k8s/client.ts Cluster, lib/node/hostpod.ts) and their API group. */
const CLASSES: Array<[object, string]> = [
  [k8s.CoreV1Api.prototype, ''],
  [k8s.DiscoveryV1Api.prototype, 'discovery.k8s.io'],
  [k8s.NetworkingV1Api.prototype, 'networking.k8s.io'],
  [k8s.AppsV1Api.prototype, 'apps'],
  [k8s.AuthorizationV1Api.prototype, 'authorization.k8s.io'],
];
/** Subresources as the client names them (readNamespacedPodLog → pods/log). */
const SUBRESOURCES = ['Log', 'Status', 'Exec', 'Attach', 'Portforward', 'Proxy', 'Scale', 'Eviction', 'Binding', 'Ephemeralcontainers', 'Resize'];

interface Call {
  verb: string;
  group: string;
  resource: string;
  where: string;
  method: string;
}

function plural(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('y')) return `${k.slice(0, -1)}ies`;
  if (k.endsWith('s')) return `${k}es`;
  return `${k}s`;
}

/** createNamespacedPod → create pods; readNamespacedPodLog → get pods/log; connectGetNamespacedPodExec → get pods/exec. */
function callOf(method: string): Omit<Call, 'where' | 'group' | 'method'> | undefined {
  const m =
    /^(create|delete|list|read|patch|replace|connect(Get|Post|Put|Delete|Patch|Head|Options))(Collection)?(Namespaced)?([A-Z]\w*?)(ForAllNamespaces)?$/.exec(
      method,
    );
  if (!m) return undefined;
  const op = m[1]!;
  let kind = m[5]!;
  const collection = !!m[3];
  let sub = '';
  for (const s of SUBRESOURCES)
    if (kind.length > s.length && kind.endsWith(s)) {
      sub = s.toLowerCase();
      kind = kind.slice(0, -s.length);
      break;
    }
  const verb = op.startsWith('connect')
    ? ({ Get: 'get', Head: 'get', Options: 'get', Post: 'create', Put: 'update', Patch: 'patch', Delete: 'delete' } as Record<string, string>)[m[2]!]!
    : (
        { create: 'create', delete: collection ? 'deletecollection' : 'delete', list: 'list', read: 'get', patch: 'patch', replace: 'update' } as Record<
          string,
          string
        >
      )[op]!;
  return { verb, resource: `${plural(kind)}${sub ? `/${sub}` : ''}` };
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' || n === 'testdata' || n === 'fixtures' ? [] : files(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every API call in the sources, with where it is. */
function apiCalls(roots = ROOTS): Call[] {
  const calls: Call[] = [];
  for (const f of roots.flatMap(files)) {
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const where = `${f}:${i + 1}`;
      for (const m of line.matchAll(/\.([a-z][A-Za-z]+)\(/g)) {
        const method = m[1]!;
        const owner = CLASSES.find(([proto]) => typeof (proto as Record<string, unknown>)[method] === 'function');
        if (!owner) continue; // not a client method (e.g. the framework's f.createService wrapper)
        const c = callOf(method);
        if (c) calls.push({ ...c, group: owner[1], where, method });
      }
      // pods/exec over WebSocket (lib/k8s/pod-exec.ts): GET upgrade; newer API servers also authorize it as create
      if (/new k8s\.Exec\(/.test(line)) {
        calls.push({ verb: 'get', group: '', resource: 'pods/exec', where, method: 'k8s.Exec' });
        calls.push({ verb: 'create', group: '', resource: 'pods/exec', where, method: 'k8s.Exec' });
      }
      for (const m of line.matchAll(/new k8s\.(Log|Attach|PortForward|Watch|Cp|Metrics)\(/g)) {
        calls.push({
          verb: m[1] === 'Watch' ? 'watch' : 'get',
          group: '',
          resource: `(k8s.${m[1]}: map it in lib/k8s/rbac.test.ts)`,
          where,
          method: `k8s.${m[1]}`,
        });
      }
    });
  }
  return calls;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

function clusterRole(): Rule[] {
  const docs = parseAllDocuments(readFileSync('suite-image/rbac.yaml', 'utf8')).map((d) => d.toJS() as { kind: string; rules?: Rule[] });
  const roles = docs.filter((d) => d.kind === 'ClusterRole');
  expect(roles, 'one ClusterRole in suite-image/rbac.yaml').to.have.length(1);
  return roles[0]!.rules!;
}

const allows = (r: Rule, c: Pick<Call, 'verb' | 'group' | 'resource'>) =>
  !!r.apiGroups?.includes(c.group) && !!r.resources?.includes(c.resource) && r.verbs.includes(c.verb);

describe('RBAC: suite-image/rbac.yaml grants exactly the API calls the code makes', () => {
  it('maps client method names to verb and resource', () => {
    expect(callOf('createNamespacedPod')).to.deep.equal({ verb: 'create', resource: 'pods' });
    expect(callOf('listNode')).to.deep.equal({ verb: 'list', resource: 'nodes' });
    expect(callOf('readNamespacedNetworkPolicy')).to.deep.equal({ verb: 'get', resource: 'networkpolicies' });
    expect(callOf('listDaemonSetForAllNamespaces')).to.deep.equal({ verb: 'list', resource: 'daemonsets' });
    expect(callOf('readNamespacedPodLog')).to.deep.equal({ verb: 'get', resource: 'pods/log' });
    expect(callOf('connectGetNamespacedPodExec')).to.deep.equal({ verb: 'get', resource: 'pods/exec' });
    expect(callOf('replaceNamespacedServiceStatus')).to.deep.equal({ verb: 'update', resource: 'services/status' });
    expect(callOf('deleteCollectionNamespacedPod')).to.deep.equal({ verb: 'deletecollection', resource: 'pods' });
    expect(callOf('createSelfSubjectAccessReview')).to.deep.equal({ verb: 'create', resource: 'selfsubjectaccessreviews' });
    expect(callOf('listNamespacedEndpointSlice')).to.deep.equal({ verb: 'list', resource: 'endpointslices' });
  });

  it('finds the calls (a scan that finds nothing proves nothing)', () => {
    const calls = apiCalls();
    const keys = new Set(calls.map((c) => `${c.verb} ${c.resource}`));
    for (const k of ['create namespaces', 'create pods', 'get pods/exec', 'list nodes', 'create endpointslices', 'create networkpolicies', 'create services']) {
      expect(keys, k).to.include(k);
    }
  });

  it('every call is allowed by a rule (verb + resource + group)', () => {
    const rules = clusterRole();
    const missing = apiCalls().filter((c) => !rules.some((r) => allows(r, c)));
    expect(
      missing.map((c) => `${c.where}: ${c.method} needs ${c.verb} ${c.resource}${c.group ? `.${c.group}` : ''}`),
      'add these to suite-image/rbac.yaml',
    ).to.deep.equal([]);
  });

  it('every verb of every rule is used by some call (least privilege)', () => {
    const calls = apiCalls();
    const unused: string[] = [];
    for (const r of clusterRole()) {
      if (r.nonResourceURLs) {
        expect(r.nonResourceURLs, 'the only non-resource URL is /version (VersionApi.getCode in lib/k8s/client.ts)').to.deep.equal(['/version']);
        expect(r.verbs).to.deep.equal(['get']);
        continue;
      }
      for (const g of r.apiGroups ?? [])
        for (const res of r.resources ?? [])
          for (const v of r.verbs) {
            if (!calls.some((c) => c.group === g && c.resource === res && c.verb === v)) unused.push(`${v} ${res}${g ? `.${g}` : ''}`);
          }
    }
    expect(unused, 'rules no call needs: remove them from suite-image/rbac.yaml').to.deep.equal([]);
  });

  it("the pod manifest runs the image of package.json's version, as the bound service account, non-root", () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    const rbac = parseAllDocuments(readFileSync('suite-image/rbac.yaml', 'utf8')).map((d) => d.toJS() as Record<string, any>);
    const pod = parseAllDocuments(readFileSync('suite-image/pod.yaml', 'utf8'))[0]!.toJS() as Record<string, any>;
    const sa = rbac.find((d) => d.kind === 'ServiceAccount')!;
    const binding = rbac.find((d) => d.kind === 'ClusterRoleBinding')!;
    expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    expect(pod.metadata.namespace).to.equal(sa.metadata.namespace);
    expect(pod.spec.serviceAccountName).to.equal(sa.metadata.name);
    expect(pod.spec.securityContext).to.include({ runAsNonRoot: true, runAsUser: 65534 });
    for (const c of pod.spec.containers) expect(c.image).to.equal(`registry.local/sctp-e2e-suite:${version}`);
    const suite = pod.spec.containers.find((c: { name: string }) => c.name === 'suite');
    expect(suite.env.find((e: { name: string }) => e.name === 'RESULTS_DIR').value).to.equal('/tmp/results');
    expect(suite.volumeMounts).to.deep.equal([{ name: 'results', mountPath: '/tmp/results' }]);
    expect(pod.spec.volumes).to.deep.equal([{ name: 'results', emptyDir: {} }]);
  });
});
