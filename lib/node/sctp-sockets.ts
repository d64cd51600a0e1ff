// Which processes hold SCTP sockets on a node: `ss -S -a -n -p` (iproute2). KEP-614: kubelet and
// kube-proxy must not open SCTP sockets to reserve hostPorts/NodePorts/externalIPs (that would load
// sctp.ko and break userspace SCTP stacks).

export interface SctpSocket {
  state: string;
  local: string;
  port: number;
  peer: string;
  processes: Array<{ name: string; pid: number }>;
  line: string;
}

export const SCTP_SOCKETS_SCRIPT = 'ss -S -a -n -p 2>&1; echo "== rc $?"';

/** Parses ss's SCTP table (header line first; sub-lines for associations start with `` `- ``). */
export function parseSsSctp(out: string): { sockets: SctpSocket[]; rc?: number; error?: string } {
  const rc = Number(/== rc (\d+)/.exec(out)?.[1]);
  const lines = out.split('\n').filter((l) => l.trim() && !l.startsWith('== rc'));
  if (rc !== 0) return { sockets: [], rc, error: lines.join(' | ') || `ss exited ${rc}` };
  const sockets: SctpSocket[] = [];
  for (const line of lines) {
    if (/^State\s/.test(line)) continue;
    const t = line
      .trim()
      .replace(/^`-\s*/, '')
      .split(/\s+/);
    if (t.length < 5) continue;
    const [state, , , local, peer] = t;
    const port = Number(/:(\d+)$/.exec(local ?? '')?.[1] ?? NaN);
    const processes = [...line.matchAll(/\("([^"]+)",pid=(\d+)/g)].map((m) => ({ name: m[1]!, pid: Number(m[2]) }));
    sockets.push({ state: state!, local: local!, port, peer: peer!, processes, line: line.trim() });
  }
  return { sockets, rc };
}

const COMPONENTS = /^(kubelet|kube-proxy|containerd|dockerd|crio|conmon|portmap)$/;

/** SCTP sockets held by cluster components (never legitimate), or on the given ports by anyone. */
export function offendingSockets(sockets: SctpSocket[], ports: number[]): SctpSocket[] {
  return sockets.filter((s) => s.processes.some((p) => COMPONENTS.test(p.name)) || ports.includes(s.port));
}
