import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { testTempDir } from '../support/temp-dir.js';
import { Profile } from '../../lib/profile/load.js';
import { clusterStatus } from '../../lib/probes/status.js';
import { corosyncKill, pacemakerStop } from '../../lib/faults/index.js';
import { fenceHistory } from '../../lib/probes/fencing.js';
import { runCase } from '../../lib/run-case.js';
import { ContainersCluster, type StartedContainersCluster } from '../../lib/targets/containers/cluster.js';
import { DockerEngine } from '../../lib/targets/containers/engine.js';
import { ensureImage } from '../../lib/targets/containers/image.js';
import { silentLog } from '../../lib/util/log.js';

// Its own cluster name (engine netns mhc-docker-ctest) and subnet, so it can run beside any lab.
// The first run builds the node image (debootstrap, ~1 min here, cached in /var/lib/mysql-ha-chaos/images).
const NAME = 'ctest';
const SUBNET = '10.11.33.0/24';

/** A container cluster of `profile` up under this file's name and subnet, with its dockerd's PID (gone once it is down). */
async function startCluster(profile: string): Promise<{ c: StartedContainersCluster; dockerdPid: number }> {
  const c = await new ContainersCluster(Profile.load(profile)).withName(NAME).withSubnet(SUBNET).withLog(silentLog()).start();
  return { c, dockerdPid: c.engine.pid! };
}

/** Nothing of a stopped cluster left: containers, network, dockerd, its namespace. */
function expectNothingLeft(engine: DockerEngine, dockerdPid: number) {
  expect(engine.leftovers()).toEqual([]);
  expect(() => process.kill(dockerdPid, 0)).toThrow();
  expect(existsSync(`/run/netns/${engine.netns}`)).toBe(false);
}

/** What every profile's cluster shows once up: both nodes online, one VIP where Pacemaker has it, short host names, the profile's addresses. */
async function expectUp(c: StartedContainersCluster) {
  expect(c.kind).toBe('containers');
  const s = await clusterStatus(c);
  expect(s.nodes).toEqual([
    { name: 'db1', online: true },
    { name: 'db2', online: true },
  ]);
  expect(s.vip.holders).toHaveLength(1);
  expect(s.vip.holders).toEqual(s.vip.pacemakerSays);
  expect((await c.exec('db2', ['hostname'])).stdout.trim()).toBe('db2');
  expect((await c.exec('db1', ['ip', '-br', 'addr', 'show', 'eth1'])).stdout).toContain('10.11.33.101/24');
  return s;
}

describe('containers target', () => {
  afterAll(() => new DockerEngine(NAME).stop().catch(() => undefined));

  it(
    'brings up db1, db2, batch1 as containers, runs case 2-stop on them and goes down leaving nothing',
    async () => {
      const { c, dockerdPid } = await startCluster('seed');
      try {
        const s = await expectUp(c);
        const [, db2] = s.replication;
        expect(db2!.replica).toMatchObject({ sourceHost: '10.11.33.101', ioRunning: 'Yes', sqlRunning: 'Yes', usingGtid: true });
        // dockerd and the containers' network live in the engine's namespace, not this machine's.
        expect(execFileSync('readlink', [`/proc/${dockerdPid}/ns/net`], { encoding: 'utf8' })).not.toBe(
          execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }),
        );
        expect(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' })).not.toContain('10.11.33.');

        // Case 2-stop of scenarios/02-pacemaker-stop.test.ts, end to end on the containers.
        const { record } = await runCase(
          c,
          {
            id: '2-stop',
            title: 'pacemaker stop on the VIP holder',
            acts: ({ holder }) => [{ id: '2-pacemaker-stop', fault: pacemakerStop(holder) }],
          },
          { runId: `containers-itest-${Date.now()}`, repetition: 1, resultsDir: testTempDir('mhc-ctr-'), log: () => {} },
        );
        expect(record.target).toContain('containers');
        // A pass or a hazard, as the scenario suite takes it: an inconclusive act (a change found
        // only by a watcher's periodic look, too few writes) fails a run too.
        expect(
          record.acts.filter((a) => a.verdict === 'fail' || a.verdict === 'inconclusive'),
          JSON.stringify(record.acts.map((a) => ({ verdict: a.verdict, inconclusive: a.inconclusive, mismatches: a.mismatches }))),
        ).toEqual([]);
        expect(record.audits.filter((a) => !a.ok)).toEqual([]);
        expect(record.recoveryErrors).toEqual([]);
      } finally {
        await c.stop();
      }
      expectNothingLeft(c.engine, dockerdPid);
    },
    20 * 60_000,
  );

  it('names the fix when the image is missing and may not be built', async () => {
    // An engine of its own (empty data root) and an empty tarball cache: refused, naming the fix.
    const e = new DockerEngine('ctest-noimg');
    await e.start();
    try {
      await expect(ensureImage(e, silentLog(), { build: false, cacheDir: testTempDir('mhc-noimg-') })).rejects.toThrow(
        /image mysql-ha-chaos\/node:\w+ is missing[\s\S]*MHC_CONTAINERS_BUILD/,
      );
    } finally {
      await e.stop();
      rmSync(e.dataRoot, { recursive: true, force: true });
    }
    expect(e.leftovers()).toEqual([]);
  }, 120_000);
});

// Opt-in (MHC_CONTAINERS_HARDENED=1): it failed in 3 of its first 6 runs here (2026-11-29), the
// fenced holder reported with 3–5 of its 6 pacemaker children for 90 s while all six ran: the
// host watcher's 5 s tick, its check against missed events, was put off by every other sample
// (agents exec `pacemakerd -$` every few seconds), so a child whose exec went unseen stayed unseen.
// With the tick on its own clock it passed 3 of 3. The cause of the unseen exec, found on the lab
// under load (2026-11-29): a child pacemakerd forks is named pacemakerd until its exec is through,
// and the watcher, reading it before that, stopped reading it (fixed in host-watch.py; a change
// only the tick finds is now reported and makes the act inconclusive). Since: 2 of 2. It stays
// opt-in for its 75 s, which the default run's time cannot take.
describe.skipIf(process.env.MHC_CONTAINERS_HARDENED !== '1')('containers target, hardened profile', () => {
  afterAll(() => new DockerEngine(NAME).stop().catch(() => undefined));

  it(
    'brings up the hardened profile as containers (qnetd, MariaDB under Pacemaker, the power switch), fences the VIP holder on kill -9 corosync, and goes down leaving nothing',
    async () => {
      const { c, dockerdPid } = await startCluster('hardened');
      const switchPid = c.powerSwitchPid!;
      try {
        const s = await expectUp(c);
        // The quorum device counts (qnetd in batch1), and the switch is a process of this machine, outside the containers.
        expect((await c.exec('db1', ['corosync-cmapctl', '-g', 'runtime.votequorum.qdevice_can_operate'])).stdout).toMatch(/= 1$/m);
        expect(() => process.kill(switchPid, 0)).not.toThrow();
        // dockerd and the containers' network live in the engine's namespace, not this machine's.
        expect(execFileSync('readlink', [`/proc/${dockerdPid}/ns/net`], { encoding: 'utf8' })).not.toBe(
          execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }),
        );
        expect(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' })).not.toContain('10.11.33.');

        // Case 6 of scenarios/06-kill-corosync.test.ts: the holder loses corosync, its peer fences it
        // through fence_mhc and the switch, and the VIP follows the promoted replica.
        const holder = s.vip.holders[0]!;
        const since = Date.now();
        const { record } = await runCase(
          c,
          {
            id: '6',
            title: 'kill -9 corosync on the VIP holder',
            acts: ({ holder: h }) => [{ id: '6-kill-corosync', fault: corosyncKill(h) }],
          },
          { runId: `containers-itest-${Date.now()}`, repetition: 1, resultsDir: testTempDir('mhc-ctr-'), log: () => {} },
        );
        expect(record.target).toContain('containers');
        const fenced = ((await fenceHistory(c)) ?? []).filter((op) => (op.completedAt ?? 0) >= since - 1000);
        expect(fenced).toEqual([expect.objectContaining({ target: holder, action: 'reboot', status: 'success' })]);
        expect(
          record.acts.map((a) => a.verdict),
          JSON.stringify(record.acts.map((a) => ({ seen: a.seen, mismatches: a.mismatches }))),
        ).toEqual(['pass']);
        expect(record.audits.filter((a) => !a.ok)).toEqual([]);
        expect(record.recoveryErrors).toEqual([]);
      } finally {
        await c.stop();
      }
      expectNothingLeft(c.engine, dockerdPid);
      expect(() => process.kill(switchPid, 0)).toThrow();
    },
    20 * 60_000,
  );
});
