import { crm, removeVipByHand, setLink, signalDaemon, startPacemaker, stopCorosync, stopPacemaker } from '../cluster-ops.js';
import { PACEMAKER_CHILDREN, type PacemakerChild } from '../probes/processes.js';
import { clusterDaemons } from '../probes/cluster.js';
import { sleep, waitFor } from '../util/wait.js';
import { restartStackByPid } from '../heal.js';
import { startMembership } from '../host-boot.js';
import type { Fault } from './fault.js';
import { HarnessError } from '../util/errors.js';
import type { Profile } from '../profile/load.js';
import type { Target } from '../targets/target.js';

/** Brings corosync (with its quorum device client) then pacemaker back on a host if either is missing: the notebook's order, as a boot does. */
async function restartClusterStack(t: Target, host: string): Promise<void> {
  await startMembership(t, host);
  await startPacemaker(t, host);
}

/** The notebook's `ifdown eth1; sleep 10; ifup eth1` (link state only; addresses stay configured). */
export const linkDown = (host: string, seconds = 10): Fault => ({
  name: `link down ${seconds}s on ${host}`,
  host,
  destructive: true,
  async inject(t) {
    await setLink(t, host, false);
    await sleep(seconds * 1000);
    await setLink(t, host, true);
  },
  async undo(t) {
    await setLink(t, host, true);
    await restartClusterStack(t, host);
  },
});

/** `service pacemaker stop`; undo: `service pacemaker start`. */
export const pacemakerStop = (host: string): Fault => ({
  name: `pacemaker stop on ${host}`,
  host,
  destructive: true,
  inject: (t) => stopPacemaker(t, host),
  undo: (t) => restartClusterStack(t, host),
});

/** `service pacemaker restart`. */
export const pacemakerRestart = (host: string): Fault => ({
  name: `pacemaker restart on ${host}`,
  host,
  destructive: true,
  async inject(t) {
    await stopPacemaker(t, host);
    await startPacemaker(t, host);
  },
  undo: (t) => restartClusterStack(t, host),
});

/** `kill -9 <pacemakerd pid>`; undo: `service pacemaker start`. */
export const killPacemakerd = (host: string): Fault => ({
  name: `kill -9 pacemakerd on ${host}`,
  host,
  destructive: true,
  async inject(t) {
    await signalDaemon(t, host, 'pacemakerd', 'SIGKILL');
  },
  undo: (t) => restartClusterStack(t, host),
});

/**
 * `kill -9` of one of pacemakerd's children; pacemakerd is expected to respawn it. The notebook's
 * recovery is "nothing"; when a child stays down (pacemakerd: "Not respawning … until cluster
 * returns"), the undo restarts pacemaker on that node and says so in the history.
 */
export const killChild = (host: string, child: PacemakerChild): Fault => ({
  name: `kill -9 ${child} on ${host}`,
  host,
  destructive: true,
  async inject(t) {
    const pid = await signalDaemon(t, host, child, 'SIGKILL');
    await waitFor(`${child} (PID ${pid}) on ${host} to die`, async () => (await clusterDaemons(t, host))[child] !== pid, {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
  },
  async undo(t, h) {
    await restartClusterStack(t, host).catch(async () => {
      const d = await clusterDaemons(t, host);
      h.step(
        'recovery beyond the notebook',
        `children still down on ${host}: ${PACEMAKER_CHILDREN.filter((c) => !d[c]).join(', ')}; service pacemaker restart`,
      );
      // With pacemaker-attrd gone (seen after kill -9 pacemaker-based), the controller's shutdown
      // request cannot complete and the stop waits shutdown-escalation (20 min): bounded here,
      // then the operator's way for a hung node — the stack killed by PID and started again.
      await stopPacemaker(t, host, 20_000).then(
        () => startPacemaker(t, host),
        async (e: Error) => {
          h.step(
            'recovery beyond the notebook',
            `service pacemaker stop hung on ${host} (${e.message}); kill -9 of its cluster stack by PID, VIP removed by hand, corosync and pacemaker started again`,
          );
          await restartStackByPid(t, host);
        },
      );
    });
  },
});

/** `service corosync stop` under a running pacemaker (SysV: nothing stops pacemaker first). */
export const corosyncStop = (host: string): Fault => ({
  name: `corosync stop on ${host}`,
  host,
  destructive: true,
  inject: (t) => stopCorosync(t, host),
  undo: (t) => notebookCorosyncRecovery(t, host),
});

/** `kill -9 <corosync pid>`. */
export const corosyncKill = (host: string): Fault => ({
  name: `kill -9 corosync on ${host}`,
  host,
  destructive: true,
  async inject(t) {
    await signalDaemon(t, host, 'corosync', 'SIGKILL');
  },
  undo: (t) => notebookCorosyncRecovery(t, host),
});

/**
 * The notebook's recovery after corosync went away: remove the VIP by hand first, otherwise
 * which node keeps it is unknown; then start corosync and pacemaker.
 */
export async function notebookCorosyncRecovery(t: Target, host: string): Promise<void> {
  // Only while corosync is still down: once it is back, the VIP there may be Pacemaker's own again.
  if (!(await clusterDaemons(t, host)).corosync) await removeVipByHand(t, host);
  await restartClusterStack(t, host);
}

/** `crm resource move vip <node> force`; undo: `crm resource clear vip` (the notebook's unmove). */
export const forcedMove = (resource: string, to: string, via: string): Fault => ({
  name: `crm resource move ${resource} ${to} force`,
  host: via,
  destructive: true,
  async inject(t) {
    await crm(t, via, ['resource', 'move', resource, to, 'force']);
  },
  async undo(t) {
    await crm(t, via, ['resource', 'clear', resource]);
  },
});

/**
 * A planned switchover through the mariadb agent's promotion scores, as the hardened
 * expectations advise instead of a forced VIP move: `to` gets the score, `from` loses it, and
 * Pacemaker demotes, promotes and moves the VIP with the primary, leaving no constraint behind.
 * Undo: nothing (from then on the agent keeps the scores itself). The resource is the profile's
 * promotable MariaDB.
 */
export const promotionSwitch = (to: string, from: string): Fault => ({
  name: `promotion score moved from ${from} to ${to} (crm_attribute --promotion --update 100, then --delete)`,
  host: from,
  destructive: true,
  async inject(t) {
    const resource = t.profile.promotableMysql?.primitive.id;
    if (!resource) throw new HarnessError(`profile ${t.profile.name} runs no promotable MariaDB: there is no promotion score to move`);
    await t.exec(from, ['crm_attribute', `--promotion=${resource}`, '--node', to, '--update', '100']);
    await t.exec(from, ['crm_attribute', `--promotion=${resource}`, '--node', from, '--delete']);
  },
  async undo() {},
});

/** For a case's notFor: why a profile whose MariaDB Pacemaker does not run has no promotion scores to play with. */
export const withoutPromotionScores = (p: Profile) =>
  p.promotableMysql ? undefined : 'MariaDB is not run by Pacemaker: there are no promotion scores to swap';

/** `crm resource clear vip` as a step of its own (undo: nothing; the constraint is gone). */
export const clearMove = (resource: string, via: string): Fault => ({
  name: `crm resource clear ${resource}`,
  host: via,
  destructive: false,
  async inject(t) {
    await crm(t, via, ['resource', 'clear', resource]);
  },
  async undo() {},
});

/**
 * Starting corosync then pacemaker again on a node WITHOUT first removing the VIP by hand: the
 * notebook warns this makes the VIP fail back (or leaves it unknown which node keeps it).
 */
export const restartStackKeepingVip = (host: string): Fault => ({
  name: `start corosync and pacemaker on ${host} (VIP not removed by hand)`,
  host,
  destructive: true,
  inject: (t) => restartClusterStack(t, host),
  undo: (t) => restartClusterStack(t, host),
});

// Faults beyond the notebook (issue 12), each in a module of its own.
export { degradedNetwork } from './degraded-network.js';
export { hostCrash } from './host-crash.js';
export { mysqlCrash } from './mysql-crash.js';
export { oneWayPartition, partition, twoWayPartition } from './partition.js';
export { pause } from './pause.js';
