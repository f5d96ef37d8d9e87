import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudits } from '../../lib/checks/audits.js';
import type { ClusterStatus } from '../../lib/probes/status.js';

// `npm run lab -- status --json` on the hardened lab after case 2 (MariaDB run by Pacemaker's
// mariadb agent): db1 promoted and holding the VIP, db2 its read_only replica.
const healthy = (): ClusterStatus =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/lab/status.hardened.healthy.json'), 'utf8')) as ClusterStatus;
const replicationAudit = (s: ClusterStatus) => runAudits(s).find((a) => a.audit.startsWith('replication healthy'))!;
const db = (s: ClusterStatus, host: string) => s.replication.find((r) => r.host === host)!;
/** db1 as the agent leaves a node it promoted: its old replica configuration in place, threads stopped. */
const staleChannel = (s: ClusterStatus, running: 'No' | 'Yes' = 'No') => {
  db(s, 'db1').replica = { ...db(s, 'db2').replica!, sourceHost: '10.11.40.102', ioRunning: running, sqlRunning: 'No' };
  return s;
};

describe("the quorum device's audit", () => {
  // The fixture was saved before statuses said whether the profile has a quorum device; the hardened one has.
  const qdeviceAudit = (s: ClusterStatus) => runAudits(s).find((a) => a.audit.startsWith("the quorum device's client"))!;
  const hardened = () => ({ ...healthy(), quorumDevice: true });

  it('passes with corosync-qdevice beside corosync on both nodes', () => {
    expect(qdeviceAudit(hardened()).ok).toBe(true);
  });

  it('fails for a node whose corosync was restarted without its qdevice (found on the lab: its peer, left alone, never fenced)', () => {
    const s = hardened();
    delete s.daemons.db1!['corosync-qdevice'];
    expect(qdeviceAudit(s)).toEqual({
      audit: "the quorum device's client (corosync-qdevice) on every db node",
      ok: false,
      detail: 'corosync runs without corosync-qdevice on db1: no quorum device vote there',
    });
  });

  it('asks nothing of a profile without a quorum device, nor of a node whose corosync is down (another audit says so)', () => {
    const seed = { ...hardened(), quorumDevice: false };
    delete seed.daemons.db1!['corosync-qdevice'];
    expect(qdeviceAudit(seed).ok).toBe(true);
    const down = hardened();
    delete down.daemons.db2!.corosync;
    delete down.daemons.db2!['corosync-qdevice'];
    expect(qdeviceAudit(down).ok).toBe(true);
  });
});

describe('the shared audits where Pacemaker runs MariaDB', () => {
  it('the recorded healthy cluster passes every audit', () => {
    expect(runAudits(healthy()).filter((a) => !a.ok)).toEqual([]);
  });

  it("a promoted node's stopped, stale replica configuration is harmless", () => {
    expect(replicationAudit(staleChannel(healthy())).ok).toBe(true);
  });

  it('the same stale configuration with a thread running is a primary replicating too', () => {
    expect(replicationAudit(staleChannel(healthy(), 'Yes')).detail).toBe('primary db1 is replicating too (a replica thread runs)');
  });

  it('the VIP on the replica while the primary is elsewhere fails', () => {
    const s = healthy();
    s.vip.holders = ['db2'];
    s.vip.pacemakerSays = ['db2'];
    expect(replicationAudit(s).detail).toBe('the VIP is on db2, the primary is db1');
  });

  it('two writable servers fail', () => {
    const s = healthy();
    db(s, 'db2').readOnly = false;
    expect(replicationAudit(s).detail).toBe('2 writable servers (want exactly 1: the promoted one)');
  });

  it('where the operator runs replication (the seed), the same stale configuration is a second replica', () => {
    const s = staleChannel(healthy());
    s.mysqlRunBy = 'operator';
    expect(replicationAudit(s).detail).toBe('2 replicas (want exactly 1)');
  });
});

describe('a replica with its own server id in its GTID position', () => {
  /** db2 was the primary last, wrote 0-2-2058, then db1 was promoted with nothing written since (recorded in case 4 of the first hardened run). */
  const failedBack = (primaryGtid: string) => {
    const s = healthy();
    db(s, 'db2').gtidExecuted = '0-2-2058';
    db(s, 'db1').gtidExecuted = primaryGtid;
    return s;
  };

  it('is not errant when the primary holds the same transaction (it took it from this server)', () => {
    expect(replicationAudit(failedBack('0-2-2058')).ok).toBe(true);
  });

  it('is errant when the primary does not hold it (a write past the primary)', () => {
    expect(replicationAudit(failedBack('0-1-2057')).detail).toBe(
      'replica db2 has transactions of its own (GTID 0-2-2058): writes bypassed replication',
    );
  });
});
