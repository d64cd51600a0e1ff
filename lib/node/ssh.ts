// NodeExec over SSH (ssh2). Upstream's environment: KUBE_SSH_USER (default $USER, else root),
// KUBE_SSH_KEY_PATH (default ~/.ssh/id_rsa), KUBE_SSH_BASTION (host:port, hop with forwardOut).
// Host keys are verified against an OpenSSH known_hosts file (plain and hashed entries,
// [host]:port form, @revoked) or a pinned SHA256 fingerprint, and never accepted silently.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import type { ClientChannel, ConnectConfig, ParsedKey, Client as SshClient } from 'ssh2';
import ssh2 from 'ssh2';

const { Client, utils } = ssh2; // ssh2 is CommonJS

import { formatDuration } from '../framework/duration.ts';
import { DEFAULT_NODE_EXEC_TIMEOUT_MS, type ExecResult, type NodeExec, NodeExecError, NodeExecTimeout, type RunOptions, shortCommand } from './exec.ts';

export const DEFAULT_SSH_CONNECT_TIMEOUT_MS = 15_000;

export interface SshOptions {
  node: string; // Kubernetes node name (for messages)
  host: string;
  port?: number; // 22
  user?: string; // KUBE_SSH_USER, $USER, root
  keyPath?: string; // KUBE_SSH_KEY_PATH, ~/.ssh/id_rsa
  privateKey?: string | Buffer; // instead of keyPath
  passphrase?: string;
  knownHostsPath?: string; // SCTP_E2E_SSH_KNOWN_HOSTS, ~/.ssh/known_hosts
  hostKeyFingerprint?: string; // "SHA256:..." pin (SCTP_E2E_SSH_HOST_KEY); replaces known_hosts
  bastion?: string; // "host:port" (KUBE_SSH_BASTION); same user, key and known_hosts
  connectTimeoutMs?: number;
  timeoutMs?: number; // default per-run deadline
  env?: NodeJS.ProcessEnv; // for tests; default process.env
}

// ------------------------------------------------------------------ host keys

export interface KnownHostEntry {
  line: number;
  marker?: '@revoked' | '@cert-authority';
  hosts: string; // the raw host field (patterns or |1|salt|hash)
  keyType: string;
  keyBase64: string;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (f[0] === '@revoked' || f[0] === '@cert-authority') marker = f.shift() as KnownHostEntry['marker'];
    if (f.length < 3) return;
    out.push({ line: i + 1, marker, hosts: f[0]!, keyType: f[1]!, keyBase64: f[2]! });
  });
  return out;
}

/** The name known_hosts uses: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(s);
}

/** Does a known_hosts host field match `name` ("host" or "[host]:port")? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** "SHA256:<base64 without padding>" of an SSH public key blob, like ssh-keygen -lf. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside an SSH public key blob. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const n = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + n).toString('latin1');
}

export type HostKeyCheck = { ok: true; how: string } | { ok: false; kind: 'unknown-host' | 'mismatch' | 'revoked'; message: string };

export interface HostKeyPolicy {
  knownHostsPath?: string;
  knownHostsText?: string; // already read (tests)
  fingerprint?: string; // pin
}

/** Pure host-key decision with a stand-alone message. `label` names the host for humans. */
export function checkHostKey(keyBlob: Buffer, host: string, port: number, label: string, policy: HostKeyPolicy): HostKeyCheck {
  const offered = fingerprintOf(keyBlob);
  const type = keyTypeOf(keyBlob);
  const name = knownHostsName(host, port);
  if (policy.fingerprint) {
    const want = policy.fingerprint.startsWith('SHA256:') ? policy.fingerprint : `SHA256:${policy.fingerprint}`;
    if (want.replace(/=+$/, '') === offered) return { ok: true, how: `pinned ${offered}` };
    return {
      ok: false,
      kind: 'mismatch',
      message:
        `SSH host key mismatch for ${label} (${name}): it offered ${type} ${offered} but the pinned fingerprint is ${want}; ` +
        `refusing to connect (if the host was legitimately re-keyed, update the pin)`,
    };
  }
  const file = policy.knownHostsPath ?? '(known_hosts)';
  const entries = parseKnownHosts(policy.knownHostsText ?? '').filter((e) => hostFieldMatches(e.hosts, name));
  const blob64 = keyBlob.toString('base64');
  const revoked = entries.find((e) => e.marker === '@revoked' && e.keyBase64 === blob64);
  if (revoked)
    return {
      ok: false,
      kind: 'revoked',
      message: `SSH host key for ${label} (${name}) is marked @revoked in ${file}:${revoked.line} (${type} ${offered}); refusing to connect`,
    };
  const plain = entries.filter((e) => !e.marker);
  if (plain.some((e) => e.keyType === type && e.keyBase64 === blob64)) {
    const e = plain.find((x) => x.keyType === type && x.keyBase64 === blob64)!;
    return { ok: true, how: `known_hosts ${file}:${e.line}` };
  }
  if (plain.length === 0) {
    const scan = `ssh-keyscan ${port === 22 ? '' : `-p ${port} `}-t ${type.replace(/^ssh-/, '')} ${host} >> ${file}`;
    return {
      ok: false,
      kind: 'unknown-host',
      message:
        `SSH host key for ${label} (${name}) is not known: no entry in ${file}; it offered ${type} ${offered}. If that ` +
        `fingerprint is right (check it on the host: ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-/, '')}_key.pub), ` +
        `add it with \`${scan}\` or pin it with SCTP_E2E_SSH_HOST_KEY=${offered}`,
    };
  }
  const known = plain
    .map((e) => {
      let fp = '?';
      try {
        fp = fingerprintOf(Buffer.from(e.keyBase64, 'base64'));
      } catch {
        /* keep ? */
      }
      return `${e.keyType} ${fp} (${file}:${e.line})`;
    })
    .join(', ');
  return {
    ok: false,
    kind: 'mismatch',
    message:
      `SSH host key mismatch for ${label} (${name}): it offered ${type} ${offered} but ${file} has ${known}; refusing ` +
      `to connect (possible man-in-the-middle, or the host was re-keyed: remove the old entry with ssh-keygen -R '${name}' -f ${file})`,
  };
}

/** Host key algorithms to ask for, preferring the types known_hosts holds for this host. */
function hostKeyAlgorithms(text: string | undefined, name: string): string[] | undefined {
  if (!text) return undefined;
  const types = [
    ...new Set(
      parseKnownHosts(text)
        .filter((e) => !e.marker && hostFieldMatches(e.hosts, name))
        .map((e) => e.keyType),
    ),
  ];
  if (types.length === 0) return undefined;
  const algs: string[] = [];
  for (const t of types) {
    if (t === 'ssh-rsa') algs.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else algs.push(t);
  }
  return algs;
}

// ------------------------------------------------------------------ options from the environment

export interface ResolvedSsh {
  user: string;
  keyPath?: string;
  key: Buffer | string;
  passphrase?: string;
  knownHostsPath?: string;
  knownHostsText?: string;
  fingerprint?: string;
  bastion?: { host: string; port: number };
}

function parseHostPort(s: string, what: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s) ?? /^([^:]+)$/.exec(s);
  if (!m) throw new Error(`${what} "${s}" is not host:port`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 22 };
}

/** Reads env + options, the key and known_hosts; throws one clear sentence on a bad key or file. */
export function resolveSsh(o: SshOptions): ResolvedSsh {
  const env = o.env ?? process.env;
  const user = o.user ?? env.KUBE_SSH_USER ?? env.USER ?? 'root';
  const home = env.HOME ?? homedir();
  const keyPath = o.privateKey ? undefined : (o.keyPath ?? env.KUBE_SSH_KEY_PATH ?? `${home}/.ssh/id_rsa`);
  const keySource = o.keyPath ? 'keyPath' : env.KUBE_SSH_KEY_PATH ? 'KUBE_SSH_KEY_PATH' : 'the default ~/.ssh/id_rsa';
  let raw: Buffer | string;
  if (o.privateKey) raw = o.privateKey;
  else {
    try {
      raw = readFileSync(keyPath!);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(
        `SSH private key ${keyPath} (from ${keySource}) cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}); set KUBE_SSH_KEY_PATH or pass keyPath`,
      );
    }
  }
  const parsed = utils.parseKey(raw, o.passphrase);
  if (parsed instanceof Error) {
    throw new Error(`SSH private key ${keyPath ?? '(given inline)'} is not a usable private key: ${parsed.message}`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || typeof (key as ParsedKey).isPrivateKey !== 'function' || !(key as ParsedKey).isPrivateKey()) {
    throw new Error(`SSH private key ${keyPath ?? '(given inline)'} holds no private key (is it the .pub file?)`);
  }
  const fingerprint = o.hostKeyFingerprint ?? env.SCTP_E2E_SSH_HOST_KEY;
  let knownHostsPath: string | undefined;
  let knownHostsText: string | undefined;
  if (!fingerprint) {
    knownHostsPath = o.knownHostsPath ?? env.SCTP_E2E_SSH_KNOWN_HOSTS ?? `${home}/.ssh/known_hosts`;
    try {
      knownHostsText = readFileSync(knownHostsPath, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new Error(`SSH known_hosts file ${knownHostsPath} cannot be read (${code ?? (e as Error).message})`);
      knownHostsText = ''; // every host will be "unknown", with instructions
    }
  }
  const b = o.bastion ?? env.KUBE_SSH_BASTION;
  return {
    user,
    keyPath,
    key: raw,
    passphrase: o.passphrase,
    knownHostsPath,
    knownHostsText,
    fingerprint,
    bastion: b ? parseHostPort(b, 'KUBE_SSH_BASTION') : undefined,
  };
}

// ------------------------------------------------------------------ the transport

interface Conn {
  client: SshClient;
  bastion?: SshClient;
}

function endpoint(user: string, host: string, port: number): string {
  return `${user}@${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function sshExec(o: SshOptions): NodeExec {
  const port = o.port ?? 22;
  const r = resolveSsh(o);
  const trust = r.fingerprint ? `pinned ${r.fingerprint}` : 'known_hosts';
  const via = r.bastion ? ` via bastion ${endpoint(r.user, r.bastion.host, r.bastion.port)}` : '';
  const description = `ssh ${endpoint(r.user, o.host, port)} (${trust})${via}`;
  const defaultTimeout = o.timeoutMs ?? DEFAULT_NODE_EXEC_TIMEOUT_MS;
  const connectTimeout = o.connectTimeoutMs ?? DEFAULT_SSH_CONNECT_TIMEOUT_MS;
  let conn: Promise<Conn> | undefined;
  let closed = false;

  const fail = (msg: string, command?: string, cause?: unknown) => new NodeExecError(msg, o.node, description, command, { cause });

  function connectOne(host: string, hostPort: number, label: string, sock: ConnectConfig['sock'], deadlineMs: number): Promise<SshClient> {
    return new Promise((resolve, reject) => {
      const c = new Client();
      let rejection: string | undefined;
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        c.end();
        reject(
          fail(
            `ssh connect to ${label} ${endpoint(r.user, host, hostPort)} timed out after ${formatDuration(deadlineMs)} (no SSH handshake and login in time)`,
          ),
        );
      }, deadlineMs);
      c.on('ready', () => {
        if (settled) {
          c.end();
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve(c);
      });
      c.on('error', (err: Error & { level?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        c.end();
        if (rejection) reject(fail(rejection, undefined, err));
        else if (err.level === 'client-authentication')
          reject(
            fail(
              `ssh login to ${label} ${endpoint(r.user, host, hostPort)} was refused for key ${r.keyPath ?? '(inline)'} (all ` +
                `authentication methods failed; is the public key in ~${r.user}/.ssh/authorized_keys?)`,
              undefined,
              err,
            ),
          );
        else reject(fail(`ssh connection to ${label} ${endpoint(r.user, host, hostPort)} failed: ${err.message}`, undefined, err));
      });
      const name = knownHostsName(host, hostPort);
      const algs = r.fingerprint ? undefined : hostKeyAlgorithms(r.knownHostsText, name);
      c.connect({
        host: sock ? undefined : host,
        port: sock ? undefined : hostPort,
        sock,
        username: r.user,
        privateKey: r.key,
        passphrase: r.passphrase,
        readyTimeout: deadlineMs,
        keepaliveInterval: 10_000,
        keepaliveCountMax: 3,
        algorithms: algs ? { serverHostKey: algs as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } : undefined,
        hostVerifier: (key: Buffer) => {
          const check = checkHostKey(key, host, hostPort, label, {
            knownHostsPath: r.knownHostsPath,
            knownHostsText: r.knownHostsText,
            fingerprint: r.fingerprint,
          });
          if (!check.ok) rejection = check.message;
          return check.ok;
        },
      });
    });
  }

  async function connect(deadlineMs: number): Promise<Conn> {
    const started = Date.now();
    if (!r.bastion) return { client: await connectOne(o.host, port, `node ${o.node}`, undefined, deadlineMs) };
    const b = await connectOne(r.bastion.host, r.bastion.port, 'bastion', undefined, deadlineMs);
    try {
      const left = Math.max(1, deadlineMs - (Date.now() - started));
      const stream = await new Promise<ClientChannel>((resolve, reject) => {
        const t = setTimeout(
          () => reject(fail(`ssh bastion ${r.bastion!.host}:${r.bastion!.port} did not open a forward to ${o.host}:${port} within ${formatDuration(left)}`)),
          left,
        );
        b.forwardOut('127.0.0.1', 0, o.host, port, (err, ch) => {
          clearTimeout(t);
          if (err) reject(fail(`ssh bastion ${r.bastion!.host}:${r.bastion!.port} refused to forward to ${o.host}:${port}: ${err.message}`, undefined, err));
          else resolve(ch);
        });
      });
      const client = await connectOne(o.host, port, `node ${o.node}`, stream, Math.max(1, deadlineMs - (Date.now() - started)));
      return { client, bastion: b };
    } catch (e) {
      b.end();
      throw e;
    }
  }

  function getConn(deadlineMs: number): Promise<Conn> {
    if (!conn) {
      conn = connect(deadlineMs);
      conn.then(
        (c) => {
          const drop = () => {
            conn = undefined;
          };
          c.client.once('close', drop);
          c.client.once('end', drop);
        },
        () => {
          conn = undefined;
        },
      );
    }
    return conn;
  }

  return {
    node: o.node,
    transport: 'ssh',
    description,
    async run(command: string, ro: RunOptions = {}): Promise<ExecResult> {
      if (closed) throw fail(`nodeExec on ${o.node} (${description}) was used after close()`, command);
      const timeoutMs = ro.timeoutMs ?? defaultTimeout;
      const started = Date.now();
      if (ro.signal?.aborted) throw fail(`nodeExec aborted before start: ${shortCommand(command)} on ${o.node} (${description})`, command);
      const c = await getConn(Math.min(connectTimeout, timeoutMs));
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw new NodeExecTimeout(command, o.node, description, timeoutMs);
      return await new Promise<ExecResult>((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        let signal: string | undefined;
        let done = false;
        let channel: ClientChannel | undefined;
        const finish = (err?: Error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          ro.signal?.removeEventListener('abort', onAbort);
          if (err) {
            try {
              channel?.signal('KILL');
            } catch {
              /* ignore */
            }
            channel?.close();
            reject(err);
          } else {
            resolve({
              command,
              node: o.node,
              transport: 'ssh',
              code,
              stdout,
              stderr: stderr + (signal ? `[killed by SIG${signal}]\n` : ''),
              durationMs: Date.now() - started,
            });
          }
        };
        // The session shell is a session/process-group leader (sshd setsid()s it); it records its
        // PID so that a timed-out or aborted command tree can be killed with a second exec.
        const pidFile = `/tmp/.sctp-e2e-exec.${randomBytes(8).toString('hex')}`;
        const wrapped = `echo $$ > ${pidFile} 2>/dev/null; trap 'rm -f ${pidFile}' EXIT\n${command}`;
        const killRemote = () => {
          try {
            c.client.exec(`kill -KILL -- -$(cat ${pidFile} 2>/dev/null) 2>/dev/null; rm -f ${pidFile}`, (e, ch) => {
              if (e) return;
              const t = setTimeout(() => ch.close(), 5000);
              ch.on('close', () => clearTimeout(t));
              ch.resume();
              ch.stderr.resume();
            });
          } catch {
            /* connection gone: nothing to kill through it */
          }
        };
        const timer = setTimeout(() => {
          finish(new NodeExecTimeout(command, o.node, description, timeoutMs, { stdout, stderr }));
          killRemote();
        }, left);
        const onAbort = () => {
          finish(fail(`nodeExec aborted: ${shortCommand(command)} on ${o.node} (${description})`, command));
          killRemote();
        };
        ro.signal?.addEventListener('abort', onAbort, { once: true });
        c.client.exec(wrapped, (err, ch) => {
          if (err) return finish(fail(`ssh exec on ${o.node} failed to open a channel (${description}): ${err.message}`, command, err));
          if (done) {
            ch.close();
            return;
          }
          channel = ch;
          ch.on('data', (d: Buffer) => {
            stdout += d.toString('utf8');
          });
          ch.stderr.on('data', (d: Buffer) => {
            stderr += d.toString('utf8');
          });
          ch.on('exit', (c2: number | null, sig?: string) => {
            code = typeof c2 === 'number' ? c2 : null;
            signal = sig ?? undefined;
          });
          ch.on('close', () => finish());
        });
      });
    },
    async close() {
      closed = true;
      const p = conn;
      conn = undefined;
      if (!p) return;
      try {
        const c = await p;
        c.client.end();
        c.bastion?.end();
      } catch {
        /* connect failed: nothing to close */
      }
    },
  };
}

/** True when the file exists (for select.ts). */
export function fileExists(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
