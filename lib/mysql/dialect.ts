/**
 * The two GTID dialects the harness speaks. MariaDB 10.11 is what the lab runs; MySQL 8 is what
 * the seed ran. Statements differ; the facts the harness reads from them do not.
 */
export type DialectName = 'mariadb' | 'mysql';

export interface Dialect {
  name: DialectName;
  showReplicaStatus: string;
  stopReplica: string;
  startReplica: string;
  resetReplicaAll: string;
  /** CHANGE MASTER/REPLICATION SOURCE with GTID auto-positioning; values bound as ? params. */
  changeSource: string;
  gtidExecuted: string;
}

export const MARIADB: Dialect = {
  name: 'mariadb',
  showReplicaStatus: 'SHOW SLAVE STATUS',
  stopReplica: 'STOP SLAVE',
  startReplica: 'START SLAVE',
  resetReplicaAll: 'RESET SLAVE ALL',
  changeSource: "CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
  gtidExecuted: 'SELECT @@GLOBAL.gtid_current_pos AS gtid',
};

export const MYSQL8: Dialect = {
  name: 'mysql',
  showReplicaStatus: 'SHOW REPLICA STATUS',
  stopReplica: 'STOP REPLICA',
  startReplica: 'START REPLICA',
  resetReplicaAll: 'RESET REPLICA ALL',
  changeSource: 'CHANGE REPLICATION SOURCE TO SOURCE_HOST=?, SOURCE_PORT=?, SOURCE_USER=?, SOURCE_PASSWORD=?, SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1',
  gtidExecuted: 'SELECT @@GLOBAL.gtid_executed AS gtid',
};

export function dialectFor(version: string): Dialect {
  return /mariadb/i.test(version) ? MARIADB : MYSQL8;
}

/** One replica channel's state, the same whichever dialect produced it. */
export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  ioRunning: 'Yes' | 'No' | 'Connecting' | string;
  sqlRunning: 'Yes' | 'No' | string;
  secondsBehind: number | null;
  lastIoError: string;
  lastSqlError: string;
  /** GTIDs the replica has received from its source (MariaDB Gtid_IO_Pos / MySQL Retrieved_Gtid_Set). */
  gtidReceived: string;
  usingGtid: boolean;
}

/** Reads SHOW SLAVE STATUS (MariaDB) or SHOW REPLICA STATUS (MySQL 8) rows; empty when not a replica. */
export function parseReplicaStatus(row: Record<string, unknown> | undefined): ReplicaStatus | undefined {
  if (!row) return undefined;
  const s = (k: string, ...alts: string[]) => {
    for (const key of [k, ...alts]) if (row[key] !== undefined && row[key] !== null) return String(row[key]);
    return '';
  };
  const behind = s('Seconds_Behind_Master', 'Seconds_Behind_Source');
  const mariaGtid = s('Using_Gtid');
  return {
    sourceHost: s('Master_Host', 'Source_Host'),
    sourcePort: Number(s('Master_Port', 'Source_Port')),
    ioRunning: s('Slave_IO_Running', 'Replica_IO_Running'),
    sqlRunning: s('Slave_SQL_Running', 'Replica_SQL_Running'),
    secondsBehind: behind === '' ? null : Number(behind),
    lastIoError: s('Last_IO_Error'),
    lastSqlError: s('Last_SQL_Error'),
    gtidReceived: s('Gtid_IO_Pos', 'Retrieved_Gtid_Set'),
    usingGtid: mariaGtid ? mariaGtid !== 'No' : s('Auto_Position') === '1',
  };
}
