import { existsSync, readFileSync } from 'node:fs';
import type { StepLog } from '../../util/log.js';
import { waitFor } from '../../util/wait.js';
import { stopMariadb } from '../../cluster-ops.js';
import { HarnessError } from '../../util/errors.js';
import { setupReplication } from '../../replication/setup.js';
import { startAndWait, type BootTarget } from './boot-cluster.js';

const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** MariaDB on both db hosts, the admin account, then GTID replication primary → replica from batch1. */
export async function bootMysql(lab: BootTarget, log: StepLog): Promise<void> {
  const dbs = lab.profile.dbHosts.map((h) => h.name);
  const { admin, replication } = lab.profile.config.mysql;

  await log.step('MariaDB: initialise data directories and start mariadbd', () =>
    Promise.all(
      dbs.map(async (h) => {
        const install = await lab.exec(
          h,
          ['mariadb-install-db', '--user=mysql', '--datadir=/var/lib/mysql', '--skip-test-db', '--auth-root-authentication-method=socket'],
          { timeoutMs: 60_000, check: false },
        );
        if (install.exitCode !== 0) {
          // mariadbd's [ERROR] lines say why (e.g. a setting of the profile's .cnf it rejects); they go to
          // the error log the profile's settings name, and install-db's own output is boilerplate.
          const errors = `${install.stdout}\n${install.stderr}\n${await lab.logTail(h, '/var/log/mysql/error.log', 30)}`
            .split('\n')
            .filter((l) => /\[ERROR\]/.test(l));
          throw new HarnessError(
            `mariadb-install-db on ${h} failed (exit ${install.exitCode}): mariadbd refuses the profile's MariaDB settings (${lab.profile.dir}/mysql/*.cnf):\n${[...new Set(errors)].join('\n') || install.stdout.trim().split('\n').slice(0, 10).join('\n')}`,
          );
        }
        try {
          await startAndWait(
            lab,
            [h],
            'mariadb',
            `mariadbd on ${h} to accept connections`,
            async () => (await lab.exec(h, ['mariadb', '-e', 'SELECT 1'], { check: false, timeoutMs: 5_000 })).exitCode === 0,
            30_000,
          );
        } catch (e) {
          throw new HarnessError(
            `${(e as Error).message}\nlast lines of /var/log/mysql/error.log on ${h}:\n${await lab.logTail(h, '/var/log/mysql/error.log')}`,
          );
        }
        // The admin account the notebook's tools log in with; not binlogged, so replicas do not replay it.
        const sql = `SET sql_log_bin=0;
CREATE USER IF NOT EXISTS ${sqlString(admin.user)}@'%' IDENTIFIED BY ${sqlString(admin.password)};
GRANT ALL PRIVILEGES ON *.* TO ${sqlString(admin.user)}@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;`;
        await lab.exec(h, ['mariadb'], { input: sql });
      }),
    ),
  );

  await log.step(`replication ${replication.primary} → ${replication.replica} (GTID), from ${lab.profile.managementHost.name}`, () =>
    setupReplication(lab, replication.primary, replication.replica),
  );
}

/** gtid_current_pos of a db host, asked locally (socket) as root. */
async function gtidPos(lab: BootTarget, host: string): Promise<string> {
  return (await lab.exec(host, ['mariadb', '-N', '-B', '-e', 'SELECT @@gtid_current_pos'], { timeoutMs: 10_000 })).stdout.trim();
}

/**
 * For a profile whose MariaDB Pacemaker runs (a promotable clone of the mariadb agent): the
 * profile's extra grants (mysql/accounts.sql) on the seeded primary, binlogged so the replica gets
 * them, the replica caught up, then both servers stopped. The agent chooses the first primary by
 * gtid_current_pos, so there must be one (resource-agents #1441: with none, no instance is ever
 * promoted), and its start of a server that already runs would skip making it read-only.
 */
export async function handMysqlToPacemaker(lab: BootTarget, log: StepLog): Promise<void> {
  const { primary, replica } = lab.profile.config.mysql.replication;
  const accounts = lab.profile.path('mysql/accounts.sql');
  await log.step(
    `MariaDB handed to Pacemaker: ${existsSync(accounts) ? 'mysql/accounts.sql applied, ' : ''}replica caught up, both stopped`,
    async () => {
      if (existsSync(accounts)) await lab.exec(primary, ['mariadb'], { input: readFileSync(accounts, 'utf8'), timeoutMs: 30_000 });
      const want = await gtidPos(lab, primary);
      if (!want) throw new HarnessError(`${primary} has no GTID position after seeding: the mariadb agent could not choose a primary`);
      await waitFor(`${replica} to reach ${primary}'s GTID position ${want}`, async () => (await gtidPos(lab, replica)) === want, {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      await Promise.all([primary, replica].map((h) => stopMariadb(lab, h)));
    },
  );
}
