// The names of node access, defined once: the transports of lib/node/, the mode a run ends up with, and
// what a user may ask for (--node-access, `nodeAccess:` in --config). Pure: no imports.

/** How the suite reaches a node (lib/node/: ssh.ts, hostpod.ts, docker.ts, exec.ts's local nsenter). */
export const TRANSPORTS = ['ssh', 'hostpod', 'docker', 'local'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** The node access a run ends up with (lib/node/select.ts decides it): a transport, or none. */
export const NODE_ACCESS_MODES = [...TRANSPORTS, 'none'] as const;
export type NodeAccessMode = (typeof NODE_ACCESS_MODES)[number];

/**
 * What --node-access may name: auto (let lib/node/select.ts decide) or a mode. `local` (nsenter into the
 * local cluster's node netns) is not offered there; the suite's own tests reach it through SCTP_E2E_NODE_ACCESS.
 */
export const NODE_ACCESS_CHOICES = ['auto', 'ssh', 'hostpod', 'docker', 'none'] as const;
export type NodeAccessChoice = (typeof NODE_ACCESS_CHOICES)[number];
