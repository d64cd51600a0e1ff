// A 403 names what was denied (verb, resource, group, scope) and where to grant it; exit code 5 at top level.
// The bodies in testdata/forbidden-*.json are the API server's Status objects as it sends them.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { findKubeconfig, IN_CLUSTER, nodeAccessOf, SERVICE_ACCOUNT_DIR } from '../framework/config.ts';
import { ExitCode } from '../framework/errors.ts';
import { ApiForbidden, api, deniedOf, isNotFound, loadCluster } from './client.ts';

const body = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
/** What @kubernetes/client-node throws for an HTTP error: ApiException with the body as text. */
const http = (code: number, text: string) => new k8s.ApiException(code, `HTTP-Code: ${code}`, text, {});

describe('API errors: 403 forbidden', () => {
  it('parses the Status message: verb, resource, group, namespace, user', () => {
    expect(deniedOf(http(403, body('forbidden-create-pods.json')))).to.deep.include({
      verb: 'create',
      resource: 'pods',
      group: '',
      namespace: 'sctp-svc-rules-x7k2q',
      user: 'system:serviceaccount:sctp-e2e:sctp-e2e-suite',
    });
    expect(deniedOf(http(403, body('forbidden-list-nodes.json')))).to.deep.include({ verb: 'list', resource: 'nodes', namespace: undefined });
    expect(deniedOf(http(404, '{}'))).to.equal(undefined);
  });

  it('api() turns a 403 into ApiForbidden: one sentence with the call, verb, resource.group and scope, exit code 5', async () => {
    const err = await api('create pod sctp-server in sctp-svc-x', () => Promise.reject(http(403, body('forbidden-create-endpointslices.json')))).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ApiForbidden);
    const f = err as ApiForbidden;
    expect(f.exitCode).to.equal(ExitCode.forbidden);
    expect(f.status).to.equal(403);
    expect(f.message).to.match(
      /^create pod sctp-server in sctp-svc-x: forbidden: system:serviceaccount:sctp-e2e:sctp-e2e-suite may not create endpointslices\.discovery\.k8s\.io in namespace sctp-svc-x \(HTTP 403\); grant create on endpointslices\.discovery\.k8s\.io/,
    );
    expect(f.message).to.contain('suite-image/rbac.yaml');
    const nodes = await api('list nodes', () => Promise.reject(http(403, body('forbidden-list-nodes.json')))).catch((e: unknown) => e as Error);
    expect(nodes.message).to.contain('may not list nodes at cluster scope');
  });

  it("a 403 whose body says nothing parseable (a webhook, a proxy) still says forbidden and keeps the server's words", async () => {
    const e = await api('delete namespace x', () => Promise.reject(http(403, 'denied by policy "no-deletes"'))).catch((x: unknown) => x as Error);
    expect(e).to.be.instanceOf(ApiForbidden);
    expect(e.message).to.equal(
      "delete namespace x: forbidden (HTTP 403); grant the verb on the resource to the suite's account (suite-image/rbac.yaml " +
        'lists every rule the suite needs). API server: denied by policy "no-deletes"',
    );
  });

  it('other errors are unchanged: status kept, 404 still recognised', async () => {
    const e = await api('read pod p', () => Promise.reject(http(404, '{"message":"pods \\"p\\" not found"}'))).catch((x: unknown) => x);
    expect(e).not.to.be.instanceOf(ApiForbidden);
    expect(isNotFound(e)).to.equal(true);
    expect((e as Error).message).to.equal('read pod p: HTTP 404: pods "p" not found');
  });
});

describe('in-cluster credentials (no kubeconfig, in a pod)', () => {
  const saved = { ...process.env };
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sctp-e2e-sa-'));
    mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'token'), 'tok');
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'ca.crt'), '');
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(root, { recursive: true, force: true });
  });

  it('findKubeconfig picks the service account when KUBERNETES_SERVICE_HOST is set and the token is mounted', () => {
    const env = {
      HOME: root,
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      SCTP_E2E_IN_CLUSTER_ROOT: root,
      SCTP_E2E_CLUSTER_DIR: join(root, 'none'),
    };
    expect(findKubeconfig(env)).to.deep.equal({
      path: IN_CLUSTER,
      source: `in-cluster service account (${root}${SERVICE_ACCOUNT_DIR}, API server 10.96.0.1:443)`,
    });
    expect(findKubeconfig({ ...env, KUBERNETES_SERVICE_HOST: '' })?.path).not.to.equal(IN_CLUSTER);
    expect(findKubeconfig({ ...env, KUBECONFIG: '/k' })?.path).to.equal('/k'); // an explicit kubeconfig wins
  });

  it('loadCluster(IN_CLUSTER) uses the token file and the service host; without them it is exit 3 with the reason', () => {
    Object.assign(process.env, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443', SCTP_E2E_IN_CLUSTER_ROOT: root });
    const c = loadCluster(IN_CLUSTER, 'in-cluster service account');
    expect(c.server).to.equal('https://[fd00::1]:6443');
    expect(c.kc.getCurrentUser()?.authProvider?.config?.tokenFile).to.equal(`${root}${SERVICE_ACCOUNT_DIR}/token`);
    delete process.env.KUBERNETES_SERVICE_HOST;
    expect(() => loadCluster(IN_CLUSTER))
      .to.throw(/no in-cluster credentials: KUBERNETES_SERVICE_HOST is unset/)
      .with.property('exitCode', ExitCode.kubeconfig);
  });

  it('node access defaults to host pods in a pod; --node-access still wins', () => {
    expect(nodeAccessOf({}, IN_CLUSTER)).to.deep.equal({ mode: 'hostpod', from: 'in-cluster default' });
    expect(nodeAccessOf({ SCTP_E2E_NODE_ACCESS: 'ssh' }, IN_CLUSTER)).to.deep.equal({ mode: 'ssh', from: '--node-access' });
    expect(nodeAccessOf({}, '/root/.kube/config')).to.deep.equal({ mode: 'auto', from: '--node-access' });
  });
});
