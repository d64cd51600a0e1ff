// Run configuration, resolved from the environment (the runner bin/sctp-e2e.ts exports it there, so a
// plain `mocha` run of one spec resolves the same way).

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type ClusterJson, ContractError, readClusterJson } from '../../cluster/contract.ts';
import { ExitCode, UserError } from './errors.ts';
import { AGNHOST_SCTP_IMAGE, type Flavor, type ImageInputs, type ImageRole, resolveImages, resolveRewrite } from './images.ts';
import { NODE_ACCESS_CHOICES, type NodeAccessChoice } from './node-access.ts';

export type { Flavor };
/** The local cluster's cluster.json (cluster/contract.ts is its one definition); a run needs no outside or images. */
export type LocalClusterInfo = Omit<ClusterJson, 'outside' | 'images'> & Partial<Pick<ClusterJson, 'outside' | 'images'>>;

export interface RunConfig {
  kubeconfig: string;
  kubeconfigSource: string;
  /** Every image the run uses, by role (lib/framework/images.ts): agnhost-sctp by default, or upstream agnhost. */
  images: Record<ImageRole, string>;
  /** How the test image was chosen (printed in the run's header). */
  imagesWhy: string;
  flavor: Flavor;
  nodeAccess: NodeAccessChoice;
  /** Where nodeAccess came from, for messages: "--node-access", or the in-cluster default. */
  nodeAccessFrom: string;
  artifactsDir: string;
  runId: string;
  clusterDomain: string;
  /** Set when the kubeconfig belongs to the local from-source cluster (cluster/). */
  localCluster?: LocalClusterInfo;
}

export const DEFAULT_IMAGE = AGNHOST_SCTP_IMAGE;

export function localClusterDir(env = process.env): string {
  return env.SCTP_E2E_CLUSTER_DIR || '/var/lib/sctp-e2e/cluster';
}

export function readLocalCluster(env = process.env): LocalClusterInfo | undefined {
  try {
    return readClusterJson(localClusterDir(env));
  } catch (e) {
    if (e instanceof ContractError)
      throw new UserError(`the local cluster's state is damaged: ${e.message} (npm run cluster:down, then cluster:up)`, ExitCode.prerequisite);
    throw e;
  }
}

/** The kubeconfig "path" that stands for the pod's service account (lib/k8s/client.ts loadCluster). */
export const IN_CLUSTER = '(in-cluster)';
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where the service account is mounted; SCTP_E2E_IN_CLUSTER_ROOT prefixes it (the suite's own tests). */
export function serviceAccountDir(env = process.env): string {
  return `${env.SCTP_E2E_IN_CLUSTER_ROOT ?? ''}${SERVICE_ACCOUNT_DIR}`;
}

/** In a pod: KUBERNETES_SERVICE_HOST is set and the service account token is mounted. */
export function inClusterConfig(env = process.env): { path: string; source: string } | undefined {
  const dir = serviceAccountDir(env);
  if (!env.KUBERNETES_SERVICE_HOST || !existsSync(join(dir, 'token'))) return undefined;
  return { path: IN_CLUSTER, source: `in-cluster service account (${dir}, API server ${env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? '443'})` };
}

/**
 * Where the kubeconfig comes from, in order: --kubeconfig/SCTP_E2E_KUBECONFIG, KUBECONFIG, ~/.kube/config, the
 * pod's service account (in-cluster), the local cluster.
 */
export function findKubeconfig(env = process.env): { path: string; source: string } | undefined {
  if (env.SCTP_E2E_KUBECONFIG) return { path: env.SCTP_E2E_KUBECONFIG, source: '--kubeconfig' };
  if (env.KUBECONFIG) {
    const first = env.KUBECONFIG.split(':').filter(Boolean)[0];
    if (first) return { path: first, source: 'KUBECONFIG' };
  }
  const home = join(env.HOME || homedir(), '.kube', 'config'); // $HOME as kubectl reads it, from the env given
  if (existsSync(home)) return { path: home, source: '~/.kube/config' };
  const pod = inClusterConfig(env);
  if (pod) return pod;
  const local = readLocalCluster(env);
  if (local && existsSync(local.kubeconfig)) return { path: local.kubeconfig, source: `local cluster (${localClusterDir(env)}/cluster.json)` };
  return undefined;
}

/** --node-access (SCTP_E2E_NODE_ACCESS), else in a pod host pods (no SSH keys or docker there), else auto. */
export function nodeAccessOf(env: NodeJS.ProcessEnv, kubeconfigPath: string): { mode: NodeAccessChoice; from: string } {
  if (env.SCTP_E2E_NODE_ACCESS) return { mode: env.SCTP_E2E_NODE_ACCESS as NodeAccessChoice, from: '--node-access' };
  if (kubeconfigPath === IN_CLUSTER) return { mode: 'hostpod', from: 'in-cluster default' };
  return { mode: 'auto', from: '--node-access' };
}

let cached: RunConfig | undefined;

export function getRunConfig(env = process.env): RunConfig {
  if (cached) return cached;
  const kc = findKubeconfig(env);
  if (!kc) {
    throw new UserError('no kubeconfig: set KUBECONFIG, pass --kubeconfig, or run `npm run e2e` to bring up the embedded local cluster', ExitCode.kubeconfig);
  }
  const local = readLocalCluster();
  const isLocal = !!local && local.kubeconfig === kc.path;
  const { inputs, flavor } = imageInputs(env, isLocal ? local : undefined);
  const resolved = resolveImages(inputs);
  const { mode: nodeAccess, from: nodeAccessFrom } = nodeAccessOf(env, kc.path);
  if (!(NODE_ACCESS_CHOICES as readonly string[]).includes(nodeAccess)) {
    throw new UserError(`--node-access must be one of ${NODE_ACCESS_CHOICES.join(', ')}, not ${JSON.stringify(nodeAccess)}`);
  }
  cached = {
    kubeconfig: kc.path,
    kubeconfigSource: kc.source,
    images: resolved.images,
    imagesWhy: resolved.why,
    flavor,
    nodeAccess,
    nodeAccessFrom,
    artifactsDir: env.SCTP_E2E_ARTIFACTS ?? 'artifacts',
    runId: env.SCTP_E2E_RUN_ID ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase(),
    clusterDomain: env.SCTP_E2E_CLUSTER_DOMAIN ?? local?.clusterDomain ?? 'cluster.local',
    localCluster: isLocal ? local : undefined,
  };
  return cached;
}

/**
 * What the images depend on, from the environment the runner exports: flavor, --image, the registry rewrite
 * and, once the runner has connected, the cluster's version (SCTP_E2E_SERVER_VERSION). Needs no kubeconfig.
 */
export function imageInputs(env = process.env, local?: LocalClusterInfo): { inputs: ImageInputs; flavor: Flavor } {
  const flavor = (env.SCTP_E2E_FLAVOR ?? 'agnhost-sctp') as Flavor;
  if (flavor !== 'agnhost-sctp' && flavor !== 'agnhost') {
    throw new UserError(`--flavor must be agnhost-sctp or agnhost, not ${JSON.stringify(flavor)}`);
  }
  return {
    flavor,
    inputs: {
      flavor,
      explicit: env.SCTP_E2E_IMAGE || undefined,
      localAgnhostSctp: local?.images?.agnhost,
      serverVersion: env.SCTP_E2E_SERVER_VERSION || undefined,
      rewrite: resolveRewrite(env),
    },
  };
}

/**
 * Called where the cluster is loaded, once its version is known: the upstream agnhost tag follows the
 * cluster's minor. Exported to the environment too, so a spec process resolves the same.
 */
export function noteServerVersion(gitVersion: string, env = process.env): RunConfig {
  env.SCTP_E2E_SERVER_VERSION = gitVersion;
  const cfg = getRunConfig(env);
  const resolved = resolveImages(imageInputs(env, cfg.localCluster).inputs);
  cfg.images = resolved.images;
  cfg.imagesWhy = resolved.why;
  return cfg;
}

// The run's config file (`--config FILE`, YAML or JSON): the same choices as the flags, which override it.
//
//   require: [node-access, kernel-sctp]   # capabilities whose absence fails tests instead of skipping them
//   tag: [SCTP]                           # --tag (a string or a list)
//   skipTag: [Disruptive]                 # --skip-tag
//   nodeAccess: ssh                       # --node-access
//   junit: out/junit.xml                  # --junit
//   report: out/report                     # --report (report.html + report.json)
//   imageRepo: my.registry/e2e          # --image-repo
//   imageRepoList: repo-list.yaml       # --image-repo-list (KUBE_TEST_REPO_LIST format)
//   also: grep, skip, spec, kubeconfig, image, flavor, artifacts

/** The flag each file key stands for (file keys are camelCase). */
export const CONFIG_FILE_KEYS = {
  require: 'require',
  tag: 'tag',
  skipTag: 'skip-tag',
  nodeAccess: 'node-access',
  junit: 'junit',
  grep: 'grep',
  skip: 'skip',
  spec: 'spec',
  kubeconfig: 'kubeconfig',
  image: 'image',
  flavor: 'flavor',
  artifacts: 'artifacts',
  report: 'report',
  imageRepo: 'image-repo',
  imageRepoList: 'image-repo-list',
} as const;
const LIST_KEYS = new Set(['require', 'tag', 'skipTag', 'spec']);

export type FileConfig = { [K in keyof typeof CONFIG_FILE_KEYS]?: K extends 'require' | 'tag' | 'skipTag' | 'spec' ? string[] : string };

/** Parses and checks a config file's text; every problem is a usage error naming the file and the key. */
export function parseConfigFile(text: string, path: string): FileConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML 1.2 reads JSON too
  } catch (e) {
    throw new UserError(`--config ${path} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError(`--config ${path} must hold a mapping of keys (${Object.keys(CONFIG_FILE_KEYS).join(', ')})`);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!Object.hasOwn(CONFIG_FILE_KEYS, k)) {
      throw new UserError(`unknown key ${JSON.stringify(k)} in --config ${path}; known: ${Object.keys(CONFIG_FILE_KEYS).join(', ')}`);
    }
    if (LIST_KEYS.has(k)) {
      const list =
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
        throw new UserError(`${k} in --config ${path} must be a list of strings (or a comma list), not ${JSON.stringify(v)}`);
      out[k] = list;
    } else {
      if (typeof v !== 'string') throw new UserError(`${k} in --config ${path} must be a string, not ${JSON.stringify(v)}`);
      out[k] = v;
    }
  }
  return out as FileConfig;
}

export function readConfigFile(path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`--config ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfigFile(text, path);
}

/** Flags override the file; list flags replace the file's list (they do not add to it). */
export function mergeConfigFile<V extends Record<string, unknown>>(flags: V, file: FileConfig): V {
  const out: Record<string, unknown> = { ...flags };
  for (const [k, flag] of Object.entries(CONFIG_FILE_KEYS)) {
    const v = file[k as keyof FileConfig];
    if (v !== undefined && out[flag] === undefined) out[flag] = v;
  }
  return out as V;
}
