// Node evidence from the command line: how nodes are reached (and why), sctp.ko state, proxy mode,
// and optionally the rules for a Service or hostPort.
//   tsx lib/node/cli.ts [--kubeconfig F] [--node-access ssh|hostpod|docker|local|none] [--node NAME]
//       [--namespace NS] [--image IMG] [--service-ip IP --port N] [--node-port N] [--host-port N]
// Without --kubeconfig: $KUBECONFIG, else the local cluster's cluster.json kubeconfig.
// hostpod without --namespace: a namespace with pod-security "privileged" is created and deleted.
import * as k8s from '@kubernetes/client-node';
import { clusterJsonPath, readClusterJson } from '../../cluster/contract.ts';
import { ExitCode, UsageError, UserError } from '../framework/errors.ts';
import { AGNHOST_SCTP_IMAGE } from '../framework/images.ts';
import { runMain } from '../framework/main.ts';
import { nodeNetfilter } from './netfilter/index.ts';
import { probeSctpModule } from './sctp-module.ts';
import { type NodeInfo, selectNodeAccess } from './select.ts';

function args(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${a}`);
    const [k, v] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), argv[++i] ?? ''];
    m.set(k, v);
  }
  return m;
}

async function main(): Promise<number> {
  const a = args(process.argv.slice(2));
  const cj = clusterJsonPath();
  const cluster = readClusterJson();
  const kubeconfig = a.get('kubeconfig') ?? process.env.KUBECONFIG ?? cluster?.kubeconfig;
  if (!kubeconfig) throw new UserError(`no kubeconfig: pass --kubeconfig, set KUBECONFIG, or bring up the local cluster (${cj})`, ExitCode.kubeconfig);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const list = await core.listNode();
  const nodes: NodeInfo[] = list.items.map((n) => ({
    name: n.metadata!.name!,
    providerID: n.spec?.providerID,
    internalIP: n.status?.addresses?.find((x) => x.type === 'InternalIP')?.address,
    externalIP: n.status?.addresses?.find((x) => x.type === 'ExternalIP')?.address,
  }));
  const image = a.get('image') ?? cluster?.images.agnhost ?? AGNHOST_SCTP_IMAGE;
  let createdNs: string | undefined;
  let namespace = a.get('namespace');
  const wantHostPod = (a.get('node-access') ?? process.env.SCTP_E2E_NODE_ACCESS) === 'hostpod';
  if (wantHostPod && !namespace) {
    const ns = await core.createNamespace({
      body: { metadata: { generateName: 'sctp-e2e-nodeprobe-', labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'sctp-e2e/run': 'nodeprobe' } } },
    });
    namespace = createdNs = ns.metadata!.name!;
  }
  const access = await selectNodeAccess({
    nodes,
    explicit: a.get('node-access') ? { value: a.get('node-access')!, from: '--node-access' } : undefined,
    hostPod: namespace ? { kubeConfig: kc, namespace, image } : undefined,
    log: (l) => console.log(l),
  });
  try {
    for (const n of nodes.filter((x) => !a.get('node') || x.name === a.get('node'))) {
      const e = access.exec(n.name);
      if (!e) {
        console.log(`${n.name}: node access is none, nothing probed`);
        continue;
      }
      const t0 = Date.now();
      const s = await probeSctpModule(e);
      console.log(`${n.name}: sctp.ko ${s.state}: ${s.evidence} [${Date.now() - t0} ms]`);
      const nf = nodeNetfilter(e);
      const m = await nf.detectProxyMode();
      console.log(`${n.name}: proxy mode ${m.mode}: ${m.evidence}`);
      if (a.get('service-ip') || a.get('node-port')) {
        const r = await nf.serviceRules({
          ip: a.get('service-ip'),
          port: a.get('port') ? Number(a.get('port')) : undefined,
          nodePort: a.get('node-port') ? Number(a.get('node-port')) : undefined,
        });
        console.log(r.render());
      }
      if (a.get('host-port')) console.log((await nf.hostPortRules({ port: Number(a.get('host-port')) })).render());
    }
  } finally {
    await access.closeAll();
    if (createdNs) await core.deleteNamespace({ name: createdNs });
  }
  return 0;
}

runMain('node probe', main);
