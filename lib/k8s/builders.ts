// Builders for the objects the suite creates. Pure functions: object in, manifest out.

import type * as k8s from '@kubernetes/client-node';
import type { Protocol } from '../connectivity/model.ts';

export { RUN_LABEL, SUITE_LABEL } from '../framework/run-label.ts';

export interface PortSpec {
  name?: string;
  protocol: Protocol;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface PodOptions {
  name: string;
  image: string;
  labels?: Record<string, string>;
  /** Container args (the image's entrypoint is agnhost-sctp). */
  args?: string[];
  command?: string[];
  ports?: Array<{ name?: string; protocol: Protocol; containerPort: number; hostPort?: number }>;
  nodeName?: string;
  /** Without nodeName: schedule only onto one of these nodes (required node affinity on the hostname). */
  nodeNames?: string[];
  env?: Record<string, string>;
  capabilities?: string[];
  hostNetwork?: boolean;
  readinessPort?: number;
}

export function pod(o: PodOptions): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, labels: o.labels },
    spec: {
      nodeName: o.nodeName,
      affinity:
        !o.nodeName && o.nodeNames?.length
          ? {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: o.nodeNames }] }],
                },
              },
            }
          : undefined,
      hostNetwork: o.hostNetwork,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'c',
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          command: o.command,
          args: o.args,
          env: o.env ? Object.entries(o.env).map(([name, value]) => ({ name, value })) : undefined,
          ports: o.ports?.map((p) => ({ name: p.name, protocol: p.protocol, containerPort: p.containerPort, hostPort: p.hostPort })),
          securityContext: o.capabilities ? { capabilities: { add: o.capabilities } } : undefined,
          readinessProbe: o.readinessPort ? { tcpSocket: { port: o.readinessPort }, periodSeconds: 1, failureThreshold: 3 } : undefined,
        },
      ],
    },
  };
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export interface ServiceOptions {
  name: string;
  ports: PortSpec[];
  selector?: Record<string, string>;
  type?: ServiceType;
  headless?: boolean;
  externalIPs?: string[];
  sessionAffinity?: 'ClientIP' | 'None';
  labels?: Record<string, string>;
  /** Dual-stack: SingleStack (the default), PreferDualStack or RequireDualStack; ipFamilies orders them (primary first). */
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  ipFamilies?: Array<'IPv4' | 'IPv6'>;
}

export function service(o: ServiceOptions): k8s.V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name, labels: o.labels },
    spec: {
      type: o.type ?? 'ClusterIP',
      clusterIP: o.headless ? 'None' : undefined,
      selector: o.selector,
      externalIPs: o.externalIPs,
      sessionAffinity: o.sessionAffinity,
      ipFamilyPolicy: o.ipFamilyPolicy,
      ipFamilies: o.ipFamilies,
      ports: o.ports.map((p) => ({
        name: p.name,
        protocol: p.protocol,
        port: p.port,
        targetPort: p.targetPort as never,
        nodePort: p.nodePort,
      })),
    },
  };
}

export interface EndpointSliceOptions {
  name: string;
  serviceName: string;
  addresses: string[];
  ports: Array<{ name?: string; protocol: Protocol; port: number }>;
}

export function endpointSlice(o: EndpointSliceOptions): k8s.V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: o.name, labels: { 'kubernetes.io/service-name': o.serviceName, 'endpointslice.kubernetes.io/managed-by': 'sctp-e2e.io' } },
    // by the addresses' own family (an IPv6 slice labelled IPv4 is rejected or, worse, misread by proxies)
    addressType: o.addresses.length > 0 && o.addresses.every((a) => a.includes(':')) ? 'IPv6' : 'IPv4',
    endpoints: o.addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: o.ports.map((p) => ({ name: p.name ?? '', protocol: p.protocol, port: p.port })),
  };
}

export interface PolicyPeer {
  podSelector?: Record<string, string>;
  namespaceSelector?: Record<string, string>;
  /** A CIDR (IPv4 or IPv6) with optional exceptions; alone in its peer, as the API requires. */
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyOptions {
  name: string;
  podSelector?: Record<string, string>;
  policyTypes?: Array<'Ingress' | 'Egress'>;
  /** undefined = no rules (deny all of that direction when listed in policyTypes). */
  ingress?: Array<{ from?: PolicyPeer[]; ports?: Array<{ protocol: Protocol; port?: number | string; endPort?: number }> }>;
  egress?: Array<{ to?: PolicyPeer[]; ports?: Array<{ protocol: Protocol; port?: number | string; endPort?: number }> }>;
}

const sel = (m?: Record<string, string>) => (m ? { matchLabels: m } : undefined);
const peer = (p: PolicyPeer) =>
  p.ipBlock
    ? { ipBlock: { cidr: p.ipBlock.cidr, except: p.ipBlock.except } }
    : { podSelector: sel(p.podSelector), namespaceSelector: sel(p.namespaceSelector) };

export function networkPolicy(o: NetworkPolicyOptions): k8s.V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: o.name },
    spec: {
      podSelector: { matchLabels: o.podSelector ?? {} },
      policyTypes: o.policyTypes ?? ['Ingress'],
      ingress: o.ingress?.map((r) => ({ _from: r.from?.map(peer), ports: r.ports?.map((p) => ({ ...p, port: p.port as never })) })),
      egress: o.egress?.map((r) => ({ to: r.to?.map(peer), ports: r.ports?.map((p) => ({ ...p, port: p.port as never })) })),
    },
  };
}
