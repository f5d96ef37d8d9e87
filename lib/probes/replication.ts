import type { Connection } from 'mysql2/promise';
import { connectMysql, query } from '../mysql/connect.js';
import { dialectFor, parseReplicaStatus, type Dialect, type ReplicaStatus } from '../mysql/dialect.js';
import type { Target } from '../targets/target.js';

/** One server's replication-relevant state. */
export interface ServerState {
  host: string;
  reachable: boolean;
  error?: string;
  version?: string;
  dialect?: Dialect['name'];
  readOnly?: boolean;
  gtidExecuted?: string;
  replica?: ReplicaStatus;
}

export async function readServerState(c: Connection, host: string): Promise<ServerState> {
  const [v] = await query(c, 'SELECT VERSION() AS v, @@GLOBAL.read_only AS ro');
  const d = dialectFor(String(v!.v));
  const [g] = await query(c, d.gtidExecuted);
  const rs = await query(c, d.showReplicaStatus);
  return {
    host, reachable: true, version: String(v!.v), dialect: d.name, readOnly: Number(v!.ro) === 1,
    gtidExecuted: String(g?.gtid ?? ''), replica: parseReplicaStatus(rs[0]),
  };
}

/** Replication state of every db host, read over mysql2 from the management host. */
export async function replicationState(t: Target, timeoutMs = 5_000): Promise<ServerState[]> {
  return Promise.all(t.profile.dbHosts.map(async (h) => {
    let c: Connection | undefined;
    try {
      c = await connectMysql(t, h.name, undefined, timeoutMs);
      return await readServerState(c, h.name);
    } catch (e) {
      return { host: h.name, reachable: false, error: (e as Error).message };
    } finally {
      await c?.end().catch(() => c?.destroy());
    }
  }));
}

export const replicaRunning = (s: ServerState) => s.replica?.ioRunning === 'Yes' && s.replica?.sqlRunning === 'Yes';
