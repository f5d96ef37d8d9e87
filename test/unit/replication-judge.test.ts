import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MARIADB, MYSQL8, parseReplicaStatus } from '../../lib/mysql/dialect.js';
import { grantsAllowReplication, judgePair } from '../../lib/replication/check.js';
import { parseDumpPosition } from '../../lib/replication/dump.js';
import { judgeHealth } from '../../lib/replication/health.js';
import type { ServerFacts } from '../../lib/replication/server.js';
import type { Topology } from '../../lib/replication/topology.js';

const fx = (f: string) => readFileSync(join(import.meta.dirname, '../../fixtures/replication', f), 'utf8');
const status = parseReplicaStatus(JSON.parse(fx('show-slave-status.db2-after-switchback.json'))[0]);

const facts = (o: Partial<ServerFacts>): ServerFacts => ({
  host: 'db1',
  address: '10.11.31.101',
  version: '10.11.19-MariaDB-0+deb12u1-log',
  dialect: MARIADB,
  serverId: 1,
  logBin: true,
  logReplicaUpdates: true,
  readOnly: false,
  gtidMode: true,
  gtidStrict: true,
  gtid: '0-1-5',
  ...o,
});
const db1 = facts({});
const db2 = facts({ host: 'db2', address: '10.11.31.102', serverId: 2, readOnly: true, replica: status });
const topo = (a: ServerFacts, b: ServerFacts): Topology => ({
  servers: [
    { host: a.host, facts: a },
    { host: b.host, facts: b },
  ],
  channels: [a, b].flatMap((f) =>
    f.replica ? [{ replica: f.host, source: f.replica.sourceHost === '10.11.31.101' ? 'db1' : 'db2' }] : [],
  ),
  primary: 'db1',
  replica: 'db2',
});

describe('health (mysqlrpladmin health) on a captured SHOW SLAVE STATUS', () => {
  it('is healthy: db2 replicates from db1, threads running, db2 read_only', () => {
    expect(status).toMatchObject({ sourceHost: '10.11.31.101', ioRunning: 'Yes', sqlRunning: 'Yes', usingGtid: true });
    expect(judgeHealth(topo(db1, db2))).toMatchObject({ healthy: true, primary: 'db1', replica: 'db2', problems: [] });
  });

  it('names one problem per line: writable replica, stopped SQL thread, errant GTID', () => {
    const bad = { ...db2, readOnly: false, gtid: '0-2-6', replica: { ...status!, sqlRunning: 'No', lastSqlError: 'Duplicate entry' } };
    const h = judgeHealth(topo(db1, bad));
    expect(h.healthy).toBe(false);
    expect(h.problems).toEqual([
      'db2: SQL thread No: Duplicate entry',
      'db2: read_only is OFF on the replica (writes there become errant transactions)',
      'errant on db2 (not on db1): domain 0: 0-2-6',
    ]);
  });

  it('an unreachable host and no replica are problems too', () => {
    const h = judgeHealth({
      servers: [
        { host: 'db1', error: 'db1 (10.11.31.101:3306): nothing accepts MySQL connections there' },
        { host: 'db2', facts: { ...db2, replica: undefined, readOnly: false } },
      ],
      channels: [],
      primary: 'db2',
    });
    expect(h.problems).toEqual([
      'db1 (10.11.31.101:3306): nothing accepts MySQL connections there',
      'no host replicates from the other (expected exactly one replica)',
    ]);
  });
});

describe('check (mysqlrplcheck)', () => {
  const grants = fx('show-grants.mariadb.txt').trim().split('\n');
  it('reads REPLICATION SLAVE from the captured MariaDB grants, and not REPLICATION SLAVE ADMIN', () => {
    expect(grantsAllowReplication([grants[0]!], MARIADB.replicationGrant)).toBe(true);
    expect(grantsAllowReplication([grants[1]!], MARIADB.replicationGrant)).toBe(true); // ALL PRIVILEGES
    expect(grantsAllowReplication(['GRANT REPLICATION SLAVE ADMIN ON *.* TO `x`@`%`'], MARIADB.replicationGrant)).toBe(false);
    expect(grantsAllowReplication(['GRANT SELECT ON `db`.* TO `x`@`%`'], MARIADB.replicationGrant)).toBe(false);
  });

  it('MySQL 8 documented SHOW GRANTS shape: REPLICATION SLAVE yes, the dynamic REPLICATION_SLAVE_ADMIN no', () => {
    expect(grantsAllowReplication(['GRANT REPLICATION SLAVE ON *.* TO `rpl_user`@`%`'], MYSQL8.replicationGrant)).toBe(true);
    expect(grantsAllowReplication(['GRANT REPLICATION_SLAVE_ADMIN ON *.* TO `rpl_user`@`%`'], MYSQL8.replicationGrant)).toBe(false);
  });

  it('passes the lab pair and fails with one clear line per broken prerequisite', () => {
    expect(judgePair(db1, db2, 'rpl_user', { hosts: ['%'], canReplicate: true }).every((c) => c.ok)).toBe(true);
    const lines = judgePair(db1, { ...db2, serverId: 1, gtidStrict: false }, 'rpl_user', { hosts: [], canReplicate: false }).filter(
      (c) => !c.ok,
    );
    expect(lines.map((l) => l.check)).toEqual(['distinct server ids', 'GTID strict mode on db2', 'replication user on db1']);
    expect(lines[2]!.detail).toMatch(/user 'rpl_user' does not exist on db1: CREATE USER/);
  });

  it('MySQL 8 (documented variables): gtid_mode OFF is named with the fix', () => {
    const m = (o: Partial<ServerFacts>) => facts({ dialect: MYSQL8, version: '8.0.36', gtid: '', ...o });
    const bad = judgePair(m({}), m({ host: 'db2', serverId: 2, gtidMode: false }), 'rpl_user', { hosts: ['%'], canReplicate: true }).filter(
      (c) => !c.ok,
    );
    expect(bad).toEqual([{ check: 'GTID mode on db2', ok: false, detail: expect.stringMatching(/gtid_mode OFF.*set gtid_mode=ON/) }]);
  });
});

describe('dump header position', () => {
  it('reads gtid_slave_pos from a captured mariadb-dump --master-data=2 --gtid header', () => {
    expect(parseDumpPosition(fx('mariadb-dump.header.sql'))).toEqual({ flavor: 'mariadb', gtid: '0-1-5' });
  });
  it('reads GTID_PURGED from the documented mysqldump 8.0 shape, across lines', () => {
    const text =
      "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n2174b383-5441-11e8-b90a-c80aa9429562:1-3';";
    expect(parseDumpPosition(text)).toEqual({
      flavor: 'mysql',
      gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,2174b383-5441-11e8-b90a-c80aa9429562:1-3',
    });
  });
  it('is undefined when the dump has no position', () => {
    expect(parseDumpPosition('-- MariaDB dump\nCREATE TABLE t (a int);')).toBeUndefined();
  });
});
