// `npm run e2e -- --list-images`: every image the selection would use, one per line, fully qualified, from
// the same resolution the run uses (lib/framework/images.ts) and the same test selection (the spec files are
// loaded, nothing runs). No cluster is contacted; the upstream agnhost tag, which follows the cluster's
// Kubernetes minor, is then the newest known minor's, and stderr says so.

import { readFileSync } from 'node:fs';
import { findKubeconfig, imageInputs, readLocalCluster } from '../framework/config.ts';
import { listImages, resolveImages, rolesUsed } from '../framework/images.ts';
import { selectTests } from '../framework/runner.ts';

export async function printImageList(o: { patterns: string[]; grep?: string; nodeAccess: string; env?: NodeJS.ProcessEnv }): Promise<void> {
  const env = o.env ?? process.env;
  const kc = findKubeconfig(env);
  const local = readLocalCluster();
  const { inputs } = imageInputs(env, local && kc && local.kubeconfig === kc.path ? local : undefined);
  const resolved = resolveImages(inputs);
  const tests = await selectTests(o.patterns, o.grep);
  const sources = new Map<string, string>();
  const roles = rolesUsed({
    tests,
    nodeAccess: o.nodeAccess,
    source: (f) => {
      if (!sources.has(f)) sources.set(f, readFileSync(f, 'utf8'));
      return sources.get(f)!;
    },
  });
  const list = listImages(resolved.images, roles);
  for (const ref of list) process.stdout.write(`${ref}\n`);
  const err = (l: string) => process.stderr.write(`sctp-e2e: ${l}\n`);
  if (!tests.length) err(`the selection matches no test, so no image is used${o.grep ? ` (selection ${o.grep})` : ''}`);
  else err(`${tests.length} selected tests use ${roles.join(', ')} (${resolved.why})`);
  if (resolved.versionUnknown && list.length)
    err("no cluster contacted: a run picks the agnhost tag of the cluster's Kubernetes minor (lib/framework/images.ts AGNHOST_TAGS)");
}
