import type { History } from '../history.js';
import { query } from '../mysql/connect.js';
import { flavorOf, waitForGtids } from '../replication/catchup.js';
import { errantGtids, gtidMissingCount, type GtidFlavor } from '../replication/gtid.js';
import { readFacts, withServers, type Server, type ServerFacts } from '../replication/server.js';
import type { Target } from '../targets/target.js';
import { waitFor } from '../util/wait.js';
import { replicationState } from '../probes/replication.js';
import { restoreReplicaUnderPacemaker } from './replica-repair.js';
import type { Fault } from './fault.js';

/** Bounds: the SQL thread breaking on the primary's next write; the replica's catch-up in the undo. */
const BREAK_WAIT_MS = 15_000;
const CATCH_UP_MS = 60_000;
/** The errant write: a schema of its own, so that taking it back touches nothing else. */
const ERRANT_SCHEMA = 'mhc_errant';

/**
 * Percona PRM's slave-lag test and orchestrator's lagging candidate: the replica's SQL thread
 * stopped, so that it receives the primary's writes but applies none. Undo: the thread started
 * again and the replica caught up with the primary.
 */
export function replicaSqlThreadStopped(primary: string, replica: string): Fault {
  return {
    name: `SQL thread stopped on the replica ${replica}`,
    host: replica,
    destructive: true,
    async inject(t, h) {
      await withServers(t, [replica], async ([r]) => {
        await query(r!.conn, `${r!.dialect.stopReplica} SQL_THREAD`);
        h.step('replica spoiled', `${r!.dialect.stopReplica} SQL_THREAD on ${replica}`);
      });
    },
    undo: (t, h) => restoreSpoiledReplica(t, primary, replica, h),
  };
}

/**
 * orchestrator's errant GTID and PRM's broken replication: a transaction written on the replica
 * directly, under its own server id. With gtid_strict_mode (the seed's) the primary's next write
 * then stops the replica's SQL thread (an out-of-order sequence number), so it falls behind too.
 * Undo: the errant schema dropped unlogged and the replica's own binlog reset (its GTID position
 * falls back to what it applied from the primary), replication started, caught up.
 */
export function errantTransaction(primary: string, replica: string): Fault {
  return {
    name: `errant transaction on the replica ${replica}`,
    host: replica,
    destructive: true,
    async inject(t, h) {
      await withServers(t, [primary, replica], async ([p, r]) => {
        await query(r!.conn, `CREATE DATABASE IF NOT EXISTS ${ERRANT_SCHEMA}`);
        h.step('replica spoiled', `CREATE DATABASE ${ERRANT_SCHEMA} on ${replica}, past replication (binlogged under its own server id)`);
        await awaitSqlThreadStop(r!, h);
        h.step('replica state', describeDivergence(await readFacts(p!), await readFacts(r!), flavorOf(r!)));
      });
    },
    undo: (t, h) => restoreSpoiledReplica(t, primary, replica, h),
  };
}

/**
 * A replica that applies late (orchestrator's lagging candidate and Percona PRM's slave lag, made
 * deterministic): MASTER_DELAY, so that it receives each write of the primary at once (semi-sync
 * acknowledges it on receipt) and applies it `seconds` after its commit. A promotion within that
 * time must apply the relay log first, or lose acknowledged writes. Undo: no delay on any server,
 * the replica caught up.
 */
export function replicaDelayed(primary: string, replica: string, seconds: number): Fault {
  return {
    name: `replica ${replica} applying ${seconds} s late (MASTER_DELAY)`,
    host: replica,
    destructive: true,
    async inject(t, h) {
      await withServers(t, [replica], async ([r]) => {
        const d = r!.dialect;
        await query(r!.conn, d.stopReplica);
        await query(r!.conn, d.setReplicaDelay, [seconds]);
        await query(r!.conn, d.startReplica);
        h.step(
          'replica spoiled',
          `${d.stopReplica}; ${delayStatement(d, seconds)}; ${d.startReplica} on ${replica}: it receives each write at once and applies it ${seconds} s after its commit`,
        );
      });
    },
    async undo(t, h) {
      await removeReplicaDelays(t, h);
      await restoreSpoiledReplica(t, primary, replica, h);
    },
  };
}

/** The delay statement as the history shows it (the value in place of its placeholder). */
const delayStatement = (d: { setReplicaDelay: string }, seconds: number) => d.setReplicaDelay.replace('?', String(seconds));

/** The delay taken off every server that has one (a promoted replica keeps its old channel, delay included). */
async function removeReplicaDelays(t: Target, h: History): Promise<void> {
  for (const state of await replicationState(t)) {
    if (!state.reachable || !state.replica) continue;
    await withServers(t, [state.host], async ([s]) => {
      const channel = (await readFacts(s!)).replica;
      if (!channel?.delaySeconds) return;
      const d = s!.dialect;
      const wasRunning = [channel.ioRunning, channel.sqlRunning].some((x) => x === 'Yes' || x === 'Connecting');
      await query(s!.conn, d.stopReplica);
      await query(s!.conn, d.setReplicaDelay, [0]);
      if (wasRunning) await query(s!.conn, d.startReplica);
      h.step(
        'recovery beyond the notebook',
        `${state.host}: ${delayStatement(d, 0)} (was ${channel.delaySeconds} s)${wasRunning ? `; ${d.startReplica}` : ''}`,
      );
    });
  }
}

/** With gtid_strict_mode the primary's next write stops the SQL thread; without it, nothing breaks (said in the history). */
async function awaitSqlThreadStop(r: Server, h: History): Promise<void> {
  const stopped = await waitFor(
    `the SQL thread on ${r.host} to stop on the primary's next transaction`,
    async () => (await readFacts(r)).replica?.sqlRunning === 'No',
    { timeoutMs: BREAK_WAIT_MS, intervalMs: 200 },
  ).catch(() => false);
  const f = await readFacts(r);
  h.step(
    'replica replication',
    stopped
      ? `${r.host}: SQL thread stopped: ${f.replica?.lastSqlError ?? '(no error text)'}`
      : `${r.host}: SQL thread still running ${BREAK_WAIT_MS / 1000} s after the errant write (gtid_strict_mode ${f.gtidStrict ? 'ON' : 'OFF'})`,
  );
}

/** "db2 lacks 42 transactions db1 has; holds 0-2-120, which db1 never had; SQL thread No" */
function describeDivergence(p: ServerFacts, r: ServerFacts, flavor: GtidFlavor): string {
  const errant = errantGtids(r.gtid, r.serverId, [p.gtid], flavor);
  return [
    `${r.host} lacks ${gtidMissingCount(r.gtid, p.gtid, flavor)} transactions ${p.host} has`,
    errant.length ? `holds ${errant.join(', ')}, which ${p.host} never had` : `holds nothing ${p.host} lacks`,
    `SQL thread ${r.replica?.sqlRunning ?? 'none'}`,
  ].join('; ');
}

async function errantOf(p: Server, r: Server): Promise<string[]> {
  const [pf, rf] = [await readFacts(p), await readFacts(r)];
  return errantGtids(rf.gtid, rf.serverId, [pf.gtid], flavorOf(r));
}

/**
 * The replica as the audits want it: no errant schema or GTID of its own, replicating, caught up
 * with the primary. Where Pacemaker runs MariaDB, the failover may have swapped the roles and the
 * agent may have put the replica right already: restoreReplicaUnderPacemaker.
 */
async function restoreSpoiledReplica(t: Target, primary: string, replica: string, h: History): Promise<void> {
  if (t.profile.promotableMysql) return restoreReplicaUnderPacemaker(t, h, replica, takeBackErrant);
  return restoreReplica(t, primary, replica, h);
}

/**
 * The errant schema dropped with the binlog off, and the replica's own binlog reset, so its GTID
 * position falls back to what it applied from the primary. Replication stopped for it.
 */
async function takeBackErrant(p: Server, r: Server): Promise<string> {
  const d = r.dialect;
  const errant = await errantOf(p, r);
  await query(r.conn, d.stopReplica);
  if (!errant.length) return 'no errant GTID';
  await query(r.conn, 'SET SESSION sql_log_bin = 0');
  await query(r.conn, `DROP DATABASE IF EXISTS ${ERRANT_SCHEMA}`);
  await query(r.conn, 'SET SESSION sql_log_bin = 1');
  await query(r.conn, d.resetBinlogs);
  return `errant ${errant.join(', ')} taken back (${ERRANT_SCHEMA} dropped unlogged, ${d.resetBinlogs})`;
}

/** Where MySQL runs outside the cluster (the seed): repaired in place, replication started, caught up. */
async function restoreReplica(t: Target, primary: string, replica: string, h: History): Promise<void> {
  await withServers(t, [primary, replica], async ([p, r]) => {
    const done = await takeBackErrant(p!, r!);
    await query(r!.conn, r!.dialect.startReplica);
    const target = (await readFacts(p!)).gtid;
    await waitForGtids(r!, target, CATCH_UP_MS, 'replication started again after the spoiled replica');
    h.step('recovery beyond the notebook', `${replica}: ${done}; ${r!.dialect.startReplica}; caught up with ${primary} at ${target}`);
  });
}
