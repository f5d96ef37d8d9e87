import { HarnessError } from '../util/errors.js';

/**
 * The replication position a dump was taken at, from its header: MariaDB's `--master-data=2 --gtid`
 * writes `-- SET GLOBAL gtid_slave_pos='0-1-5';`, MySQL's mysqldump writes
 * `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*\/ 'uuid:1-5,\nuuid:1-3';` (the set may span lines).
 */
export function parseDumpPosition(text: string): { flavor: 'mariadb' | 'mysql'; gtid: string } | undefined {
  const maria = /^--\s*SET GLOBAL gtid_slave_pos\s*=\s*'([^']*)'/m.exec(text);
  if (maria) return { flavor: 'mariadb', gtid: maria[1]!.trim() };
  const mysql = /SET @@GLOBAL\.GTID_PURGED\s*=\s*(?:\/\*!\d+\s*'\+'\s*\*\/\s*)?'([^']*)'/i.exec(text);
  if (mysql) return { flavor: 'mysql', gtid: mysql[1]!.replace(/\s+/g, '') };
  return undefined;
}

export function requireDumpPosition(text: string, file: string): { flavor: 'mariadb' | 'mysql'; gtid: string } {
  const p = parseDumpPosition(text);
  if (!p)
    throw new HarnessError(
      `${file}: no GTID position in the dump's header`,
      'take backups with npm run repl -- backup (mariadb-dump --master-data=2 --gtid, or mysqldump --source-data=2 with GTIDs on)',
    );
  return p;
}
