// Pure reading of a LoadBalancer Service's state (no I/O; lb-status.test.ts): did the provider assign an
// address, did it say it rejects the Service's protocol, and how does a given vantage point reach the address.
//
// The one rule that matters: "rejected" is read only from what a provider SAYS about the protocol — a Warning
// Event, or a status condition, whose message says the protocol is unsupported/rejected. Any other event that
// mentions "sctp" proves nothing: the Service under test is itself called sctp-lb (in a namespace sctp-lb-…),
// so every event about it mentions sctp ("Ensuring load balancer for sctp-lb", "Failed to allocate IP for
// "sctp-lb-x/sctp-lb": no available IPs"). Names are masked and SCTP counts only as a word of its own.

/** An Event about the Service (core/v1 Event: type Normal|Warning). */
export interface LbEvent {
  type?: string;
  reason?: string;
  message?: string;
}

/** A status condition of the Service (metav1.Condition). */
export interface LbCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export type LbVerdict =
  /** The provider says it does not support (or rejects) the protocol: `evidence` is that event or condition. */
  | { state: 'rejected'; evidence: string; lines: string[]; warnings: string[] }
  /** Nothing says the protocol is rejected (yet). `warnings`: Warning events / conditions that say something else. */
  | { state: 'pending'; lines: string[]; warnings: string[] };

export function renderEvent(e: LbEvent): string {
  return `${e.type ? `${e.type} ` : ''}${e.reason ?? ''}: ${e.message ?? ''}`.trim();
}

export function renderCondition(c: LbCondition): string {
  return `condition ${c.type ?? '?'}=${c.status ?? '?'}${c.reason ? ` ${c.reason}` : ''}: ${c.message ?? ''}`.trim();
}

/**
 * The "type reason: message" lines of suites/sctp-connectivity/helpers.ts eventsFor() back into events
 * (the type is absent when the Event had none; a reason has no spaces or colons).
 */
export function parseEventLine(line: string): LbEvent {
  const m = /^(?:(Normal|Warning)\s+)?([^\s:]*):\s?([\s\S]*)$/.exec(line.trim());
  if (!m) return { message: line.trim() };
  return { type: m[1], reason: m[2] || undefined, message: m[3] };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** SCTP as a word of its own: not sctp-lb, sctp-lb-x7k2q/sctp-lb, sctp-e2e-lb, sctp.example, /sctp. */
const SCTP = String.raw`(?<![\w./-])sctp(?![\w/-])`;
const NEG = String.raw`(?:not\s+supported|unsupported|not\s+allowed|disallowed|not\s+permitted|rejected|invalid|not\s+valid)`;
/** "protocol" as the thing refused: not "mixed protocol" (a different rule), not a health check's protocol. */
const PROTOCOL = String.raw`(?<!mixed[- ]|health[- ]?check[- ]|healthcheck[- ])\bprotocols?\b`;

const REJECTS: RegExp[] = [
  // "SCTP not supported by this load balancer" (cluster/lb), "SCTP is not supported", "SCTP protocol is not allowed",
  // "SCTP listeners are not supported"
  new RegExp(`${SCTP}["']?(?:\\s+(?:protocol|listeners?|ports?))?\\s+(?:is\\s+|are\\s+)?(?:currently\\s+)?${NEG}`, 'i'),
  // "unsupported protocol SCTP", "invalid protocol: \"SCTP\"", "unsupported protocol" (not TLS's "unsupported protocol version")
  new RegExp(
    `(?:unsupported|invalid|disallowed|not\\s+supported|rejected)\\s+(?:load[- ]?balancer\\s+|service\\s+|port\\s+|ip\\s+|transport\\s+)?${PROTOCOL}(?!\\s+version)`,
    'i',
  ),
  // "Protocol SCTP not supported by LoadBalancer", "protocol \"SCTP\" is invalid", "protocol is not supported"
  new RegExp(`${PROTOCOL}\\s+(?:["']?${SCTP}["']?\\s+)?(?:is\\s+|are\\s+)?${NEG}`, 'i'),
  // "Unsupported value: \"SCTP\"" (an API-style validation error echoed by a provider)
  new RegExp(`(?:unsupported|invalid)\\s+value:?\\s*["']?${SCTP}`, 'i'),
  // "does not support SCTP", "doesn't support the protocol", "cannot support SCTP"
  new RegExp(`(?:does\\s*not|doesn't|do\\s*not|don't|cannot|can't|can\\s+not)\\s+support\\s+(?:the\\s+)?(?:${SCTP}|protocol)`, 'i'),
  // "no support for SCTP"
  new RegExp(`\\bno\\s+support\\s+for\\s+(?:the\\s+)?${SCTP}`, 'i'),
  // "only TCP and UDP are supported", "only TCP/UDP protocols are allowed" (a list without SCTP)
  /\bonly\s+(?:TCP|UDP|HTTPS?|TLS)(?:\s*(?:,|\/|and|or)\s*(?:TCP|UDP|HTTPS?|TLS))*(?:\s+protocols?)?\s+(?:is\s+|are\s+)?(?:supported|allowed)\b/i,
];

/**
 * True when `message` says a protocol is unsupported or rejected. `names` (the Service's name, its namespace,
 * "ns/name") are masked first, so an object name never counts as a mention of SCTP.
 */
export function saysProtocolRejected(message: string, names: readonly string[] = []): boolean {
  let m = message;
  for (const n of [...names].filter(Boolean).sort((a, b) => b.length - a.length)) m = m.replace(new RegExp(escapeRe(n), 'gi'), '<name>');
  return REJECTS.some((r) => r.test(m));
}

/**
 * Classify what a LoadBalancer Service's provider has said. 'rejected' only from a Warning Event or a status
 * condition whose message (or, for a condition, reason: "UnsupportedProtocol") says the protocol is
 * unsupported/rejected, with that line as the evidence; 'pending' otherwise. `names`: see saysProtocolRejected.
 */
export function classifyLoadBalancer(o: { events: readonly LbEvent[]; conditions?: readonly LbCondition[]; names?: readonly string[] }): LbVerdict {
  const names = o.names ?? [];
  const lines: string[] = [];
  const warnings: string[] = [];
  let evidence: string | undefined;
  for (const e of o.events) {
    const line = renderEvent(e);
    lines.push(line);
    if (e.type !== 'Warning') continue;
    if (evidence === undefined && saysProtocolRejected(e.message ?? '', names)) evidence = line;
    else warnings.push(line);
  }
  for (const c of o.conditions ?? []) {
    const line = renderCondition(c);
    lines.push(line);
    const reasonSays = /^(?:Unsupported|Invalid|Rejected)Protocol$|^Protocol(?:NotSupported|Unsupported|Rejected)$/i.test(c.reason ?? '');
    if (evidence === undefined && (reasonSays || saysProtocolRejected(c.message ?? '', names))) evidence = line;
    else if (c.status === 'False' || /fail|error|invalid|reject/i.test(`${c.reason ?? ''} ${c.message ?? ''}`)) warnings.push(line);
  }
  return evidence === undefined ? { state: 'pending', lines, warnings } : { state: 'rejected', evidence, lines, warnings };
}

// ------------------------------------------------------------------ ingress

/** status.loadBalancer.ingress[] as the API returns it. */
export interface IngressEntry {
  ip?: string;
  hostname?: string;
  ipMode?: string;
}

export interface IngressPoint {
  /** The IP, else the hostname. */
  address: string;
  isIP: boolean;
  /** VIP (also when unset: the API default) or Proxy (KEP-1860). */
  ipMode: string;
}

export function ingressPoints(ingress: readonly IngressEntry[] | undefined): IngressPoint[] {
  return (ingress ?? [])
    .map((i) => ({ address: i.ip || i.hostname || '', isIP: Boolean(i.ip), ipMode: i.ip ? i.ipMode || 'VIP' : i.ipMode || '' }))
    .filter((i) => i.address !== '');
}

/**
 * What a probe from a POD to an ingress point exercises. kube-proxy programs an ingress IP with ipMode VIP (the
 * default) on every node, so a pod's packets to it are DNATed on the pod's own node and never reach the load
 * balancer; only ipMode Proxy, or a hostname, sends them to the load balancer.
 */
export function inClusterPath(p: IngressPoint): { viaLoadBalancer: boolean; text: string } {
  if (!p.isIP)
    return {
      viaLoadBalancer: true,
      text: `ingress hostname ${p.address}: kube-proxy does not program hostnames, so the pod's packets go to whatever it resolves to (the load balancer)`,
    };
  if (p.ipMode === 'Proxy')
    return {
      viaLoadBalancer: true,
      text: `ingress IP ${p.address} with ipMode Proxy: kube-proxy leaves it alone, so the pod's packets go to the load balancer`,
    };
  return {
    viaLoadBalancer: false,
    text:
      `ingress IP ${p.address} with ipMode ${p.ipMode}: kube-proxy DNATs it on the client pod's own node, so this proves ` +
      `kube-proxy's handling of the ingress IP, not the load balancer`,
  };
}

// ------------------------------------------------------------------ reachability from a vantage point

export type RouteVerdict =
  /** Through a gateway (layer 3: BGP, a static route, a default route). */
  | { kind: 'routed'; via: string; dev?: string; line: string }
  /** Directly connected: the address is in the subnet of an interface (layer 2: someone must answer ARP/ND). */
  | { kind: 'on-link'; dev: string; line: string }
  /** The vantage point owns the address itself. */
  | { kind: 'local'; line: string }
  /** No route, or an unreachable/blackhole/prohibit route. */
  | { kind: 'no-route'; line: string }
  /** Could not tell (the lookup did not run, or printed something else): probe anyway. */
  | { kind: 'unknown'; line: string };

const NO_ROUTE = /network is unreachable|no route to host|unreachable|prohibited|blackhole/i;

/** Reads `ip route get DEST` (its stdout, or the Error/stderr of a failed lookup). */
export function classifyRouteGet(out: string | Error): RouteVerdict {
  if (out instanceof Error) {
    const line = out.message.trim().split('\n').filter(Boolean).pop() ?? out.message;
    return NO_ROUTE.test(out.message) ? { kind: 'no-route', line } : { kind: 'unknown', line };
  }
  const line = out.trim().split('\n')[0]?.trim() ?? '';
  if (!line) return { kind: 'unknown', line: '(no output)' };
  if (/^(?:unreachable|blackhole|prohibit|throw)\b/.test(line) || /RTNETLINK answers/i.test(line)) {
    return NO_ROUTE.test(line) || /^(?:unreachable|blackhole|prohibit|throw)\b/.test(line) ? { kind: 'no-route', line } : { kind: 'unknown', line };
  }
  if (/^local\s/.test(line)) return { kind: 'local', line };
  const via = /\svia\s+(\S+)/.exec(line);
  const dev = /\sdev\s+(\S+)/.exec(line);
  if (via) return { kind: 'routed', via: via[1]!, dev: dev?.[1], line };
  if (dev && /^[0-9a-f.:]+\s/i.test(line)) return { kind: 'on-link', dev: dev[1]!, line };
  return { kind: 'unknown', line };
}
