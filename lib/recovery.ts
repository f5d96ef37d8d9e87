import { crm } from './cluster-ops.js';
import { vipHolders as vipHoldersOf } from './probes/cluster.js';
import { waitFor } from './util/wait.js';
import { replicationState, writablePrimary } from './probes/replication.js';
import type { Target } from './targets/target.js';

/**
 * Puts the VIP back on the writable primary before a case (the notebook's normal state), with
 * a move and an immediate clear, so that every case starts where the operator's cluster runs.
 */
export async function alignVipWithPrimary(t: Target, log: (s: string) => void = () => {}): Promise<void> {
  // Where Pacemaker runs MariaDB the VIP may only run on the promoted node: a forced move would
  // only stop it (the audits check that the VIP is on the primary).
  if (t.profile.promotableMysql) return;
  const states = await replicationState(t);
  const primary = writablePrimary(states);
  const holders = await vipHoldersOf(t);
  if (!primary || (holders.length === 1 && holders[0] === primary)) return;
  log(`VIP on ${holders.join('+') || 'no node'}, primary is ${primary}: moving the VIP to the primary before the case`);
  const first = t.profile.dbHosts[0]!.name;
  // force: with resource-stickiness=INFINITY a plain move ties with the current node and stays.
  await crm(t, first, ['resource', 'move', t.profile.vip.id, primary, 'force']);
  try {
    await waitFor(`the VIP to move to the primary ${primary}`, async () => (await vipHoldersOf(t)).join() === primary, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  } finally {
    await crm(t, first, ['resource', 'clear', t.profile.vip.id]);
  }
}
