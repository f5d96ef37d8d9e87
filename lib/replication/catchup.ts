import { HarnessError } from '../util/errors.js';
import { WaitTimeoutError, waitFor } from '../util/wait.js';
import { describeGaps, gtidMissing, type GtidFlavor, type GtidGap } from './gtid.js';
import { readFacts, type Server } from './server.js';

export const flavorOf = (s: Server): GtidFlavor => (s.dialect.name === 'mariadb' ? 'mariadb' : 'mysql');

/**
 * Waits, bounded, until `replica` has executed every GTID in `target` (polling its executed set;
 * MariaDB's MASTER_GTID_WAIT would block a connection past our own limit). Throws naming what is
 * still missing.
 */
export async function waitForGtids(replica: Server, target: string, timeoutMs: number, why: string): Promise<void> {
  let missing: GtidGap[] = [];
  try {
    await waitFor(
      `${replica.host} to execute ${target || '(nothing)'} (${why})`,
      async () => {
        const f = await readFacts(replica);
        if (f.replica?.lastSqlError) throw new HarnessError(`${replica.host}: SQL thread error: ${f.replica.lastSqlError}`);
        missing = gtidMissing(f.gtid, target, flavorOf(replica));
        return missing.length === 0;
      },
      { timeoutMs, intervalMs: 100 },
    );
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    const last = e.lastError instanceof Error ? ` (${e.lastError.message})` : '';
    throw new HarnessError(
      `${replica.host} did not catch up within ${(timeoutMs / 1000).toFixed(1)} s (${why})${last}; still missing:\n${describeGaps(
        missing,
        flavorOf(replica),
      )
        .map((l) => `  - ${l}`)
        .join('\n')}`,
      `look at ${replica.host}'s replication (npm run repl -- show): a stopped or delayed SQL thread, or a long transaction; or allow more time with --timeout`,
    );
  }
}
