// sctp.ko state on a node, with evidence. KEP-614: creating SCTP Pods/Services/NetworkPolicies
// must not load sctp.ko. Upstream's `lsmod | grep sctp` confuses "grep found nothing", "lsmod
// failed" and "built into the kernel"; this probe reads the kernel's own files instead and never
// loads anything (no socket(), no modprobe). "Command failed" is never "not loaded".
import type { NodeExec } from './exec.ts';

export type SctpModuleStateName = 'loaded' | 'not-loaded' | 'builtin' | 'no-sctp' | 'unknown';

export interface SctpModuleFacts {
  kernel?: string;
  procModules: 'present' | 'absent' | 'unknown';
  procModulesSctpLine?: string; // the "sctp ..." line of /proc/modules
  relatedModules: string[]; // sctp_diag, nf_conntrack_sctp, xt_sctp, libcrc32c lines
  sysModule: 'present' | 'absent' | 'unknown';
  sysModuleInitstate?: string; // "live" for a loaded loadable module; absent for built-in
  sysModuleRefcnt?: string;
  procNetSctp: 'present' | 'absent' | 'unknown';
  configSource?: string; // "/proc/config.gz" | "/boot/config-..." | "none"
  configIpSctp?: 'y' | 'm' | 'not set'; // undefined when no config was readable
  configModules?: 'y' | 'not set';
  modulesDir: 'present' | 'absent' | 'unknown';
  builtinListsSctp?: boolean; // modules.builtin names net/sctp/sctp.ko
  sctpKoFiles: string[]; // sctp.ko files on disk
  complete: boolean; // the probe printed its end marker
}

export interface SctpModuleClassification {
  state: SctpModuleStateName;
  evidence: string; // one line: why this state
  facts: SctpModuleFacts;
}

export interface SctpModuleState extends SctpModuleClassification {
  node: string;
  transport: string;
  command: string;
  code: number | null;
  output: string; // raw probe output (for artifacts and fixtures)
  stderr: string;
}

/**
 * The probe. POSIX sh (busybox ok). Only reads files; each section is labelled "== name".
 * Runs from the node's mount namespace (ssh, host pod with nsenter -m, docker exec).
 */
export const SCTP_MODULE_PROBE_SCRIPT = [
  'r=$(uname -r 2>/dev/null)',
  'echo "== uname"; echo "$r"',
  'echo "== proc-modules"',
  'if [ -r /proc/modules ]; then echo present; grep -E "^(sctp|sctp_diag|nf_conntrack_sctp|xt_sctp|libcrc32c) " /proc/modules; else echo absent; fi',
  'echo "== sys-module-sctp"',
  'if [ -d /sys/module/sctp ]; then echo present; for f in initstate refcnt; do if [ -r /sys/module/sctp/$f ]; then ' +
    'echo "$f $(cat /sys/module/sctp/$f)"; fi; done; else echo absent; fi',
  'echo "== proc-net-sctp"',
  'if [ -d /proc/net/sctp ]; then echo present; else echo absent; fi',
  'echo "== config"',
  'if [ -r /proc/config.gz ]; then echo "source /proc/config.gz"; { zcat /proc/config.gz 2>/dev/null || gzip -dc ' +
    '/proc/config.gz; } | grep -E "^(# )?CONFIG_(IP_SCTP|MODULES)[ =]";',
  'elif [ -n "$r" ] && [ -r "/boot/config-$r" ]; then echo "source /boot/config-$r"; grep -E "^(# )?CONFIG_(IP_SCTP|MODULES)[ =]" "/boot/config-$r";',
  'else echo "source none"; fi',
  'echo "== lib-modules"',
  'd="/lib/modules/$r"',
  'if [ -n "$r" ] && [ -d "$d" ]; then echo present;',
  '  if [ -r "$d/modules.builtin" ]; then if grep -qE "(^|/)net/sctp/sctp\\.ko" "$d/modules.builtin"; then echo ' +
    '"builtin-lists-sctp yes"; else echo "builtin-lists-sctp no"; fi; fi;',
  '  for f in "$d"/kernel/net/sctp/sctp.ko*; do if [ -e "$f" ]; then echo "file $f"; fi; done;',
  'else echo absent; fi',
  'echo "== end"',
].join('\n');

function sections(output: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of output.split('\n')) {
    const h = /^== (\S+)\s*$/.exec(line);
    if (h) {
      cur = [];
      m.set(h[1]!, cur);
    } else if (cur && line.trim() !== '') cur.push(line.trimEnd());
  }
  return m;
}

function presence(lines: string[] | undefined): 'present' | 'absent' | 'unknown' {
  const first = lines?.[0];
  return first === 'present' ? 'present' : first === 'absent' ? 'absent' : 'unknown';
}

/** Pure parser of the probe's output into facts. */
export function parseSctpModuleProbe(output: string): SctpModuleFacts {
  const s = sections(output);
  const pm = s.get('proc-modules');
  const sm = s.get('sys-module-sctp') ?? [];
  const cfg = s.get('config') ?? [];
  const lm = s.get('lib-modules') ?? [];
  const facts: SctpModuleFacts = {
    kernel: s.get('uname')?.[0],
    procModules: presence(pm),
    relatedModules: [],
    sysModule: presence(sm),
    procNetSctp: presence(s.get('proc-net-sctp')),
    modulesDir: presence(lm),
    sctpKoFiles: [],
    complete: s.has('end'),
  };
  for (const l of (pm ?? []).slice(1)) {
    if (/^sctp\s/.test(l)) facts.procModulesSctpLine = l;
    else facts.relatedModules.push(l);
  }
  for (const l of sm.slice(1)) {
    const [k, v] = l.split(/\s+/, 2);
    if (k === 'initstate') facts.sysModuleInitstate = v;
    if (k === 'refcnt') facts.sysModuleRefcnt = v;
  }
  for (const l of cfg) {
    if (l.startsWith('source ')) facts.configSource = l.slice(7);
    let m = /^CONFIG_IP_SCTP=([ym])$/.exec(l);
    if (m) facts.configIpSctp = m[1] as 'y' | 'm';
    if (/^# CONFIG_IP_SCTP is not set$/.test(l)) facts.configIpSctp = 'not set';
    m = /^CONFIG_MODULES=(y)$/.exec(l);
    if (m) facts.configModules = 'y';
    if (/^# CONFIG_MODULES is not set$/.test(l)) facts.configModules = 'not set';
  }
  // A readable config that does not mention IP_SCTP at all means "not set" (depends on NET etc.).
  if (facts.configSource && facts.configSource !== 'none' && facts.configIpSctp === undefined) facts.configIpSctp = 'not set';
  for (const l of lm.slice(1)) {
    if (l === 'builtin-lists-sctp yes') facts.builtinListsSctp = true;
    if (l === 'builtin-lists-sctp no') facts.builtinListsSctp = false;
    if (l.startsWith('file ')) facts.sctpKoFiles.push(l.slice(5));
  }
  return facts;
}

function configEvidence(f: SctpModuleFacts): string {
  if (!f.configSource || f.configSource === 'none') return 'no kernel config readable (/proc/config.gz, /boot/config-*)';
  const ip = f.configIpSctp === 'not set' ? '# CONFIG_IP_SCTP is not set' : `CONFIG_IP_SCTP=${f.configIpSctp}`;
  const mods = f.configModules === undefined ? '' : f.configModules === 'y' ? ', CONFIG_MODULES=y' : ', # CONFIG_MODULES is not set';
  return `${ip}${mods} in ${f.configSource}`;
}

/**
 * Classifies the probe's output. `code` is the probe's exit code if known: a probe that did not
 * finish (no end marker) or exited non-zero answers 'unknown', never 'not-loaded'.
 */
export function classifySctpModule(output: string, code?: number | null): SctpModuleClassification {
  const f = parseSctpModuleProbe(output);
  const k = f.kernel ? `kernel ${f.kernel}` : 'kernel ?';
  const done = (state: SctpModuleStateName, why: string): SctpModuleClassification => ({ state, evidence: `${why} (${k})`, facts: f });

  if (!f.complete || (code !== undefined && code !== 0)) {
    return done('unknown', `the sctp module probe did not complete (exit code ${code ?? 'unknown'}, end marker ${f.complete ? 'seen' : 'missing'})`);
  }
  // 1. Positive evidence of a loaded loadable module.
  if (f.procModulesSctpLine) {
    return done('loaded', `/proc/modules has "${f.procModulesSctpLine}"`);
  }
  if (f.sysModule === 'present' && f.sysModuleInitstate) {
    return done('loaded', `/sys/module/sctp/initstate is "${f.sysModuleInitstate}"`);
  }
  // 2. Built into the kernel.
  if (f.configIpSctp === 'y') return done('builtin', `${configEvidence(f)}`);
  if (f.builtinListsSctp) return done('builtin', `modules.builtin lists net/sctp/sctp.ko`);
  if (f.sysModule === 'present' && f.procModules === 'present') {
    // /sys/module/sctp without initstate and without a /proc/modules line: built-in.
    return done('builtin', `/sys/module/sctp exists without initstate and /proc/modules has no sctp line`);
  }
  // 3. No SCTP in this kernel at all.
  if (f.configIpSctp === 'not set') {
    if (f.procNetSctp === 'present' || f.sysModule === 'present') {
      return done('unknown', `${configEvidence(f)} but /proc/net/sctp or /sys/module/sctp exists (out-of-tree module?)`);
    }
    return done('no-sctp', `${configEvidence(f)}; /sys/module/sctp and /proc/net/sctp absent`);
  }
  // 4. Loadable and not loaded: needs /proc/modules readable (the authoritative list).
  if (f.procModules === 'present') {
    if (f.sysModule === 'absent' && f.procNetSctp !== 'present') {
      const avail =
        f.configIpSctp === 'm'
          ? configEvidence(f)
          : f.sctpKoFiles.length > 0
            ? `${f.sctpKoFiles[0]} exists`
            : `kernel config unknown and no sctp.ko found, so SCTP may be unavailable`;
      return done('not-loaded', `/proc/modules has no sctp line and /sys/module/sctp is absent; ${avail}`);
    }
    return done('unknown', `/proc/modules has no sctp line but /sys/module/sctp is ${f.sysModule} and /proc/net/sctp is ${f.procNetSctp}`);
  }
  // 5. No module support and no config.
  if (f.procModules === 'absent' && f.configModules === 'not set' && f.procNetSctp === 'absent') {
    return done('no-sctp', `${configEvidence(f)}; no /proc/modules and no /proc/net/sctp`);
  }
  return done('unknown', `cannot tell: /proc/modules ${f.procModules}, /sys/module/sctp ${f.sysModule}, /proc/net/sctp ${f.procNetSctp}; ${configEvidence(f)}`);
}

/** Runs the probe on one node. Never loads sctp.ko. Throws only on transport errors/timeouts. */
export async function probeSctpModule(exec: NodeExec, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<SctpModuleState> {
  const r = await exec.run(SCTP_MODULE_PROBE_SCRIPT, opts);
  const c = classifySctpModule(r.stdout, r.code);
  return {
    ...c,
    evidence: `${c.evidence} on ${exec.node} via ${exec.description}`,
    node: exec.node,
    transport: exec.transport,
    command: 'sctp module probe (SCTP_MODULE_PROBE_SCRIPT)',
    code: r.code,
    output: r.stdout,
    stderr: r.stderr,
  };
}

export interface SctpModuleViolation {
  kind: 'loaded-during-test' | 'cannot-tell-after';
  node: string;
  message: string;
  before: SctpModuleClassification;
  after: SctpModuleClassification;
}

/**
 * Compares two probes of the same node. A violation when sctp.ko went from not-loaded to loaded;
 * also when it was not-loaded before and the second probe cannot tell (that is not a pass).
 */
export function compareSctpModule(
  before: SctpModuleClassification & { node?: string },
  after: SctpModuleClassification & { node?: string },
): SctpModuleViolation | undefined {
  const node = after.node ?? before.node ?? '?';
  if (before.state !== 'not-loaded') return undefined;
  if (after.state === 'loaded') {
    return {
      kind: 'loaded-during-test',
      node,
      before,
      after,
      message: `sctp.ko was loaded on node ${node} during the test: before: not-loaded (${before.evidence}); after: loaded (${after.evidence})`,
    };
  }
  if (after.state === 'unknown') {
    return {
      kind: 'cannot-tell-after',
      node,
      before,
      after,
      message:
        `cannot tell whether sctp.ko was loaded on node ${node} during the test: before: not-loaded (${before.evidence}); ` +
        `after: unknown (${after.evidence})`,
    };
  }
  return undefined;
}
