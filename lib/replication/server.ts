import type { Connection } from 'mysql2/promise';
import { connectMysql, query, type Credentials } from '../mysql/connect.js';
import { dialectFor, parseReplicaStatus, type Dialect, type ReplicaStatus } from '../mysql/dialect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { redact } from '../util/redact.js';

/** A db server's replication facts, read in one go. */
export interface ServerFacts {
  host: string;
  address: string;
  version: string;
  dialect: Dialect;
  serverId: number;
  logBin: boolean;
  logReplicaUpdates: boolean;
  readOnly: boolean;
  gtidMode: boolean;
  gtidStrict: boolean;
  gtid: string;
  replica?: ReplicaStatus;
}

/** An open admin connection to one db host and what it said about itself. */
export interface Server {
  host: string;
  address: string;
  conn: Connection;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Login to use instead of the profile's mysql.admin (e.g. to test one). */
  admin?: Credentials;
  timeoutMs?: number;
}

/** Address of a profile host, or the argument itself when it already is an address. */
export function addressOf(t: Target, host: string): string {
  return t.profile.hosts.find((h) => h.name === host)?.address ?? host;
}

/** Profile host name for an address (replica status names its source by address). */
export function hostOf(t: Target, address: string): string {
  return t.profile.hosts.find((h) => h.address === address || h.name === address)?.name ?? address;
}

/**
 * Opens an admin connection from the management host and turns the ways it fails into errors
 * that say which host and what to fix: refused login, nothing listening, no route.
 */
export async function openServer(t: Target, host: string, opts: ConnectOptions = {}): Promise<Server> {
  const creds = opts.admin ?? t.profile.config.mysql.admin;
  const address = addressOf(t, host);
  const where = `${host}${address !== host ? ` (${address}:${t.profile.config.mysql.port})` : `:${t.profile.config.mysql.port}`}`;
  let conn: Connection;
  try {
    conn = await withDeadline(
      connectMysql(t, host, creds, opts.timeoutMs ?? 5_000),
      (opts.timeoutMs ?? 5_000) + 2_000,
      `connecting to MySQL on ${where}`,
    );
  } catch (e) {
    throw connectError(t, host, where, creds.user, e);
  }
  try {
    const [v] = await query(conn, 'SELECT VERSION() AS v');
    const dialect = dialectFor(String(v?.v ?? ''));
    return { host, address, conn, dialect, close: () => conn.end().catch(() => conn.destroy()) };
  } catch (e) {
    conn.destroy();
    throw new HarnessError(redact(`${where}: connected, but the first query failed: ${(e as Error).message}`));
  }
}

function connectError(t: Target, host: string, where: string, user: string, e: unknown): HarnessError {
  const err = e as Error & { code?: string; errno?: number };
  const msg = redact(err.message ?? String(e));
  if (err.code === 'ER_ACCESS_DENIED_ERROR' || err.errno === 1045 || /access denied/i.test(msg)) {
    return new HarnessError(
      `${where}: MySQL refused the login of user '${user}' (access denied)`,
      `check mysql.admin (user and password) in ${t.profile.dir}/profile.json, or the account on ${host}`,
    );
  }
  if (/refused/i.test(msg)) {
    return new HarnessError(
      `${where}: nothing accepts MySQL connections there (connection refused, from ${t.profile.managementHost.name})`,
      `is mariadbd/mysqld running on ${host}? (npm run lab -- exec ${host} -- pgrep -a mariadbd)`,
    );
  }
  return new HarnessError(
    `${where}: unreachable from ${t.profile.managementHost.name}: ${msg}`,
    `is ${host} up and on the network? check the host name/address and mysql.port in ${t.profile.dir}/profile.json`,
  );
}

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`no answer within ${ms / 1000} s ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function readFacts(s: Server): Promise<ServerFacts> {
  const [f] = await query(s.conn, s.dialect.facts);
  const rs = await query(s.conn, s.dialect.showReplicaStatus);
  const on = (x: unknown) => x === 1 || x === '1' || String(x).toUpperCase() === 'ON';
  return {
    host: s.host,
    address: s.address,
    version: String(f!.version),
    dialect: s.dialect,
    serverId: Number(f!.server_id),
    logBin: on(f!.log_bin),
    logReplicaUpdates: on(f!.log_replica_updates),
    readOnly: on(f!.read_only),
    gtidMode: String(f!.gtid_mode).toUpperCase() === 'ON',
    gtidStrict: on(f!.gtid_strict),
    gtid: String(f!.gtid ?? '').replace(/\s+/g, ''),
    replica: parseReplicaStatus(rs[0]),
  };
}

/** Opens, runs fn, always closes. */
export async function withServer<T>(t: Target, host: string, fn: (s: Server) => Promise<T>, opts?: ConnectOptions): Promise<T> {
  const s = await openServer(t, host, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Both db hosts of the profile, in profile order. */
export function dbPair(t: Target): [string, string] {
  const [a, b] = t.profile.dbHosts.map((h) => h.name);
  return [a!, b!];
}

export const other = (t: Target, host: string) => {
  const [a, b] = dbPair(t);
  if (host !== a && host !== b)
    throw new HarnessError(`"${host}" is not a db host of profile ${t.profile.name}`, `db hosts are ${a} and ${b}`);
  return host === a ? b : a;
};

/** Opens several hosts at once (closing those that opened when another fails), runs fn, closes all. */
export async function withServers<T>(t: Target, hosts: string[], fn: (s: Server[]) => Promise<T>, opts?: ConnectOptions): Promise<T> {
  const opened = await Promise.allSettled(hosts.map((h) => openServer(t, h, opts)));
  const ok = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  try {
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return await fn(ok);
  } finally {
    await Promise.all(ok.map((s) => s.close()));
  }
}
