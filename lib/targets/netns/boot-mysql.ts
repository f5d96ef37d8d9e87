import type { StepLog } from '../../util/log.js';
import { HarnessError } from '../../util/errors.js';
import { waitFor } from '../../util/wait.js';
import { setupReplication } from '../../replication/setup.js';
import type { BootTarget } from './boot-cluster.js';

const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** MariaDB on both db hosts, the admin account, then GTID replication primary → replica from batch1. */
export async function bootMysql(lab: BootTarget, log: StepLog): Promise<void> {
  const dbs = lab.profile.dbHosts.map((h) => h.name);
  const { admin, replication } = lab.profile.config.mysql;

  await log.step('MariaDB: initialise data directories and start mariadbd', () =>
    Promise.all(dbs.map(async (h) => {
      await lab.exec(h, ['mariadb-install-db', '--user=mysql', '--datadir=/var/lib/mysql', '--skip-test-db', '--auth-root-authentication-method=socket'], { timeoutMs: 60_000 });
      await lab.startDaemon(h, 'mariadb');
      try {
        await waitFor(`mariadbd on ${h} to accept connections`, async () => (await lab.exec(h, ['mariadb', '-e', 'SELECT 1'], { check: false, timeoutMs: 5_000 })).exitCode === 0, { timeoutMs: 30_000, intervalMs: 100 });
      } catch (e) {
        throw new HarnessError(`${(e as Error).message}\nlast lines of /var/log/mysql/error.log on ${h}:\n${await lab.logTail(h, '/var/log/mysql/error.log')}`);
      }
      // The admin account the notebook's tools log in with; not binlogged, so replicas do not replay it.
      const sql = `SET sql_log_bin=0;
CREATE USER IF NOT EXISTS ${sqlString(admin.user)}@'%' IDENTIFIED BY ${sqlString(admin.password)};
GRANT ALL PRIVILEGES ON *.* TO ${sqlString(admin.user)}@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;`;
      await lab.exec(h, ['mariadb'], { input: sql });
    })));

  await log.step(`replication ${replication.primary} → ${replication.replica} (GTID), from ${lab.profile.managementHost.name}`, () =>
    setupReplication(lab, replication.primary, replication.replica));
}
