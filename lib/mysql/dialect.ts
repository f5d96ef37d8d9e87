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
  /**
   * One row of the server's replication facts under dialect-neutral names: version, server_id,
   * log_bin, log_replica_updates, read_only (0/1), gtid_mode ('ON'/'OFF'), gtid_strict ('ON'/'OFF': MariaDB
   * gtid_strict_mode, MySQL enforce_gtid_consistency), gtid (executed/current position).
   */
  facts: string;
  /**
   * Run on a server about to become a replica (threads stopped), so that GTID auto-positioning starts
   * after what it already holds. MariaDB's slave_pos mode asks the source for gtid_slave_pos, which a
   * former primary never advanced; MySQL's auto-position sends gtid_executed, nothing to do.
   */
  alignReplicaPosition: string[];
  /** Empties the binary logs and the executed-GTID state before a restore. */
  resetBinlogs: string;
  /** How many seconds late the replica applies what it received (one ? param; threads stopped). */
  setReplicaDelay: string;
  /** Sets the replica's starting position to the GTID read from a dump's header (one ? param), or undefined when the dump sets it itself. */
  setDumpPosition?: string;
  dumpTool: string;
  clientTool: string;
  /** The notebook's mysqldump options, in this dialect's spelling. */
  dumpOptions: string[];
  /** Grants that include the right to replicate from a server (SHOW GRANTS wording). */
  replicationGrant: RegExp;
}

/** The notebook's backup: mysqldump --all-databases --single-transaction --skip-lock-tables --flush-logs --master-data=2 --triggers --routines --events. */
const NOTEBOOK_DUMP = [
  '--all-databases',
  '--single-transaction',
  '--skip-lock-tables',
  '--flush-logs',
  '--triggers',
  '--routines',
  '--events',
];

export const MARIADB: Dialect = {
  name: 'mariadb',
  showReplicaStatus: 'SHOW SLAVE STATUS',
  stopReplica: 'STOP SLAVE',
  startReplica: 'START SLAVE',
  resetReplicaAll: 'RESET SLAVE ALL',
  changeSource:
    'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1',
  gtidExecuted: 'SELECT @@GLOBAL.gtid_current_pos AS gtid',
  // MariaDB always logs GTIDs: gtid_mode is ON by construction, strict mode is the guard that matters.
  facts:
    "SELECT VERSION() AS version, @@GLOBAL.server_id AS server_id, @@GLOBAL.log_bin AS log_bin, @@GLOBAL.log_slave_updates AS log_replica_updates, @@GLOBAL.read_only AS read_only, 'ON' AS gtid_mode, IF(@@GLOBAL.gtid_strict_mode, 'ON', 'OFF') AS gtid_strict, @@GLOBAL.gtid_current_pos AS gtid",
  alignReplicaPosition: ['SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_current_pos'],
  resetBinlogs: 'RESET MASTER',
  setReplicaDelay: 'CHANGE MASTER TO MASTER_DELAY = ?',
  setDumpPosition: 'SET GLOBAL gtid_slave_pos = ?',
  dumpTool: 'mariadb-dump',
  clientTool: 'mariadb',
  // --gtid: with --master-data the header also carries the GTID position (gtid_slave_pos).
  dumpOptions: [...NOTEBOOK_DUMP, '--master-data=2', '--gtid'],
  replicationGrant: /\b(ALL PRIVILEGES|REPLICATION SLAVE|REPLICATION REPLICA)\b(?! ADMIN)/i,
};

export const MYSQL8: Dialect = {
  name: 'mysql',
  showReplicaStatus: 'SHOW REPLICA STATUS',
  stopReplica: 'STOP REPLICA',
  startReplica: 'START REPLICA',
  resetReplicaAll: 'RESET REPLICA ALL',
  changeSource:
    'CHANGE REPLICATION SOURCE TO SOURCE_HOST=?, SOURCE_PORT=?, SOURCE_USER=?, SOURCE_PASSWORD=?, SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1',
  gtidExecuted: 'SELECT @@GLOBAL.gtid_executed AS gtid',
  facts:
    'SELECT VERSION() AS version, @@GLOBAL.server_id AS server_id, @@GLOBAL.log_bin AS log_bin, @@GLOBAL.log_replica_updates AS log_replica_updates, @@GLOBAL.read_only AS read_only, @@GLOBAL.gtid_mode AS gtid_mode, @@GLOBAL.enforce_gtid_consistency AS gtid_strict, @@GLOBAL.gtid_executed AS gtid',
  alignReplicaPosition: [],
  // MySQL 8.4 spells it RESET BINARY LOGS AND GTIDS; 8.0 accepts only this.
  resetBinlogs: 'RESET MASTER',
  setReplicaDelay: 'CHANGE REPLICATION SOURCE TO SOURCE_DELAY = ?',
  // mysqldump writes SET @@GLOBAL.GTID_PURGED itself (--set-gtid-purged=AUTO).
  setDumpPosition: undefined,
  dumpTool: 'mysqldump',
  clientTool: 'mysql',
  // --master-data is deprecated since 8.0.26 (removed in 8.4); --source-data=2 is the same option.
  dumpOptions: [...NOTEBOOK_DUMP, '--source-data=2'],
  replicationGrant: /\b(ALL PRIVILEGES|REPLICATION SLAVE)\b/i,
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
  /** MASTER_DELAY / SOURCE_DELAY: seconds the SQL thread waits before applying an event. */
  delaySeconds: number;
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
    delaySeconds: Number(s('SQL_Delay') || 0),
  };
}
