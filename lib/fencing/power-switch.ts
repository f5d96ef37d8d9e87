import { chmodSync, existsSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { HarnessError } from '../util/errors.js';
import { withTimeout } from '../util/wait.js';
import {
  failure,
  MAX_LINE_BYTES,
  type PlugState,
  parseRequest,
  type SwitchAction,
  type SwitchRequest,
  type SwitchResponse,
  serializeResponse,
} from './switch-protocol.js';

/**
 * What the lab wires behind the switch (the switch itself knows nothing of hosts). A power-off is
 * a power loss, not a shutdown: every process of the host killed at once, its link down, and
 * what a reboot loses gone too (addresses on eth1 — the VIP among them —, /run, PID files), or the
 * observer would still see the VIP of a host that is off. powerOff resolves once the host is off.
 * powerOn resolves once the host has power and its boot has begun (corosync, corosync-qdevice,
 * pacemaker, in that order, as enabled units would); it does not wait for the cluster, as a real
 * switch does not. status says whether the plug has power.
 */
export interface PowerCallbacks {
  powerOff(host: string): Promise<void>;
  powerOn(host: string): Promise<void>;
  status(host: string): Promise<PlugState>;
}

/** One request the switch answered: who asked (by the socket it came in on), what, and how it went. */
export interface SwitchEvent {
  /** Wall clock (ms since the epoch) when the request arrived. */
  at: number;
  /** The host whose socket carried the request. */
  from: string;
  action: SwitchAction | 'invalid';
  plug?: string;
  ok: boolean;
  error?: string;
  ms: number;
}

export interface PowerSwitchOptions {
  /** The plugs (hosts) this switch powers. */
  plugs: string[];
  callbacks: PowerCallbacks;
  /** Bound on one callback; over it the agent gets a "timeout" failure, not silence. Keep it below the agent's power_timeout (20 s). */
  actionTimeoutMs?: number;
  /** How long a connection may take to send its request line. */
  readTimeoutMs?: number;
  /** Every answered request, for the history (who fenced whom, when). */
  onEvent?: (e: SwitchEvent) => void;
}

// Unix socket paths are limited to 108 bytes including the terminating NUL (sun_path).
const MAX_SOCKET_PATH = 107;

/**
 * The lab's power switch: one unix socket per host (bind-mounted into that host at
 * /run/mhc/power.sock), so the switch knows which host asks without trusting what it says. It does
 * not arbitrate: two hosts that ask to power each other off both get it, as with real power
 * switches — avoiding that is the cluster's job (quorum, fencing delays). Requests for one plug run
 * one after the other, so an off and an on never interleave.
 */
export class PowerSwitch {
  private readonly servers = new Map<string, Server>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly actionTimeoutMs: number;
  private readonly readTimeoutMs: number;

  constructor(private readonly opts: PowerSwitchOptions) {
    this.actionTimeoutMs = opts.actionTimeoutMs ?? 15_000;
    this.readTimeoutMs = opts.readTimeoutMs ?? 5_000;
  }

  /** Listens on `socketPath` for requests from host `from` (a stale socket file is replaced). */
  async listen(from: string, socketPath: string): Promise<void> {
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH)
      throw new HarnessError(`power switch socket path for ${from} is longer than ${MAX_SOCKET_PATH} bytes: ${socketPath}`);
    if (this.servers.has(from)) throw new HarnessError(`power switch: already listening for ${from}`);
    if (existsSync(socketPath)) rmSync(socketPath);
    const server = createServer((sock) => this.serve(from, sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Only root inside the host (the fencer runs as root) may use it.
    chmodSync(socketPath, 0o600);
    this.servers.set(from, server);
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.clear();
  }

  /** Answers one request line from `from` (the connection handling aside; tests call it directly). */
  async handle(from: string, line: string): Promise<SwitchResponse> {
    const at = Date.now();
    const parsed = parseRequest(line);
    const answer = parsed.ok ? await this.run(parsed.value) : failure(parsed.id, parsed.code, parsed.error);
    this.opts.onEvent?.({
      at,
      from,
      action: parsed.ok ? parsed.value.action : 'invalid',
      plug: parsed.ok && parsed.value.action !== 'list' ? parsed.value.plug : undefined,
      ok: answer.ok,
      error: answer.ok ? undefined : answer.error,
      ms: Date.now() - at,
    });
    return answer;
  }

  private async run(q: SwitchRequest): Promise<SwitchResponse> {
    const cb = this.opts.callbacks;
    if (q.action === 'list') {
      const plugs = await Promise.all(this.opts.plugs.map(async (plug) => ({ plug, state: await cb.status(plug) })));
      return { v: 1, id: q.id, ok: true, action: 'list', plugs };
    }
    if (!this.opts.plugs.includes(q.plug))
      return failure(q.id, 'unknown-plug', `no plug ${q.plug} on this switch (plugs: ${this.opts.plugs.join(', ')})`);
    const work = async (): Promise<PlugState> => {
      if (q.action === 'off') await cb.powerOff(q.plug);
      if (q.action === 'on') await cb.powerOn(q.plug);
      return cb.status(q.plug);
    };
    try {
      const state = await withTimeout(this.serialized(q.plug, work), this.actionTimeoutMs, `${q.action} ${q.plug}`);
      return { v: 1, id: q.id, ok: true, action: q.action, plug: q.plug, state };
    } catch (e) {
      const msg = (e as Error).message;
      return failure(q.id, /timed out after/.test(msg) ? 'timeout' : 'failed', msg);
    }
  }

  /** Runs `fn` after whatever this plug is already doing. */
  private serialized<T>(plug: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(plug) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.queues.set(plug, next);
    return next;
  }

  /** One connection: read a line (bounded in size and time), answer it, close. */
  private serve(from: string, sock: Socket): void {
    let buf = '';
    let reading = true;
    let done = false;
    const finish = (answer?: SwitchResponse) => {
      if (done) return;
      done = true;
      sock.setTimeout(0);
      if (answer) sock.end(serializeResponse(answer));
      else sock.destroy();
    };
    sock.setEncoding('utf8');
    sock.setTimeout(this.readTimeoutMs, () => finish(failure(null, 'bad-request', `no request line within ${this.readTimeoutMs} ms`)));
    sock.on('error', () => finish());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && Buffer.byteLength(buf) > MAX_LINE_BYTES)
        return finish(failure(null, 'bad-request', `line longer than ${MAX_LINE_BYTES} bytes`));
      if (nl < 0 || !reading) return;
      // The line is in: no more reading, and no idle timeout while the callback works (it has its own bound).
      reading = false;
      sock.pause();
      sock.setTimeout(0);
      this.handle(from, buf.slice(0, nl)).then(finish, (e: Error) => finish(failure(null, 'failed', e.message)));
    });
  }
}
