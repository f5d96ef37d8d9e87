import type mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { QUERY_TIMEOUT_MS, query } from '../../lib/mysql/connect.js';

// query() hands mysql2 a timeout with every question, and says which one went unanswered (a
// password in it masked). mysql2's own timeout error is what a silent server produces.
function connection(answer: (opts: { sql: string; timeout: number }) => Promise<unknown>) {
  const asked: { sql: string; timeout: number }[] = [];
  const c = {
    query: (opts: { sql: string; timeout: number }) => {
      asked.push(opts);
      return answer(opts);
    },
  } as unknown as mysql.Connection;
  return { c, asked };
}

describe('MySQL questions are bounded', () => {
  it('passes a timeout with every query (60 s unless told)', async () => {
    const { c, asked } = connection(async () => [[{ n: 1 }], []]);
    expect(await query(c, 'SELECT 1 AS n')).toEqual([{ n: 1 }]);
    await query(c, 'SELECT 2', [], 5_000);
    expect(asked.map((a) => a.timeout)).toEqual([QUERY_TIMEOUT_MS, 5_000]);
  });

  it('a silent server is one clear error naming the query, its password masked, fatal for the connection', async () => {
    const { c } = connection(async () => {
      throw Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
    });
    const e = (await query(c, "CHANGE MASTER TO MASTER_HOST='10.11.22.101', MASTER_PASSWORD='s3cretpw'", [], 2_000).catch(
      (x) => x,
    )) as Error & { code: string; fatal: boolean };
    expect(e.message).toBe("MySQL did not answer within 2 s: CHANGE MASTER TO MASTER_HOST='10.11.22.101', MASTER_PASSWORD=***");
    expect(e).toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT', fatal: true });
  });

  it('other errors pass through as mysql2 gave them', async () => {
    const refused = Object.assign(new Error('read only'), { code: 'ER_OPTION_PREVENTS_STATEMENT' });
    const { c } = connection(async () => {
      throw refused;
    });
    await expect(query(c, 'INSERT INTO t VALUES (1)')).rejects.toBe(refused);
  });
});
