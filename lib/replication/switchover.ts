import { query } from '../mysql/connect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { waitForGtids } from './catchup.js';
import { requirePair } from './check.js';
import { requireHealthy } from './health.js';
import { readFacts, withServers, type ConnectOptions } from './server.js';
import { pointReplicaAt } from './setup.js';

export interface SwitchoverOptions extends ConnectOptions {
  /** The host to promote; default: the current replica. */
  newPrimary?: string;
  /** Bound on the replica's catch-up while the primary is read_only. */
  catchUpTimeoutMs?: number;
}

export interface SwitchoverResult {
  oldPrimary: string;
  newPrimary: string;
  /** The GTID position both shared at the moment of the swap. */
  gtid: string;
  ms: number;
}

/**
 * mysqlrpladmin switchover --demote-master: stop writes on the primary (read_only), wait bounded for
 * the replica to execute everything it wrote, promote the replica, and make the old primary its
 * read_only replica. If the replica does not catch up in time, the primary is made writable again
 * and nothing else has changed.
 */
export async function switchover(t: Target, opts: SwitchoverOptions = {}): Promise<SwitchoverResult> {
  const t0 = Date.now();
  const h = await requireHealthy(t, 'switchover', opts);
  const { primary: oldPrimary, replica: newPrimary } = h;
  if (opts.newPrimary && opts.newPrimary !== newPrimary) {
    throw new HarnessError(
      `switchover: ${opts.newPrimary} is ${opts.newPrimary === oldPrimary ? 'already the primary' : 'not the replica of this pair'}`,
      `the replica is ${newPrimary}; switchover promotes it`,
    );
  }
  // The demoted primary will replicate from the new one: that direction must be sound too.
  await requirePair(t, newPrimary, oldPrimary, 'switchover', { ...opts, errantCheck: false });
  return withServers(
    t,
    [oldPrimary, newPrimary],
    async ([o, n]) => {
      await query(o!.conn, 'SET GLOBAL read_only = ON');
      let gtid: string;
      try {
        gtid = (await readFacts(o!)).gtid;
        await waitForGtids(n!, gtid, opts.catchUpTimeoutMs ?? 10_000, `switchover from ${oldPrimary}`);
      } catch (e) {
        await query(o!.conn, 'SET GLOBAL read_only = OFF'); // as it was: nothing else was touched yet
        throw new HarnessError(
          `switchover ${oldPrimary} → ${newPrimary} abandoned, ${oldPrimary} is writable again: ${(e as Error).message}`,
          (e as HarnessError).hint,
        );
      }
      await query(n!.conn, n!.dialect.stopReplica);
      await query(n!.conn, n!.dialect.resetReplicaAll);
      await query(n!.conn, 'SET GLOBAL read_only = OFF');
      await pointReplicaAt(t, o!, n!);
      return { oldPrimary, newPrimary, gtid, ms: Date.now() - t0 };
    },
    opts,
  );
}
