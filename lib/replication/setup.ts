import { query } from '../mysql/connect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { waitFor } from '../util/wait.js';
import { gtidMissing, describeGaps } from './gtid.js';
import { readFacts, withServers, type ConnectOptions, type Server } from './server.js';

/**
 * What mysqlreplicate did: create the replication user on the primary, point the replica at it
 * with GTID auto-positioning, start it and wait until both threads run. The replica is made
 * read_only, as the notebook's switchover --demote-master leaves it.
 */
export async function setupReplication(
  t: Target,
  primary: string,
  replica: string,
  timeoutMs = 15_000,
  opts: ConnectOptions = {},
): Promise<void> {
  if (primary === replica) throw new HarnessError(`setup: primary and replica are both ${primary}`, 'name two different hosts');
  const { user, password } = t.profile.config.mysql.replication;
  await withServers(
    t,
    [primary, replica],
    async ([p, r]) => {
      await query(p!.conn, 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, '%', password]);
      await query(p!.conn, 'GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ?@?', [user, '%']);
      await pointReplicaAt(t, r!, p!, timeoutMs);
    },
    opts,
  );
}

/**
 * Makes `r` a read_only GTID replica of `p` and waits (bounded) until both threads run. Used by
 * setup, switchover (the demoted primary), failover's rejoin and restore.
 */
export async function pointReplicaAt(t: Target, r: Server, p: Server, timeoutMs = 15_000): Promise<void> {
  const { user, password } = t.profile.config.mysql.replication;
  const d = r.dialect;
  await query(r.conn, d.stopReplica);
  await query(r.conn, d.resetReplicaAll);
  // A replica that holds transactions the source lacks would fail later with a less clear error.
  const [rf, pf] = await Promise.all([readFacts(r), readFacts(p)]);
  const errant = gtidMissing(pf.gtid, rf.gtid, d.name === 'mariadb' ? 'mariadb' : 'mysql');
  if (errant.length) {
    throw new HarnessError(
      `${r.host} holds transactions that ${p.host} lacks, it cannot replicate from it:\n${describeGaps(errant, d.name)
        .map((l) => `  - ${l}`)
        .join('\n')}`,
      `rebuild ${r.host} from a backup of ${p.host}: npm run repl -- backup --host ${p.host}, then restore --host ${r.host}`,
    );
  }
  for (const sql of d.alignReplicaPosition) await query(r.conn, sql);
  await query(r.conn, d.changeSource, [p.address, t.profile.config.mysql.port, user, password]);
  await query(r.conn, 'SET GLOBAL read_only = ON');
  await query(r.conn, d.startReplica);
  await waitFor(
    `replication ${p.host} → ${r.host} to run (IO and SQL threads)`,
    async () => {
      const s = (await readFacts(r)).replica;
      if (s?.lastIoError && s.ioRunning === 'No') throw new HarnessError(`replica ${r.host}: ${s.lastIoError}`);
      if (s?.lastSqlError) throw new HarnessError(`replica ${r.host}: ${s.lastSqlError}`);
      return s?.ioRunning === 'Yes' && s.sqlRunning === 'Yes';
    },
    { timeoutMs, intervalMs: 100 },
  );
}
