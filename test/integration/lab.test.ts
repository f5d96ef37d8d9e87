import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Profile } from '../../lib/profile/load.js';
import { clusterStatus } from '../../lib/probes/status.js';
import { NetnsLab, destroyLab, leftovers, type StartedNetnsLab } from '../../lib/targets/netns/lab.js';
import { readState } from '../../lib/targets/netns/state.js';
import { silentLog } from '../../lib/util/log.js';

// Its own name and subnet, so it can run beside the suite's lab.
const NAME = 'itest';
const SUBNET = '10.11.98.0/24';

describe('netns lab', () => {
  afterAll(() => destroyLab(NAME).catch(() => undefined));

  it('comes up as the notebook\'s cluster and goes down leaving nothing', async () => {
    const lab: StartedNetnsLab = await new NetnsLab(Profile.load('seed')).withName(NAME).withSubnet(SUBNET).withLog(silentLog()).start();
    const state = readState(NAME)!;
    try {
      const s = await clusterStatus(lab);
      expect(s.nodes).toEqual([{ name: 'db1', online: true }, { name: 'db2', online: true }]);
      expect(s.dc).toMatch(/^db[12]$/);
      expect(s.vip.holders).toHaveLength(1);
      expect(s.vip.holders).toEqual(s.vip.pacemakerSays);
      expect(s.failedActions).toEqual([]);
      const [db1, db2] = s.replication;
      expect(db1).toMatchObject({ host: 'db1', reachable: true, readOnly: false, replica: undefined });
      expect(db2).toMatchObject({ host: 'db2', reachable: true, readOnly: true });
      expect(db2!.replica).toMatchObject({ sourceHost: '10.11.98.101', ioRunning: 'Yes', sqlRunning: 'Yes', usingGtid: true });

      // Each host is a host of its own: name, eth1, private /var/lib/mysql.
      expect((await lab.exec('db2', ['hostname'])).stdout.trim()).toBe('db2.localnet');
      expect((await lab.exec('db1', ['ip', '-br', 'addr', 'show', 'eth1'])).stdout).toContain('10.11.98.101/24');
      expect((await lab.exec('db1', ['cat', '/etc/hostname'])).stdout.trim()).toBe('db1.localnet');
      // Nothing of the lab subnet in this machine's own network namespace.
      expect(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' })).not.toContain('10.11.98.');
    } finally {
      await lab.stop();
    }
    expect(leftovers(NAME, state)).toEqual([]);
    for (const p of Object.values(state.hosts)) expect(() => process.kill(p.initPid, 0)).toThrow();
  });

  it('a profile Pacemaker rejects is an error naming the file and line, and leaves nothing', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mhc-bad-'));
    cpSync(Profile.load('seed').dir, d, { recursive: true });
    const crm = join(d, 'cluster.crm');
    // The notebook's own property, which Pacemaker 2 no longer accepts.
    writeFileSync(crm, readFileSync(crm, 'utf8').replace('stonith-enabled=false', 'stonith-enabled=false default-resource-stickiness=INFINITY'));
    const line = readFileSync(crm, 'utf8').split('\n').findIndex((l) => l.includes('default-resource-stickiness=INFINITY')) + 1;
    await expect(new NetnsLab(Profile.load(d)).withName(NAME).withSubnet(SUBNET).withLog(silentLog()).start())
      .rejects.toThrow(new RegExp(`rejected .*cluster\\.crm line ${line}:[\\s\\S]*default-resource-stickiness`));
    expect(leftovers(NAME)).toEqual([]);
  });
});
