import { pidOf, signalDaemon, startMariadb } from '../cluster-ops.js';
import type { History } from '../history.js';
import { withMysql, query } from '../mysql/connect.js';
import { dialectFor } from '../mysql/dialect.js';
import { readServerState, replicaRunning, replicationState } from '../probes/replication.js';
import type { Target } from '../targets/target.js';
import { sleep, waitFor } from '../util/wait.js';
import type { Fault } from './fault.js';
import { requireTools } from './tools.js';

export type MysqlRole = 'primary' | 'replica';

/** How long a replica's threads get to run again by themselves before the undo restarts them (its IO thread retries every MASTER_CONNECT_RETRY=1 s). */
const REPLICA_RESUME_MS = 15_000;

/**
 * Percona PRM's T-tests: kill -9 of mariadbd, down for downSeconds, then started again as the
 * target starts MariaDB (crash recovery runs at that start). The seed's cluster does not manage
 * MySQL, so nothing else reacts: the VIP stays where it is. What comes back is the finding:
 * a restarted replica starts its replication threads by itself (master.info) but comes back
 * writable — read_only is set at run time, not in its configuration; a restarted primary keeps
 * its binlog and GTID position (sync_binlog=1, innodb_flush_log_at_trx_commit=1) and its
 * replica's IO thread reconnects within a second (MASTER_CONNECT_RETRY=1).
 */
export function mysqlCrash(host: string, role: MysqlRole, downSeconds = 5): Fault {
  const name = `kill -9 mariadbd on ${host} (the ${role}), restarted after ${downSeconds}s unless Pacemaker runs it`;
  return {
    name,
    host,
    destructive: true,
    async inject(t, h) {
      await requireTools(t, name, [host], ['kill', 'ps']);
      const pid = await signalDaemon(t, host, 'mariadbd', 'SIGKILL');
      await waitFor(`mariadbd (PID ${pid}) on ${host} to die`, async () => (await pidOf(t, host, 'mariadbd')) !== pid, {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      h.step('mysql crash', `kill -9 mariadbd (PID ${pid}) on ${host}, the ${role}`);
      // Where Pacemaker runs MariaDB, a start by hand would race the agent (found on the hardened
      // lab: a server outside Pacemaker, read_only and no replica): the restart is the cluster's.
      const clone = t.profile.promotableMysql;
      if (clone)
        return h.step('left to Pacemaker', `${clone.clone.id} runs MariaDB: its monitor finds the crash, the cluster restarts or moves it`);
      await sleep(downSeconds * 1000);
      await startMariadb(t, host, 60_000); // crash recovery can take a while on a slow disk
      h.step('MariaDB restarted', await describeServer(t, host));
    },
    async undo(t, h) {
      await mariadbBack(t, h, host);
      await settleReplication(t, h);
    },
  };
}

/** How long Pacemaker may take to start MariaDB again once its failure is cleaned up (the agent's start timeout). */
const PACEMAKER_START_BOUND_MS = 120_000;

/**
 * MariaDB on `host` answering again after a crash: started as the target starts it, or, where
 * Pacemaker runs it, the failure cleaned up (as an operator's `crm_resource --cleanup` does: the
 * failure counts toward the clone's migration-threshold) and the cluster's start awaited.
 */
export async function mariadbBack(t: Target, h: History, host: string): Promise<void> {
  const clone = t.profile.promotableMysql;
  if (!clone) return startMariadb(t, host, 60_000);
  const peer = t.profile.dbHosts.find((x) => x.name !== host)!.name;
  for (const on of [host, peer]) {
    const r = await t.exec(on, ['crm_resource', '--cleanup', '--resource', clone.clone.id], { check: false, timeoutMs: 30_000 });
    if (r.exitCode === 0) break;
  }
  h.step('recovery beyond the notebook', `crm_resource --cleanup --resource ${clone.clone.id}: Pacemaker starts MariaDB on ${host} again`);
  await waitFor(`Pacemaker to start MariaDB on ${host} after the cleanup`, async () => !!(await pidOf(t, host, 'mariadbd')), {
    timeoutMs: PACEMAKER_START_BOUND_MS,
    intervalMs: 500,
  });
}

/** "db2: read_only, replica of 10.11.22.101 (io=Yes sql=Yes)" — what a restart left. */
async function describeServer(t: Target, host: string): Promise<string> {
  return withMysql(t, host, async (c) => {
    const s = await readServerState(c, host);
    const r = s.replica
      ? `, replica of ${s.replica.sourceHost} (io=${s.replica.ioRunning} sql=${s.replica.sqlRunning})`
      : ', no replica threads';
    return `${host}: ${s.readOnly ? 'read_only' : 'writable'}${r}, GTID ${s.gtidExecuted}`;
  });
}

/**
 * Puts every replica back as the audits want it, each repair in the history: read_only again when
 * it came back writable, and its threads restarted when they did not run again by themselves.
 */
export async function settleReplication(t: Target, h: History): Promise<void> {
  for (const s of await replicationState(t)) {
    if (!s.reachable || !s.replica) continue;
    await withMysql(t, s.host, async (c) => {
      if (!s.readOnly) {
        await query(c, 'SET GLOBAL read_only = ON');
        h.step(
          'recovery beyond the notebook',
          `${s.host} is a replica and came back writable after its restart (read_only is set at run time, not in its configuration): SET GLOBAL read_only = ON`,
        );
      }
      const running = await waitFor(`replication threads on ${s.host}`, async () => replicaRunning(await readServerState(c, s.host)), {
        timeoutMs: REPLICA_RESUME_MS,
        intervalMs: 250,
      }).catch(() => false);
      if (running) return;
      const d = dialectFor(s.version ?? '');
      await query(c, d.stopReplica);
      await query(c, d.startReplica);
      h.step(
        'recovery beyond the notebook',
        `replication threads on ${s.host} did not run again within ${REPLICA_RESUME_MS / 1000} s: ${d.stopReplica}; ${d.startReplica}`,
      );
    });
  }
}
