import { bootsTarget, inCluster } from '../checks/outcome.js';
import type { History } from '../history.js';
import { crmProperties, crmStonithDevices, pacemakerDurationMs } from '../profile/crm.js';
import type { Profile } from '../profile/load.js';
import { type FenceOperation, fenceHistory, fenceOpKey } from '../probes/fencing.js';
import type { Target } from '../targets/target.js';

/**
 * How long the controller may retry a fencing that keeps failing before it gives up:
 * stonith-max-attempts tries (10 by default), each bounded by the fencer's timeout (stonith-timeout,
 * 60 s by default, with the fencer's 20 % margin) and the device's random delay, + 3 s.
 */
export function fencingGiveUpMs(p: Profile): number {
  const props = crmProperties(p.files.clusterCrm);
  const attempts = Number(props['stonith-max-attempts'] ?? 10);
  const timeoutMs = pacemakerDurationMs(props['stonith-timeout'] ?? '60s');
  const delayMs = Math.max(0, ...crmStonithDevices(p.files.clusterCrm).map((d) => pacemakerDurationMs(d.params.pcmk_delay_max ?? '0')));
  return attempts * (timeoutMs * 1.2 + delayMs) + 3000;
}

/**
 * Whether the controller is still at a fencing it will fail, from the fencer's history (`ops`) for
 * the operations since history time `since`: none has failed yet, or one is pending. An act that
 * breaks the fence path is over only once a failure is recorded and no attempt is running.
 */
export function stillFencing(ops: FenceOperation[], startedAt: Date, since: number): boolean {
  const epoch = startedAt.getTime();
  // Whole seconds, as in recordFencing: an operation of the act's first second may read up to 1 s early.
  const recent = ops.filter((op) => op.completedAt === undefined || op.completedAt - epoch >= since - 1000);
  return recent.some((op) => op.status === 'pending') || !recent.some((op) => op.status === 'failed');
}

/** stillFencing, asked of the cluster; true when no host answers (nothing shows the controller gave up). */
export async function fencingStillTrying(t: Target, h: History, since: number): Promise<boolean> {
  const ops = await fenceHistory(t);
  return !ops || stillFencing(ops, h.startedAt, since);
}

/**
 * Adds to the history the fencing operations Pacemaker recorded since history time `since` (who
 * fenced whom, how it ended), each once. Read after an act rather than polled: the fencer keeps
 * the whole cluster's history, and its completion times are its own. The fencer rounds them to
 * whole seconds, so an operation may be placed up to a second early. Returns how many were added.
 */
export async function recordFencing(t: Target, h: History, since: number): Promise<number> {
  const ops = await fenceHistory(t);
  if (!ops) {
    h.step('fencing history', 'no db host answered stonith_admin --history: fencing in this act is unknown');
    return 0;
  }
  const epoch = h.startedAt.getTime();
  const known = new Set(h.events.flatMap((e) => (e.type === 'fence' ? [fenceOpKey(e.op)] : [])));
  let added = 0;
  for (const op of ops) {
    if (known.has(fenceOpKey(op))) continue;
    const at = op.completedAt === undefined ? h.now() : op.completedAt - epoch;
    // Whole seconds: an operation that completed in the act's first second reads as up to 1 s before it.
    if (at < since - 1000) continue;
    h.add({ type: 'fence', op, t: Math.max(at, since) });
    added++;
  }
  return added;
}

/** The hosts a fencing rebooted (or powered on) since history time `since`: they boot again. */
export function rebootedHosts(h: History, since: number): string[] {
  const hosts = h.events.flatMap((e) => (e.type === 'fence' && e.t >= since && bootsTarget(e.op) ? [e.op.target] : []));
  return [...new Set(hosts)];
}

/** Whether the latest observation shows every one of `hosts` with corosync, pacemakerd and all six children. */
export function hostsBack(h: History, hosts: string[]): boolean {
  const last = h.observations().at(-1);
  return hosts.every((host) => inCluster(last?.nodes[host]));
}
