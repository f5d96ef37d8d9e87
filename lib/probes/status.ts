import { describeOverride, type LabOverride, type Target } from '../targets/target.js';
import { clusterDaemons, crmMon, locationConstraints, vipHolders } from './cluster.js';
import type { CrmMonView, LocationConstraint } from './crm-mon.js';
import type { ClusterDaemon } from './processes.js';
import { replicaRunning, replicationState, type ServerState } from './replication.js';

/** Everything `lab status` shows, read from machine output on every host. */
export interface ClusterStatus {
  target: string;
  profile: string;
  overrides: LabOverride[];
  vip: { ip: string; resource: string; holders: string[]; pacemakerSays: string[] };
  /** Each db host's own crm_mon view (they differ in a split brain); undefined: Pacemaker not answering there. */
  views: Record<string, CrmMonView | undefined>;
  dc?: string;
  nodes: { name: string; online: boolean }[];
  failedActions: CrmMonView['failures'];
  constraints: LocationConstraint[];
  daemons: Record<string, Partial<Record<ClusterDaemon, number>>>;
  replication: ServerState[];
  /** Who runs MariaDB and its replication: Pacemaker (a promotable clone of the mariadb agent) or the operator (batch1's tools). */
  mysqlRunBy: 'pacemaker' | 'operator';
  /** The profile has a quorum device (corosync-qdevice on the db hosts must run for its vote). Absent in statuses saved before it. */
  quorumDevice?: boolean;
}

export async function clusterStatus(t: Target): Promise<ClusterStatus> {
  const dbs = t.profile.dbHosts.map((h) => h.name);
  const [views, holders, daemons, replication] = await Promise.all([
    Promise.all(dbs.map(async (h) => [h, await crmMon(t, h)] as const)),
    vipHolders(t),
    Promise.all(dbs.map(async (h) => [h, await clusterDaemons(t, h)] as const)),
    replicationState(t),
  ]);
  // Prefer the view of a node whose controller is up (it has a DC).
  const view = views.map(([, v]) => v).find((v) => v?.dc) ?? views.map(([, v]) => v).find(Boolean);
  const withPcmk = views.find(([h, v]) => v && daemons.find(([d]) => d === h)?.[1].pacemakerd)?.[0] ?? dbs[0]!;
  const constraints = (await locationConstraints(t, withPcmk)) ?? [];
  const vipRsc = view?.resources.find((r) => r.id === t.profile.vip.id);
  return {
    target: t.label,
    profile: t.profile.name,
    overrides: t.overrides,
    vip: { ip: t.profile.vip.ip, resource: t.profile.vip.id, holders, pacemakerSays: vipRsc?.runningOn ?? [] },
    views: Object.fromEntries(views),
    dc: view?.dc,
    nodes: dbs.map((h) => ({ name: h, online: !!view?.nodes.find((n) => n.name === h)?.online })),
    failedActions: view?.failures ?? [],
    constraints,
    daemons: Object.fromEntries(daemons),
    replication,
    mysqlRunBy: t.profile.promotableMysql ? 'pacemaker' : 'operator',
    quorumDevice: t.profile.quorumDevice,
  };
}

export function formatStatus(s: ClusterStatus): string {
  const out: string[] = [];
  out.push(`${s.target} — profile ${s.profile}`);
  for (const o of s.overrides) out.push(`  ${describeOverride(o, true)}`);
  out.push(`nodes:       ${s.nodes.map((n) => `${n.name} ${n.online ? 'online' : 'OFFLINE'}`).join(', ')}; DC: ${s.dc ?? 'none'}`);
  const vipNote = s.vip.holders.length > 1 ? '  ← DUAL VIP' : s.vip.holders.length === 0 ? '  ← NO HOLDER' : '';
  out.push(
    `VIP ${s.vip.ip}: on ${s.vip.holders.join(' + ') || 'no node'} (Pacemaker says: ${s.vip.pacemakerSays.join(', ') || 'stopped'})${vipNote}`,
  );
  for (const [h, d] of Object.entries(s.daemons)) {
    out.push(
      `  ${h}: ${
        Object.entries(d)
          .map(([k, v]) => `${k}[${v}]`)
          .join(' ') || 'no cluster daemons'
      }`,
    );
  }
  out.push(
    `failed actions: ${s.failedActions.length ? s.failedActions.map((f) => `${f.opKey} on ${f.node}: ${f.exitStatus}`).join('; ') : 'none'}`,
  );
  out.push(
    `constraints:    ${s.constraints.length ? s.constraints.map((c) => `${c.id} (${c.resource} ${c.score} ${c.node ?? ''})`).join('; ') : 'none'}`,
  );
  for (const r of s.replication) {
    if (!r.reachable) {
      out.push(`mysql ${r.host}: UNREACHABLE (${r.error})`);
      continue;
    }
    const role = r.replica
      ? `replica of ${r.replica.sourceHost} io=${r.replica.ioRunning} sql=${r.replica.sqlRunning} lag=${r.replica.secondsBehind ?? '-'}`
      : 'not a replica';
    out.push(
      `mysql ${r.host}: ${r.readOnly ? 'read_only' : 'writable'}, ${role}, gtid ${r.gtidExecuted || '(empty)'}${r.replica && !replicaRunning(r) && r.replica.lastIoError ? `, error: ${r.replica.lastIoError}` : ''}`,
    );
  }
  return out.join('\n');
}
