// Every container image the suite runs, in one place: the roles, their default references (per flavor, per
// Kubernetes minor for upstream agnhost), and the registry rewrites (--image-repo, --image-repo-list,
// KUBE_TEST_REPO_LIST). The specs and helpers read their image from RunConfig.images.<role>; `npm run e2e --
// --list-images` prints what the same code resolves, so the list cannot drift from what the tests use.
//
// Upstream's KUBE_TEST_REPO_LIST file (test/utils/image/manifest.go, RegistryList) maps a registry "key" to a
// mirror; an image whose registry-and-path (everything before the last `/`) equals the key's default is moved
// to the mirror, keeping name:tag. The same file works for upstream's e2e.test and for this suite.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UserError } from './errors.ts';

export type Flavor = 'agnhost-sctp' | 'agnhost';

/** What each image is for. All roles need the agnhost subcommands and /bin/busybox (sh, nsenter, ip). */
export const IMAGE_ROLES = {
  test: 'every test pod: SCTP servers, clients, backends (f.config.images.test)',
  hostExec: 'privileged host pods for node access when the transport is hostpod (lib/e2e-node.ts)',
  outside: "the outside vantage point on kind: a Docker container on kind's network (lib/outside.ts)",
} as const;
export type ImageRole = keyof typeof IMAGE_ROLES;
export const ROLE_NAMES = Object.keys(IMAGE_ROLES) as ImageRole[];

export const AGNHOST_SCTP_IMAGE = 'registry.local/agnhost-sctp:0.1.0';
export const UPSTREAM_AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost';

/**
 * The agnhost tag upstream's e2e.test of each Kubernetes minor uses (test/utils/image/manifest.go on the
 * release branch), so an air-gapped mirror made for that release already holds it. Evidence per row.
 */
export const AGNHOST_TAGS: ReadonlyArray<{ minor: number; tag: string; evidence: string }> = [
  // NOT confirmed from a stored release-1.30 manifest.go: 2.50 was promoted on 2024-04-24, after 1.30's
  // release (2024-04-17), so 1.30 has an older tag; 2.47 is the tag we recall for release-1.29/1.30.
  { minor: 30, tag: '2.47', evidence: 'unconfirmed; older than 2.50, which was promoted after the 1.30 release' },
  { minor: 31, tag: '2.52', evidence: 'kubernetes#124599 (2024-04-28) set 2.52; 2.53 was promoted after 1.31 (k8s.io#7262, 2024-09-05)' },
  { minor: 32, tag: '2.53', evidence: 'kubernetes#127057 / k8s.io#7262 (2024-09-05); 2.54 was promoted after 1.32 and 1.33 (k8s.io#8063, 2025-05-03)' },
  { minor: 33, tag: '2.53', evidence: '2.54 was promoted on 2025-05-03, after the 1.33 release (2025-04-23)' },
  { minor: 34, tag: '2.56', evidence: 'kubernetes#132117 (2025-06-05) moved manifest.go from 2.54 to 2.56 before the 1.34 release' },
  // NOT confirmed: 2.59 was promoted on 2025-10-26 (k8s.io#8699) for a new test, but no stored source shows
  // release-1.35's manifest.go; 2.56 (release-1.34's, certainly published) is the conservative pick.
  { minor: 35, tag: '2.56', evidence: "unconfirmed; conservative: release-1.34's tag" },
  { minor: 36, tag: '2.63.0', evidence: 'kubernetes#141537 shows release-1.36 manifest.go with Agnhost 2.63.0' },
];

/** "v1.34.2", "v1.34.0-gke.100", "1.34" → 34; undefined when it is not a 1.x version. */
export function minorOf(gitVersion: string | undefined): number | undefined {
  const m = /^v?1\.(\d+)(?:\.|$|[-+])/.exec(gitVersion?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface AgnhostTag {
  tag: string;
  /** The table row used. */
  minor: number;
  /** Why this row, in words (printed with the image). */
  why: string;
}

/** The upstream agnhost tag for a cluster's Kubernetes minor (newest known row when the minor is unknown). */
export function agnhostTagFor(minor: number | undefined): AgnhostTag {
  const rows = [...AGNHOST_TAGS].sort((a, b) => a.minor - b.minor);
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  if (minor === undefined)
    return { tag: last.tag, minor: last.minor, why: `cluster version unknown: the tag of Kubernetes 1.${last.minor}, the newest minor known` };
  const exact = rows.find((r) => r.minor === minor);
  if (exact) return { tag: exact.tag, minor, why: `the tag upstream's e2e.test uses for Kubernetes 1.${minor}` };
  if (minor > last.minor)
    return { tag: last.tag, minor: last.minor, why: `Kubernetes 1.${minor} is newer than the table: the tag of 1.${last.minor}, the newest minor known` };
  return { tag: first.tag, minor: first.minor, why: `Kubernetes 1.${minor} is older than the table: the tag of 1.${first.minor}, the oldest minor known` };
}

// ---- image references and registry rewrites ----

export interface ImageRef {
  /** Registry and path: everything before the last `/` ("docker.io/library" for a bare name). */
  registry: string;
  /** The last path component with its tag or digest ("agnhost:2.56"). */
  nameTag: string;
}

export function splitImage(ref: string): ImageRef {
  const i = ref.lastIndexOf('/');
  if (i < 0) return { registry: 'docker.io/library', nameTag: ref };
  return { registry: ref.slice(0, i), nameTag: ref.slice(i + 1) };
}

/**
 * The keys of upstream's RegistryList (test/utils/image/manifest.go, current and older releases) with their
 * default values, plus this suite's own key for agnhost-sctp. Upstream ignores keys it does not know, so one
 * file serves both.
 */
export const REPO_LIST_DEFAULTS: Readonly<Record<string, string>> = {
  gcAuthenticatedRegistry: 'gcr.io/authenticated-image-pulling',
  promoterE2eRegistry: 'registry.k8s.io/e2e-test-images',
  buildImageRegistry: 'registry.k8s.io/build-image',
  invalidRegistry: 'invalid.registry.k8s.io/invalid',
  gcEtcdRegistry: 'registry.k8s.io',
  gcRegistry: 'registry.k8s.io',
  sigStorageRegistry: 'registry.k8s.io/sig-storage',
  privateRegistry: 'gcr.io/k8s-authenticated-test',
  dockerLibraryRegistry: 'docker.io/library',
  cloudProviderGcpRegistry: 'registry.k8s.io/cloud-provider-gcp',
  // older releases' keys (still accepted so their files load)
  e2eRegistry: 'k8s.gcr.io/e2e-test-images',
  gcrReleaseRegistry: 'gcr.io/gke-release',
  sampleRegistry: 'gcr.io/google-samples',
  microsoftRegistry: 'mcr.microsoft.com',
  // this suite's own key: where agnhost-sctp lives
  agnhostSctpRegistry: 'registry.local',
};

/** How image registries are rewritten for this run. */
export type Rewrite = { kind: 'none' } | { kind: 'repo'; registry: string; source: string } | { kind: 'list'; map: Record<string, string>; source: string };

/** Parses a KUBE_TEST_REPO_LIST-compatible YAML file; any problem is one usage sentence naming the source. */
export function parseRepoList(text: string, source: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UserError(`${source} is not valid YAML: ${(e as Error).message.split('\n')[0]!.replace(/:\s*$/, '')}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError(`${source} must be a mapping of registry keys (e.g. promoterE2eRegistry: my.registry/e2e-test-images)`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!Object.hasOwn(REPO_LIST_DEFAULTS, k)) {
      throw new UserError(`unknown key ${JSON.stringify(k)} in ${source}; known: ${Object.keys(REPO_LIST_DEFAULTS).join(', ')}`);
    }
    if (typeof v !== 'string' || !v.trim() || /\s/.test(v.trim()))
      throw new UserError(`${k} in ${source} must be a registry such as my.registry/e2e-test-images, not ${JSON.stringify(v)}`);
    out[k] = v.trim().replace(/\/+$/, '');
  }
  return out;
}

export function readRepoList(path: string, source: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${source} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRepoList(text, source);
}

function checkRegistry(registry: string, flag: string): string {
  const r = registry.trim().replace(/\/+$/, '');
  // a registry and optional path: no tag or digest (a `:` is allowed only for the host's port)
  if (
    !r ||
    /\s|@/.test(r) ||
    r
      .split('/')
      .slice(1)
      .some((p) => p.includes(':'))
  )
    throw new UserError(`${flag} must be a registry such as my.registry:5000/e2e, not ${JSON.stringify(registry)}`);
  return r;
}

/**
 * The rewrite in force, in order: --image-repo, --image-repo-list, $KUBE_TEST_REPO_LIST. Reads the file (so
 * a bad file is a usage error before any cluster is touched).
 */
export function resolveRewrite(env: NodeJS.ProcessEnv = process.env): Rewrite {
  if (env.SCTP_E2E_IMAGE_REPO) return { kind: 'repo', registry: checkRegistry(env.SCTP_E2E_IMAGE_REPO, '--image-repo'), source: '--image-repo' };
  if (env.SCTP_E2E_IMAGE_REPO_LIST) {
    const source = `--image-repo-list ${env.SCTP_E2E_IMAGE_REPO_LIST}`;
    return { kind: 'list', map: readRepoList(env.SCTP_E2E_IMAGE_REPO_LIST, source), source };
  }
  if (env.KUBE_TEST_REPO_LIST) {
    const source = `KUBE_TEST_REPO_LIST=${env.KUBE_TEST_REPO_LIST}`;
    if (/^https?:\/\//.test(env.KUBE_TEST_REPO_LIST))
      throw new UserError(`${source}: a URL is not supported here (no network at this stage); download it and pass --image-repo-list FILE`);
    return { kind: 'list', map: readRepoList(env.KUBE_TEST_REPO_LIST, source), source };
  }
  return { kind: 'none' };
}

/** One image under the rewrite: the registry changes, name:tag (or @digest) stays. */
export function rewriteImage(ref: string, rw: Rewrite): string {
  if (rw.kind === 'none') return ref;
  const { registry, nameTag } = splitImage(ref);
  if (rw.kind === 'repo') return `${rw.registry}/${nameTag}`;
  for (const [key, to] of Object.entries(rw.map)) {
    if (REPO_LIST_DEFAULTS[key] === registry) return `${to}/${nameTag}`;
  }
  return ref;
}

// ---- resolution ----

export interface ImageInputs {
  flavor: Flavor;
  /** --image: the test image, used for every role. */
  explicit?: string;
  /** The local from-source cluster's imported agnhost-sctp (cluster.json images.agnhost). */
  localAgnhostSctp?: string;
  /** The cluster's Kubernetes version (gitVersion), once known. */
  serverVersion?: string;
  rewrite: Rewrite;
}

export interface ResolvedImages {
  images: Record<ImageRole, string>;
  /** How the test image was chosen, for the run's header line. */
  why: string;
  /** Set when the agnhost tag was chosen without knowing the cluster's version. */
  versionUnknown?: boolean;
}

export function resolveImages(i: ImageInputs): ResolvedImages {
  let base: string;
  let why: string;
  let versionUnknown: boolean | undefined;
  if (i.explicit) {
    base = i.explicit;
    why = '--image';
  } else if (i.flavor === 'agnhost') {
    const t = agnhostTagFor(minorOf(i.serverVersion));
    base = `${UPSTREAM_AGNHOST}:${t.tag}`;
    why = `upstream agnhost, ${t.why}`;
    versionUnknown = minorOf(i.serverVersion) === undefined;
  } else if (i.localAgnhostSctp) {
    base = i.localAgnhostSctp;
    why = 'agnhost-sctp imported by the local cluster (cluster.json)';
  } else {
    base = AGNHOST_SCTP_IMAGE;
    why = 'agnhost-sctp default';
  }
  const ref = rewriteImage(base, i.rewrite);
  if (ref !== base) why += `, registry rewritten by ${i.rewrite.kind === 'none' ? '' : i.rewrite.source}`;
  // one image for every role: host pods need its /bin/busybox (nsenter), the outside container its agnhost connect
  const images = Object.fromEntries(ROLE_NAMES.map((r) => [r, ref])) as Record<ImageRole, string>;
  return { images, why, versionUnknown };
}

// ---- which roles a selection uses ----

export interface SelectedTest {
  fullTitle: string;
  file?: string;
}

export interface RoleUse {
  tests: readonly SelectedTest[];
  nodeAccess: string;
  /** The source text of a spec file (to see whether it uses the outside vantage point). */
  source: (file: string) => string;
}

/** The roles the selected tests may use (a role the run will certainly not need is left out). */
export function rolesUsed(u: RoleUse): ImageRole[] {
  if (!u.tests.length) return [];
  const roles: ImageRole[] = ['test'];
  // auto picks ssh or docker when it can, else host pods; without a cluster we cannot tell, so list it
  if (u.nodeAccess === 'auto' || u.nodeAccess === 'hostpod') roles.push('hostExec');
  const files = [...new Set(u.tests.map((t) => t.file).filter((f): f is string => !!f))];
  if (files.some((f) => /\bfindOutside\s*\(/.test(u.source(f)))) roles.push('outside');
  return roles;
}

/** The distinct references of the given roles, in role order. */
export function listImages(images: Record<ImageRole, string>, roles: readonly ImageRole[]): string[] {
  return [...new Set(roles.map((r) => images[r]))];
}
