import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeGaps,
  detectGtidFlavor,
  formatMariaGtidPos,
  formatMysqlGtidSet,
  gtidContains,
  gtidMissing,
  parseMariaGtidPos,
  parseMysqlGtidSet,
} from '../../lib/replication/gtid.js';

// MariaDB values were captured from the lab (fixtures/replication/gtid.mariadb.json).
const fx = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/replication/gtid.mariadb.json'), 'utf8'));

describe('MariaDB GTID positions (domain-server-seq)', () => {
  it('parses a multi-domain position and keeps the highest seq per domain (gtid_binlog_state from the lab)', () => {
    const st = parseMariaGtidPos(fx.db1_after_failover_and_back.gtid_binlog_state);
    expect(formatMariaGtidPos(st)).toBe(fx.db1_after_failover_and_back.gtid_binlog_pos);
    expect(formatMariaGtidPos(parseMariaGtidPos('1-2-3, 0-1-5'))).toBe('0-1-5,1-2-3');
    expect(parseMariaGtidPos('').size).toBe(0);
  });

  it('names the errant transaction a replica holds (lab capture: INSERT made on db2)', () => {
    const { primary_gtid_current_pos: p, replica_gtid_current_pos: r } = fx.errant;
    expect(gtidMissing(p, r, 'mariadb')).toEqual([{ domain: '0', gtids: '0-2-6' }]);
    expect(gtidMissing(r, p, 'mariadb')).toEqual([]);
    expect(describeGaps(gtidMissing(p, r, 'mariadb'), 'mariadb')).toEqual(['domain 0: 0-2-6']);
  });

  it('reports ranges, domains the other side lacks, and same-seq divergence per domain', () => {
    expect(gtidMissing('0-1-5', '0-1-9,1-3-2', 'mariadb')).toEqual([
      { domain: '0', gtids: '0-1-6..0-1-9' },
      { domain: '1', gtids: '1-3-1..1-3-2' },
    ]);
    expect(gtidMissing('0-1-6', '0-2-6', 'mariadb')).toEqual([{ domain: '0', gtids: '0-2-6', diverged: '0-1-6' }]);
    expect(gtidContains('0-1-9,1-3-2', '0-1-5', 'mariadb')).toBe(true);
    expect(gtidContains('', '', 'mariadb')).toBe(true);
  });

  it('rejects text that is not a GTID position, naming it', () => {
    expect(() => parseMariaGtidPos('0-1')).toThrow(/not a MariaDB GTID: "0-1"/);
  });
});

describe('MySQL GTID sets (uuid:intervals) — documented output shapes, not captured (the lab runs MariaDB)', () => {
  const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  const B = '2174b383-5441-11e8-b90a-c80aa9429562';

  it('parses the documented gtid_executed shape, multi-line as SHOW prints it, merging intervals', () => {
    const s = parseMysqlGtidSet(`${A.toUpperCase()}:1-5:7:6,\n${B}:1-3`);
    expect(formatMysqlGtidSet(s)).toBe(`${A}:1-7,${B}:1-3`);
  });

  it('subtracts sets: the documented GTID_SUBTRACT examples', () => {
    // GTID_SUBTRACT('…:21-57', '…:21') = '…:22-57'; GTID_SUBTRACT('…:21-57', '…:20-25') = '…:26-57'; '…:23-24' splits.
    expect(gtidMissing(`${A}:21`, `${A}:21-57`, 'mysql')).toEqual([{ domain: A, gtids: `${A}:22-57` }]);
    expect(gtidMissing(`${A}:20-25`, `${A}:21-57`, 'mysql')).toEqual([{ domain: A, gtids: `${A}:26-57` }]);
    expect(gtidMissing(`${A}:23-24`, `${A}:21-57`, 'mysql')).toEqual([{ domain: A, gtids: `${A}:21-22:25-57` }]);
  });

  it('names errant transactions per source uuid, and catches up when the set is contained', () => {
    const primary = `${A}:1-100`;
    const replica = `${A}:1-90,${B}:1-2`;
    expect(gtidMissing(primary, replica, 'mysql')).toEqual([{ domain: B, gtids: `${B}:1-2` }]);
    expect(describeGaps(gtidMissing(replica, primary, 'mysql'), 'mysql')).toEqual([`source ${A}: ${A}:91-100`]);
    expect(gtidContains(`${A}:1-100`, `${A}:5-9`, 'mysql')).toBe(true);
  });

  it('reads MySQL 8.4 tagged GTIDs (documented uuid:tag:n form) as their own member', () => {
    const s = parseMysqlGtidSet(`${A}:1-3:mytag:1-2`);
    expect(formatMysqlGtidSet(s)).toBe(`${A}:1-3,${A}:mytag:1-2`);
  });

  it('rejects a malformed set, naming the member', () => {
    expect(() => parseMysqlGtidSet('nope:1-3')).toThrow(/not a MySQL GTID set member: "nope:1-3"/);
    expect(() => parseMysqlGtidSet(`${A}:5-3`)).toThrow(/runs backwards/);
  });

  it('tells the two dialects apart from the text', () => {
    expect(detectGtidFlavor('0-1-5')).toBe('mariadb');
    expect(detectGtidFlavor(`${A}:1-5`)).toBe('mysql');
    expect(detectGtidFlavor('')).toBeUndefined();
  });
});
