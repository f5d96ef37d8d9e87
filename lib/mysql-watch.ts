import type { Connection } from 'mysql2/promise';
import type { History, MysqlObservation } from './history.js';
import { connectMysql } from './mysql/connect.js';
import { readServerState } from './probes/replication.js';
import type { Target } from './targets/target.js';
import { PollLoop } from './util/poll-loop.js';
import { withTimeout } from './util/wait.js';

/**
 * Each db host's MySQL as it changes, at a slower pace than the cluster observer (every second):
 * server up, read_only, replication threads and lag, GTID position — recorded in the history when
 * any of it changes. One connection per host from the management host, opened again after a loss.
 */
export class MysqlWatch {
  private readonly conns = new Map<string, Connection>();
  private last = '';
  private readonly loop: PollLoop;

  constructor(
    private readonly t: Target,
    private readonly history: History,
    private readonly intervalMs = 1_000,
  ) {
    this.loop = new PollLoop(() => this.observeOnce(), this.intervalMs);
  }

  start(): this {
    this.loop.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    for (const c of this.conns.values()) await c.end().catch(() => c.destroy());
    this.conns.clear();
  }

  /** One reading of every db host now; recorded when it differs from the last one, or always with force (an act's closing reading). */
  async observeOnce(force = false): Promise<void> {
    const entries = await Promise.all(this.t.profile.dbHosts.map(async (h) => [h.name, await this.read(h.name)] as const));
    const nodes = Object.fromEntries(entries);
    const key = JSON.stringify(nodes);
    if (key === this.last && !force) return;
    this.last = key;
    this.history.add({ type: 'mysql', nodes });
  }

  private async read(host: string): Promise<MysqlObservation> {
    try {
      let c = this.conns.get(host);
      if (!c) {
        c = await connectMysql(this.t, host, undefined, 2_000);
        this.conns.set(host, c);
      }
      const s = await withTimeout(readServerState(c, host), 2_000, `reading MySQL on ${host}`);
      return {
        up: true,
        readOnly: s.readOnly,
        gtid: s.gtidExecuted,
        serverId: s.serverId,
        replica: s.replica ? { io: s.replica.ioRunning, sql: s.replica.sqlRunning, secondsBehind: s.replica.secondsBehind } : undefined,
      };
    } catch (e) {
      this.conns.get(host)?.destroy();
      this.conns.delete(host);
      return { up: false, error: (e as Error).message.split('\n')[0] };
    }
  }
}
