import { randomBytes } from 'node:crypto';
import { query } from '../mysql/connect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { waitForGtids } from './catchup.js';
import { requireDumpPosition } from './dump.js';
import { readFacts, openServer, other, withServers, type ConnectOptions } from './server.js';
import { pointReplicaAt } from './setup.js';

export interface BackupResult {
  host: string;
  file: string;
  bytes: number;
  /** The GTID position the dump was taken at (from its header). */
  gtid: string;
  ms: number;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs fn with a client option file holding the admin login on `host` (mode 600, in the host's own
 * /tmp), so that the password is never on a command line, in a process list or in an error.
 */
async function withOptionFile<T>(t: Target, host: string, opts: ConnectOptions, fn: (cnf: string) => Promise<T>): Promise<T> {
  const { user, password } = opts.admin ?? t.profile.config.mysql.admin;
  const cnf = `/tmp/mhc-repl-${randomBytes(4).toString('hex')}.cnf`;
  const esc = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  await t.exec(host, ['sh', '-c', `umask 077; cat > ${cnf}`], {
    input: `[client]\nuser=${esc(user)}\npassword=${esc(password)}\nprotocol=TCP\nhost=127.0.0.1\nport=${t.profile.config.mysql.port}\n`,
  });
  try {
    return await fn(cnf);
  } finally {
    await t.exec(host, ['rm', '-f', cnf], { check: false });
  }
}

async function run(t: Target, host: string, script: string, timeoutMs: number, what: string): Promise<string> {
  const r = await t.exec(host, ['bash', '-o', 'pipefail', '-c', script], { check: false, timeoutMs });
  if (r.exitCode !== 0)
    throw new HarnessError(redact(`${host}: ${what} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(-600)}`));
  return r.stdout;
}

async function readPosition(t: Target, host: string, file: string): Promise<{ flavor: 'mariadb' | 'mysql'; gtid: string }> {
  // The position line sits after the mysql schema; sed stops at the statement's end (a set may span lines).
  const head = await run(
    t,
    host,
    `gzip -dc ${shq(file)} | sed -n -e '/^-- SET GLOBAL gtid_slave_pos/{p;q}' -e '/SET @@GLOBAL.GTID_PURGED/,/;$/{p;/;$/q}'`,
    60_000,
    `reading the GTID position of ${file}`,
  );
  return requireDumpPosition(head, file);
}

/**
 * The notebook's backup, run inside the db host: mysqldump/mariadb-dump with the notebook's
 * options, gzip, into `dir` (written to .partial first, so a failed dump leaves no backup-looking file).
 */
export async function backup(
  t: Target,
  host: string,
  dir: string,
  opts: ConnectOptions & { timeoutMs?: number } = {},
): Promise<BackupResult> {
  const t0 = Date.now();
  const s = await openServer(t, host, opts); // a clear error for a wrong login or a host that is down, before anything runs
  const d = s.dialect;
  await s.close();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = `${dir}/${host}-${stamp}.sql.gz`;
  await withOptionFile(t, host, opts, (cnf) =>
    run(
      t,
      host,
      `mkdir -p ${shq(dir)} && ${d.dumpTool} --defaults-extra-file=${cnf} ${d.dumpOptions.join(' ')} | gzip > ${shq(file)}.partial && mv ${shq(file)}.partial ${shq(file)}`,
      opts.timeoutMs ?? 120_000,
      `${d.dumpTool} ${d.dumpOptions.join(' ')}`,
    ).catch(async (e) => {
      await t.exec(host, ['rm', '-f', `${file}.partial`], { check: false });
      throw e;
    }),
  );
  const bytes = Number((await t.exec(host, ['stat', '-c', '%s', file])).stdout.trim());
  const { gtid } = await readPosition(t, host, file);
  return { host, file, bytes, gtid, ms: Date.now() - t0 };
}

export interface RestoreResult {
  host: string;
  source: string;
  file: string;
  gtid: string;
  ms: number;
}

/**
 * Restores a backup onto `host` and rebuilds it as a replica of `source` (default: the other db
 * host), starting from the dump's GTID position: the notebook's `mysql < dump` then mysqlreplicate.
 * Refused on the host others replicate from: that would overwrite the primary.
 */
export async function restore(
  t: Target,
  host: string,
  file: string,
  opts: ConnectOptions & { source?: string; timeoutMs?: number } = {},
): Promise<RestoreResult> {
  const t0 = Date.now();
  const source = opts.source ?? other(t, host);
  const exists = await t.exec(host, ['test', '-s', file], { check: false });
  if (exists.exitCode !== 0)
    throw new HarnessError(`restore: ${file} does not exist (or is empty) on ${host}`, `take one: npm run repl -- backup --host ${source}`);
  const pos = await readPosition(t, host, file);
  return withServers(
    t,
    [host, source],
    async ([r, p]) => {
      const sf = await readFacts(p!);
      if (sf.replica && sf.replica.sourceHost === r!.address) {
        throw new HarnessError(
          `restore: ${source} replicates from ${host}; restoring over ${host} would overwrite the primary. Nothing was changed`,
          `restore onto the replica, or switch over first (npm run repl -- switchover)`,
        );
      }
      await query(r!.conn, r!.dialect.stopReplica);
      await query(r!.conn, r!.dialect.resetReplicaAll);
      await query(r!.conn, 'SET GLOBAL read_only = ON');
      await query(r!.conn, r!.dialect.resetBinlogs);
      await withOptionFile(t, host, opts, (cnf) =>
        run(
          t,
          host,
          `gzip -dc ${shq(file)} | ${r!.dialect.clientTool} --defaults-extra-file=${cnf} --init-command='SET SESSION sql_log_bin=0'`,
          opts.timeoutMs ?? 120_000,
          `loading ${file}`,
        ),
      );
      if (r!.dialect.setDumpPosition) await query(r!.conn, r!.dialect.setDumpPosition, [pos.gtid]);
      await pointReplicaAt(t, r!, p!, 15_000);
      await waitForGtids(r!, (await readFacts(p!)).gtid, 15_000, `catching up with ${source} after the restore`);
      return { host, source, file, gtid: pos.gtid, ms: Date.now() - t0 };
    },
    opts,
  );
}
