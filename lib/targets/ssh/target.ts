import { ShellTarget, commandFailed, daemonStartScript } from '../shell-target.js';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { homedir } from 'node:os';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel } from 'ssh2';
import { Profile } from '../../profile/load.js';
import { HarnessError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import type { Daemon, ExecOptions, ExecResult, LabOverride, Target } from '../target.js';
import { STREAM_STOP_MS, splitLines, type HostStream } from '../host-stream.js';
import type { SshTargetConfig } from './config.js';
import { checkHostKey, knownHostsNames, loadKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { LazyDuplex } from './lazy-duplex.js';

/** Default start commands: in the background with setsid, logs as in the lab (last line: the PID). */

/** The environment every command runs with (as the lab's nsenter does): root's PATH, C.UTF-8. */
const ENV = ['env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'LC_ALL=C.UTF-8'];
/** Below sshd's MaxSessions (10): the observer and the probes run several commands at once. */
const CHANNELS_PER_HOST = 6;
/**
 * How sshd declines a session channel it will not open now: OpenSSH's server_input_channel_open
 * answers SSH2_OPEN_CONNECT_FAILED (2), "open failed", for a session that session_open refused
 * (MaxSessions reached, counting sessions still being torn down); other servers say
 * ADMINISTRATIVELY_PROHIBITED (1). A session has nothing to connect to, so either is "not now".
 * Only 1 was retried until a clean-clone CI run failed on a 2 ("open failed").
 */
const SESSION_DECLINED = new Set([1, 2]);
const SESSION_REOPEN_MS = 50;
/** The longest a watcher runs on a host (timeout(1) there): far longer than a case; a harness that died leaves none behind past it. */
const WATCH_LIMIT_MS = 6 * 3_600_000;
/** Bound on getting a watcher's channel: connection, sudo check, a session slot. */
const WATCH_OPEN_MS = 30_000;

/** Where a connection starts: a byte stream to address:port (e.g. one opened inside the lab's batch1). */
export type FirstHop = (address: string, port: number) => Duplex;

export interface SshTargetOptions {
  /** The profile, when it is not the config's as is (e.g. moved onto a lab's subnet). */
  profile?: Profile;
  /** Every connection (the jump host's, or each host's and each stream when there is no jump host) starts with this stream instead of TCP from this machine. */
  firstHop?: FirstHop;
  /** Says where firstHop starts, for labels and errors (e.g. "inside lab sshl's batch1"). */
  firstHopLabel?: string;
}

export const shellQuote = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

class Semaphore {
  private queue: Array<() => void> = [];
  constructor(private free: number) {}
  /** A slot within timeoutMs, or false. */
  async acquire(timeoutMs: number): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.queue = this.queue.filter((g) => g !== grant);
        resolve(false);
      }, timeoutMs);
      this.queue.push(grant);
    });
  }
  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
  get waiting(): number {
    return this.queue.length;
  }
}

interface Conn {
  host: string;
  ssh: NodeSSH;
  client: Client;
  channels: Semaphore;
  /** Session opens sshd refused for its MaxSessions (tried again until the command's deadline). */
  refusals: number;
  sudoChecked?: Promise<void>;
  dead?: boolean;
}

/**
 * The cluster on real machines over SSH (node-ssh / ssh2): the profile's hosts, one login user and
 * key, root via `sudo -n`, and optionally a jump host (batch1) that every connection goes through
 * like ssh -J: each db host's SSH session runs in a forwardOut channel of the jump host's session,
 * and openStream() (mysql2) is a forwardOut channel there too.
 */
export class SshTarget extends ShellTarget implements Target {
  readonly kind = 'ssh' as const;
  readonly profile: Profile;
  readonly overrides: LabOverride[] = [];
  private readonly conns = new Map<string, Promise<Conn>>();
  private knownHosts?: KnownHostEntry[];
  private closed = false;
  /** sshd is this target's only way into a host: a power loss here leaves it (and the harness's session) alive. */
  protected override readonly spareOnPowerLoss = ['sshd'];

  constructor(
    readonly config: SshTargetConfig,
    private readonly opts: SshTargetOptions = {},
  ) {
    super();
    this.profile = opts.profile ?? Profile.load(config.profile);
    if (config.jumpHost) this.profile.host(config.jumpHost);
    for (const h of Object.keys(config.endpoints ?? {})) this.profile.host(h);
    if (config.knownHosts) this.knownHosts = loadKnownHosts(expandHome(config.knownHosts));
  }

  get disposable(): boolean {
    return this.config.disposable;
  }

  get label(): string {
    const c = this.config;
    const via = c.jumpHost ? ` via ${c.jumpHost}` : this.opts.firstHopLabel ? ` from ${this.opts.firstHopLabel}` : '';
    return `ssh target ${c.source ?? '(inline config)'}: ${c.user}@${this.profile.dbHosts.map((h) => h.name).join(',')}${via}${c.sudo ? ', root via sudo -n' : ''}`;
  }

  /** Where a host's sshd is reached: its endpoint override, else its profile address and the config's port. */
  private endpoint(host: string): { address: string; port: number } {
    const e = this.config.endpoints?.[host];
    if (e) {
      const m = e.match(/^(.*?)(?::(\d+))?$/)!;
      return { address: m[1]!, port: m[2] ? Number(m[2]) : this.config.port };
    }
    return { address: this.profile.host(host).address, port: this.config.port };
  }

  private describe(host: string): string {
    const { address, port } = this.endpoint(host);
    const jump = this.config.jumpHost && host !== this.config.jumpHost ? ` via ${this.config.jumpHost}` : '';
    const first = this.opts.firstHopLabel && (!jump || !this.config.jumpHost) ? ` from ${this.opts.firstHopLabel}` : '';
    return `ssh ${this.config.user}@${host} (${address}:${port}${jump}${first})`;
  }

  /** A byte stream from where connections start (firstHop, else TCP from this machine). */
  private firstStream(address: string, port: number): Duplex {
    if (this.opts.firstHop) return this.opts.firstHop(address, port);
    const s = netConnect({ host: address, port });
    return s;
  }

  private async forwardOut(via: Conn, address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      via.client.forwardOut('127.0.0.1', 0, address, port, (err, ch) => {
        if (err) reject(new HarnessError(redact(`stream to ${address}:${port} from ${via.host} failed: ${err.message}`)));
        else resolve(ch as unknown as Duplex);
      });
    });
  }

  private conn(host: string): Promise<Conn> {
    if (this.closed) return Promise.reject(new HarnessError(`${this.label}: closed`));
    let p = this.conns.get(host);
    if (!p) {
      p = this.connect(host);
      this.conns.set(host, p);
      p.catch(() => this.conns.get(host) === p && this.conns.delete(host));
    }
    return p;
  }

  /** A live session to host: the cached one, or a new one when it was lost (e.g. after a link-down fault). */
  private async live(host: string): Promise<Conn> {
    const c = await this.conn(host);
    if (!c.dead) return c;
    if (this.conns.get(host)) this.conns.delete(host);
    return this.conn(host);
  }

  private async connect(host: string): Promise<Conn> {
    this.profile.host(host);
    const what = this.describe(host);
    const { address, port } = this.endpoint(host);
    const limit = this.config.connectTimeoutMs;
    let privateKey: string;
    const keyPath = expandHome(this.config.keyPath);
    try {
      privateKey = readFileSync(keyPath, 'utf8');
    } catch (e) {
      throw new HarnessError(
        `${what}: cannot read keyPath ${this.config.keyPath} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`,
        'set keyPath in the target config to a private key file',
      );
    }
    const ssh = new NodeSSH();
    let sock: Duplex | undefined;
    let hostKey: 'ok' | 'mismatch' | 'unknown' | undefined;
    const names = knownHostsNames([host, this.profile.host(host).fqdn, address], port);
    const attempt = (async () => {
      const jump = this.config.jumpHost && host !== this.config.jumpHost ? await this.live(this.config.jumpHost) : undefined;
      sock = jump ? await this.forwardOut(jump, address, port) : this.opts.firstHop ? this.firstStream(address, port) : undefined;
      await ssh.connect({
        host: sock ? undefined : address,
        port,
        sock: sock as never,
        username: this.config.user,
        privateKey,
        readyTimeout: limit,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 6,
        hostVerifier: this.knownHosts
          ? (key: Buffer) => {
              hostKey = checkHostKey(this.knownHosts!, names, key);
              return hostKey === 'ok';
            }
          : undefined,
      });
    })();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        attempt,
        new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`no SSH session after ${limit / 1000} s`)), limit + 1_000);
        }),
      ]);
    } catch (e) {
      sock?.destroy();
      ssh.dispose();
      attempt.catch(() => undefined);
      throw new HarnessError(redact(`${what}: ${explain(e as Error, hostKey, this.config)}`));
    } finally {
      clearTimeout(timer);
    }
    const client = ssh.connection!;
    client.on('error', () => undefined); // a later failure shows as the channel's close; the next use reconnects
    const conn: Conn = { host, ssh, client, channels: new Semaphore(CHANNELS_PER_HOST), refusals: 0 };
    const forget = () => {
      conn.dead = true;
    };
    client.on('close', forget);
    client.on('end', forget);
    return conn;
  }

  /**
   * The command line as sent: root via sudo -n when configured, bounded on the host too by
   * timeout(1) (a closed channel does not end the command), the clean environment, argv quoted.
   */
  commandLine(argv: string[], timeoutMs = 30_000): string {
    const limit = ['timeout', '-k', '1', String(Math.ceil(timeoutMs / 1000) + 1)];
    return [...(this.config.sudo ? ['sudo', '-n', '--'] : []), ...limit, ...ENV, ...argv].map(shellQuote).join(' ');
  }

  private checkSudo(c: Conn): Promise<void> {
    if (!this.config.sudo) return Promise.resolve();
    c.sudoChecked ??= (async () => {
      const r = await this.channel(c, 'sudo -n -- true', undefined, 10_000);
      if (r.exitCode !== 0) {
        const why = (r.stderr || r.stdout).trim().split('\n').at(-1) || `exit ${r.exitCode}`;
        throw new HarnessError(
          redact(`${this.describe(c.host)}: cannot run commands as root with \`sudo -n\` (${why})`),
          `give ${this.config.user} passwordless sudo on ${c.host}, or log in as root with sudo: false`,
        );
      }
    })();
    return c.sudoChecked;
  }

  /**
   * One command in a session channel, within timeoutMs in all (waiting for a slot included). A
   * slot of the connection is held until sshd has closed the channel, not merely until the caller
   * got its answer: sshd counts a session against MaxSessions until the command has exited (and
   * the remote timeout(1) starts only after the login shell's rc files), so a slot freed at our own
   * timeout let more channels open than sshd allows ("open failed"). A connection that stops
   * answering is closed by the keepalive, which closes its channels and frees their slots.
   */
  private async channel(
    c: Conn,
    command: string,
    input: string | undefined,
    timeoutMs: number,
  ): Promise<ExecResult & { timedOut: boolean }> {
    const t0 = performance.now();
    if (!(await c.channels.acquire(timeoutMs))) {
      return {
        stdout: '',
        stderr: `no free session slot on ${c.host} within ${timeoutMs} ms (${CHANNELS_PER_HOST} commands still open there, ${c.channels.waiting} waiting)`,
        exitCode: 124,
        timedOut: true,
      };
    }
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        c.channels.release();
      }
    };
    try {
      if (c.dead) throw new HarnessError(`${this.describe(c.host)}: the connection was lost while the command waited for a session slot`);
      return await this.openSession(c, command, t0 + timeoutMs, (ch) =>
        collect(ch, input, Math.max(1, t0 + timeoutMs - performance.now()), release),
      );
    } catch (e) {
      release();
      throw e;
    }
  }

  /**
   * Opens a session channel. sshd refuses one ("open failed", administratively prohibited) while
   * sessions of this connection that we already saw closed are still being torn down on its side:
   * that refusal is backpressure, so the open is tried again shortly, until the command's deadline.
   * (A failure of `use` itself is not retried: collect() never rejects.)
   */
  private async openSession<R>(c: Conn, command: string, deadline: number, use: (ch: ClientChannel) => Promise<R>): Promise<R> {
    for (;;) {
      try {
        // `use` runs inside ssh2's callback: a fast command's output, exit status and close can
        // arrive in the same packet batch as the exec's confirmation, before a later tick.
        return await new Promise<R>((resolve, reject) => c.client.exec(command, (err, ch) => (err ? reject(err) : resolve(use(ch)))));
      } catch (e) {
        const reason = (e as { reason?: unknown }).reason;
        const refused = typeof reason === 'number' && SESSION_DECLINED.has(reason);
        if (!refused || performance.now() + SESSION_REOPEN_MS >= deadline) {
          throw new HarnessError(
            redact(
              `${this.describe(c.host)}: cannot open a session channel: ${(e as Error).message}${typeof reason === 'number' ? ` (reason ${reason})` : ''}${refused ? ` (sshd's MaxSessions: ${c.refusals} refusals on this connection)` : ''}`,
            ),
          );
        }
        c.refusals++;
        await new Promise((r) => setTimeout(r, SESSION_REOPEN_MS));
      }
    }
  }

  async exec(host: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const c = await this.live(host);
    await this.checkSudo(c);
    const r = await this.channel(c, this.commandLine(argv, timeoutMs), opts.input, timeoutMs);
    const res = { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
    if ((opts.check ?? true) && res.exitCode !== 0) throw commandFailed(host, argv, res, r.timedOut ? timeoutMs : undefined);
    return res;
  }

  /**
   * A watcher in a session channel of its own, holding one of the connection's slots while it
   * runs; stopped by the channel's EOF (its input closes), then closed if it does not end.
   */
  watch(host: string, argv: string[], onLine: (line: string) => void): HostStream {
    let ch: ClientChannel | undefined;
    let stopped = false;
    const ended = (async () => {
      const c = await this.live(host);
      await this.checkSudo(c);
      if (!(await c.channels.acquire(WATCH_OPEN_MS)))
        return { exitCode: null, stderr: `no free session slot on ${host} within ${WATCH_OPEN_MS} ms for a watcher` };
      try {
        return await this.openSession(c, this.commandLine(argv, WATCH_LIMIT_MS), performance.now() + WATCH_OPEN_MS, (channel) => {
          ch = channel;
          const end = channelLines(channel, onLine);
          if (stopped) channel.end();
          return end;
        });
      } finally {
        c.channels.release();
      }
    })().catch((e: Error) => ({ exitCode: null, stderr: redact(e.message) }));
    return {
      ended,
      async stop() {
        stopped = true;
        ch?.end();
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => {
          timer = setTimeout(() => r('late'), STREAM_STOP_MS);
        });
        if ((await Promise.race([ended, late])) === 'late') ch?.close();
        clearTimeout(timer);
        await ended;
      },
    };
  }

  /**
   * A stream to address:port from where the operator's connections started: a forwardOut channel
   * of the jump host's session (returned at once, wired up when the channel opens), else the first hop.
   */
  openStream(toAddress: string, port: number): Duplex {
    const info = { remoteAddress: toAddress, remotePort: port };
    const jump = this.config.jumpHost;
    if (!jump) return Object.assign(this.firstStream(toAddress, port), { setNoDelay() {}, setKeepAlive() {}, setTimeout() {} }, info);
    return new LazyDuplex(
      this.live(jump).then((c) => this.forwardOut(c, toAddress, port)),
      info,
    );
  }

  async startDaemon(host: string, daemon: Daemon): Promise<number> {
    const script = this.config.daemons[daemon]?.start ?? daemonStartScript(daemon, this.profile);
    const { stdout } = await this.sh(host, script);
    const pid = Number(stdout.trim().split('\n').at(-1));
    if (!Number.isInteger(pid) || pid <= 0)
      throw new HarnessError(
        `on ${host}: starting ${daemon} (\`${script}\`) printed no PID as its last line: ${JSON.stringify(stdout.trim().slice(-200))}`,
        `the daemons.${daemon}.start command must print the PID last`,
      );
    return pid;
  }

  async readFile(host: string, path: string): Promise<string> {
    return (await this.exec(host, ['cat', path])).stdout;
  }

  /** Ends every SSH session (db hosts first, then the jump host). */
  async close(): Promise<void> {
    this.closed = true;
    const all = await Promise.allSettled([...this.conns.values()]);
    this.conns.clear();
    const conns = all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const c of conns.sort((a) => (a.host === this.config.jumpHost ? 1 : -1))) c.ssh.dispose();
  }
}

/**
 * A session channel's output and exit code. At the limit: signal the remote command (OpenSSH ≥ 7.9
 * honours it), close the channel and answer at once; onClosed runs only when sshd has closed it.
 */
function collect(
  ch: ClientChannel,
  input: string | undefined,
  limitMs: number,
  onClosed: () => void,
): Promise<ExecResult & { timedOut: boolean }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        ch.signal('KILL');
      } catch {
        /* channel already gone */
      }
      ch.close();
      resolve({ stdout, stderr, exitCode: 124, timedOut });
    }, limitMs);
    ch.setEncoding('utf8');
    ch.stderr.setEncoding('utf8');
    ch.on('data', (d: string) => (stdout += d));
    ch.stderr.on('data', (d: string) => (stderr += d));
    ch.on('exit', (c2: number | null) => (code = c2));
    ch.on('close', () => {
      clearTimeout(timer);
      onClosed();
      resolve({ stdout, stderr, exitCode: timedOut ? 124 : (code ?? 255), timedOut });
    });
    ch.end(input ?? undefined);
  });
}

/** Lines of a watcher's channel as they come; settles at its close with its exit code and last stderr. */
function channelLines(ch: ClientChannel, onLine: (line: string) => void): Promise<{ exitCode: number | null; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    let code: number | null = null;
    splitLines(ch, onLine);
    ch.stderr.setEncoding('utf8');
    ch.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    ch.on('exit', (c2: number | null) => (code = c2));
    ch.on('close', () => resolve({ exitCode: code, stderr: stderr.trim() }));
  });
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

/** An ssh2 failure in the operator's words (never with key material: only messages and codes). */
function explain(e: Error, hostKey: string | undefined, c: SshTargetConfig): string {
  const m = e.message;
  if (hostKey === 'mismatch')
    return `host key does not match ${c.knownHosts} (possible man-in-the-middle, or the host was rebuilt: update known_hosts)`;
  if (hostKey === 'unknown') return `host key is not in ${c.knownHosts} (add it, e.g. ssh-keyscan)`;
  if (/authentication methods failed/i.test(m))
    return `authentication failed for user "${c.user}" with key ${c.keyPath} (wrong user or key?)`;
  if (/privateKey|Cannot parse|Unsupported key|passphrase/i.test(m)) return `the key ${c.keyPath} cannot be used: ${m.split('\n')[0]}`;
  if (/handshake|No response|no SSH session|ETIMEDOUT/i.test(m)) return `no answer: ${m} (host down or unreachable?)`;
  if (/ECONNREFUSED|Connection refused/i.test(m)) return `connection refused (is sshd running there?): ${m}`;
  if (/EHOSTUNREACH|ENETUNREACH|No route|unreachable/i.test(m)) return `unreachable: ${m}`;
  return m.split('\n')[0]!;
}
