import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileTempDir } from '../support/temp-dir.js';
import { auditUntilHealthy } from '../../lib/checks/audits.js';
import { LADDER, heal } from '../../lib/heal.js';
import { clusterDaemons, crmMon } from '../../lib/probes/cluster.js';
import { waitFor } from '../../lib/util/wait.js';
import { Profile } from '../../lib/profile/load.js';
import { runCase } from '../../lib/run-case.js';
import { CASE_2_STOP } from '../support/cases.js';
import { NetnsLab, destroyLab, type StartedNetnsLab } from '../../lib/targets/netns/lab.js';
import { silentLog } from '../../lib/util/log.js';

// The heal ladder against planted failures that defeat its lower rungs, on a lab of its own; after
// each, the next case must run as on a fresh cluster (one case's bad end costs that case only).
const NAME = 'heal';
const SUBNET = '10.11.52.0/24';
const RESULTS = fileTempDir('mhc-heal-results-');

describe('heal ladder', () => {
  let lab: StartedNetnsLab;

  beforeAll(async () => {
    // Held by this worker, as the suite's lab is held by vitest's main process: a rebuild by the
    // holder (or its children) is allowed.
    lab = await new NetnsLab(Profile.load('seed')).withName(NAME).withSubnet(SUBNET).withOwner().withLog(silentLog()).start();
  });

  afterAll(async () => {
    await destroyLab(NAME);
  });

  /** The next case after a heal runs normally: its act is judged and its audits pass. */
  const nextCaseRunsNormally = async () => {
    const lines: string[] = [];
    const { record } = await runCase(lab, CASE_2_STOP, {
      runId: 'heal-test',
      repetition: 1,
      resultsDir: RESULTS,
      writes: false,
      log: (l) => lines.push(l),
    });
    // The seed's expectation for this act: the VIP moves to the read_only replica (a hazard of its design).
    expect(
      record.acts.map((a) => a.verdict),
      lines.join('\n'),
    ).toEqual(['hazard']);
    expect(record.acts[0]!.outcome.vipAfter).toBe('moved');
    expect(record.auditsOk, lines.join('\n')).toBe(true);
    expect(record.healed).toBe(false);
  };

  it('a pacemakerd stuck in its shutdown (a child that does not end on SIGTERM) is killed by PID and started again', async () => {
    // What a CI run was left in after kill -9 pacemaker-based: pacemakerd shutting down and
    // waiting for a child that does not end (there pacemaker-controld, whose shutdown request
    // could not be written without pacemaker-attrd; Pacemaker waits up to shutdown-escalation,
    // 20 min). Planted here the same way every time: pacemaker-controld stopped (SIGSTOP), then
    // `service pacemaker stop`. pacemakerd itself kills a child unresponsive for ~35 s: the ladder's
    // 20 s bound on a clean stop ends first.
    const node = 'db1';
    const d = await clusterDaemons(lab, node);
    await lab.kill(node, d['pacemaker-controld']!, 'SIGSTOP');
    await lab.kill(node, d.pacemakerd!, 'SIGTERM');
    await waitFor(
      `pacemakerd on ${node} to report shutting_down`,
      async () => (await crmMon(lab, node))?.pacemakerdState === 'shutting_down',
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect((await auditUntilHealthy(lab, 0)).results.map((r) => r.detail).join('; ')).toMatch(/db1: pacemakerd shutting_down/);
    const lines: string[] = [];
    const h = await heal(lab, (l) => lines.push(l));
    expect(h.ok, lines.join('\n')).toBe(true);
    expect(h.rungs.map((r) => r.rung)).toEqual([LADDER[0]!.name, LADDER[1]!.name]);
    expect(h.rungs[0]!.detail, lines.join('\n')).toMatch(new RegExp(`timed out after 20\\.0 s waiting for pacemaker on ${node} to stop`));
    expect(h.healedBy).toBe(LADDER[1]!.name);
    expect(h.rebuilt).toBe(false);
    expect((await clusterDaemons(lab, node))['pacemaker-controld']).not.toBe(d['pacemaker-controld']);
    await nextCaseRunsNormally();
  });

  it('a node whose corosync cannot start (corosync.conf broken) is beyond repair in place: the lab is rebuilt from the profile', async () => {
    await lab.sh('db2', 'echo "totem {" > /etc/corosync/corosync.conf');
    await lab.kill('db2', (await clusterDaemons(lab, 'db2')).corosync!, 'SIGKILL');
    const lines: string[] = [];
    const h = await heal(lab, (l) => lines.push(l));
    expect(h.ok, lines.join('\n')).toBe(true);
    expect(h.rungs.map((r) => r.ok)).toEqual([false, false, false, true]);
    expect(h.rungs[1]!.detail).toMatch(/corosync on db2 exited right after it was started/);
    expect(h.rebuilt).toBe(true);
    expect((await auditUntilHealthy(lab, 0)).ok).toBe(true);
    await nextCaseRunsNormally();
  });
});
