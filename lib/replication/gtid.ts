/**
 * GTID sets of both dialects, parsed from what the servers print, and compared.
 *
 * MariaDB prints a *position*: one `domain-server-seq` per replication domain ("0-1-5,1-2-3"), which
 * stands for every transaction of that domain up to seq. gtid_binlog_state may hold several entries
 * per domain (one per server id); the highest seq is the domain's position.
 * MySQL prints a *set*: `uuid:interval[:interval…]` per source ("3E11FA47-…:1-5:7", MySQL 8.4 may add
 * a tag, "uuid:tag:1-3"), with newlines after the commas in SHOW output.
 */
import { HarnessError } from '../util/errors.js';

export type GtidFlavor = 'mariadb' | 'mysql';

export interface MariaGtid {
  domain: number;
  server: number;
  seq: bigint;
}
/** Position per domain. */
export type MariaGtidPos = Map<number, MariaGtid>;
/** Sorted, merged inclusive intervals per `uuid` or `uuid:tag` (lower case). */
export type MysqlGtidSet = Map<string, Array<[bigint, bigint]>>;

/** What one set has that another lacks, in one MariaDB domain or for one MySQL source UUID. */
export interface GtidGap {
  /** MariaDB domain id ("0") or MySQL source uuid[:tag]. */
  domain: string;
  /** The GTIDs, named: "0-2-6", "0-2-6..0-2-8" (seq range of a domain; the server id is that of the last), or "uuid:3-5:9". */
  gtids: string;
  /** Set when both sides hold the same MariaDB seq from different servers: the histories diverged. */
  diverged?: string;
}

const split = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function parseMariaGtidPos(text: string): MariaGtidPos {
  const pos: MariaGtidPos = new Map();
  for (const item of split(text)) {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(item);
    if (!m) throw new HarnessError(`not a MariaDB GTID: "${item}" (expected domain-server-seq, e.g. 0-1-5)`);
    const g = { domain: Number(m[1]), server: Number(m[2]), seq: BigInt(m[3]!) };
    const cur = pos.get(g.domain);
    if (!cur || g.seq > cur.seq) pos.set(g.domain, g);
  }
  return pos;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseMysqlGtidSet(text: string): MysqlGtidSet {
  const set: MysqlGtidSet = new Map();
  for (const item of split(text)) {
    const parts = item.split(':').map((p) => p.trim());
    const uuid = parts.shift()!;
    if (!UUID.test(uuid)) throw new HarnessError(`not a MySQL GTID set member: "${item}" (expected uuid:1-5[:7…])`);
    let key = uuid.toLowerCase();
    const ivs: Array<[bigint, bigint]> = [...(set.get(key) ?? [])];
    for (const p of parts) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(p);
      if (m) {
        const a = BigInt(m[1]!),
          b = BigInt(m[2] ?? m[1]!);
        if (b < a) throw new HarnessError(`MySQL GTID interval "${p}" in "${item}" runs backwards`);
        ivs.push([a, b]);
      } else if (/^[a-z_][a-z0-9_]{0,31}$/i.test(p)) {
        // MySQL 8.4 tagged GTIDs: the intervals after a tag belong to uuid:tag.
        if (ivs.length) set.set(key, merge(ivs));
        key = `${uuid.toLowerCase()}:${p.toLowerCase()}`;
        ivs.length = 0;
        ivs.push(...(set.get(key) ?? []));
      } else {
        throw new HarnessError(`not a MySQL GTID interval: "${p}" in "${item}"`);
      }
    }
    if (ivs.length) set.set(key, merge(ivs));
  }
  return set;
}

function merge(ivs: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  const s = [...ivs].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max takes numbers)
    if (last && a <= last[1] + 1n) last[1] = b > last[1] ? b : last[1];
    else out.push([a, b]);
  }
  return out;
}

/** a − b for MySQL sets. */
export function subtractMysql(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  const out: MysqlGtidSet = new Map();
  for (const [k, ivs] of a) {
    let rest = ivs.map(([x, y]) => [x, y] as [bigint, bigint]);
    for (const [c, d] of b.get(k) ?? []) {
      rest = rest.flatMap(([x, y]): Array<[bigint, bigint]> => {
        if (d < x || c > y) return [[x, y]];
        const parts: Array<[bigint, bigint]> = [];
        if (c > x) parts.push([x, c - 1n]);
        if (d < y) parts.push([d + 1n, y]);
        return parts;
      });
    }
    if (rest.length) out.set(k, rest);
  }
  return out;
}

export function formatMysqlGtidSet(s: MysqlGtidSet): string {
  return [...s].map(([k, ivs]) => `${k}:${ivs.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`).join(',');
}

export function formatMariaGtidPos(p: MariaGtidPos): string {
  return [...p.values()]
    .sort((x, y) => x.domain - y.domain)
    .map((g) => `${g.domain}-${g.server}-${g.seq}`)
    .join(',');
}

/** Which dialect printed this set; undefined for the empty set (both print ""). */
export function detectGtidFlavor(text: string): GtidFlavor | undefined {
  const first = split(text)[0];
  if (!first) return undefined;
  return /^\d+-\d+-\d+$/.test(first) ? 'mariadb' : 'mysql';
}

/** The transactions `want` holds that `have` lacks. Replica catch-up: gtidMissing(replica, primary); errant: gtidMissing(primary, replica). */
export function gtidMissing(have: string, want: string, flavor: GtidFlavor): GtidGap[] {
  if (flavor === 'mysql') {
    const d = subtractMysql(parseMysqlGtidSet(want), parseMysqlGtidSet(have));
    return [...d].map(([k, ivs]) => ({ domain: k, gtids: formatMysqlGtidSet(new Map([[k, ivs]])) }));
  }
  const h = parseMariaGtidPos(have);
  const gaps: GtidGap[] = [];
  for (const w of [...parseMariaGtidPos(want).values()].sort((x, y) => x.domain - y.domain)) {
    const g = h.get(w.domain);
    const from = g ? g.seq + 1n : 1n;
    if (from <= w.seq) {
      const last = `${w.domain}-${w.server}-${w.seq}`;
      gaps.push({ domain: String(w.domain), gtids: from === w.seq ? last : `${w.domain}-${w.server}-${from}..${last}` });
    } else if (g && g.seq === w.seq && g.server !== w.server) {
      gaps.push({ domain: String(w.domain), gtids: `${w.domain}-${w.server}-${w.seq}`, diverged: `${w.domain}-${g.server}-${g.seq}` });
    }
  }
  return gaps;
}

/**
 * How many transactions `want` holds that `have` lacks. MariaDB positions name only the last seq
 * of a domain, so this counts seqs (a write on each side at the same seq counts one).
 */
export function gtidMissingCount(have: string, want: string, flavor: GtidFlavor): number {
  let n = 0n;
  if (flavor === 'mysql') {
    for (const ivs of subtractMysql(parseMysqlGtidSet(want), parseMysqlGtidSet(have)).values()) for (const [a, b] of ivs) n += b - a + 1n;
    return Number(n);
  }
  const h = parseMariaGtidPos(have);
  for (const w of parseMariaGtidPos(want).values()) {
    const g = h.get(w.domain);
    const from = g ? g.seq + 1n : 1n;
    if (from <= w.seq) n += w.seq - from + 1n;
    else if (g && g.seq === w.seq && g.server !== w.server) n += 1n;
  }
  return Number(n);
}

/**
 * What a replica executed that no other server has. A MariaDB position names only the last
 * transaction of each domain, so once a primary's seq passes an errant one a comparison no longer
 * shows it: a write of the replica's own is its own server id in its position. MySQL sets compare
 * exactly (what the replica has that the closest other server lacks).
 */
export function errantGtids(gtid: string, serverId: number | undefined, others: string[], flavor: GtidFlavor): string[] {
  if (flavor === 'mariadb') return split(gtid).filter((g) => serverId !== undefined && g.split('-')[1] === String(serverId));
  const gaps = others.map((o) => describeGaps(gtidMissing(o, gtid, flavor), flavor));
  return gaps.length ? gaps.reduce((a, b) => (a.length <= b.length ? a : b)) : [];
}

export const gtidContains = (have: string, want: string, flavor: GtidFlavor) => gtidMissing(have, want, flavor).length === 0;

/** One line per gap, for errors and reports. */
export function describeGaps(gaps: GtidGap[], flavor: GtidFlavor): string[] {
  return gaps.map((g) => {
    const where = flavor === 'mariadb' ? `domain ${g.domain}` : `source ${g.domain}`;
    return g.diverged
      ? `${where}: ${g.gtids} (the other side has ${g.diverged} at the same seq: histories diverged)`
      : `${where}: ${g.gtids}`;
  });
}
