import mysql from 'mysql2/promise';
import type { Target } from '../targets/target.js';
import { redact } from '../util/redact.js';

export interface Credentials {
  user: string;
  password: string;
}

/**
 * A mysql2 connection to a host's server, over a stream that starts inside the management host
 * (the harness never connects to a lab address from its own namespace).
 */
export async function connectMysql(
  t: Target,
  hostOrAddress: string,
  creds: Credentials = t.profile.config.mysql.admin,
  timeoutMs = 5_000,
): Promise<mysql.Connection> {
  const address = t.profile.hosts.find((h) => h.name === hostOrAddress)?.address ?? hostOrAddress;
  const port = t.profile.config.mysql.port;
  return mysql.createConnection({
    user: creds.user,
    password: creds.password,
    stream: () => t.openStream(address, port),
    connectTimeout: timeoutMs,
    supportBigNumbers: true,
    dateStrings: true,
  } as mysql.ConnectionOptions);
}

/** Runs fn with a connection and always closes it. */
export async function withMysql<T>(t: Target, host: string, fn: (c: mysql.Connection) => Promise<T>, creds?: Credentials): Promise<T> {
  const c = await connectMysql(t, host, creds);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

export type Row = Record<string, unknown>;

/**
 * Every question to a server is bounded (mysql2's query timeout): a connection whose peer vanished
 * mid-answer (a VIP that moved, a lossy link) would otherwise wait for TCP's whole retry time.
 */
export const QUERY_TIMEOUT_MS = 60_000;

export async function query(c: mysql.Connection, sql: string, params: unknown[] = [], timeoutMs = QUERY_TIMEOUT_MS): Promise<Row[]> {
  try {
    const [rows] = await c.query({ sql, timeout: timeoutMs }, params);
    return Array.isArray(rows) ? (rows as Row[]) : [];
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code !== 'PROTOCOL_SEQUENCE_TIMEOUT') throw e;
    throw Object.assign(new Error(`MySQL did not answer within ${timeoutMs / 1000} s: ${redact(sql.replace(/\s+/g, ' ')).slice(0, 80)}`), {
      code: err.code,
      fatal: true,
    });
  }
}
