// Public API of lib/node: node access (NodeExec and its transports, automatic selection),
// netfilter readers and rule finders, sctp.ko state.
export { formatDuration } from '../framework/duration.ts';
export type { NodeAccessMode } from '../framework/node-access.ts';
export type { DockerExecOptions } from './docker.ts';
export { dockerArgv, dockerExec } from './docker.ts';
export type { ExecResult, LocalExecOptions, NodeExec, RunOptions, Transport } from './exec.ts';
export { DEFAULT_NODE_EXEC_TIMEOUT_MS, localArgv, localExec, NodeExecError, NodeExecTimeout, shortCommand, shQuote } from './exec.ts';
export type { HostPodOptions } from './hostpod.ts';
export { hostPodArgv, hostPodExec, hostPodSpec } from './hostpod.ts';
export * from './netfilter/index.ts';
export type { SctpModuleClassification, SctpModuleFacts, SctpModuleState, SctpModuleStateName, SctpModuleViolation } from './sctp-module.ts';
export { classifySctpModule, compareSctpModule, parseSctpModuleProbe, probeSctpModule, SCTP_MODULE_PROBE_SCRIPT } from './sctp-module.ts';
export type { NodeAccess, NodeAccessConfig, NodeAccessDecision, NodeInfo } from './select.ts';
export { decideNodeAccess, listDockerContainers, readClusterNodes, selectNodeAccess } from './select.ts';
export type { HostKeyCheck, KnownHostEntry, SshOptions } from './ssh.ts';
export { checkHostKey, fingerprintOf, hostFieldMatches, knownHostsName, parseKnownHosts, resolveSsh, sshExec } from './ssh.ts';
