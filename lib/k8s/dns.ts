// Parsing of busybox/bind nslookup output (what runs in the test pod).

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}
export interface NslookupResult {
  addresses: string[];
  srv: SrvRecord[];
  nxdomain: boolean;
}

export function parseNslookup(out: string): NslookupResult {
  const lines = out.split('\n');
  const addresses: string[] = [];
  const srv: SrvRecord[] = [];
  let inAnswer = false;
  for (const raw of lines) {
    const line = raw.trim();
    // The server block comes first ("Server: / Address: 10.96.0.10:53"); answers follow a blank line or "Name:".
    if (/^Name:/.test(line) || /answer:/i.test(line)) inAnswer = true;
    const m = line.match(/service = (\d+) (\d+) (\d+) (\S+)/);
    if (m) srv.push({ priority: +m[1]!, weight: +m[2]!, port: +m[3]!, target: m[4]! });
    const a = line.match(/^Address(?: \d+)?:\s*([0-9a-fA-F.:]+)$/);
    // the server's own line ("10.96.0.10:53", "10.96.0.10#53") is not an answer; an IPv6 answer may end in ":53"
    if (a && inAnswer && !/#\d+$|^[0-9.]+:53$/.test(a[1]!)) addresses.push(a[1]!);
  }
  return { addresses: [...new Set(addresses)], srv, nxdomain: /NXDOMAIN|can't find|server can't find/i.test(out) };
}
