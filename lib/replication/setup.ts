import type { Connection } from 'mysql2/promise';
import { connectMysql, query } from '../mysql/connect.js';
import { dialectFor } from '../mysql/dialect.js';
import { readServerState, replicaRunning } from '../probes/replication.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { waitFor } from '../util/wait.js';

/**
 * What mysqlreplicate did: create the replication user on the primary, point the replica at it
 * with GTID auto-positioning, start it and wait until both threads run. The replica is made
 * read_only, as the notebook's switchover --demote-master leaves it.
 */
export async function setupReplication(t: Target, primary: string, replica: string, timeoutMs = 15_000): Promise<void> {
  const { user, password } = t.profile.config.mysql.replication;
  const p = await connectMysql(t, primary);
  let r: Connection | undefined;
  try {
    r = await connectMysql(t, replica);
    await query(p, 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, '%', password]);
    await query(p, 'GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ?@?', [user, '%']);
    const [v] = await query(r, 'SELECT VERSION() AS v');
    const d = dialectFor(String(v!.v));
    await query(r, d.stopReplica);
    await query(r, d.resetReplicaAll);
    await query(r, d.changeSource, [t.profile.host(primary).address, t.profile.config.mysql.port, user, password]);
    await query(r, 'SET GLOBAL read_only = ON');
    await query(r, d.startReplica);
    const rc = r;
    await waitFor(`replication ${primary} → ${replica} to run (IO and SQL threads)`, async () => {
      const s = await readServerState(rc, replica);
      if (s.replica?.lastIoError && s.replica.ioRunning === 'No') throw new HarnessError(`replica ${replica}: ${s.replica.lastIoError}`);
      if (s.replica?.lastSqlError) throw new HarnessError(`replica ${replica}: ${s.replica.lastSqlError}`);
      return replicaRunning(s);
    }, { timeoutMs, intervalMs: 100 });
  } finally {
    await p.end().catch(() => p.destroy());
    await r?.end().catch(() => r?.destroy());
  }
}
