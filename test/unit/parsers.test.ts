import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConstraintsXml, parseCrmMonXml } from '../../lib/probes/crm-mon.js';
import { hasAddress, parseIpJsonAddr } from '../../lib/probes/ip-addr.js';
import { daemonPids, parsePs } from '../../lib/probes/processes.js';
import { parseReplicaStatus } from '../../lib/mysql/dialect.js';
import { parseObservation } from '../../lib/observer.js';

// Every fixture here was captured from a running lab by scripts/capture-fixtures.ts.
const fx = (f: string) => readFileSync(join(import.meta.dirname, '../../fixtures/lab', f), 'utf8');

describe('crm_mon --output-as=xml', () => {
  it('reads a healthy two-node cluster: DC, nodes online, the VIP on one node', () => {
    const v = parseCrmMonXml(fx('crm_mon.healthy.xml'));
    expect(v.dc).toMatch(/^db[12]$/);
    expect(v.withQuorum).toBe(true);
    expect(v.nodes.map((n) => [n.name, n.online])).toEqual([
      ['db1', true],
      ['db2', true],
    ]);
    const vip = v.resources.find((r) => r.id === 'vip')!;
    expect(vip.agent).toBe('ocf:heartbeat:IPaddr2');
    expect(vip.active).toBe(true);
    expect(vip.runningOn).toHaveLength(1);
    expect(v.failures).toEqual([]);
    expect(v.bans).toEqual([]);
  });

  it('reads a failed action with its node, task and reason', () => {
    const v = parseCrmMonXml(fx('crm_mon.failed-action.xml'));
    expect(v.failures).toHaveLength(1);
    expect(v.failures[0]).toMatchObject({ node: 'db2', exitStatus: 'error', exitReason: 'Simulated failure', exitCode: 1 });
  });

  it('reads bans (cli-ban-*) that crm resource ban leaves', () => {
    const v = parseCrmMonXml(fx('crm_mon.banned.xml'));
    expect(v.bans).toEqual([{ id: 'cli-ban-vip-on-db1', resource: 'vip', node: 'db1', weight: -1000000 }]);
  });

  it('rejects text that is not crm_mon XML', () => {
    expect(() => parseCrmMonXml('<html/>')).toThrow(/not crm_mon XML/);
  });
});

describe('cibadmin --query --scope constraints', () => {
  it('finds the cli-prefer and cli-ban constraints a forced move leaves behind', () => {
    const c = parseConstraintsXml(fx('cibadmin-constraints.moved.xml'));
    expect(c.map((x) => [x.id, x.node, x.score, x.cli])).toEqual([
      ['cli-prefer-vip', 'db2', 'INFINITY', true],
      ['cli-ban-vip-on-db1', 'db1', '-INFINITY', true],
    ]);
  });
});

describe('ip -j addr show', () => {
  it('sees the VIP on the holder only', () => {
    const db1 = parseIpJsonAddr(fx('ip-addr.db1.json'));
    const db2 = parseIpJsonAddr(fx('ip-addr.db2.json'));
    const holders = [hasAddress(db1, '10.11.22.100', 'eth1'), hasAddress(db2, '10.11.22.100', 'eth1')];
    expect(holders.filter(Boolean)).toHaveLength(1);
    expect(hasAddress(db1, '10.11.22.101', 'eth1')).toBe(true);
    expect(hasAddress(db1, '10.11.22.101', 'lo')).toBe(false);
    expect(db1.find((i) => i.ifname === 'eth1')?.up).toBe(true);
  });
});

describe('ps -e -o pid=,ppid=,comm=', () => {
  it('finds corosync, pacemakerd and all six children, with kernel-truncated names', () => {
    const d = daemonPids(parsePs(fx('ps.db1.txt')));
    for (const k of [
      'corosync',
      'pacemakerd',
      'pacemaker-based',
      'pacemaker-fenced',
      'pacemaker-execd',
      'pacemaker-attrd',
      'pacemaker-schedulerd',
      'pacemaker-controld',
      'mariadbd',
      'sshd',
    ] as const) {
      expect(d[k], k).toBeGreaterThan(0);
    }
  });
});

describe('SHOW SLAVE STATUS (MariaDB 10.11)', () => {
  it('reads the replica: both threads running, GTID position, source', () => {
    const rows = JSON.parse(fx('show-slave-status.db2.json'));
    const s = parseReplicaStatus(rows[0])!;
    expect(s).toMatchObject({ sourceHost: '10.11.22.101', sourcePort: 3306, ioRunning: 'Yes', sqlRunning: 'Yes', usingGtid: true });
    expect(s.gtidReceived).toMatch(/^0-1-\d+$/);
  });
  it('a primary has no rows', () => {
    expect(parseReplicaStatus(JSON.parse(fx('show-slave-status.db1.json'))[0])).toBeUndefined();
  });
});

describe("the observer's sample (clock, ip -j addr, ps in one command)", () => {
  it('reads the host clock in ms, the VIP, the link and the daemons', () => {
    const vipOnDb1 = hasAddress(parseIpJsonAddr(fx('ip-addr.db1.json')), '10.11.22.100', 'eth1');
    const s = parseObservation(`#clock 1764295200123456789\n${fx('ip-addr.db1.json')}\n#ps\n${fx('ps.db1.txt')}`, '10.11.22.100', 'eth1');
    expect(s.clockMs).toBeCloseTo(1764295200123.457, 2);
    expect(s.node).toMatchObject({ vip: vipOnDb1, linkUp: true, corosync: true, pacemakerd: true });
    expect(s.node.children).toHaveLength(6);
    // A host that printed no clock (an older command) still gives its sample, without a time of its own.
    expect(parseObservation(`${fx('ip-addr.db1.json')}\n#ps\n`, '10.11.22.100', 'eth1').clockMs).toBeUndefined();
  });

  it("crm_mon reports pacemakerd's own state (a pacemakerd stuck in its shutdown lists every child)", () => {
    expect(parseCrmMonXml(fx('crm_mon.healthy.xml')).pacemakerdState).toBe('running');
  });
});
