import { pidOf, removeVipByHand, setLink, startCorosync, startMariadb, startPacemaker } from './cluster-ops.js';
import type { KilledProcess, Target } from './targets/target.js';
import { waitFor } from './util/wait.js';

/**
 * A power loss as the rest of the lab sees it: from this instant nothing leaves the host. The link
 * goes down first, then every process is killed, then the host's TCP state is dropped (a booted
 * host has none). Killed first, the processes' sockets said goodbye (FIN, RST) and told the peer
 * at once what a real power loss leaves it to find by timeout: the surviving replica's IO thread
 * then failed with error 2013 instead of 2003, and the mariadb agent restarted that replica in the
 * middle of the failover (found on the lab: 41 s without a primary in case 4).
 * Only where the harness reaches the host without its link (netns, containers).
 */
export async function cutPower(t: Target, host: string): Promise<KilledProcess[]> {
  await setLink(t, host, false);
  const killed = await t.killAll(host);
  await t.exec(host, ['ss', '-K', '-t', '-a'], { check: false, timeoutMs: 5_000 });
  await t.exec(host, ['sh', '-c', FORGET_MEMORY], { check: false, timeoutMs: 10_000 });
  return killed;
}

/**
 * What a power loss takes with the RAM: the contents of /dev/shm, /tmp and /run (a booted Debian
 * has them empty; tmpfiles.d recreates /run's directories, which are kept here). The lab's hosts
 * keep these filesystems as long as their init, which a power loss spares; left alone, each fence
 * left the killed daemons' libqb IPC buffers in /dev/shm until, after a few, corosync and
 * Pacemaker could not open IPC at all ("No space left on device" in /dev/shm: the rebooted host
 * never rejoined, found on the lab in 9-delay-2000ms), and a resource agent's state file in
 * /run/resource-agents said "running" to the probe of a host that had just booted. -xdev: the
 * power switch's socket (/run/mhc, a mount of its own) stays.
 */
export const FORGET_MEMORY = 'find /dev/shm /tmp -xdev -mindepth 1 -delete; find /run -xdev -mindepth 1 ! -type d -delete';

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
  await startMembership(t, host);
  did.push(t.profile.quorumDevice ? 'corosync, corosync-qdevice' : 'corosync');
  if (!t.profile.promotableMysql) {
    await startMariadb(t, host, 60_000);
    did.push('MariaDB');
  }
  await startPacemaker(t, host);
  did.push(t.profile.pacemakerRestart === 'on-failure' ? 'pacemaker (restarted on failure)' : 'pacemaker');
  return `${host}: ${did.join(', ')} started`;
}

/**
 * corosync, then the quorum device's client where the profile has one: it exits when corosync
 * does, so whatever starts corosync again must start it too, or the node runs without its vote
 * (and its peer, left alone later, without quorum: it never fences).
 */
export async function startMembership(t: Target, host: string): Promise<void> {
  await startCorosync(t, host);
  if (t.profile.quorumDevice) await startQdevice(t, host);
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
