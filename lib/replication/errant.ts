import type { Target } from '../targets/target.js';
import { describeGaps, gtidMissing, type GtidFlavor, type GtidGap } from './gtid.js';
import type { ServerFacts } from './server.js';
import { readFacts, withServers, type ConnectOptions } from './server.js';

/** Transactions a replica executed that its primary never had: written on the replica directly. */
export interface ErrantReport {
  primary: string;
  replica: string;
  flavor: GtidFlavor;
  primaryGtid: string;
  replicaGtid: string;
  errant: GtidGap[];
  /** One line per domain (MariaDB) or source uuid (MySQL). */
  lines: string[];
}

export function errantFromFacts(primary: ServerFacts, replica: ServerFacts): ErrantReport {
  const flavor: GtidFlavor = primary.dialect.name === 'mariadb' ? 'mariadb' : 'mysql';
  const errant = gtidMissing(primary.gtid, replica.gtid, flavor);
  return {
    primary: primary.host,
    replica: replica.host,
    flavor,
    primaryGtid: primary.gtid,
    replicaGtid: replica.gtid,
    errant,
    lines: describeGaps(errant, flavor).map((l) => `errant on ${replica.host} (not on ${primary.host}): ${l}`),
  };
}

export async function errantTransactions(t: Target, primary: string, replica: string, opts: ConnectOptions = {}): Promise<ErrantReport> {
  return withServers(t, [primary, replica], async ([p, r]) => errantFromFacts(await readFacts(p!), await readFacts(r!)), opts);
}
