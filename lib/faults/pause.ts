import { pidOf, removeVipByHand, signalDaemon, startPacemaker } from '../cluster-ops.js';
import { startMembership } from '../host-boot.js';
import type { History } from '../history.js';
import type { ClusterDaemon } from '../probes/processes.js';
import type { Target } from '../targets/target.js';
import { sleep } from '../util/wait.js';
import type { Fault } from './fault.js';
import { corosyncLossHoldMs } from './hold.js';
import { mariadbBack } from './mysql-crash.js';
import { requireTools } from './tools.js';

/** The daemons a pause is aimed at (Jepsen's :pause): the cluster's membership, and the database. */
export type PausedDaemon = Extract<ClusterDaemon, 'corosync' | 'mariadbd'>;

/**
 * SIGSTOP of a daemon, held, then SIGCONT (Jepsen's :pause / :resume): the process is alive but
 * silent, which no kill -9 case shows — corosync misses its token while its peer declares it
 * lost; mariadbd keeps its connections open and answers none. Without holdSeconds the pause lasts
 * twice corosync's token + consensus, + 3 s. Undo sends SIGCONT to the daemon (harmless to a
 * running one), so a pause is never left behind, also when the injection stopped half-way; then
 * it starts what is missing, the notebook's way (no VIP by hand while corosync is down).
 */
export function pause(host: string, daemon: PausedDaemon, holdSeconds?: number): Fault {
  const name = `pause (SIGSTOP) ${daemon} on ${host}${holdSeconds ? ` for ${holdSeconds}s` : ''}, then SIGCONT`;
  let stopped: number | undefined;
  return {
    name,
    host,
    destructive: true,
    async inject(t, h) {
      await requireTools(t, name, [host], ['kill', 'ps']);
      const holdMs = holdSeconds ? holdSeconds * 1000 : await corosyncLossHoldMs(t, host);
      stopped = await signalDaemon(t, host, daemon, 'SIGSTOP');
      h.step('paused', `${daemon} (PID ${stopped}) on ${host} stopped for ${(holdMs / 1000).toFixed(1)} s`);
      await sleep(holdMs);
      // The paused process may be gone: where the cluster fences, its peer shot the silent host.
      const now = await pidOf(t, host, daemon);
      if (now !== stopped) {
        h.step('not resumed', `${daemon} (PID ${stopped}) on ${host} ended while paused${now ? `; PID ${now} runs now` : ''}`);
        return;
      }
      await t.exec(host, ['kill', '-CONT', String(stopped)], { check: false, timeoutMs: 5_000 });
      h.step('resumed', `${daemon} (PID ${stopped}) on ${host}`);
    },
    async undo(t, h) {
      await resume(t, host, daemon, stopped);
      await restartMissing(t, h, host, daemon);
    },
  };
}

/** SIGCONT to the PID that was stopped if it still lives, and to the daemon's current PID. */
async function resume(t: Target, host: string, daemon: PausedDaemon, stopped?: number): Promise<void> {
  const pids = new Set([stopped, await pidOf(t, host, daemon)].filter((p): p is number => !!p));
  for (const pid of pids) await t.exec(host, ['kill', '-CONT', String(pid)], { check: false });
}

/** What a resumed node may have lost meanwhile, started again: corosync then pacemaker, or MariaDB. */
async function restartMissing(t: Target, h: History, host: string, daemon: PausedDaemon): Promise<void> {
  // A resumed server under Pacemaker is left to it; a missing one is started as the target does.
  if (daemon === 'mariadbd') return t.profile.promotableMysql && (await pidOf(t, host, 'mariadbd')) ? undefined : mariadbBack(t, h, host);
  if (!(await pidOf(t, host, 'corosync'))) await removeVipByHand(t, host);
  await startMembership(t, host);
  await startPacemaker(t, host);
}
