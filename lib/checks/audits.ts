import { clusterStatus, type ClusterStatus } from '../probes/status.js';
import { PACEMAKER_CHILDREN } from '../probes/processes.js';
import type { Target } from '../targets/target.js';
import { localGtidsOnReplica } from '../probes/replication.js';
import { WaitTimeoutError, waitFor } from '../util/wait.js';

/**
 * Audits shared by every scenario (Pacemaker CTS's idea): after each one the cluster must be
 * healthy again, whatever the scenario asserted itself.
 */
export interface AuditResult {
  audit: string;
  ok: boolean;
  detail: string;
}

export const AUDITS: { name: string; check: (s: ClusterStatus) => string | undefined }[] = [
  {
    name: 'VIP on exactly one node, where Pacemaker has it',
    check: (s) =>
      s.vip.holders.length !== 1
        ? `VIP on ${s.vip.holders.join(' and ') || 'no node'}`
        : s.vip.pacemakerSays.join() !== s.vip.holders.join()
          ? `VIP on ${s.vip.holders[0]}, Pacemaker says ${s.vip.pacemakerSays.join(',') || 'stopped'}`
          : undefined,
  },
  {
    name: 'both nodes online, one DC they agree on',
    check: (s) => {
      const off = s.nodes.filter((n) => !n.online).map((n) => n.name);
      if (off.length) return `offline: ${off.join(', ')}`;
      const dcs = new Set(Object.values(s.views).map((v) => v?.dc ?? 'none'));
      return dcs.size !== 1 || dcs.has('none')
        ? `DC per node: ${Object.entries(s.views)
            .map(([h, v]) => `${h}→${v?.dc ?? 'none'}`)
            .join(', ')}`
        : undefined;
    },
  },
  {
    name: 'corosync, pacemakerd and its six children on every db node',
    check: (s) => {
      const missing = Object.entries(s.daemons).flatMap(([h, d]) =>
        (['corosync', 'pacemakerd', ...PACEMAKER_CHILDREN] as const).filter((k) => !d[k]).map((k) => `${k}@${h}`),
      );
      if (missing.length) return `missing: ${missing.join(', ')}`;
      // All present is not enough: a pacemakerd stuck in its shutdown still lists every child.
      const notRunning = Object.entries(s.views)
        .filter(([, v]) => v?.pacemakerdState && v.pacemakerdState !== 'running')
        .map(([h, v]) => `${h}: pacemakerd ${v!.pacemakerdState}`);
      return notRunning.length ? notRunning.join(', ') : undefined;
    },
  },
  {
    name: 'no failed actions',
    check: (s) =>
      s.failedActions.length
        ? s.failedActions.map((f) => `${f.opKey} on ${f.node}: ${f.exitStatus} ${f.exitReason}`.trim()).join('; ')
        : undefined,
  },
  {
    name: 'no leftover cli-* constraints (crm resource move/ban)',
    check: (s) => {
      const c = s.constraints.filter((x) => x.cli);
      return c.length ? c.map((x) => x.id).join(', ') : undefined;
    },
  },
  {
    name: 'replication healthy: one primary, one read_only replica, threads running',
    check: (s) => {
      const down = s.replication.filter((r) => !r.reachable);
      if (down.length) return down.map((r) => `${r.host} unreachable: ${r.error}`).join('; ');
      const replicas = s.replication.filter((r) => r.replica);
      if (replicas.length !== 1) return `${replicas.length} replicas (want exactly 1)`;
      const r = replicas[0]!;
      const p = s.replication.find((x) => x !== r)!;
      if (r.replica!.ioRunning !== 'Yes' || r.replica!.sqlRunning !== 'Yes')
        return `${r.host}: io=${r.replica!.ioRunning} sql=${r.replica!.sqlRunning} ${r.replica!.lastIoError || r.replica!.lastSqlError}`.trim();
      if (!r.readOnly) return `replica ${r.host} is writable`;
      const local = localGtidsOnReplica(r);
      if (local.length) return `replica ${r.host} has transactions of its own (GTID ${local.join(',')}): writes bypassed replication`;
      if (p.readOnly) return `primary ${p.host} is read_only`;
      return undefined;
    },
  },
];

export function runAudits(s: ClusterStatus): AuditResult[] {
  return AUDITS.map((a) => {
    const problem = a.check(s);
    return { audit: a.name, ok: !problem, detail: problem ?? 'ok' };
  });
}

/** Audits, retried until they all pass or the bound runs out (a recovering cluster settles). */
export async function auditUntilHealthy(
  t: Target,
  timeoutMs = 60_000,
): Promise<{ ok: boolean; results: AuditResult[]; status: ClusterStatus }> {
  let last: { results: AuditResult[]; status: ClusterStatus } | undefined;
  try {
    await waitFor(
      'the cluster to pass every audit',
      async () => {
        const status = await clusterStatus(t);
        last = { results: runAudits(status), status };
        return last.results.every((r) => r.ok);
      },
      { timeoutMs, intervalMs: 500 },
    );
  } catch (e) {
    if (!(e instanceof WaitTimeoutError) || !last) throw e;
  }
  return { ok: last!.results.every((r) => r.ok), ...last! };
}
