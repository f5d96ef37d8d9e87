import { clusterStatus, type ClusterStatus } from '../probes/status.js';
import { PACEMAKER_CHILDREN } from '../probes/processes.js';
import type { Target } from '../targets/target.js';
import { localGtidsOnReplica, type ServerState } from '../probes/replication.js';
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
    // A node without its qdevice still counts in a full membership, so nothing else shows it: the
    // next loss of its peer leaves it 1 vote of 3, without quorum, and it never fences (found on
    // the lab: a corosync restarted by hand without its qdevice, then a case that waited 12 min).
    name: "the quorum device's client (corosync-qdevice) on every db node",
    check: (s) => {
      if (!s.quorumDevice) return undefined;
      const missing = Object.entries(s.daemons)
        .filter(([, d]) => d.corosync && !d['corosync-qdevice'])
        .map(([h]) => h);
      return missing.length ? `corosync runs without corosync-qdevice on ${missing.join(', ')}: no quorum device vote there` : undefined;
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
      const split = s.mysqlRunBy === 'pacemaker' ? rolesByWritable(s) : rolesByReplicaConfig(s);
      if (typeof split === 'string') return split;
      const { primary: p, replica: r } = split;
      if (r.replica!.ioRunning !== 'Yes' || r.replica!.sqlRunning !== 'Yes')
        return `${r.host}: io=${r.replica!.ioRunning} sql=${r.replica!.sqlRunning} ${r.replica!.lastIoError || r.replica!.lastSqlError}`.trim();
      if (!r.readOnly) return `replica ${r.host} is writable`;
      const local = localGtidsOnReplica(r, p.gtidExecuted);
      if (local.length) return `replica ${r.host} has transactions of its own (GTID ${local.join(',')}): writes bypassed replication`;
      if (p.readOnly) return `primary ${p.host} is read_only`;
      if (s.mysqlRunBy === 'pacemaker' && s.vip.holders.join() !== p.host)
        return `the VIP is on ${s.vip.holders.join(' and ') || 'no node'}, the primary is ${p.host}`;
      return undefined;
    },
  },
];

type Roles = { primary: ServerState; replica: ServerState } | string;

/** Operator-run replication (the seed): the replica is the one server with a replica configuration. */
function rolesByReplicaConfig(s: ClusterStatus): Roles {
  const replicas = s.replication.filter((r) => r.replica);
  if (replicas.length !== 1) return `${replicas.length} replicas (want exactly 1)`;
  return { replica: replicas[0]!, primary: s.replication.find((x) => x !== replicas[0])! };
}

/**
 * Pacemaker-run replication (the mariadb agent): the primary is the one writable server, the
 * replica the read_only one. The agent leaves a promoted server's old replica configuration in
 * place with its threads stopped, which is harmless; threads running on the primary are not.
 */
function rolesByWritable(s: ClusterStatus): Roles {
  const writable = s.replication.filter((r) => !r.readOnly);
  if (writable.length !== 1) return `${writable.length} writable servers (want exactly 1: the promoted one)`;
  const primary = writable[0]!;
  const replica = s.replication.find((x) => x !== primary)!;
  if (primary.replica?.ioRunning === 'Yes' || primary.replica?.sqlRunning === 'Yes')
    return `primary ${primary.host} is replicating too (a replica thread runs)`;
  if (!replica.replica) return `${replica.host} is read_only but not a replica`;
  return { primary, replica };
}

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
