import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, withMysql } from '../../lib/mysql/connect.js';
import { Profile } from '../../lib/profile/load.js';
import { backup, restore } from '../../lib/replication/backup.js';
import { checkPair } from '../../lib/replication/check.js';
import { errantTransactions } from '../../lib/replication/errant.js';
import { failover } from '../../lib/replication/failover.js';
import { replicationHealth } from '../../lib/replication/health.js';
import { setupReplication } from '../../lib/replication/setup.js';
import { showTopology } from '../../lib/replication/show.js';
import { switchover } from '../../lib/replication/switchover.js';
import { NetnsLab, destroyLab, type StartedNetnsLab } from '../../lib/targets/netns/lab.js';
import { HarnessError } from '../../lib/util/errors.js';
import { silentLog } from '../../lib/util/log.js';
import { waitFor } from '../../lib/util/wait.js';

// Its own lab name and subnet, so it runs beside the suite's lab.
const NAME = 'repl';
const SUBNET = '10.11.31.0/24';
let lab: StartedNetnsLab;

const sql = (host: string, s: string, params: unknown[] = []) => withMysql(lab, host, (c) => query(c, s, params));
/** Runs fn, expects a HarnessError matching re, within 15 s. */
async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<HarnessError> {
  const t0 = Date.now();
  const e = await fn().then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(HarnessError);
  expect((e as Error).message).toMatch(re);
  expect((e as Error).message.includes('rpl_pass'), 'the replication password in the error').toBe(false);
  expect(Date.now() - t0).toBeLessThan(15_000);
  return e as HarnessError;
}
const roles = async () => {
  const h = await replicationHealth(lab);
  return [h.healthy, h.primary, h.replica];
};

describe('replication tools (mysql-utilities in TypeScript), against a lab', () => {
  beforeAll(async () => {
    lab = await new NetnsLab(Profile.load('seed')).withName(NAME).withSubnet(SUBNET).withLog(silentLog()).start();
    await sql('db1', 'CREATE DATABASE repltest');
    await sql('db1', 'CREATE TABLE repltest.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(20)) ENGINE=InnoDB');
    await sql('db1', "INSERT INTO repltest.t (v) VALUES ('a'), ('b')");
  });
  afterAll(() => destroyLab(NAME).catch(() => undefined));

  it('health, show and check see the lab pair as healthy, db1 → db2', async () => {
    const h = await replicationHealth(lab);
    expect(h).toMatchObject({ healthy: true, primary: 'db1', replica: 'db2', problems: [] });
    const { text } = await showTopology(lab);
    expect(text.split('\n')[0]).toMatch(/^db1 \(10\.11\.31\.101\) .*writable/);
    expect(text.split('\n')[1]).toMatch(/^└─ db2 .*read_only.*replica of 10\.11\.31\.101: io=Yes sql=Yes/);
    const c = await checkPair(lab, 'db1', 'db2');
    expect(c.checks.filter((x) => !x.ok)).toEqual([]);
  });

  it('bad input: each a HarnessError naming the host and the fix, in < 15 s, the pair left as it was', async () => {
    await rejects(
      () => replicationHealth(lab, { admin: { user: 'root', password: 'wrong-password' } }),
      /db1 .*refused the login of user 'root'[\s\S]*mysql\.admin/,
    );
    await rejects(() => checkPair(lab, 'db1', '10.11.31.199'), /10\.11\.31\.199:3306: (unreachable|nothing accepts)/);

    // Replication user missing on the host that would become the primary (not binlogged: db2 only).
    await withMysql(lab, 'db2', async (c) => {
      await query(c, 'SET SESSION sql_log_bin=0');
      await query(c, "DROP USER 'rpl_user'@'%'");
    });
    const c = await checkPair(lab, 'db2', 'db1', { errantCheck: false });
    expect(c.checks.filter((x) => !x.ok).map((x) => x.detail)).toEqual([
      expect.stringMatching(/user 'rpl_user' does not exist on db2: CREATE USER/),
    ]);
    await rejects(
      () => switchover(lab),
      /switchover: db2 → db1 fails its prerequisites, nothing was changed:\n {2}- replication user on db2/,
    );
    expect(await roles()).toEqual([true, 'db1', 'db2']);
    await withMysql(lab, 'db2', async (c2) => {
      await query(c2, 'SET SESSION sql_log_bin=0');
      await query(c2, "CREATE USER 'rpl_user'@'%' IDENTIFIED BY 'rpl_pass'");
      await query(c2, "GRANT REPLICATION SLAVE ON *.* TO 'rpl_user'@'%'");
    });

    // GTID strictness off on db2.
    await sql('db2', 'SET GLOBAL gtid_strict_mode = OFF');
    await rejects(() => switchover(lab), /GTID strict mode on db2: gtid_strict_mode is OFF on db2: SET GLOBAL gtid_strict_mode=ON/);
    await sql('db2', 'SET GLOBAL gtid_strict_mode = ON');

    // A replica that never catches up: db2 applies 60 s late; the bound is 1.5 s, db1 is writable again after.
    await withMysql(lab, 'db2', async (c2) => {
      await query(c2, 'STOP SLAVE');
      await query(c2, 'CHANGE MASTER TO MASTER_DELAY=60');
      await query(c2, 'START SLAVE');
    });
    await sql('db1', "INSERT INTO repltest.t (v) VALUES ('late')");
    await rejects(
      () => switchover(lab, { catchUpTimeoutMs: 1_500 }),
      /db1 → db2 abandoned, db1 is writable again: db2 did not catch up within 1\.5 s[\s\S]*domain 0: 0-1-\d+/,
    );
    expect((await sql('db1', 'SELECT @@GLOBAL.read_only AS ro'))[0]!.ro).toBe(0);
    await withMysql(lab, 'db2', async (c2) => {
      await query(c2, 'STOP SLAVE');
      await query(c2, 'CHANGE MASTER TO MASTER_DELAY=0');
      await query(c2, 'START SLAVE');
    });
    await waitFor('db2 to catch up after MASTER_DELAY=0', async () => (await errantTransactions(lab, 'db2', 'db1')).errant.length === 0, {
      timeoutMs: 10_000,
    });
    expect(await roles()).toEqual([true, 'db1', 'db2']);
  });

  it('switchover --demote-master to db2 and back, data and roles intact', async () => {
    const r = await switchover(lab);
    expect(r).toMatchObject({ oldPrimary: 'db1', newPrimary: 'db2' });
    expect(await roles()).toEqual([true, 'db2', 'db1']);
    await sql('db2', "INSERT INTO repltest.t (v) VALUES ('on db2')");
    await rejects(() => switchover(lab, { newPrimary: 'db2' }), /db2 is already the primary/);
    const back = await switchover(lab, { newPrimary: 'db1' });
    expect(back).toMatchObject({ oldPrimary: 'db2', newPrimary: 'db1' });
    expect(await roles()).toEqual([true, 'db1', 'db2']);
    expect((await sql('db1', 'SELECT v FROM repltest.t ORDER BY id')).map((x) => x.v)).toEqual(['a', 'b', 'late', 'on db2']);
  });

  it('an errant transaction on db2 is named; a backup of db1 restored onto db2 removes it and rebuilds replication', async () => {
    await sql('db2', "INSERT INTO repltest.t (v) VALUES ('errant')"); // root bypasses read_only, as an operator would
    const e = await errantTransactions(lab, 'db1', 'db2');
    expect(e.errant).toEqual([{ domain: '0', gtids: expect.stringMatching(/^0-2-\d+$/) }]);
    const h = await replicationHealth(lab);
    expect(h.healthy).toBe(false);
    expect(h.problems).toEqual([expect.stringMatching(/^errant on db2 \(not on db1\): domain 0: 0-2-\d+$/)]);

    const b = await backup(lab, 'db1', `${lab.dir}/backups`);
    expect(b.file).toMatch(/\/backups\/db1-.*\.sql\.gz$/);
    expect(b.bytes).toBeGreaterThan(1000);
    expect(b.gtid).toMatch(/^0-\d+-\d+$/);
    await rejects(() => restore(lab, 'db1', b.file), /restoring over db1 would overwrite the primary. Nothing was changed/);
    await rejects(() => restore(lab, 'db2', `${lab.dir}/backups/nope.sql.gz`), /does not exist/);

    const r = await restore(lab, 'db2', b.file);
    expect(r).toMatchObject({ host: 'db2', source: 'db1', gtid: b.gtid });
    expect(await replicationHealth(lab)).toMatchObject({ healthy: true, primary: 'db1', replica: 'db2', problems: [] });
    expect((await sql('db2', 'SELECT v FROM repltest.t ORDER BY id')).map((x) => x.v)).toEqual(['a', 'b', 'late', 'on db2']);
  });

  it('failover --force promotes db2 when db1 is down; db1 rejoins as its replica', async () => {
    await rejects(() => failover(lab), /the primary db1 is reachable/);
    await sql('db1', "INSERT INTO repltest.t (v) VALUES ('before crash')");
    // Replication is asynchronous: the row is on db2 before db1 dies (this test is about promotion).
    await waitFor(
      'db2 to replicate the row written before the crash',
      async () => (await sql('db2', "SELECT COUNT(*) AS n FROM repltest.t WHERE v = 'before crash'"))[0]!.n === 1,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const pid = Number((await lab.exec('db1', ['pgrep', '-x', 'mariadbd'])).stdout.trim());
    await lab.kill('db1', pid, 'SIGKILL');
    await waitFor(
      'mariadbd on db1 to be gone',
      async () => (await lab.exec('db1', ['pgrep', '-x', 'mariadbd'], { check: false })).exitCode === 1,
      { timeoutMs: 5_000, intervalMs: 50 },
    );

    const f = await failover(lab);
    expect(f).toMatchObject({ failed: 'db1', promoted: 'db2' });
    expect(f.reason).toMatch(/db1 .*connection refused/);
    expect((await sql('db2', 'SELECT @@GLOBAL.read_only AS ro'))[0]!.ro).toBe(0);
    expect((await sql('db2', 'SELECT v FROM repltest.t ORDER BY id DESC LIMIT 1'))[0]!.v).toBe('before crash');

    await lab.startDaemon('db1', 'mariadb');
    await waitFor(
      'mariadbd on db1 to accept connections again',
      async () => (await lab.exec('db1', ['mariadb', '-e', 'SELECT 1'], { check: false })).exitCode === 0,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await setupReplication(lab, 'db2', 'db1');
    expect(await replicationHealth(lab)).toMatchObject({ healthy: true, primary: 'db2', replica: 'db1', problems: [] });
  });
});
