// Which CNI the cluster runs, best effort, for the report card: DaemonSets (any namespace) and node annotations
// known CNIs leave behind, and for the embedded local cluster its CNI conflists. Nothing matched: "unknown",
// saying what was looked at.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../framework/errors.ts';
import { api, type Cluster } from '../k8s/client.ts';

export interface CniEvidence {
  /** "namespace/name" of every DaemonSet, with its container images. */
  daemonSets: Array<{ name: string; images: string[] }>;
  /** Annotation keys found on the nodes. */
  nodeAnnotationKeys: string[];
  /** The embedded local cluster's conflists: the plugin types per file. */
  conflists: Array<{ path: string; plugins: string[] }>;
  /** What could not be read (each lookup is best effort). */
  errors: string[];
}

export interface CniGuess {
  name: string;
  evidence: string;
}

/** `policyOnly`: a NetworkPolicy agent beside a CNI, not a CNI; named after the CNI(s), marked "(NetworkPolicy)". */
const KNOWN: Array<{ name: string; daemonSet: RegExp; annotation?: RegExp; policyOnly?: true }> = [
  { name: 'Cilium', daemonSet: /(^|\/)(cilium|anetd)$|quay\.io\/cilium\/cilium/, annotation: /^(network\.cilium\.io|io\.cilium)\// },
  { name: 'Calico', daemonSet: /(^|\/)calico-node$|calico\/node/, annotation: /^projectcalico\.org\// },
  { name: 'Canal', daemonSet: /(^|\/)canal$/ },
  { name: 'Flannel', daemonSet: /(^|\/)kube-flannel(-ds)?$|flannel/, annotation: /^flannel\.alpha\.coreos\.com\// },
  { name: 'kindnet', daemonSet: /(^|\/)kindnet$|kindnetd/ },
  { name: 'Weave Net', daemonSet: /(^|\/)weave-net$/ },
  { name: 'Antrea', daemonSet: /(^|\/)antrea-agent$/ },
  { name: 'kube-router', daemonSet: /(^|\/)kube-router$/ },
  { name: 'OVN-Kubernetes', daemonSet: /(^|\/)ovnkube-node$/, annotation: /^k8s\.ovn\.org\// },
  { name: 'Amazon VPC CNI', daemonSet: /(^|\/)aws-node$/ },
  { name: 'Multus (meta-plugin)', daemonSet: /multus/ },
  // its DaemonSet (install.yaml) or, run as a host process by cluster/knp, the node annotation that add-on sets
  {
    name: 'kube-network-policies',
    daemonSet: /(^|\/)kube-network-policies$|networking\/kube-network-policies/,
    annotation: /^sctp-e2e\.io\/kube-network-policies$/,
    policyOnly: true,
  },
];

/** CNI plugin types in a local conflist that name a known CNI (the rest are named by their plugin types). */
const CONFLIST_PLUGINS = [
  { type: 'cilium-cni', name: 'Cilium' },
  { type: 'flannel', name: 'Flannel' },
];

/** Pure: names every known CNI the evidence shows, with what showed it; else "unknown" and what was looked at. */
export function guessCni(ev: CniEvidence): CniGuess {
  const found: string[] = [];
  const policy: string[] = [];
  const why: string[] = [];
  for (const k of KNOWN) {
    const ds = ev.daemonSets.find((d) => k.daemonSet.test(d.name) || d.images.some((i) => k.daemonSet.test(i)));
    const ann = k.annotation ? ev.nodeAnnotationKeys.find((a) => k.annotation!.test(a)) : undefined;
    if (!ds && !ann) continue;
    (k.policyOnly ? policy : found).push(k.policyOnly ? `${k.name} (NetworkPolicy)` : k.name);
    why.push(`${k.name}: ${[ds && `DaemonSet ${ds.name}`, ann && `node annotation ${ann}`].filter(Boolean).join(', ')}`);
  }
  // The local cluster's containerd loads only the first conflist of a node's conf dir (max_conf_num = 1): an
  // add-on's 05-*.conflist (Cilium, flannel) shadows the cluster's 10-sctpe2e.conflist, which then names nothing.
  const firstOfDir = new Map<string, string>();
  for (const c of [...ev.conflists].sort((a, b) => a.path.localeCompare(b.path))) {
    const dir = c.path.slice(0, c.path.lastIndexOf('/'));
    if (c.plugins.length && !firstOfDir.has(dir)) firstOfDir.set(dir, c.path);
  }
  for (const c of ev.conflists) {
    const plugins = c.plugins.join(' + ');
    if (!plugins) continue;
    const first = firstOfDir.get(c.path.slice(0, c.path.lastIndexOf('/')));
    if (first !== c.path) {
      why.push(`conflist ${c.path}: ${plugins} (not loaded: ${first} sorts first)`);
      continue;
    }
    const known = CONFLIST_PLUGINS.find((k) => c.plugins.includes(k.type));
    if (known && !found.includes(known.name)) found.push(known.name);
    if (!known) found.push(`${plugins} (CNI plugins)`);
    why.push(`conflist ${c.path}: ${plugins}`);
  }
  const uniq = [...new Set([...found, ...policy])];
  const looked =
    `looked at ${ev.daemonSets.length} DaemonSet(s), ${ev.nodeAnnotationKeys.length} node annotation key(s), ${ev.conflists.length} ` + `local conflist(s)`;
  const errors = ev.errors.length ? `; could not read: ${ev.errors.join('; ')}` : '';
  if (!uniq.length) return { name: 'unknown', evidence: `no known CNI found (${looked})${errors}` };
  return { name: uniq.join(', '), evidence: `${why.join('; ')} (${looked})${errors}` };
}

/** The plugin types of the local cluster's conflists (<state>/<node>/cni/net.d/*.conflist). */
export function readLocalConflists(stateDir: string, nodes: string[]): CniEvidence['conflists'] {
  const out: CniEvidence['conflists'] = [];
  for (const node of nodes) {
    const dir = join(stateDir, node, 'cni', 'net.d');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)
      .filter((x) => /\.conf(list)?$/.test(x))
      .sort()) {
      try {
        const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { type?: string; plugins?: Array<{ type?: string }> };
        const plugins = (doc.plugins ?? [doc]).map((p) => p.type).filter((t): t is string => !!t);
        out.push({ path: join(dir, f), plugins });
      } catch {
        /* not JSON: not a conflist we can read */
      }
    }
  }
  return out;
}

/** Best effort, never throws: the evidence from the API (and the local cluster's files), then guessCni. */
export async function detectCni(c: Cluster, local?: { stateDir: string; nodes: string[] }): Promise<CniGuess> {
  const ev: CniEvidence = { daemonSets: [], nodeAnnotationKeys: [], conflists: [], errors: [] };
  await Promise.all([
    api('list daemonsets', () => c.apps.listDaemonSetForAllNamespaces()).then(
      (l) => {
        ev.daemonSets = l.items.map((d) => ({
          name: `${d.metadata?.namespace}/${d.metadata?.name}`,
          images: (d.spec?.template.spec?.containers ?? []).map((x) => x.image ?? ''),
        }));
      },
      (e) => ev.errors.push(errorMessage(e)),
    ),
    api('list nodes', () => c.core.listNode()).then(
      (l) => {
        ev.nodeAnnotationKeys = [...new Set(l.items.flatMap((n) => Object.keys(n.metadata?.annotations ?? {})))];
      },
      (e) => ev.errors.push(errorMessage(e)),
    ),
  ]);
  if (local) {
    try {
      ev.conflists = readLocalConflists(local.stateDir, local.nodes);
    } catch (e) {
      ev.errors.push(errorMessage(e));
    }
  }
  return guessCni(ev);
}
