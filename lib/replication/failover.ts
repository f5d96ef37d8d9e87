import { query } from '../mysql/connect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { sleep } from '../util/wait.js';
import { waitForGtids } from './catchup.js';
import { requireHealthy } from './health.js';
import { openServer, other, readFacts, withServer, type ConnectOptions } from './server.js';

export interface FailoverOptions extends ConnectOptions {
  /** The primary that failed; default: the host the replica replicates from. */
  failed?: string;
  /** Bound on applying what the replica already received before promoting it. */
  drainTimeoutMs?: number;
}

export interface FailoverResult {
  failed: string;
  promoted: string;
  /** The promoted host's GTID position when it became writable. */
  gtid: string;
  /** Why the old primary counts as failed (its connection error). */
  reason: string;
}

/**
 * mysqlfailover --force, one shot: if the primary cannot be reached, promote its replica. The
 * replica first applies every transaction it already received (bounded), so nothing the old
 * primary shipped is lost; then it stops replicating and becomes writable. Refused while the
 * primary answers: that is a switchover's job.
 */
export async function failover(t: Target, opts: FailoverOptions = {}): Promise<FailoverResult> {
  const candidates = t.profile.dbHosts.map((h) => h.name);
  let failed = opts.failed;
  let promoted = failed ? other(t, failed) : undefined;
  if (!promoted) {
    // Find the replica: the reachable host with a replica channel.
    for (const h of candidates) {
      const f = await withServer(t, h, readFacts, opts).catch(() => undefined);
      if (f?.replica) {
        promoted = h;
        failed = other(t, h);
        break;
      }
    }
    if (!promoted)
      throw new HarnessError(
        'failover: no reachable host replicates from the other: there is no replica to promote',
        'npm run repl -- show',
      );
  }
  const reason = await openServer(t, failed!, { ...opts, timeoutMs: opts.timeoutMs ?? 3_000 }).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: Error) => e.message.split('\n')[0]!,
  );
  if (reason === undefined) {
    throw new HarnessError(
      `failover: the primary ${failed} is reachable, failover is for a primary that is down; nothing was changed`,
      `to move the primary role on purpose: npm run repl -- switchover`,
    );
  }
  return withServer(
    t,
    promoted,
    async (r) => {
      const f = await readFacts(r);
      if (!f.replica) throw new HarnessError(`failover: ${promoted} is not a replica; nothing to promote`);
      // What the IO thread received (MariaDB Gtid_IO_Pos / MySQL Retrieved_Gtid_Set) must be applied first.
      const received = r.dialect.name === 'mariadb' ? f.replica.gtidReceived : mergeMysql(f.gtid, f.replica.gtidReceived);
      await waitForGtids(r, received, opts.drainTimeoutMs ?? 10_000, `applying the relay log before promoting ${promoted}`);
      await query(r.conn, r.dialect.stopReplica);
      await query(r.conn, r.dialect.resetReplicaAll);
      await query(r.conn, 'SET GLOBAL read_only = OFF');
      return { failed: failed!, promoted: promoted!, gtid: (await readFacts(r)).gtid, reason };
    },
    opts,
  );
}

const mergeMysql = (a: string, b: string) => [a, b].filter(Boolean).join(',');

export interface MonitorOptions extends FailoverOptions {
  intervalMs?: number;
  /** Consecutive failed probes of the primary before failing over. */
  failAfter?: number;
  /** The monitor's whole life; it always returns by then. */
  durationMs: number;
  onEvent?: (line: string) => void;
}

export interface MonitorResult {
  checks: number;
  failover?: FailoverResult;
}

/**
 * mysqlfailover's console, bounded: probe the primary every interval; after `failAfter` failures
 * in a row, fail over once and stop. Starts only on a healthy pair, as mysqlfailover did.
 */
export async function monitor(t: Target, opts: MonitorOptions): Promise<MonitorResult> {
  const log = opts.onEvent ?? (() => {});
  const h = await requireHealthy(t, 'failover monitor', opts);
  log(`monitoring ${h.primary} (replica ${h.replica}) every ${opts.intervalMs ?? 1000} ms for ${(opts.durationMs / 1000).toFixed(0)} s`);
  const deadline = Date.now() + opts.durationMs;
  let misses = 0;
  let checks = 0;
  while (Date.now() < deadline) {
    checks++;
    const err = await openServer(t, h.primary, { ...opts, timeoutMs: 2_000 }).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: Error) => e.message.split('\n')[0]!,
    );
    if (err) {
      misses++;
      log(`${h.primary} unreachable (${misses}/${opts.failAfter ?? 3}): ${err}`);
      if (misses >= (opts.failAfter ?? 3)) {
        const fo = await failover(t, { ...opts, failed: h.primary });
        log(`failed over: ${fo.promoted} is the primary now (gtid ${fo.gtid})`);
        return { checks, failover: fo };
      }
    } else misses = 0;
    await sleep(Math.min(opts.intervalMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
  log(`monitor ended after ${checks} checks: ${h.primary} stayed reachable`);
  return { checks };
}
