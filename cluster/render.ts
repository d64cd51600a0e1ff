// Pure renderers for the local cluster: topology, component configs, flags, manifests (cluster.json: contract.ts).
// No I/O here; cluster/render.test.ts checks the output.
// Topology and component renderers live in topology.ts and components.ts; re-exported here for cluster/'s own code.
import { stringify } from 'yaml';
import { CLUSTER_DOMAIN, DNS_IP, IMAGES, type IpFamilyMode, type KUBE_PROXY_MODES } from './topology.ts';

export * from './components.ts';
export * from './topology.ts';

export const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loadbalance
}
`;

/**
 * CoreDNS as a pod (after cluster/addons/dns/coredns), without forward/loop: there is no upstream DNS.
 * `apiServer`: reach the API server at this address instead of the kubernetes Service's ClusterIP (a cluster with no
 * kube-proxy has no Service translation for pods that are not under the later kube-proxy replacement).
 */
export function renderCoreDNSManifests(o: { apiServer?: { host: string; port: number } } = {}): string {
  const labels = { 'k8s-app': 'kube-dns' };
  const docs: unknown[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: COREFILE } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            dnsPolicy: 'Default',
            tolerations: [
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
            ],
            containers: [
              {
                name: 'coredns',
                image: IMAGES.coredns,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                // The container's env wins over the kubelet's Service env: client-go's in-cluster config reads these.
                ...(o.apiServer
                  ? {
                      env: [
                        { name: 'KUBERNETES_SERVICE_HOST', value: o.apiServer.host },
                        { name: 'KUBERNETES_SERVICE_PORT', value: String(o.apiServer.port) },
                      ],
                    }
                  : {}),
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                resources: { requests: { cpu: '50m', memory: '70Mi' }, limits: { memory: '170Mi' } },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        selector: labels,
        clusterIP: DNS_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { name: 'metrics', port: 9153, protocol: 'TCP' },
        ],
      },
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}

export const SMOKE_NAMESPACE = 'sctp-e2e-smoke';

/** A busybox httpd pod behind a NodePort Service: proves scheduling, CNI, kube-proxy, the runtime and the outside netns. */
export function renderSmokeManifests(nodeName?: string, fam: IpFamilyMode = 'ipv4'): string {
  const labels = { app: 'smoke' };
  const docs: unknown[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SMOKE_NAMESPACE, labels: { 'sctp-e2e/cluster-smoke': 'true' } } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'smoke', namespace: SMOKE_NAMESPACE, labels },
      spec: {
        terminationGracePeriodSeconds: 1,
        automountServiceAccountToken: false,
        // With two nodes the pod goes to the last one, so the check crosses nodes.
        ...(nodeName ? { nodeName } : {}),
        containers: [
          {
            name: 'httpd',
            image: IMAGES.busybox,
            imagePullPolicy: 'Never',
            command: ['/bin/busybox', 'sh', '-c', 'echo smoke-ok > /tmp/index.html && exec /bin/busybox httpd -f -p 8080 -h /tmp'],
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'smoke', namespace: SMOKE_NAMESPACE },
      spec: {
        type: 'NodePort',
        selector: labels,
        // dual: a ClusterIP of each family, so that up checks both
        ...(fam === 'dual' ? { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] } : {}),
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      },
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}

/** A command (run over SSH on a node) that succeeds only when kube-proxy has programmed its rules in that mode. */
export function proxyRulesProbe(mode: (typeof KUBE_PROXY_MODES)[number], fam: IpFamilyMode = 'ipv4'): string {
  const one = (v6: boolean) =>
    mode === 'iptables'
      ? `${v6 ? 'ip6tables-save' : 'iptables-save'} -t nat | grep -c -- "-A KUBE-SERVICES"`
      : `nft list chain ${v6 ? 'ip6' : 'ip'} kube-proxy services | grep -c "vmap @service-ips"`;
  return fam === 'dual' ? `${one(false)} && ${one(true)}` : one(false);
}
