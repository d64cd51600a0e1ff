// Pure parts of the kube-network-policies add-on (cluster/knp/cli.ts): the RBAC it gets, how it is started on the
// kernel-lane VM, the guest scripts for up/down/status and the reading of their output. No I/O here.
//
// kube-network-policies v0.8.0 (cmd/main.go) has no --kubeconfig flag: it calls rest.InClusterConfig(), i.e. it
// reads KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT and /var/run/secrets/kubernetes.io/serviceaccount/{token,
// ca.crt}. Its DaemonSet (install.yaml) runs it host-network, privileged, as ServiceAccount kube-system/
// kube-network-policies with a ClusterRole for list/watch of pods, namespaces and networkpolicies. We do the same as
// a host process on the VM: a transient systemd unit whose private mount namespace binds a token of that
// ServiceAccount onto the in-cluster path (nothing is written to the VM's own /run/secrets), KillSignal=SIGINT
// (main() only handles os.Interrupt/SIGINT: on SIGTERM it would die without deleting its nft table).

export const KNP_VERSION = 'v0.8.0';
export const KNP_MODULE = 'sigs.k8s.io/kube-network-policies';
/** The nft table the controller owns (networkpolicy.Config.NFTableName default). */
export const NFT_TABLE = 'kube-network-policies';
/** install.yaml's DaemonSet passes --nfqueue-id=98 (the binary's default is 100). */
export const QUEUE_ID = 98;
export const UNIT = 'sctpe2e-knp';
export const SA = { namespace: 'kube-system', name: 'kube-network-policies' } as const;
/** Where the add-on keeps its files in the guest (next to vm/join.ts's /var/lib/sctpe2e). */
export const GUEST_DIR = '/var/lib/sctpe2e/knp';
export const GUEST_BIN = `${GUEST_DIR}/kube-network-policies`;
export const GUEST_SA_DIR = `${GUEST_DIR}/serviceaccount`;
export const IN_CLUSTER_SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A node annotation key the report card reads (lib/report/cni.ts): which NetworkPolicy agent runs there, as what. */
export const NODE_ANNOTATION = 'sctp-e2e.io/kube-network-policies';
export const METRICS = '127.0.0.1:9080';

export interface KnpState {
  version: string;
  node: string;
  binary: string; // on the host
  unit: string;
  pid: number;
  queueId: number;
  verbosity: number;
  apiServer: string;
  startedAt: string;
  upSeconds: number;
}

/** install.yaml's RBAC (least privilege: list/watch pods, namespaces, networkpolicies), as a kubectl apply -f - document. */
export function renderRbac(): string {
  const labels = { 'app.kubernetes.io/managed-by': 'sctp-e2e-knp' };
  const docs = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SA.name, namespace: SA.namespace, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: SA.name, labels },
      rules: [
        { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: SA.name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: SA.name },
      subjects: [{ kind: 'ServiceAccount', name: SA.name, namespace: SA.namespace }],
    },
  ];
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

/** The DaemonSet's container args (install.yaml), for node `node`; metrics on loopback only. */
export function agentArgs(node: string, o: { verbosity?: number; queueId?: number } = {}): string[] {
  return [`--hostname-override=${node}`, `--v=${o.verbosity ?? 2}`, `--nfqueue-id=${o.queueId ?? QUEUE_ID}`, `--metrics-bind-address=${METRICS}`];
}

/** https://HOST:PORT → the two in-cluster variables. */
export function inClusterEnv(apiServer: string): { KUBERNETES_SERVICE_HOST: string; KUBERNETES_SERVICE_PORT: string } {
  const u = new URL(apiServer);
  if (u.protocol !== 'https:') throw new Error(`the API server URL must be https, not ${apiServer}`);
  return { KUBERNETES_SERVICE_HOST: u.hostname, KUBERNETES_SERVICE_PORT: u.port || '443' };
}

const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The systemd-run command line that starts the agent (host network and privileges: it is a host process). */
export function systemdRunArgv(o: { node: string; apiServer: string; verbosity?: number; queueId?: number }): string[] {
  const env = inClusterEnv(o.apiServer);
  return [
    'systemd-run',
    `--unit=${UNIT}`,
    '--collect',
    '--property=KillSignal=SIGINT',
    '--property=TimeoutStopSec=30',
    `--property=BindReadOnlyPaths=${GUEST_SA_DIR}:${IN_CLUSTER_SA_DIR}`,
    ...Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`),
    GUEST_BIN,
    ...agentArgs(o.node, o),
  ];
}

/** Guest script of `up`: the ServiceAccount files in place, then the unit; prints the unit's MainPID. */
export function renderStartScript(o: { node: string; apiServer: string; token: string; caPem: string; verbosity?: number; queueId?: number }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    `systemctl is-active -q ${UNIT} && { echo "${UNIT} is already running" >&2; exit 3; }`,
    `systemctl reset-failed ${UNIT} 2>/dev/null || true`,
    'modprobe -a nfnetlink_queue nft_queue',
    `install -d -m 0700 ${GUEST_SA_DIR} ${IN_CLUSTER_SA_DIR}`,
    `echo ${b64(o.token)} | base64 -d > ${GUEST_SA_DIR}/token`,
    `echo ${b64(o.caPem)} | base64 -d > ${GUEST_SA_DIR}/ca.crt`,
    `printf %s ${SA.namespace} > ${GUEST_SA_DIR}/namespace`,
    `chmod 0600 ${GUEST_SA_DIR}/*`,
    systemdRunArgv(o).map(q).join(' ') + ' >/dev/null',
    `systemctl show -p MainPID --value ${UNIT}`,
  ].join('\n');
}

/**
 * Guest script of `status`: key=value lines parsed by parseGuestStatus. `nft list table` of the controller's table,
 * and whether its postrouting chain holds a `queue` rule to our queue.
 */
export function renderStatusScript(queueId = QUEUE_ID): string {
  return [
    `echo "active=$(systemctl show -p ActiveState --value ${UNIT} 2>/dev/null)"`,
    `echo "pid=$(systemctl show -p MainPID --value ${UNIT} 2>/dev/null)"`,
    `if nft list table inet ${NFT_TABLE} >/tmp/knp-table.txt 2>/dev/null; then echo table=yes; else echo table=no; fi`,
    `echo "queue_rules=$(grep -E -c 'queue( flags [a-z,]+)? (to|num) ${queueId}( |$)' /tmp/knp-table.txt 2>/dev/null || true)"`,
    `echo "podips=$(sed -n '/set podips-v4/,/}/p' /tmp/knp-table.txt 2>/dev/null | grep -o '[0-9]\\+\\.[0-9]\\+\\.[0-9]\\+\\.[0-9]\\+' | tr '\\n' ' ')"`,
    `echo "queue=$(awk '$1 == ${queueId} {print "listener portid " $2 ", queued " $3 ", dropped " $6 ", user-dropped " $7 ", packets " $8}' /proc/net/netfilter/nfnetlink_queue 2>/dev/null)"`,
    'rm -f /tmp/knp-table.txt',
  ].join('\n');
}

export interface GuestStatus {
  active: string;
  pid: number;
  table: boolean;
  queueRules: number;
  podIPs: string[];
  /** /proc/net/netfilter/nfnetlink_queue's line for our queue: a userspace listener is bound. */
  queue: string;
}

export function parseGuestStatus(out: string): GuestStatus {
  const kv = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return {
    active: kv.get('active') || 'unknown',
    pid: Number(kv.get('pid') || 0),
    table: kv.get('table') === 'yes',
    queueRules: Number(kv.get('queue_rules') || 0),
    podIPs: (kv.get('podips') ?? '').split(/\s+/).filter(Boolean),
    queue: kv.get('queue') ?? '',
  };
}

/** Running = the unit is active with a live MainPID, its table is there with queue rules, and a listener is bound to the queue. */
export function isRunning(s: GuestStatus): boolean {
  return s.active === 'active' && s.pid > 0 && s.table && s.queueRules > 0 && s.queue !== '';
}

export function describeStatus(s: GuestStatus): string {
  return (
    `unit ${UNIT} ${s.active}${s.pid ? ` (PID ${s.pid})` : ''}; nft table inet ${NFT_TABLE} ${s.table ? `present, ${s.queueRules} queue rule(s)` : 'absent'}; ` +
    `nfqueue ${s.queue || 'without listener'}; pod IPs under policy: ${s.podIPs.length ? s.podIPs.join(' ') : 'none'}`
  );
}

/**
 * Guest script of `down`: stop the unit with SIGINT (the agent deletes its table on the way out), then delete the
 * table whatever happened (a SIGKILLed agent leaves it, and its queue rules then drop every queued packet), and the
 * ServiceAccount files. Prints what it did.
 */
export function renderStopScript(): string {
  return [
    `if systemctl is-active -q ${UNIT}; then systemctl stop ${UNIT}; echo "stopped ${UNIT}"; else echo "${UNIT} was not running"; fi`,
    `systemctl reset-failed ${UNIT} 2>/dev/null || true`,
    `if nft list table inet ${NFT_TABLE} >/dev/null 2>&1; then nft delete table inet ${NFT_TABLE}; echo "deleted the leftover nft table inet ${NFT_TABLE}"; fi`,
    `rm -rf ${GUEST_SA_DIR}; rmdir ${IN_CLUSTER_SA_DIR} /var/run/secrets/kubernetes.io /var/run/secrets 2>/dev/null || true`,
  ].join('\n');
}

/** The netns nodes of the local cluster to cordon so that test pods land on the VM node only. */
export function nodesToCordon(nodes: Array<{ name: string; netns?: string }>, unschedulable: Set<string>): string[] {
  return nodes.filter((n) => typeof n.netns === 'string' && n.netns !== '' && !unschedulable.has(n.name)).map((n) => n.name);
}
