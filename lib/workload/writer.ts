import type { Connection } from 'mysql2/promise';
import type { History } from '../history.js';
import { connectMysql, query } from '../mysql/connect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';
import { withTimeout } from '../util/wait.js';

export const WORKLOAD_DB = 'chaos';
/**
 * Keyed by (run, seq): run names the run, case and repetition, so no two case runs can collide.
 * (The first table, keyed by a sequence alone that restarted at 1 in every case, made every write
 * after the first case a duplicate: 0 acknowledged, and "none lost" held trivially.)
 */
export const WORKLOAD_TABLE = `${WORKLOAD_DB}.acked_writes`;

/**
 * The application account the workload writes with. Not the admin: an admin has READ ONLY ADMIN
 * (MariaDB) or SUPER (MySQL) and writes straight through read_only, which no application does.
 */
export const APP_ACCOUNT = { user: 'chaos_app', password: 'chaos-app-workload' };
registerSecret(APP_ACCOUNT.password);

/** Creates the workload table and account on the primary (replicated to the replica like any write). */
export async function prepareWorkload(t: Target, primary: string): Promise<void> {
  const c = await connectMysql(t, primary);
  try {
    // The harness's admin account writes through read_only: on a replica these statements would be
    // transactions its primary lacks (errant GTIDs), which break the replica's next rejoin.
    const [ro] = await query(c, 'SELECT @@GLOBAL.read_only AS ro');
    if (Number(ro?.ro) === 1)
      throw new HarnessError(
        `preparing the workload: ${primary} is read_only, not the primary`,
        'nothing was written; report this as a harness bug',
      );
    await query(c, `CREATE DATABASE IF NOT EXISTS ${WORKLOAD_DB}`);
    await query(
      c,
      `CREATE TABLE IF NOT EXISTS ${WORKLOAD_TABLE} (run VARCHAR(160) NOT NULL, seq INT NOT NULL, server_id INT NOT NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (run, seq)) ENGINE=InnoDB`,
    );
    await query(c, 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [APP_ACCOUNT.user, '%', APP_ACCOUNT.password]);
    await query(c, `GRANT SELECT, INSERT ON ${WORKLOAD_DB}.* TO ?@?`, [APP_ACCOUNT.user, '%']);
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

export interface WriterOptions {
  /** Writes per second. */
  rate?: number;
  /** A write with no answer within this is "unknown": it may or may not have happened. */
  timeoutMs?: number;
}

/**
 * The client workload: unique keys written through the VIP at a steady rate, from batch1 (every
 * connection is a stream opened inside the management host). Each write lands in the history as
 * ok (acknowledged), fail (definitely not applied: refused, or never sent) or unknown (timed out
 * or the connection died after sending).
 */
export class VipWriter {
  private running = false;
  private loop?: Promise<void>;
  private conn?: Connection;
  private connNode?: string;
  private next = 1;
  private acked = 0;
  readonly rate: number;
  readonly timeoutMs: number;

  constructor(
    private readonly t: Target,
    private readonly history: History,
    readonly runKey: string,
    o: WriterOptions = {},
  ) {
    this.rate = o.rate ?? 10;
    this.timeoutMs = o.timeoutMs ?? 2000;
  }

  start(): this {
    this.running = true;
    this.loop = this.run();
    return this;
  }

  /**
   * The warm-up: waits (bounded) until n writes have been acknowledged through the VIP, proving
   * the path before a fault. Returns how many were; fewer than n makes the data claim inconclusive.
   */
  async warmUp(n: number, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (this.acked < n && performance.now() < deadline && this.running) await new Promise((r) => setTimeout(r, 50));
    return this.acked;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.drop();
  }

  private drop() {
    this.conn?.destroy();
    this.conn = undefined;
    this.connNode = undefined;
  }

  private async run(): Promise<void> {
    const period = 1000 / this.rate;
    let due = performance.now();
    while (this.running) {
      await this.writeOne(this.next++);
      due += period;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else due = performance.now(); // fell behind (a timeout): keep the rate, do not burst
    }
  }

  private async writeOne(key: number): Promise<void> {
    const t0 = performance.now();
    const record = (result: 'ok' | 'fail' | 'unknown', error?: string) =>
      this.history.add({ type: 'write', key, node: this.connNode, result, latencyMs: Math.round(performance.now() - t0), error });
    if (!this.conn) {
      try {
        this.conn = await withTimeout(connectMysql(this.t, this.t.profile.vip.ip, APP_ACCOUNT, this.timeoutMs), this.timeoutMs, 'connect');
        // Bounded like the insert: a connection made just before its peer vanished (a VIP that
        // moved, a lossy link) can leave this answer unanswered for TCP's whole retry time (~15 min).
        const [r] = await withTimeout(query(this.conn, 'SELECT @@hostname AS h'), this.timeoutMs, 'which server answers');
        this.connNode = String(r?.h ?? '').split('.')[0];
      } catch (e) {
        this.drop();
        record('fail', `connect: ${(e as Error).message}`);
        return;
      }
    }
    const c = this.conn;
    try {
      await withTimeout(
        query(c, `INSERT INTO ${WORKLOAD_TABLE} (run, seq, server_id) VALUES (?, ?, @@server_id)`, [this.runKey, key]),
        this.timeoutMs,
        'insert',
      );
      record('ok');
      this.acked++;
    } catch (e) {
      const err = e as Error & { code?: string; fatal?: boolean };
      // A refusal by the server (read_only, duplicate) is a definite failure; a timeout or a
      // connection lost after sending leaves the write's fate unknown.
      const definite = !!err.code && !err.fatal && err.code !== 'PROTOCOL_CONNECTION_LOST';
      record(definite ? 'fail' : 'unknown', err.code ? `${err.code}: ${err.message}` : err.message);
      if (!definite) this.drop();
    }
  }
}
