import { connectMysql } from './mysql/connect.js';
import { clusterDaemons } from './probes/cluster.js';
import { PACEMAKER_CHILDREN, type ClusterDaemon } from './probes/processes.js';
import type { Target } from './targets/target.js';
import { HarnessError } from './util/errors.js';
import { waitFor } from './util/wait.js';

/**
 * The operator's service commands, in terms any target can carry out: `service X start|stop`
 * becomes start-in-background / SIGTERM-by-PID-and-wait, as the init scripts did.
 */

export async function pidOf(t: Target, host: string, daemon: ClusterDaemon): Promise<number | undefined> {
  return (await clusterDaemons(t, host))[daemon];
}

async function requirePid(t: Target, host: string, daemon: ClusterDaemon): Promise<number> {
  const pid = await pidOf(t, host, daemon);
  if (!pid) throw new HarnessError(`${daemon} is not running on ${host}`);
  return pid;
}

/** `kill -SIG <pid>` of a daemon found by name; returns the PID signalled. */
export async function signalDaemon(t: Target, host: string, daemon: ClusterDaemon, signal: NodeJS.Signals): Promise<number> {
  const pid = await requirePid(t, host, daemon);
  await t.kill(host, pid, signal);
  return pid;
}

const pacemakerGone = async (t: Target, host: string) => {
  const d = await clusterDaemons(t, host);
  return !d.pacemakerd && PACEMAKER_CHILDREN.every((c) => !d[c]);
};

/** service pacemaker stop: SIGTERM to pacemakerd, which stops resources and its children. */
export async function stopPacemaker(t: Target, host: string, timeoutMs = 60_000): Promise<void> {
  await signalDaemon(t, host, 'pacemakerd', 'SIGTERM');
  await waitFor(`pacemaker on ${host} to stop after SIGTERM to pacemakerd`, () => pacemakerGone(t, host), { timeoutMs, intervalMs: 100 });
}

/** service pacemaker start. Waits until pacemakerd and all six children run. */
export async function startPacemaker(t: Target, host: string, timeoutMs = 30_000): Promise<void> {
  if (!(await pidOf(t, host, 'corosync')))
    throw new HarnessError(
      `cannot start pacemaker on ${host}: corosync is not running there`,
      'start corosync first, as the notebook does',
    );
  if (!(await pidOf(t, host, 'pacemakerd'))) await t.startDaemon(host, 'pacemaker');
  await waitFor(
    `pacemakerd and its six children on ${host}`,
    async () => {
      const d = await clusterDaemons(t, host);
      return !!d.pacemakerd && PACEMAKER_CHILDREN.every((c) => d[c]);
    },
    { timeoutMs, intervalMs: 100 },
  );
}

export async function stopCorosync(t: Target, host: string, timeoutMs = 30_000): Promise<void> {
  await signalDaemon(t, host, 'corosync', 'SIGTERM');
  await waitFor(`corosync on ${host} to exit after SIGTERM`, async () => !(await pidOf(t, host, 'corosync')), {
    timeoutMs,
    intervalMs: 100,
  });
}

export async function startCorosync(t: Target, host: string, timeoutMs = 30_000): Promise<void> {
  if (!(await pidOf(t, host, 'corosync'))) await t.startDaemon(host, 'corosync');
  const started = Date.now();
  await waitFor(
    `corosync on ${host} to answer (corosync-cmapctl)`,
    async () => {
      if (
        (await t.exec(host, ['corosync-cmapctl', '-g', 'runtime.votequorum.this_node_id'], { check: false, timeoutMs: 3_000 })).exitCode ===
        0
      )
        return true;
      // A corosync that exits at start (a bad corosync.conf) will not answer later: say so now.
      // (After a second: until it has exec'd, the new process is still named setsid or sh.)
      if (Date.now() - started > 1_000 && !(await pidOf(t, host, 'corosync')))
        throw new DaemonExited(
          `corosync on ${host} exited right after it was started (bad /etc/corosync/corosync.conf? see /var/log/corosync there)`,
        );
      return false;
    },
    { timeoutMs, intervalMs: 100, fatal: DaemonExited },
  );
}

/** A daemon that was started and is gone again: its wait ends at once. */
export class DaemonExited extends HarnessError {}

/** The notebook's manual VIP removal: ip addr del VIP/cidr dev eth1 (no error if absent). */
export async function removeVipByHand(t: Target, host: string): Promise<boolean> {
  const { ip, cidrNetmask } = t.profile.vip;
  const r = await t.exec(host, ['ip', 'addr', 'del', `${ip}/${cidrNetmask}`, 'dev', t.profile.nic], { check: false });
  return r.exitCode === 0;
}

export async function setLink(t: Target, host: string, up: boolean): Promise<void> {
  await t.exec(host, ['ip', 'link', 'set', t.profile.nic, up ? 'up' : 'down']);
}

/**
 * corosync's token and consensus timeouts (ms) as the corosync running on `host` uses them
 * (runtime cmap); corosync 3's defaults (token 3000, consensus 1.2 × token) when it does not answer.
 */
export async function corosyncTimeouts(t: Target, host: string): Promise<{ tokenMs: number; consensusMs: number }> {
  const get = async (k: string) => {
    const r = await t.exec(host, ['corosync-cmapctl', '-g', k], { check: false, timeoutMs: 3_000 });
    return Number(r.stdout.match(/= (\d+)/)?.[1] ?? Number.NaN);
  };
  const tokenMs = (await get('runtime.config.totem.token')) || 3000;
  const consensusMs = (await get('runtime.config.totem.consensus')) || tokenMs * 1.2;
  return { tokenMs, consensusMs };
}

/** Starts mariadbd on a host unless it runs, and waits (bounded) until it accepts connections from the management host. */
export async function startMariadb(t: Target, host: string, timeoutMs = 30_000): Promise<void> {
  if (!(await pidOf(t, host, 'mariadbd'))) await t.startDaemon(host, 'mariadb');
  await waitFor(
    `MariaDB on ${host} to accept connections`,
    async () => {
      const c = await connectMysql(t, host, undefined, 2_000);
      await c.end().catch(() => c.destroy());
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** SIGTERM to mariadbd (a clean shutdown) and a bounded wait until it has exited. */
export async function stopMariadb(t: Target, host: string, timeoutMs = 60_000): Promise<void> {
  const pid = await signalDaemon(t, host, 'mariadbd', 'SIGTERM');
  await waitFor(`mariadbd on ${host} (PID ${pid}) to exit after SIGTERM`, async () => (await pidOf(t, host, 'mariadbd')) !== pid, {
    timeoutMs,
    intervalMs: 100,
  });
}

export async function crm(t: Target, host: string, args: string[]): Promise<string> {
  return (await t.exec(host, ['crm', ...args], { timeoutMs: 60_000 })).stdout;
}
