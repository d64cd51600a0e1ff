// Parsers for host command output used by preflight and down (pure; tests use captured real output in testdata/).

/** Mount points (4th field of /proc/self/mountinfo, octal escapes decoded) equal to or below `prefix`. */
export function parseMountPoints(mountinfo: string, prefix: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const raw = line.split(' ')[4];
    if (!raw) continue;
    const p = raw.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === prefix || p.startsWith(prefix + '/')) out.push(p);
  }
  return out;
}

/** Names of links created by the cluster (sctpe2e-*) in `ip -o link show` output, without the @peer suffix. */
export function findClusterLinks(ipOLink: string): string[] {
  return [...ipOLink.matchAll(/^\d+: (sctpe2e-[^:@\s]+)/gm)].map((m) => m[1]!);
}

/** The first `ip -o -4 addr show` entry inside 10.199.0.0/24 that is not on one of `ownLinks`, as "dev inet a.b.c.d/n". */
export function findAddressClash(ipO4Addr: string, ownLinks: string[] = []): string | undefined {
  for (const line of ipO4Addr.split('\n')) {
    const m = /^\d+: (\S+)\s+inet (10\.199\.0\.\d+\/\d+)/.exec(line);
    if (m && !ownLinks.includes(m[1]!)) return `${m[1]} inet ${m[2]}`;
  }
  return undefined;
}
