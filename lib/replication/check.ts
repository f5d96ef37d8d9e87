import { query } from '../mysql/connect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { errantFromFacts } from './errant.js';
import { readFacts, withServers, type ConnectOptions, type Server, type ServerFacts } from './server.js';

/** One prerequisite of a replication pair, mysqlrplcheck-style. */
export interface CheckLine {
  check: string;
  ok: boolean;
  detail: string;
}

export interface PairCheck {
  primary: string;
  replica: string;
  ok: boolean;
  checks: CheckLine[];
}

/** A grant list (SHOW GRANTS rows) allows replicating from the server. */
export function grantsAllowReplication(grants: string[], grant: RegExp): boolean {
  return grants.some((g) => /\bON \*\.\*/i.test(g) && grant.test(g.replace(/ ON \*\.\*.*$/i, '')));
}

/** The replication account on a server: which host patterns it exists for, and whether one may replicate. */
async function replicationAccount(s: Server, user: string): Promise<{ hosts: string[]; canReplicate: boolean }> {
  const hosts = (await query(s.conn, 'SELECT Host AS h FROM mysql.user WHERE User = ?', [user])).map((r) => String(r.h));
  let canReplicate = false;
  for (const h of hosts) {
    const rows = await query(s.conn, 'SHOW GRANTS FOR ?@?', [user, h]);
    if (
      grantsAllowReplication(
        rows.map((r) => String(Object.values(r)[0])),
        s.dialect.replicationGrant,
      )
    )
      canReplicate = true;
  }
  return { hosts, canReplicate };
}

/** The checks on facts already read (unit-testable). */
export function judgePair(
  p: ServerFacts,
  r: ServerFacts,
  user: string,
  account: { hosts: string[]; canReplicate: boolean },
  errantCheck = true,
): CheckLine[] {
  const out: CheckLine[] = [];
  const add = (check: string, ok: boolean, detail: string) => out.push({ check, ok, detail });
  add(
    'same dialect',
    p.dialect.name === r.dialect.name,
    p.dialect.name === r.dialect.name
      ? `both ${p.dialect.name}`
      : `${p.host} is ${p.version}, ${r.host} is ${r.version}: the harness replicates within one dialect`,
  );
  add(
    'distinct server ids',
    p.serverId !== r.serverId,
    p.serverId !== r.serverId
      ? `${p.host}=${p.serverId}, ${r.host}=${r.serverId}`
      : `both have server_id ${p.serverId}: give each a distinct server_id in its my.cnf`,
  );
  for (const f of [p, r]) {
    add(
      `binary log on ${f.host}`,
      f.logBin,
      f.logBin ? 'log_bin ON' : `log_bin is OFF on ${f.host}: set log_bin in its my.cnf (needed to replicate from it and to switch over)`,
    );
    add(
      `replica updates logged on ${f.host}`,
      f.logReplicaUpdates,
      f.logReplicaUpdates
        ? 'log_slave_updates ON'
        : `log_slave_updates/log_replica_updates is OFF on ${f.host}: turn it on so that it can become the primary`,
    );
    if (f.dialect.name === 'mariadb') {
      add(
        `GTID strict mode on ${f.host}`,
        f.gtidStrict,
        f.gtidStrict
          ? 'gtid_strict_mode ON'
          : `gtid_strict_mode is OFF on ${f.host}: SET GLOBAL gtid_strict_mode=ON and gtid_strict_mode = ON in its my.cnf`,
      );
    } else {
      add(
        `GTID mode on ${f.host}`,
        f.gtidMode && f.gtidStrict,
        f.gtidMode && f.gtidStrict
          ? 'gtid_mode ON, enforce_gtid_consistency ON'
          : `GTIDs are off on ${f.host} (gtid_mode ${f.gtidMode ? 'ON' : 'OFF'}, enforce_gtid_consistency ${f.gtidStrict ? 'ON' : 'OFF'}): set gtid_mode=ON and enforce_gtid_consistency=ON`,
      );
    }
  }
  add(
    `replication user on ${p.host}`,
    account.hosts.length > 0,
    account.hosts.length
      ? `${user}@${account.hosts.map((h) => `'${h}'`).join(', ')}`
      : `user '${user}' does not exist on ${p.host}: CREATE USER '${user}'@'%' … and GRANT REPLICATION SLAVE ON *.* TO it (or run: npm run repl -- setup)`,
  );
  if (account.hosts.length) {
    add(
      `REPLICATION SLAVE grant on ${p.host}`,
      account.canReplicate,
      account.canReplicate
        ? `${user} may replicate`
        : `'${user}' on ${p.host} lacks REPLICATION SLAVE: GRANT REPLICATION SLAVE ON *.* TO '${user}'@'${account.hosts[0]}'`,
    );
  }
  const errant = errantFromFacts(p, r);
  if (errantCheck)
    add(
      `no errant transactions on ${r.host}`,
      errant.errant.length === 0,
      errant.errant.length ? errant.lines.join('; ') : `nothing on ${r.host} that ${p.host} lacks`,
    );
  if (r.replica) {
    const src = r.replica.sourceHost;
    add(
      `${r.host} replicates from ${p.host}`,
      src === p.address || src === p.host,
      src === p.address || src === p.host ? `source ${src}` : `${r.host} replicates from ${src}, not ${p.host}`,
    );
  }
  return out;
}

/** mysqlrplcheck --master=primary --slave=replica. */
export interface CheckOptions extends ConnectOptions {
  /** Off when `replica` is today's primary (a switchover's pre-check): it legitimately holds more. */
  errantCheck?: boolean;
}

export async function checkPair(t: Target, primary: string, replica: string, opts: CheckOptions = {}): Promise<PairCheck> {
  if (primary === replica) throw new HarnessError(`check: primary and replica are both ${primary}`, 'name two different hosts');
  const user = t.profile.config.mysql.replication.user;
  return withServers(
    t,
    [primary, replica],
    async ([p, r]) => {
      const [pf, rf, account] = await Promise.all([readFacts(p!), readFacts(r!), replicationAccount(p!, user)]);
      const checks = judgePair(pf, rf, user, account, opts.errantCheck ?? true);
      return { primary, replica, ok: checks.every((c) => c.ok), checks };
    },
    opts,
  );
}

export function formatCheck(c: PairCheck): string {
  return [
    `check ${c.primary} → ${c.replica}: ${c.ok ? 'pass' : 'FAIL'}`,
    ...c.checks.map((l) => `  [${l.ok ? 'pass' : 'FAIL'}] ${l.check}: ${l.detail}`),
  ].join('\n');
}

/** Throws naming every failed check; the gate of setup and switchover. */
export async function requirePair(t: Target, primary: string, replica: string, what: string, opts: CheckOptions = {}): Promise<PairCheck> {
  const c = await checkPair(t, primary, replica, opts);
  if (!c.ok) {
    throw new HarnessError(
      `${what}: ${primary} → ${replica} fails its prerequisites, nothing was changed:\n${c.checks
        .filter((l) => !l.ok)
        .map((l) => `  - ${l.check}: ${l.detail}`)
        .join('\n')}`,
    );
  }
  return c;
}
