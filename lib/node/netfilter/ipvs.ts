// Reader for `ipvsadm -Ln` (kube-proxy ipvs mode). Pure.
// Format (ipvsadm 1.31):
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//   TCP  10.96.0.1:443 rr
//     -> 10.199.0.1:6443              Masq    1      0          0
//   SCTP 10.96.44.3:5060 rr
//   FWM  100 rr            (firewall-mark services: address = the mark)
// IPv6 addresses are bracketed: TCP  [fd00:10:96::1]:443 rr

export interface IpvsReal {
  address: string;
  port: number;
  forward: string; // Masq | Route | Tunnel | ...
  weight: number;
  activeConn: number;
  inActConn: number;
  line: string;
}

export interface IpvsService {
  protocol: 'TCP' | 'UDP' | 'SCTP' | 'FWM' | string;
  address: string; // without brackets
  port: number; // 0 for FWM
  scheduler: string;
  flags: string[];
  line: string;
  reals: IpvsReal[];
}

function splitHostPort(s: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return { address: s, port: 0 };
  return { address: m[1]!, port: Number(m[2]) };
}

/** Parses `ipvsadm -Ln` output. Throws on output that is clearly not ipvsadm's. */
export function parseIpvsadm(text: string): IpvsService[] {
  const out: IpvsService[] = [];
  let cur: IpvsService | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (
      line.trim() === '' ||
      line.startsWith('#') ||
      line.startsWith('IP Virtual Server') ||
      line.startsWith('Prot LocalAddress') ||
      /^\s+-> RemoteAddress/.test(line)
    )
      continue;
    const real = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (real) {
      if (!cur) throw new Error(`ipvsadm output has a real server before any virtual service: ${line.trim()}`);
      cur.reals.push({
        ...splitHostPort(real[1]!),
        forward: real[2]!,
        weight: Number(real[3]),
        activeConn: Number(real[4]),
        inActConn: Number(real[5]),
        line: line.trim(),
      });
      continue;
    }
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (svc) {
      const hp = svc[1] === 'FWM' ? { address: svc[2]!, port: 0 } : splitHostPort(svc[2]!);
      cur = { protocol: svc[1]!, ...hp, scheduler: svc[3]!, flags: svc[4] ? svc[4].split(/\s+/).filter(Boolean) : [], line, reals: [] };
      out.push(cur);
      continue;
    }
    throw new Error(`ipvsadm output line not understood: ${line.slice(0, 80)}`);
  }
  return out;
}
