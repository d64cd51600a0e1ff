// Structural check of a kind cluster config (kind.x-k8s.io/v1alpha4 Cluster), without kind or Docker.
//
// The allowed keys are the yaml tags of kind's v1alpha4 types, read from
// kubernetes-sigs/kind pkg/apis/config/v1alpha4/types.go (commit 00b38e3bbfdd20ec214924967fcfa7b5b0f51373);
// the value sets (kubeProxyMode, ipFamily, role, protocol, dual-stack subnets) follow
// pkg/internal/apis/config/validate.go, which accepts kubeProxyMode iptables|ipvs|nftables|none
// (nftables and none are newer than some copies of types.go: they are validated there, not typed).
// kind decodes the file strictly, so an unknown key is a hard error at `kind create cluster`;
// this catches it in a unit test instead.
import { isIPv4, isIPv6 } from 'node:net';

export const CLUSTER_KEYS = new Set([
  'kind',
  'apiVersion',
  'name',
  'nodes',
  'networking',
  'featureGates',
  'runtimeConfig',
  'kubeadmConfigPatches',
  'kubeadmConfigPatchesJSON6902',
  'containerdConfigPatches',
  'containerdConfigPatchesJSON6902',
]);
export const NETWORKING_KEYS = new Set([
  'ipFamily',
  'apiServerPort',
  'apiServerAddress',
  'podSubnet',
  'serviceSubnet',
  'disableDefaultCNI',
  'kubeProxyMode',
  'dnsSearch',
]);
export const NODE_KEYS = new Set([
  'role',
  'image',
  'labels',
  'extraMounts',
  'extraPortMappings',
  'gpus',
  'kubeadmConfigPatches',
  'kubeadmConfigPatchesJSON6902',
]);
export const PORT_MAPPING_KEYS = new Set(['containerPort', 'hostPort', 'listenAddress', 'protocol']);
export const MOUNT_KEYS = new Set(['containerPath', 'hostPath', 'readOnly', 'selinuxRelabel', 'propagation']);
export const PATCH_JSON6902_KEYS = new Set(['group', 'version', 'kind', 'patch']);

export const PROXY_MODES = ['iptables', 'nftables', 'ipvs', 'none'] as const;
export const IP_FAMILIES = ['ipv4', 'ipv6', 'dual'] as const;
export const NODE_ROLES = ['control-plane', 'worker'] as const;
export const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(where: string, v: unknown, allowed: Set<string>, errs: string[]): v is Obj {
  if (!isObj(v)) {
    errs.push(`${where} must be a mapping, got ${JSON.stringify(v)}`);
    return false;
  }
  for (const k of Object.keys(v)) if (!allowed.has(k)) errs.push(`${where}: unknown field "${k}" (kind v1alpha4 knows: ${[...allowed].join(', ')})`);
  return true;
}

/** One CIDR's family, or undefined if it is not a CIDR. */
export function cidrFamily(cidr: string): 4 | 6 | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) return undefined;
  const bits = Number(m[2]);
  if (isIPv4(m[1]!) && bits <= 32) return 4;
  if (isIPv6(m[1]!) && bits <= 128) return 6;
  return undefined;
}

function checkSubnets(field: string, value: unknown, family: string, errs: string[]) {
  if (value === undefined) return;
  if (typeof value !== 'string') return void errs.push(`networking.${field} must be a string, got ${JSON.stringify(value)}`);
  const parts = value.split(',');
  const fams = parts.map(cidrFamily);
  fams.forEach((f, i) => {
    if (!f) errs.push(`networking.${field}: "${parts[i]}" is not a CIDR`);
  });
  if (fams.some((f) => !f)) return;
  if (family === 'dual') {
    if (parts.length !== 2 || !fams.includes(4) || !fams.includes(6))
      errs.push(`networking.${field}: dual-stack needs one IPv4 and one IPv6 CIDR, got "${value}"`);
  } else if (parts.length !== 1) {
    errs.push(`networking.${field}: only one CIDR allowed for single-stack (${family}), got "${value}"`);
  } else if (fams[0] !== (family === 'ipv6' ? 6 : 4)) {
    errs.push(`networking.${field}: "${value}" is not an ${family} CIDR`);
  }
}

/** Every problem with a parsed kind config, one sentence each; empty when it is valid. */
export function validateKindConfig(doc: unknown): string[] {
  const errs: string[] = [];
  if (!unknownKeys('cluster', doc, CLUSTER_KEYS, errs)) return errs;
  if (doc.apiVersion !== 'kind.x-k8s.io/v1alpha4') errs.push(`apiVersion must be kind.x-k8s.io/v1alpha4, got ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== 'Cluster') errs.push(`kind must be Cluster, got ${JSON.stringify(doc.kind)}`);
  if (doc.name !== undefined && !(typeof doc.name === 'string' && /^[a-z0-9.-]+$/.test(doc.name)))
    errs.push(`name must match ^[a-z0-9.-]+$, got ${JSON.stringify(doc.name)}`);

  let family = 'ipv4';
  if (doc.networking !== undefined && unknownKeys('networking', doc.networking, NETWORKING_KEYS, errs)) {
    const n = doc.networking;
    if (n.ipFamily !== undefined) {
      if (!(IP_FAMILIES as readonly unknown[]).includes(n.ipFamily))
        errs.push(`networking.ipFamily must be one of ${IP_FAMILIES.join('|')}, got ${JSON.stringify(n.ipFamily)}`);
      else family = n.ipFamily as string;
    }
    if (n.kubeProxyMode !== undefined && !(PROXY_MODES as readonly unknown[]).includes(n.kubeProxyMode))
      errs.push(`networking.kubeProxyMode must be one of ${PROXY_MODES.join('|')}, got ${JSON.stringify(n.kubeProxyMode)}`);
    if (n.disableDefaultCNI !== undefined && typeof n.disableDefaultCNI !== 'boolean')
      errs.push(`networking.disableDefaultCNI must be true or false, got ${JSON.stringify(n.disableDefaultCNI)}`);
    checkSubnets('podSubnet', n.podSubnet, family, errs);
    checkSubnets('serviceSubnet', n.serviceSubnet, family, errs);
  }

  if (doc.nodes !== undefined) {
    if (!Array.isArray(doc.nodes)) errs.push('nodes must be a list');
    else {
      doc.nodes.forEach((node: unknown, i: number) => {
        if (!unknownKeys(`nodes[${i}]`, node, NODE_KEYS, errs)) return;
        if (node.role !== undefined && !(NODE_ROLES as readonly unknown[]).includes(node.role))
          errs.push(`nodes[${i}].role must be one of ${NODE_ROLES.join('|')}, got ${JSON.stringify(node.role)}`);
        const maps = node.extraPortMappings;
        if (maps !== undefined) {
          if (!Array.isArray(maps)) errs.push(`nodes[${i}].extraPortMappings must be a list`);
          else
            maps.forEach((pm: unknown, j: number) => {
              const w = `nodes[${i}].extraPortMappings[${j}]`;
              if (!unknownKeys(w, pm, PORT_MAPPING_KEYS, errs)) return;
              if (pm.protocol !== undefined && !(PORT_PROTOCOLS as readonly unknown[]).includes(pm.protocol))
                errs.push(`${w}.protocol must be one of ${PORT_PROTOCOLS.join('|')} (upper case), got ${JSON.stringify(pm.protocol)}`);
              for (const p of ['containerPort', 'hostPort'] as const) {
                const v = pm[p];
                if (v !== undefined && !(Number.isInteger(v) && (v as number) >= -1 && (v as number) <= 65535))
                  errs.push(`${w}.${p} must be a port number (-1..65535), got ${JSON.stringify(v)}`);
              }
            });
        }
        if (node.extraMounts !== undefined) {
          if (!Array.isArray(node.extraMounts)) errs.push(`nodes[${i}].extraMounts must be a list`);
          else for (const [j, m] of (node.extraMounts as unknown[]).entries()) unknownKeys(`nodes[${i}].extraMounts[${j}]`, m, MOUNT_KEYS, errs);
        }
        if (Array.isArray(node.kubeadmConfigPatchesJSON6902)) {
          for (const [j, p] of (node.kubeadmConfigPatchesJSON6902 as unknown[]).entries())
            unknownKeys(`nodes[${i}].kubeadmConfigPatchesJSON6902[${j}]`, p, PATCH_JSON6902_KEYS, errs);
        }
      });
      if (!doc.nodes.some((n: unknown) => isObj(n) && (n.role ?? 'control-plane') === 'control-plane'))
        errs.push('nodes: at least one control-plane node is required');
    }
  }
  if (Array.isArray(doc.kubeadmConfigPatchesJSON6902))
    for (const [j, p] of (doc.kubeadmConfigPatchesJSON6902 as unknown[]).entries())
      unknownKeys(`kubeadmConfigPatchesJSON6902[${j}]`, p, PATCH_JSON6902_KEYS, errs);
  for (const k of ['featureGates', 'runtimeConfig'] as const) if (doc[k] !== undefined && !isObj(doc[k])) errs.push(`${k} must be a mapping`);
  return errs;
}
