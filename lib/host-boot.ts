import { pidOf, removeVipByHand, setLink, startCorosync, startMariadb, startPacemaker } from './cluster-ops.js';
import type { Target } from './targets/target.js';
import { waitFor } from './util/wait.js';

/**
 * A db host boots as its enabled units would start it: link up without the VIP (IPaddr2 adds it
 * at run time; a booted host has none), sshd where a power loss took it, then the notebook's
 * order — corosync, the quorum device client if the profile has one, MariaDB unless Pacemaker
 * runs it, pacemaker. Each start is skipped when the daemon runs: booting twice is harmless.
 * Returns what it did, for the history.
 */
export async function bootHost(t: Target, host: string, opts: { startSshd: boolean }): Promise<string> {
  const did: string[] = [];
  await setLink(t, host, true);
  if (!(await pidOf(t, host, 'corosync')) && (await removeVipByHand(t, host))) did.push('the VIP removed (a booted host has none)');
  if (opts.startSshd && !(await pidOf(t, host, 'sshd'))) {
    await t.startDaemon(host, 'sshd');
    did.push('sshd');
  }
  await startCorosync(t, host);
  did.push('corosync');
  if (t.profile.quorumDevice) {
    await startQdevice(t, host);
    did.push('corosync-qdevice');
  }
  if (!t.profile.promotableMysql) {
    await startMariadb(t, host, 60_000);
    did.push('MariaDB');
  }
  await startPacemaker(t, host);
  did.push(t.profile.pacemakerRestart === 'on-failure' ? 'pacemaker (restarted on failure)' : 'pacemaker');
  return `${host}: ${did.join(', ')} started`;
}

/** corosync-qdevice on a db host (after corosync), unless it runs; waits until its process is up. */
export async function startQdevice(t: Target, host: string, timeoutMs = 10_000): Promise<void> {
  if (await pidOf(t, host, 'corosync-qdevice')) return;
  await t.startDaemon(host, 'qdevice');
  await waitFor(`corosync-qdevice on ${host} to run`, async () => !!(await pidOf(t, host, 'corosync-qdevice')), {
    timeoutMs,
    intervalMs: 100,
  });
}
