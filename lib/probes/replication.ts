import type { Connection } from 'mysql2/promise';
import { connectMysql, query } from '../mysql/connect.js';
import { dialectFor, parseReplicaStatus, type Dialect, type ReplicaStatus } from '../mysql/dialect.js';
import { errantGtids } from '../replication/gtid.js';
import type { Target } from '../targets/target.js';

/** One server's replication-relevant state. */
export interface ServerState {
  host: string;
  reachable: boolean;
  error?: string;
  version?: string;
  dialect?: Dialect['name'];
  readOnly?: boolean;
  serverId?: number;
  gtidExecuted?: string;
  replica?: ReplicaStatus;
}

export async function readServerState(c: Connection, host: string): Promise<ServerState> {
  const [v] = await query(c, 'SELECT VERSION() AS v, @@GLOBAL.read_only AS ro, @@GLOBAL.server_id AS sid');
  const d = dialectFor(String(v!.v));
  const [g] = await query(c, d.gtidExecuted);
  const rs = await query(c, d.showReplicaStatus);
  return {
    host,
    reachable: true,
    version: String(v!.v),
    dialect: d.name,
    readOnly: Number(v!.ro) === 1,
    serverId: Number(v!.sid),
    gtidExecuted: String(g?.gtid ?? ''),
    replica: parseReplicaStatus(rs[0]),
  };
}

/** Replication state of every db host, read over mysql2 from the management host. */
export async function replicationState(t: Target, timeoutMs = 5_000): Promise<ServerState[]> {
  return Promise.all(
    t.profile.dbHosts.map(async (h) => {
      let c: Connection | undefined;
      try {
        c = await connectMysql(t, h.name, undefined, timeoutMs);
        return await readServerState(c, h.name);
      } catch (e) {
        return { host: h.name, reachable: false, error: (e as Error).message };
      } finally {
        await c?.end().catch(() => c?.destroy());
      }
    }),
  );
}

export const replicaRunning = (s: ServerState) => s.replica?.ioRunning === 'Yes' && s.replica?.sqlRunning === 'Yes';

/** One server for an error line: "db1 read_only, replica io=Yes sql=Yes" or "db2 unreachable". */
export function describeServer(s: ServerState): string {
  if (!s.reachable) return `${s.host} unreachable`;
  const channel = s.replica ? `, replica io=${s.replica.ioRunning} sql=${s.replica.sqlRunning}` : '';
  return `${s.host} ${s.readOnly ? 'read_only' : 'writable'}${channel}`;
}

/**
 * The writable primary: the one reachable server that is not read_only and runs no replica
 * thread. A leftover replica configuration with both threads stopped does not make a server a
 * replica (the mariadb agent never resets the promoted node's old channel); where two writable
 * servers remain (a restarted replica comes back writable on the seed), the one without a replica
 * configuration is the primary. Undefined when no single server qualifies: writing to a guess
 * would put transactions on a replica that its primary lacks.
 */
export function writablePrimary(states: ServerState[]): string | undefined {
  const on = (v?: string) => v === 'Yes' || v === 'Connecting';
  const threadRuns = (s: ServerState) => on(s.replica?.ioRunning) || on(s.replica?.sqlRunning);
  const writable = states.filter((s) => s.reachable && s.readOnly === false && !threadRuns(s));
  if (writable.length === 1) return writable[0]!.host;
  const unconfigured = writable.filter((s) => !s.replica);
  return unconfigured.length === 1 ? unconfigured[0]!.host : undefined;
}

/**
 * GTIDs a replica wrote itself (its own server id in its GTID position): writes that bypassed
 * replication, i.e. a split brain. MariaDB positions are domain-server-seq per domain.
 */
export function localGtidsOnReplica(s: ServerState, primaryGtid?: string): string[] {
  if (!s.replica || s.dialect !== 'mariadb' || !s.gtidExecuted) return [];
  // The same transaction in the primary's position is one it took from this server when this one
  // was the primary (a failover and back with nothing written since), not a write past it.
  const primary = new Set((primaryGtid ?? '').split(',').map((g) => g.trim()));
  return errantGtids(s.gtidExecuted, s.serverId, [], 'mariadb').filter((g) => !primary.has(g));
}
