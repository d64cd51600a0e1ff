// Command-line parsing for `tsx cluster/cli.ts up|down|status` (pure; see args.test.ts).
import { UsageError } from '../lib/framework/errors.ts';
import type { ProxyMode } from './contract.ts';
import { IP_FAMILY_MODES, type IpFamilyMode } from './topology.ts';

export interface Options {
  command: 'up' | 'down' | 'status';
  /** node1's kube-proxy mode (cluster.json's proxyMode). */
  proxyMode: ProxyMode;
  /** Per node (index 1 first) when --proxy-mode lists several, e.g. iptables,nftables; the last repeats. */
  proxyModes?: ProxyMode[];
  nodes: number;
  /** --ip-family: ipv4 (default) or dual (IPv4 + IPv6 addresses for nodes, pods and Services). */
  ipFamily: IpFamilyMode;
  binDir?: string;
  stateDir: string;
  keepOnFailure: boolean;
  json: boolean;
}

export const USAGE = `usage: tsx cluster/cli.ts up [--proxy-mode iptables|nftables|none[,MODE per further node]] [--nodes N] [--ip-family ipv4|dual] [--bin-dir DIR] [--keep-on-failure]
       tsx cluster/cli.ts down
       tsx cluster/cli.ts status [--json]
state dir: $SCTP_E2E_CLUSTER_DIR or /var/lib/sctp-e2e/cluster; binaries: --bin-dir, $SCTP_E2E_BIN_DIR or \`bash cluster/build.sh\``;

/** A node's kube-proxy mode: its entry of --proxy-mode's list (the last repeats), else the one mode. */
export function proxyModeOf(o: Pick<Options, 'proxyMode' | 'proxyModes'>, index: number): ProxyMode {
  return o.proxyModes ? (o.proxyModes[index - 1] ?? o.proxyModes[o.proxyModes.length - 1]!) : o.proxyMode;
}

export function parseArgs(argv: string[], env: Record<string, string | undefined>): Options {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'down' && command !== 'status') {
    throw new UsageError(command === undefined ? 'missing command: expected up, down or status' : `unknown command "${command}": expected up, down or status`);
  }
  const o: Options = {
    command,
    proxyMode: 'iptables',
    nodes: 1,
    ipFamily: 'ipv4',
    binDir: env.SCTP_E2E_BIN_DIR || undefined,
    stateDir: env.SCTP_E2E_CLUSTER_DIR || '/var/lib/sctp-e2e/cluster',
    keepOnFailure: false,
    json: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const raw = rest[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`option ${flag} needs a value`);
      return v;
    };
    const onlyFor = (...cmds: Options['command'][]) => {
      if (!cmds.includes(command)) throw new UsageError(`option ${flag} does not apply to "${command}"`);
    };
    switch (flag) {
      case '--proxy-mode': {
        onlyFor('up');
        const modes = value().split(',');
        for (const v of modes) {
          if (v !== 'iptables' && v !== 'nftables' && v !== 'none')
            throw new UsageError(
              `--proxy-mode must be iptables, nftables or none (no kube-proxy; ipvs is not built into this kernel), or a comma list of them per node, got "${v}"`,
            );
        }
        o.proxyMode = modes[0] as ProxyMode;
        if (modes.length > 1) o.proxyModes = modes as ProxyMode[];
        break;
      }
      case '--nodes': {
        onlyFor('up');
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 2) throw new UsageError(`--nodes must be 1 or 2, got "${v}"`);
        o.nodes = n;
        break;
      }
      case '--ip-family': {
        onlyFor('up');
        const v = value();
        if (v === 'ipv6') throw new UsageError('--ip-family ipv6 (IPv6-only) is not built: the local cluster is ipv4 or dual (IPv4 first, then IPv6)');
        if (!(IP_FAMILY_MODES as readonly string[]).includes(v)) throw new UsageError(`--ip-family must be ipv4 or dual, got "${v}"`);
        o.ipFamily = v as IpFamilyMode;
        break;
      }
      case '--bin-dir':
        onlyFor('up');
        o.binDir = value();
        break;
      case '--keep-on-failure':
        onlyFor('up');
        o.keepOnFailure = true;
        break;
      case '--json':
        onlyFor('status');
        o.json = true;
        break;
      case '-h':
      case '--help':
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown option "${raw}" for "${command}"`);
    }
  }
  if (!o.stateDir.startsWith('/')) throw new UsageError(`SCTP_E2E_CLUSTER_DIR must be an absolute path, got "${o.stateDir}"`);
  return o;
}
