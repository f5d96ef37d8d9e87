import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditUntilHealthy } from '../../lib/checks/audits.js';
import { recordFencing } from '../../lib/fencing/observe.js';
import { History } from '../../lib/history.js';
import { describeFence, type FenceOperation, fenceHistory } from '../../lib/probes/fencing.js';
import { Profile } from '../../lib/profile/load.js';
import { NetnsLab, destroyLab, type StartedNetnsLab } from '../../lib/targets/netns/lab.js';
import { powerEventsFile } from '../../lib/targets/netns/power.js';
import { silentLog } from '../../lib/util/log.js';
import { waitFor } from '../../lib/util/wait.js';

// The hardened profile's fence path end to end, on a lab of its own: pacemaker-fenced on db1 runs
// fence_mhc, which asks the lab's power switch (outside the hosts) to reboot db2; db2 loses power,
// boots, and Pacemaker makes it a replica again. Then a lost node that cannot be fenced.
const NAME = 'fence';
const SUBNET = '10.11.61.0/24';

/** The switch's requests and boots but its monitors' list requests, for a failure's message. */
const switchEvents = () =>
  existsSync(powerEventsFile(NAME))
    ? readFileSync(powerEventsFile(NAME), 'utf8')
        .split('\n')
        .filter((l) => l && !l.includes('"list"'))
        .join('\n')
    : '(no events file)';

// Not in the default run yet: the first test failed in 3 of 14 runs on this machine (db2 powered
// off and never booted again within 90 s; the switch's events are in the failure message), and a
// flaky test is a red CI waiting to happen. Since the power-off fix (cutPower: link down first) it
// passed 10 of 10 runs (2026-11-28); the cause of the old failures is not proven gone.
// MHC_FENCING_TESTS=1 runs the file.
describe.skipIf(process.env.MHC_FENCING_TESTS !== '1')('fencing through the lab power switch (profiles/hardened)', () => {
  let lab: StartedNetnsLab;

  beforeAll(async () => {
    lab = await new NetnsLab(Profile.load('hardened')).withName(NAME).withSubnet(SUBNET).withOwner().withLog(silentLog()).start();
  });

  afterAll(async () => {
    // MHC_KEEP_FAILED_LAB=1 keeps it for inspection, as it does a lab that fails to come up.
    if (process.env.MHC_KEEP_FAILED_LAB !== '1') await destroyLab(NAME);
  });

  it('stonith_admin --reboot db2 on db1: db2 is powered off and on, boots, rejoins as a replica; the fencing is in the history', async () => {
    const h = new History();
    const corosyncBefore = (await lab.exec('db2', ['pidof', 'corosync'])).stdout.trim();
    const r = await lab.exec('db1', ['stonith_admin', '--reboot', 'db2', '--timeout', '60'], { check: false, timeoutMs: 90_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    // A power loss and a boot: db2's corosync is a new process.
    expect((await lab.exec('db2', ['pidof', 'corosync'], { check: false })).stdout.trim()).not.toBe(corosyncBefore);
    expect(await recordFencing(lab, h, 0)).toBe(1);
    const fence = h.events.find((e) => e.type === 'fence');
    expect(fence?.type === 'fence' && fence.op).toMatchObject({ target: 'db2', action: 'reboot', status: 'success', origin: 'db1' });
    const a = await auditUntilHealthy(lab, 90_000);
    const failing = a.results.filter((x) => !x.ok);
    expect(failing, `${JSON.stringify(failing)}\npower switch events:\n${switchEvents()}`).toEqual([]);
  });

  it("the switch out of the fencer's reach: Pacemaker's fencing of a lost node fails, is recorded as failed, and is given up", async () => {
    // Hide db1's switch socket (a tmpfs over /run/mhc in db1's mount namespace): fence_mhc there
    // cannot connect. Then db2 (the replica) loses corosync: db1's controller must fence it.
    await lab.exec('db1', ['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', '/run/mhc']);
    let ops: FenceOperation[] = [];
    try {
      await lab.sh('db2', 'kill -9 $(pidof corosync)');
      // stonith-max-attempts (10) failures about 2 s apart, then the controller gives up.
      ops = await waitFor(
        "db1's controller to record failed fencing of db2",
        async () => {
          const all = (await fenceHistory(lab)) ?? [];
          return all.filter((o) => o.status === 'failed' && o.target === 'db2').length >= 3 ? all : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
    } finally {
      await lab.exec('db1', ['umount', '/run/mhc']);
    }
    const failed = ops.filter((o) => o.status === 'failed');
    expect(failed[0]).toMatchObject({
      target: 'db2',
      action: 'reboot',
      origin: 'db1',
      client: expect.stringMatching(/^pacemaker-controld/),
    });
    expect(describeFence(failed[0]!)).toBe('fencing of db2 (reboot) by db1 failed');
    // With the switch back, nothing fences db2 until the failures are cleaned up (the controller
    // gave up); then db2 is fenced, boots and rejoins.
    await lab.exec('db1', ['crm_resource', '--cleanup'], { timeoutMs: 30_000 });
    const a = await auditUntilHealthy(lab, 120_000);
    const failing = a.results.filter((x) => !x.ok);
    expect(failing, JSON.stringify(failing)).toEqual([]);
  });
});
