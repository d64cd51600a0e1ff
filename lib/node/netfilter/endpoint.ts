// One text form for an endpoint, shared by the finders (DNAT targets, IPVS real servers) and the specs
// (expected endpoints): `ip:port` for IPv4, `[ip]:port` for IPv6 (as iptables-save and ipvsadm print it),
// IPv6 in canonical RFC 5952 text. Without a port: the bare address. Pure.

function canonicalIp(ip: string): string {
  const bare = ip.replace(/^\[(.*)\]$/, '$1');
  if (!bare.includes(':')) return bare;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1); // WHATWG URL: lower case, zeros compressed
  } catch {
    return bare.toLowerCase(); // a range or something else iptables accepts: compare as written
  }
}

export type IpFamily = 4 | 6;

/** 4 or 6 by the address's own text (`[…]`, a prefix length or a port do not matter); IPv4-mapped IPv6 is 6. */
export function ipFamilyOf(ip: string): IpFamily {
  return ip.replace(/^\[|\](:\d+)?$/g, '').includes(':') ? 6 : 4;
}

/** The Kubernetes name of a family (Service spec.ipFamilies, cluster.json): IPv4 | IPv6. */
export function familyName(f: IpFamily): 'IPv4' | 'IPv6' {
  return f === 6 ? 'IPv6' : 'IPv4';
}

/** The first address of that family among several (podIPs, clusterIPs, node InternalIPs), or undefined. */
export function pickFamily(addresses: readonly (string | undefined)[], family: IpFamily): string | undefined {
  return addresses.find((a): a is string => typeof a === 'string' && a !== '' && ipFamilyOf(a) === family);
}

/** `10.244.0.77:5061`, `[fd00:10:244::4d]:5061`; without a port the bare address. */
export function endpointKey(ip: string, port?: number | string): string {
  const a = canonicalIp(ip);
  if (port === undefined || port === '') return a;
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

/** Reads `ip:port`, `[ip6]:port`, a bare `ip` or `ip6` (DNAT without port translation). */
export function parseEndpoint(s: string): { ip: string; port?: number } {
  const b = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (b) return b[2] !== undefined ? { ip: canonicalIp(b[1]!), port: Number(b[2]) } : { ip: canonicalIp(b[1]!) };
  if ((s.match(/:/g) ?? []).length > 1) return { ip: canonicalIp(s) };
  const m = /^([^:]+):(\d+)$/.exec(s);
  if (m) return { ip: m[1]!, port: Number(m[2]) };
  return { ip: s };
}

/** The endpoint a packet to `origPort` reaches through a DNAT to `target` (no port in the target: the port is kept). */
export function effectiveEndpoint(target: string, origPort: number | undefined): { key: string; portKept: boolean } {
  const e = parseEndpoint(target);
  if (e.port !== undefined) return { key: endpointKey(e.ip, e.port), portKept: false };
  return { key: endpointKey(e.ip, origPort), portKept: origPort !== undefined };
}
