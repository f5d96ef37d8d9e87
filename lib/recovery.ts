import { auditUntilHealthy, type AuditResult } from './checks/audits.js';
import { crm, removeVipByHand, startCorosync, startPacemaker, stopPacemaker } from './cluster-ops.js';
import { PACEMAKER_CHILDREN } from './probes/processes.js';
import { clusterDaemons, crmMon, vipHolders as vipHoldersOf } from './probes/cluster.js';
import { waitFor } from './util/wait.js';
import { replicationState } from './probes/replication.js';
import { connectMysql, query } from './mysql/connect.js';
import { dialectFor } from './mysql/dialect.js';
import type { Target } from './targets/target.js';

/**
 * Last-resort repair when a scenario's own recovery left the cluster unhealthy, so the next
 * scenario starts clean. Steps are logged; the scenario that needed them has already failed its
 * audits.
 */
export async function heal(t: Target, log: (s: string) => void = () => {}): Promise<{ ok: boolean; results: AuditResult[]; rebuilt: boolean }> {
  const dbs = t.profile.dbHosts.map((h) => h.name);
  for (const h of dbs) {
    await t.exec(h, ['ip', 'link', 'set', t.profile.nic, 'up'], { check: false });
    const d = await clusterDaemons(t, h);
    if (!d.pacemakerd && !d.corosync) {
      if (await removeVipByHand(t, h)) log(`heal: removed a VIP Pacemaker did not own on ${h}`);
    }
    if (!d.corosync) { log(`heal: start corosync on ${h}`); await startCorosync(t, h).catch((e) => log(`heal: ${e.message}`)); }
    if (!d.pacemakerd) { log(`heal: start pacemaker on ${h}`); await startPacemaker(t, h).catch((e) => log(`heal: ${e.message}`)); }
    else if (PACEMAKER_CHILDREN.some((c) => !d[c])) {
      log(`heal: pacemaker children missing on ${h}; restart pacemaker there`);
      await stopPacemaker(t, h).then(() => startPacemaker(t, h)).catch((e) => log(`heal: ${e.message}`));
    }
  }
  const first = dbs[0]!;
  await crm(t, first, ['resource', 'clear', t.profile.vip.id]).catch(() => undefined);
  await t.exec(first, ['crm_resource', '--cleanup'], { check: false, timeoutMs: 30_000 });
  // A VIP on a node where Pacemaker does not run it (left from a split) goes.
  const view = await crmMon(t, first);
  const owner = view?.resources.find((r) => r.id === t.profile.vip.id)?.runningOn ?? [];
  if (owner.length === 1) for (const h of dbs) if (h !== owner[0] && await removeVipByHand(t, h)) log(`heal: removed a stray VIP on ${h}`);
  // A replica whose threads stopped is started again.
  for (const s of await replicationState(t)) {
    if (s.replica && (s.replica.ioRunning !== 'Yes' || s.replica.sqlRunning !== 'Yes')) {
      log(`heal: start replica threads on ${s.host}`);
      const c = await connectMysql(t, s.host);
      await query(c, dialectFor(s.version ?? '').startReplica).catch(() => undefined);
      await c.end();
    }
  }
  let audit = await auditUntilHealthy(t, 30_000);
  let rebuilt = false;
  if (!audit.ok && t.restore) {
    log(`heal: still unhealthy (${audit.results.filter((r) => !r.ok).map((r) => r.detail).join('; ')}); rebuilding the target`);
    await t.restore();
    rebuilt = true;
    audit = await auditUntilHealthy(t, 60_000);
  }
  return { ok: audit.ok, results: audit.results, rebuilt };
}

/**
 * Puts the VIP back on the writable primary before a case (the notebook's normal state), with
 * a move and an immediate clear, so that every case starts where the operator's cluster runs.
 */
export async function alignVipWithPrimary(t: Target, log: (s: string) => void = () => {}): Promise<void> {
  const states = await replicationState(t);
  const primary = states.find((s) => s.reachable && !s.replica && !s.readOnly)?.host;
  const holders = await vipHoldersOf(t);
  if (!primary || (holders.length === 1 && holders[0] === primary)) return;
  log(`VIP on ${holders.join('+') || 'no node'}, primary is ${primary}: moving the VIP to the primary before the case`);
  const first = t.profile.dbHosts[0]!.name;
  // force: with resource-stickiness=INFINITY a plain move ties with the current node and stays.
  await crm(t, first, ['resource', 'move', t.profile.vip.id, primary, 'force']);
  try {
    await waitFor(`the VIP to move to the primary ${primary}`, async () => (await vipHoldersOf(t)).join() === primary, { timeoutMs: 30_000, intervalMs: 100 });
  } finally {
    await crm(t, first, ['resource', 'clear', t.profile.vip.id]);
  }
}
