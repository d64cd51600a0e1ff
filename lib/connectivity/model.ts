// The world a connectivity test builds, in the style of upstream's netpol e2e model
// (test/e2e/network/netpol/model.go): namespaces x, y, z × pods a, b, c, each pod serving the same
// ports. Pure data: names and labels only; the suite maps model names to real objects
// (namespace "x" → "netpol-x-7k2lq") when it creates them.

/** The protocols a Kubernetes port may declare: the one definition (builders, probes and specs import it). */
export type Protocol = 'SCTP' | 'TCP' | 'UDP';

export interface ServerPort {
  port: number;
  protocol: Protocol;
}

export interface PodModel {
  /** Model namespace name, e.g. "x". */
  namespace: string;
  /** Pod name, e.g. "a". */
  name: string;
  /** Pod labels: always pod=<name>, plus any extra ones. */
  labels: Record<string, string>;
}

export interface NamespaceModel {
  name: string;
  /** Namespace labels: always ns=<name>, plus any extra ones. */
  labels: Record<string, string>;
}

export interface Model {
  namespaces: NamespaceModel[];
  pods: PodModel[];
  /** What every pod serves (one server container per port in the suite). */
  ports: ServerPort[];
}

/** "x/a": the name a pod has in truth tables. */
export function podKey(namespace: string, pod: string): string {
  return `${namespace}/${pod}`;
}

/** "x/a" → { namespace: "x", pod: "a" }; throws on anything else. */
export function parsePodKey(key: string): { namespace: string; pod: string } {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(key);
  if (!m) throw new Error(`not a pod key "namespace/pod": ${JSON.stringify(key)}`);
  return { namespace: m[1]!, pod: m[2]! };
}

export interface ModelOptions {
  namespaces?: string[];
  pods?: string[];
  ports?: ServerPort[];
  /** Extra labels per pod key ("x/a") or per namespace name ("x"). */
  podLabels?: Record<string, Record<string, string>>;
  namespaceLabels?: Record<string, Record<string, string>>;
}

/** Upstream's default world: x, y, z × a, b, c, serving SCTP :80. */
export function newModel(o: ModelOptions = {}): Model {
  const nsNames = o.namespaces ?? ['x', 'y', 'z'];
  const podNames = o.pods ?? ['a', 'b', 'c'];
  const ports = o.ports ?? [{ port: 80, protocol: 'SCTP' }];
  for (const n of [...nsNames, ...podNames]) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) throw new Error(`model name ${JSON.stringify(n)} is not a DNS label`);
  }
  if (new Set(nsNames).size !== nsNames.length || new Set(podNames).size !== podNames.length) throw new Error('model names must be unique');
  for (const p of ports) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`model port ${p.port} is not 1..65535`);
  }
  return {
    namespaces: nsNames.map((name) => ({ name, labels: { ns: name, ...(o.namespaceLabels?.[name] ?? {}) } })),
    pods: nsNames.flatMap((namespace) =>
      podNames.map((name) => ({ namespace, name, labels: { pod: name, ...(o.podLabels?.[podKey(namespace, name)] ?? {}) } })),
    ),
    ports,
  };
}

/** Every pod key in model order: x/a, x/b, x/c, y/a, ... */
export function podKeys(m: Model): string[] {
  return m.pods.map((p) => podKey(p.namespace, p.name));
}

export function findPod(m: Model, key: string): PodModel {
  const { namespace, pod } = parsePodKey(key);
  const p = m.pods.find((x) => x.namespace === namespace && x.name === pod);
  if (!p) throw new Error(`pod ${key} is not in the model (${podKeys(m).join(' ')})`);
  return p;
}

/** matchLabels semantics: every given label present with that value; {} matches everything. */
export function matchLabels(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Pods selected by an optional namespace-label selector and an optional pod-label selector. */
export function selectPods(m: Model, sel: { namespaceLabels?: Record<string, string>; podLabels?: Record<string, string> }): string[] {
  const nsOk = new Set(m.namespaces.filter((n) => matchLabels(sel.namespaceLabels ?? {}, n.labels)).map((n) => n.name));
  return m.pods.filter((p) => nsOk.has(p.namespace) && matchLabels(sel.podLabels ?? {}, p.labels)).map((p) => podKey(p.namespace, p.name));
}

/** "SCTP/80, TCP/81" for titles. */
export function describePorts(ports: ServerPort[]): string {
  return ports.map((p) => `${p.protocol}/${p.port}`).join(', ');
}
