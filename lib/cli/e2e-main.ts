// The suite's entry point: `npm run e2e [-- options]`, `npm run e2e:sweep`.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { readClusterState } from '../../cluster/contract.ts';
import type { CapabilityReport } from '../capabilities.ts';
import { probeCapabilities, renderCapabilities } from '../capabilities.ts';
import { findOutside } from '../connectivity/outside.ts';
import type { Capability } from '../framework/capabilities.ts';
import { CAPABILITIES, parseCapabilities } from '../framework/capabilities.ts';
import type { RunConfig } from '../framework/config.ts';
import {
  findKubeconfig,
  getRunConfig,
  imageInputs,
  localClusterDir,
  mergeConfigFile,
  noteServerVersion,
  readConfigFile,
  readLocalCluster,
} from '../framework/config.ts';
import { ExitCode, errorMessage, UserError } from '../framework/errors.ts';
import { runMain } from '../framework/main.ts';
import { NODE_ACCESS_CHOICES } from '../framework/node-access.ts';
import { willRunLine } from '../framework/progress.ts';
import { reportPaths } from '../framework/report-paths.ts';
import { addRunNote } from '../framework/run-notes.ts';
import { dryRun, runMocha } from '../framework/runner.ts';
import { checkGrepPattern, escapeRegex, resolveTag, selectionPattern } from '../framework/tags.ts';
import { RUN_LABEL } from '../k8s/builders.ts';
import type { Cluster } from '../k8s/client.ts';
import { api, loadCluster, preflight } from '../k8s/client.ts';
import { dockerEngineWorks } from '../node/docker.ts';
import type { NodeAccess } from '../node/select.ts';
import { selectNodeAccess } from '../node/select.ts';
import { type CniGuess, detectCni } from '../report/cni.ts';
import { commandLine, reportOfRun } from '../report/model.ts';
import { checkReportDir, writeReport } from '../report/write.ts';
import { parseE2eArgs } from './e2e-options.ts';
import { bringUpLab, JOIN_CLUSTER_DIR, type LabKind, labBaseDir, labDown, labPlan, lateGroupOf, parseLabKind, readLab, stillUpLines } from './lab.ts';
import { printImageList } from './list-images.ts';

/**
 * SSH and docker access are checked before any test runs, so a bad key or an unknown host key ends the run
 * within seconds with one sentence (exit 6) instead of failing every node test. Host pods are checked by the
 * tests themselves (creating one is a test in itself).
 */
async function preflightNodeAccess(c: Cluster, cfg: RunConfig): Promise<{ line: string; access: NodeAccess }> {
  const list = await api('list nodes', () => c.core.listNode());
  const nodes = list.items.map((n) => ({
    name: n.metadata!.name!,
    providerID: n.spec?.providerID,
    internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    externalIP: n.status?.addresses?.find((a) => a.type === 'ExternalIP')?.address,
  }));
  let access: Awaited<ReturnType<typeof selectNodeAccess>>;
  try {
    access = await selectNodeAccess({
      nodes,
      explicit: cfg.nodeAccess === 'auto' ? undefined : { value: cfg.nodeAccess, from: cfg.nodeAccessFrom },
      // host pods are possible (the tests create their namespace); this check never starts one
      hostPod: { kubeConfig: c.kc, namespace: '(created by the tests)', image: cfg.images.hostExec },
      timeoutMs: 15_000,
      log: () => {},
    });
  } catch (e) {
    throw new UserError(errorMessage(e), ExitCode.nodeAccess);
  }
  if (access.mode !== 'ssh' && access.mode !== 'docker') return { line: `${access.mode} (${access.reason})`, access };
  const first = nodes[0];
  try {
    if (first) {
      const r = await access.exec(first.name)!.run('true', { timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(`\`true\` exited ${r.code} on ${first.name}: ${r.stderr.trim()}`);
    }
  } catch (e) {
    await access.closeAll().catch(() => {});
    throw new UserError(`node access ${access.mode} does not work (${access.reason}): ${errorMessage(e)}`, ExitCode.nodeAccess);
  }
  return { line: `${access.mode} (${access.reason}), checked on ${first?.name ?? 'no node'}`, access };
}

/**
 * The capability table, before the first test: per node kernel SCTP and proxy mode, and what the run needs
 * (node access, DNS, outside vantage point, nodes). Printed, written to <artifacts>/<run>/capabilities.json
 * and to the run notes (summary and JUnit). Host-pod access probes nodes in the tests (a host pod is itself
 * a test), so its nodes show "not probed".
 */
async function showCapabilities(
  c: Cluster,
  cfg: RunConfig,
  access: NodeAccess,
  required: Capability[],
): Promise<{ report?: CapabilityReport; missing?: string }> {
  const probeAccess: NodeAccess =
    access.mode === 'hostpod'
      ? { ...access, reason: `${access.reason}; host pods are started by the tests, so the capability probe reads no node`, exec: () => undefined }
      : access;
  try {
    const report = await probeCapabilities({
      cluster: c,
      access: probeAccess,
      required: new Set(required),
      deadlineMs: 20_000,
      outside: async () => {
        // the local cluster's outside netns costs nothing to check; a Docker container is started by the outside tests
        if (!cfg.localCluster && (await dockerEngineWorks())) return { ok: true, detail: 'a container on Docker network kind, started by the outside tests' };
        const o = await findOutside(cfg);
        await o.client?.close().catch(() => {});
        return o.client ? { ok: true, detail: o.client.description } : { ok: false, detail: o.reason };
      },
    });
    process.stdout.write(`${renderCapabilities(report)}\n\n`);
    const dir = `${cfg.artifactsDir}/${cfg.runId}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/capabilities.json`, JSON.stringify(report, null, 2) + '\n');
    // compact in the summary (the table above and capabilities.json carry the evidence)
    for (const n of report.nodes) addRunNote('capabilities', `${n.node}: kernel ${n.kernel}, kernel SCTP ${n.kernelSctp}, proxy mode ${n.proxyMode}`);
    addRunNote(
      'capabilities',
      `${report.rows.map((r) => `${r.capability} ${r.status}${r.required ? ' (required)' : ''}`).join(', ')}; evidence in ${dir}/capabilities.json`,
    );
    for (const r of report.rows.filter((x) => x.required && x.status === 'no'))
      addRunNote('capabilities', `required ${r.capability} is missing: ${r.detail}`, 'warning');
    return { report };
  } catch (e) {
    process.stdout.write(`sctp-e2e: capability probe failed: ${errorMessage(e)} (the tests probe what they need themselves)\n`);
    addRunNote('capabilities', `capability probe failed: ${errorMessage(e)}`, 'warning');
    return { missing: `capability probe failed: ${errorMessage(e)}` };
  } finally {
    await access.closeAll().catch(() => {});
  }
}

const USAGE = `usage: npm run e2e -- [options]            run the suite against a cluster
       npm run e2e:sweep -- [--run ID]       delete what earlier runs left behind

options:
  --kubeconfig PATH     cluster to test (default: $KUBECONFIG, ~/.kube/config, in a pod the service account,
                        else the embedded local cluster)
  --grep REGEX          run tests whose full title matches (escape brackets: '\\[Feature:SCTP\\]')
  --skip REGEX          leave out tests whose full title matches (ginkgo's --skip; with --grep: both apply)
  --tag NAME            run tests carrying a tag (SCTP, SCTPConnectivity, NetworkPolicy, Serial, ...); repeatable = any
  --skip-tag NAME       leave out tests carrying this tag
  --spec GLOB           spec files (default: suites/**/*.spec.ts)
  --image NAME          test image (default: agnhost-sctp; with --flavor agnhost, upstream agnhost)
  --flavor F            agnhost-sctp (default) or agnhost (upstream image, kernel SCTP only; its tag follows the
                        cluster's Kubernetes minor)
  --image-repo REG      pull every image from registry REG instead (keeps name:tag), e.g. my.registry/e2e
  --image-repo-list F   registry mirrors from a KUBE_TEST_REPO_LIST-format YAML file (promoterE2eRegistry: ...,
                        agnhostSctpRegistry: ...); $KUBE_TEST_REPO_LIST is read when neither flag is given
  --list-images         print every image the selection would use, one per line, and exit (no cluster needed)
  --dry-run             print "Will run N of M specs" and each selected test's full title in run order, and
                        exit (no cluster needed)
  --node-access MODE    ${NODE_ACCESS_CHOICES.join(', ')} (auto is the default; in a pod with no kubeconfig: hostpod)
  --require LIST        capabilities whose absence FAILS the tests that need them instead of skipping them
                        (comma list; repeatable): ${Object.keys(CAPABILITIES).join(', ')}
  --config FILE         YAML or JSON with keys require, tag, skipTag, nodeAccess, junit, grep, skip, spec,
                        kubeconfig, image, flavor, artifacts, report, imageRepo, imageRepoList; flags override the file
  --junit PATH          JUnit XML (default: artifacts/junit.xml; with $ARTIFACTS set, $ARTIFACTS/junit_sctp-e2e.xml)
  --report DIR          also write the report card: DIR/report.html (self-contained, open from file://)
                        and DIR/report.json (cluster, capabilities, every test, per-tag counts, run notes);
                        with $ARTIFACTS set the default is $ARTIFACTS/sctp-e2e-report
  --artifacts DIR       failure dumps and the run's files (default: $ARTIFACTS when set, else artifacts/)
  --lab KIND            the embedded lab (root on Linux): what the run brings up, or reuses if it is up, when no
                        kubeconfig is configured, or whenever --lab is given (then KUBECONFIG is not used):
                        full (default: two nodes, the LoadBalancer controller, Cilium for the NetworkPolicy
                        tests, which then run last), minimal (one node) or kernel (full plus the kernel-lane VM
                        as a third node: kernel SCTP, a loadable sctp.ko, kube-proxy ipvs); README "The embedded lab"
  --no-cluster-up       never bring up the embedded cluster; fail if no kubeconfig
  --down-after          tear the embedded cluster down after the run (if this run brought it up)

exit codes: 0 every selected test passed or skipped, at least one passed; 1 tests failed; 2 usage;
  3 kubeconfig missing/invalid; 4 API server unreachable; 5 forbidden; 6 node access; 7 missing prerequisite;
  8 nothing verified (no test ran, or every selected test skipped); 130 interrupted
`;

function parse() {
  try {
    return parseE2eArgs(process.argv.slice(2));
  } catch (e) {
    throw new UserError(`${errorMessage(e)}\n${USAGE}`);
  }
}

async function bringUpEmbedded(lab: LabKind, o: { labAsked: boolean; baseDir: string }): Promise<'local' | 'kind'> {
  if (!o.labAsked && (await dockerEngineWorks())) {
    process.stderr.write('sctp-e2e: no kubeconfig configured and Docker works: creating a kind cluster (kind-config/run-kind.sh)\n');
    if (!existsSync('kind-config/run-kind.sh')) throw new UserError('kind-config/run-kind.sh is missing', ExitCode.prerequisite);
    await execa('bash', ['kind-config/run-kind.sh', 'create'], { stdio: 'inherit' });
    return 'kind';
  }
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new UserError(
      'no kubeconfig configured, no Docker for kind, and the embedded local cluster needs root on Linux: set KUBECONFIG or run as root',
      ExitCode.kubeconfig,
    );
  }
  const plan = labPlan(lab, o.baseDir);
  process.stderr.write(
    `sctp-e2e: no kubeconfig configured and no Docker: bringing up the embedded lab "${lab}" (${plan.holds}; state in ${localClusterDir()}; --lab minimal for one node)\n`,
  );
  try {
    await bringUpLab(plan, o.baseDir);
  } catch (e) {
    throw new UserError(errorMessage(e), ExitCode.prerequisite);
  }
  return 'local';
}

async function run(flags: ReturnType<typeof parse>['values']) {
  // Validate everything the user typed (and the config file) before touching any cluster.
  const values = flags.config ? mergeConfigFile(flags, readConfigFile(flags.config)) : flags;
  const required = parseCapabilities((values.require ?? []).join(','), flags.require ? '--require' : `require in --config ${flags.config}`);
  let labKind: LabKind;
  try {
    labKind = parseLabKind(values.lab);
  } catch (e) {
    throw new UserError(errorMessage(e));
  }
  if (values['node-access'] && !(NODE_ACCESS_CHOICES as readonly string[]).includes(values['node-access'])) {
    throw new UserError(`--node-access must be one of ${NODE_ACCESS_CHOICES.join(', ')}, not ${JSON.stringify(values['node-access'])}`);
  }
  const greps: string[] = [];
  if (values.grep) {
    const bad = checkGrepPattern(values.grep);
    if (bad) throw new UserError(bad);
    greps.push(values.grep);
  }
  const tagRe = (names: string[] | undefined, flag: string) =>
    (names ?? []).map((n) => {
      const t = resolveTag(n);
      if (!t)
        throw new UserError(
          `unknown tag ${JSON.stringify(n)} in ${flag}; known tags are in lib/framework/tags.ts (e.g. SCTP, SCTPConnectivity, NetworkPolicy, Serial, Disruptive)`,
        );
      return escapeRegex(t);
    });
  if (!values.report && process.env.ARTIFACTS) values.report = join(process.env.ARTIFACTS, 'sctp-e2e-report');
  if (values.report) checkReportDir(values.report);
  const tags = tagRe(values.tag, '--tag');
  const skipTags = tagRe(values['skip-tag'], '--skip-tag');
  if (values.skip) {
    const bad = checkGrepPattern(values.skip);
    if (bad) throw new UserError(bad.replace(/--grep/g, '--skip').replace('--tag ', '--skip-tag '));
    skipTags.push(values.skip);
  }
  if (tags.length) greps.push(`(${tags.join('|')})`);
  const env = process.env;
  if (values.kubeconfig) env.SCTP_E2E_KUBECONFIG = values.kubeconfig;
  if (values.image) env.SCTP_E2E_IMAGE = values.image;
  if (values.flavor) env.SCTP_E2E_FLAVOR = values.flavor;
  if (values['node-access']) env.SCTP_E2E_NODE_ACCESS = values['node-access'];
  if (values.artifacts) env.SCTP_E2E_ARTIFACTS = values.artifacts;
  if (values['image-repo']) env.SCTP_E2E_IMAGE_REPO = values['image-repo'];
  if (values['image-repo-list']) env.SCTP_E2E_IMAGE_REPO_LIST = values['image-repo-list'];
  imageInputs(env); // a bad flavor, --image-repo or repo-list file is a usage error before any cluster is touched
  const specs = values.spec ?? ['suites/sctp/**/*.spec.ts', 'suites/sctp-connectivity/**/*.spec.ts'];
  if (values['list-images']) {
    await printImageList({ patterns: specs, grep: selectionPattern(greps, skipTags) || undefined, nodeAccess: values['node-access'] ?? 'auto' });
    return ExitCode.ok;
  }
  if (values['dry-run']) {
    const sel = selectionPattern(greps, skipTags);
    const d = await dryRun(specs, sel || undefined);
    process.stdout.write(`${willRunLine(d.selected.length, d.all)}${sel ? ` (selection ${sel})` : ''}\n${d.selected.map((t) => `  ${t}\n`).join('')}`);
    process.stdout.write('sctp-e2e: dry run: nothing was run, no cluster contacted\n');
    return ExitCode.ok;
  }
  // read by f.skipFor (lib/framework/capabilities.ts requiredCapabilities)
  if (required.length) env.SCTP_E2E_REQUIRE = required.join(',');
  else delete env.SCTP_E2E_REQUIRE;

  let broughtUp: 'local' | 'kind' | undefined;
  // --lab asks for the embedded lab whatever kubeconfig the environment has (not with --kubeconfig: a usage error)
  const labAsked = values.lab !== undefined;
  if (labAsked && values.kubeconfig) throw new UserError('--lab brings up (or reuses) the embedded local cluster; it does not go with --kubeconfig');
  const configured = findKubeconfig(env);
  const baseDir = localClusterDir();
  if (labAsked || !configured) {
    if (values['no-cluster-up'] && !readLocalCluster())
      throw new UserError('no kubeconfig: set KUBECONFIG or --kubeconfig (and --no-cluster-up forbids bringing up the embedded cluster)', ExitCode.kubeconfig);
    if (labAsked && configured) process.stderr.write(`sctp-e2e: --lab ${values.lab}: the embedded local cluster, not the configured ${configured.source}\n`);
    // --lab kernel: the suite reads the cluster with the VM node (vm/join.ts writes it); the lab's own steps are pinned to baseDir
    if (labKind === 'kernel') env.SCTP_E2E_CLUSTER_DIR = JOIN_CLUSTER_DIR;
    const up = readLocalCluster();
    if (up && existsSync(up.kubeconfig)) {
      if (labAsked) process.stderr.write(`sctp-e2e: --lab ${values.lab}: the local cluster is up already (${localClusterDir()}); using it as it is\n`);
    } else {
      if (labKind === 'kernel' && existsSync(join(baseDir, 'cluster.json'))) {
        throw new UserError(
          `--lab kernel: the local cluster is up (${baseDir}) without the kernel-lane node: \`npm run vm:up -- --join-cluster --proxy-mode ipvs\` joins it, or \`npm run cluster:down\` first`,
          ExitCode.prerequisite,
        );
      }
      broughtUp = await bringUpEmbedded(labKind, { labAsked, baseDir });
    }
    const local = readLocalCluster();
    if (broughtUp !== 'kind' && local) env.SCTP_E2E_KUBECONFIG = local.kubeconfig;
  }
  const cfg = getRunConfig(env);
  const c = loadCluster(cfg.kubeconfig, cfg.kubeconfigSource);
  const { gitVersion } = await preflight(c);
  noteServerVersion(gitVersion); // the upstream agnhost tag follows the cluster's minor
  env.SCTP_E2E_RUN_ID = cfg.runId;
  const nodeAccess = await preflightNodeAccess(c, cfg);
  process.stdout.write(
    `sctp-e2e: cluster ${c.server} (${gitVersion}, kubeconfig from ${cfg.kubeconfigSource}); image ${cfg.images.test} (${cfg.imagesWhy}); run ${cfg.runId}\nsctp-e2e: node access ${nodeAccess.line}\n`,
  );
  if (required.length) process.stdout.write(`sctp-e2e: required capabilities (absence fails): ${required.join(', ')}\n`);
  const capabilities = await showCapabilities(c, cfg, nodeAccess.access, required);
  // the CNI as the run found it (before any disruptive test), only for the report card
  const cni: CniGuess | undefined = values.report
    ? await detectCni(
        c,
        // the conflists are under the cluster's own state dir (that of its admin kubeconfig): a cluster.json merged by
        // `vm join` lives elsewhere; only the netns nodes' conflists are on this host (the VM's are in the VM)
        cfg.localCluster
          ? { stateDir: dirname(cfg.localCluster.kubeconfig), nodes: cfg.localCluster.nodes.filter((n) => n.netns).map((n) => n.name) }
          : undefined,
      )
    : undefined;

  // the embedded lab (this run's or an earlier one's): its NetworkPolicy implementation comes up before those tests
  const lab = cfg.localCluster ? readLab(localClusterDir()) : undefined;
  const labDir = labBaseDir(localClusterDir());
  // the lab's own kubectl and admin kubeconfig (not the suite's client: suite-image/rbac.yaml lists what the suite calls)
  const cordon = async (node: string, on: boolean) => {
    const bin = readClusterState(labDir)?.binDir;
    if (!bin) throw new Error(`cannot ${on ? 'cordon' : 'uncordon'} ${node}: ${labDir}/state.json names no binDir (kubectl)`);
    await execa(join(bin, 'kubectl'), ['--kubeconfig', cfg.kubeconfig, on ? 'cordon' : 'uncordon', node], { stdio: 'inherit' });
  };
  const late = lab ? await lateGroupOf(labPlan(lab, labDir), labDir, { cordon }) : undefined;

  const grep = selectionPattern(greps, skipTags);
  const report = reportPaths({
    junit: values.junit,
    defaultJunit: `${cfg.artifactsDir}/junit.xml`,
    runSummary: `${cfg.artifactsDir}/${cfg.runId}/summary.json`,
  });
  if (report.prow) process.stdout.write(`sctp-e2e: ${report.prow}\n`);
  let verdict: Awaited<ReturnType<typeof runMocha>>['verdict'];
  try {
    const r = await runMocha({
      patterns: specs,
      grep: grep ? grep : undefined,
      timeout: 900_000,
      junit: report.junit,
      summaryJson: report.summaryJson,
      suiteName: 'sctp-e2e',
      phases: true, // basic before connectivity, phase line, end-of-basic-phase checks
      late,
    });
    verdict = r.verdict;
    if (values.report) {
      const model = reportOfRun(r, {
        runId: cfg.runId,
        command: commandLine(process.argv, process.env),
        capabilities: capabilities.report,
        capabilitiesMissing: capabilities.missing,
        cluster: { server: c.server, version: gitVersion, cni },
      });
      try {
        const paths = writeReport(values.report, model);
        process.stdout.write(`Report: ${paths.html} (and ${paths.json})\n`);
      } catch (e) {
        process.stderr.write(`sctp-e2e: the report card could not be written to ${values.report}: ${errorMessage(e)}\n`);
      }
    }
  } finally {
    if (broughtUp === 'local' && values['down-after']) {
      for (const argv of labDown(lab ?? labKind, labDir)) await execa(argv[0]!, argv.slice(1), { stdio: 'inherit', reject: false });
    } else if (lab && cfg.localCluster) process.stdout.write(`${stillUpLines(lab, labDir, cfg.kubeconfig)}\n`);
    if (broughtUp === 'kind' && values['down-after']) await execa('bash', ['kind-config/run-kind.sh', 'delete'], { stdio: 'inherit', reject: false });
  }
  // a run that verified nothing (no test ran, every selected test skipped) is not green: exit 8
  if (verdict.sentence)
    process.stderr.write(`sctp-e2e: ${verdict.sentence}${verdict.exitCode === ExitCode.nothingVerified && grep ? ` (selection ${grep})` : ''}\n`);
  return verdict.exitCode;
}

async function sweep(values: ReturnType<typeof parse>['values']) {
  const cfg = getRunConfig();
  const c = loadCluster(cfg.kubeconfig, cfg.kubeconfigSource);
  await preflight(c);
  const selector = values.run ? `${RUN_LABEL}=${values.run}` : RUN_LABEL;
  const l = await api('list namespaces', () => c.core.listNamespace({ labelSelector: selector }));
  const live = l.items.filter((n) => !n.metadata?.deletionTimestamp);
  for (const n of live) {
    await api(`delete namespace ${n.metadata!.name}`, () => c.core.deleteNamespace({ name: n.metadata!.name! }));
    process.stdout.write(`deleted namespace ${n.metadata!.name} (run ${n.metadata!.labels?.[RUN_LABEL]})\n`);
  }
  process.stdout.write(`sweep: ${live.length} namespace(s) deleted (${l.items.length - live.length} already terminating)\n`);
}

runMain('sctp-e2e', async () => {
  const { values, positionals } = parse();
  const cmd = positionals[0] ?? 'run';
  if (values.help || cmd === 'help') {
    process.stdout.write(USAGE);
  } else if (cmd === 'run') {
    return await run(values);
  } else if (cmd === 'sweep') {
    await sweep(values);
  } else {
    throw new UserError(`unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  }
});
