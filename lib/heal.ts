import { auditUntilHealthy, type AuditResult } from './checks/audits.js';
import { crm, removeVipByHand, startMariadb, startPacemaker, stopPacemaker } from './cluster-ops.js';
import { startMembership } from './host-boot.js';
import { clusterDaemons, crmMon } from './probes/cluster.js';
import { PACEMAKER_CHILDREN, type ClusterDaemon } from './probes/processes.js';
import { replicationState, writablePrimary } from './probes/replication.js';
import { connectMysql, query } from './mysql/connect.js';
import { dialectFor } from './mysql/dialect.js';
import { setupReplication } from './replication/setup.js';
import type { Target } from './targets/target.js';
import { HarnessError } from './util/errors.js';
import { waitFor, withTimeout } from './util/wait.js';

/**
 * Last-resort repair when a case's own recovery left the cluster unhealthy, so that one case's bad
 * end costs that case only. An escalation ladder, as an operator climbs it: each rung is bounded,
 * is followed by the shared audits, and the climb stops at the first rung after which they pass.
 */
export interface HealRung {
  rung: string;
  ok: boolean;
  ms: number;
  /** The audits that still failed after this rung (or why the rung itself failed). */
  detail: string;
}

export interface HealReport {
  ok: boolean;
  results: AuditResult[];
  rungs: HealRung[];
  /** The rung that left the cluster healthy. */
  healedBy?: string;
  rebuilt: boolean;
}

type Log = (s: string) => void;

interface Rung {
  name: string;
  /** The rung's own bound (the audits after it have theirs). */
  limitMs: number;
  auditMs: number;
  run: (t: Target, log: Log) => Promise<void>;
  applies?: (t: Target) => boolean;
  /** The rung rebuilds the whole target. */
  rebuilds?: boolean;
}

/**
 * The ladder: repair in place → kill the node's cluster stack by PID and start it again (what an
 * operator does when `service pacemaker stop` hangs) → restart every service of the node in the
 * notebook's order with its replication role re-applied → rebuild the target from the profile.
 */
export const LADDER: Rung[] = [
  { name: 'repair in place', limitMs: 60_000, auditMs: 30_000, run: repairInPlace },
  // Both by hand, so not where Pacemaker runs MariaDB (the mariadb agent chooses the primary and
  // points the replica; killing a fencing cluster's stack gets the node fenced): the rebuild next.
  {
    name: 'kill the cluster stack by PID and start it again',
    limitMs: 60_000,
    auditMs: 30_000,
    run: restartClusterStacks,
    applies: (t) => !t.profile.promotableMysql,
  },
  {
    name: 'restart the node (corosync, MariaDB, pacemaker) and re-point replication',
    limitMs: 90_000,
    auditMs: 30_000,
    run: restartNodes,
    applies: (t) => !t.profile.promotableMysql,
  },
  {
    name: 'rebuild the target from the profile',
    limitMs: 120_000,
    auditMs: 60_000,
    run: (t) => t.restore!(),
    applies: (t) => !!t.restore,
    rebuilds: true,
  },
];

export async function heal(t: Target, log: Log = () => {}, ladder: Rung[] = LADDER): Promise<HealReport> {
  const rungs: HealRung[] = [];
  let rebuilt = false;
  let last: AuditResult[] = [];
  for (const r of ladder.filter((x) => x.applies?.(t) ?? true)) {
    const t0 = performance.now();
    log(`heal: ${r.name}`);
    let failure: string | undefined;
    try {
      await withTimeout(r.run(t, log), r.limitMs, `heal rung "${r.name}"`);
    } catch (e) {
      failure = (e as Error).message;
      log(`heal: ${r.name}: ${failure}`);
    }
    // A rung that failed gets one look, not a wait: nothing it started is settling.
    const a = await auditUntilHealthy(t, failure ? 0 : r.auditMs).catch((e) => ({
      ok: false,
      results: [{ audit: 'audits', ok: false, detail: (e as Error).message }],
    }));
    last = a.results;
    const detail = a.ok ? 'all audits pass' : [failure, failedAudits(a.results)].filter(Boolean).join('; ');
    rungs.push({ rung: r.name, ok: a.ok, ms: Math.round(performance.now() - t0), detail });
    rebuilt ||= !!r.rebuilds;
    if (a.ok) return { ok: true, results: last, rungs, healedBy: r.name, rebuilt };
    log(`heal: still unhealthy after "${r.name}": ${detail}`);
  }
  return { ok: false, results: last, rungs, rebuilt };
}

export const failedAudits = (r: AuditResult[]) =>
  r
    .filter((x) => !x.ok)
    .map((x) => `${x.audit}: ${x.detail}`)
    .join('; ');

const dbNames = (t: Target) => t.profile.dbHosts.map((h) => h.name);

/** Rung 1: start what is missing, a clean pacemaker restart where children are gone, cleanup, stray VIPs, replica threads. */
async function repairInPlace(t: Target, log: Log): Promise<void> {
  for (const h of dbNames(t)) {
    await t.exec(h, ['ip', 'link', 'set', t.profile.nic, 'up'], { check: false });
    const d = await clusterDaemons(t, h);
    if (!d.pacemakerd && !d.corosync && (await removeVipByHand(t, h))) log(`heal: removed a VIP Pacemaker did not own on ${h}`);
    if (!d.corosync || (t.profile.quorumDevice && !d['corosync-qdevice'])) await startMembership(t, h);
    const state = d.pacemakerd ? (await crmMon(t, h))?.pacemakerdState : undefined;
    if (!d.pacemakerd) await startPacemaker(t, h);
    else if (PACEMAKER_CHILDREN.some((c) => !d[c]) || (state && state !== 'running')) {
      log(
        `heal: pacemaker on ${h} is incomplete or not running (pacemakerd ${state ?? 'not answering'}); clean restart of pacemaker there`,
      );
      // Bounded well below Pacemaker's shutdown-escalation (20 min): a controller whose shutdown
      // request cannot reach the DC (pacemaker-attrd gone) waits that long; the next rung acts.
      await stopPacemaker(t, h, 20_000);
      await startPacemaker(t, h);
    }
  }
  await cleanUpPacemaker(t, log);
  // Where Pacemaker runs MariaDB, its agent starts the replica threads (a cleanup makes it retry).
  if (!t.profile.promotableMysql) await restartReplicaThreads(t, log);
}

/** crm resource clear + cleanup, and a VIP on a node where Pacemaker does not run it removed. */
async function cleanUpPacemaker(t: Target, log: Log): Promise<void> {
  const first = dbNames(t)[0]!;
  await crm(t, first, ['resource', 'clear', t.profile.vip.id]).catch(() => undefined);
  await t.exec(first, ['crm_resource', '--cleanup'], { check: false, timeoutMs: 30_000 });
  const owner = (await crmMon(t, first))?.resources.find((r) => r.id === t.profile.vip.id)?.runningOn ?? [];
  if (owner.length !== 1) return;
  for (const h of dbNames(t)) if (h !== owner[0] && (await removeVipByHand(t, h))) log(`heal: removed a stray VIP on ${h}`);
}

async function restartReplicaThreads(t: Target, log: Log): Promise<void> {
  for (const s of await replicationState(t)) {
    if (!s.replica || (s.replica.ioRunning === 'Yes' && s.replica.sqlRunning === 'Yes')) continue;
    log(`heal: start replica threads on ${s.host}`);
    const c = await connectMysql(t, s.host);
    try {
      await query(c, dialectFor(s.version ?? '').startReplica);
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }
}

const CLUSTER_STACK: ClusterDaemon[] = ['pacemakerd', ...PACEMAKER_CHILDREN, 'corosync'];
/** What a restart by PID kills: the stack and the quorum device's client, which would otherwise be exiting (with its corosync) while the restart checks whether it runs. */
const STACK_TO_KILL: ClusterDaemon[] = [...CLUSTER_STACK, 'corosync-qdevice'];

/** kill -9 of the listed daemons on a host, by PID; waits (bounded) until they are gone. */
async function killByPid(t: Target, host: string, daemons: ClusterDaemon[], log: Log): Promise<void> {
  const d = await clusterDaemons(t, host);
  const pids = daemons.flatMap((k) => (d[k] ? [[k, d[k]!] as const] : []));
  if (!pids.length) return;
  log(`heal: kill -9 on ${host}: ${pids.map(([k, p]) => `${k} ${p}`).join(', ')}`);
  for (const [, pid] of pids) await t.kill(host, pid, 'SIGKILL').catch(() => undefined);
  await waitFor(
    `${pids.map(([k]) => k).join(', ')} on ${host} to be gone after kill -9`,
    async () => {
      const now = await clusterDaemons(t, host);
      return pids.every(([k, pid]) => now[k] !== pid);
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
}

/** db hosts whose cluster stack is incomplete or whose pacemakerd is not running (shutting down); all of them when none is (DC split, failed actions). */
async function nodesToRestart(t: Target): Promise<string[]> {
  const bad: string[] = [];
  for (const h of dbNames(t)) {
    const d = await clusterDaemons(t, h).catch(() => ({}) as Partial<Record<ClusterDaemon, number>>);
    const state = d.pacemakerd ? (await crmMon(t, h).catch(() => undefined))?.pacemakerdState : undefined;
    if (CLUSTER_STACK.some((k) => !d[k]) || (state && state !== 'running')) bad.push(h);
  }
  return bad.length ? bad : dbNames(t);
}

type Step = [string, () => Promise<unknown>];

/** Runs every step even when one fails (a half-done restart is worse than a complete one), then reports all failures. */
async function allSteps(steps: Step[]): Promise<void> {
  const errors: string[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  }
  if (errors.length) throw new HarnessError(errors.join('; '));
}

/** One node's cluster stack killed by PID, its VIP removed by hand, then corosync and pacemaker started (the notebook's order). */
export async function restartStackByPid(t: Target, host: string, log: Log = () => {}): Promise<void> {
  await killByPid(t, host, STACK_TO_KILL, log);
  await removeVipByHand(t, host);
  await startMembership(t, host);
  await startPacemaker(t, host);
}

/** Rung 2: the notebook's way when the stack will not stop — kill it by PID, VIP off by hand, corosync then pacemaker. */
async function restartClusterStacks(t: Target, log: Log): Promise<void> {
  const nodes = await nodesToRestart(t);
  await allSteps([
    ...nodes.map(
      (h): Step => [
        `stop ${h}`,
        async () => {
          await killByPid(t, h, STACK_TO_KILL, log);
          await removeVipByHand(t, h);
        },
      ],
    ),
    ...nodes.map((h): Step => [`corosync on ${h}`, () => startMembership(t, h)]),
    ...nodes.map((h): Step => [`pacemaker on ${h}`, () => startPacemaker(t, h)]),
    ['cleanup', () => cleanUpPacemaker(t, log)],
    ['replica threads', () => restartReplicaThreads(t, log)],
  ]);
}

/**
 * Rung 3: every service of the db hosts stopped by kill -9 and started in the notebook's order
 * (corosync, MariaDB, pacemaker), then replication re-pointed from the primary (a restarted
 * replica comes back writable: read_only is set at run time, not in its config).
 */
async function restartNodes(t: Target, log: Log): Promise<void> {
  const before = await replicationState(t).catch(() => []);
  const primary = writablePrimary(before) ?? t.profile.config.mysql.replication.primary;
  const replica = dbNames(t).find((h) => h !== primary)!;
  const nodes = dbNames(t);
  await allSteps([
    ...nodes.map(
      (h): Step => [
        `stop ${h}`,
        async () => {
          await killByPid(t, h, [...STACK_TO_KILL, 'mariadbd'], log);
          await removeVipByHand(t, h);
        },
      ],
    ),
    ...nodes.map((h): Step => [`corosync on ${h}`, () => startMembership(t, h)]),
    ...nodes.map((h): Step => [`MariaDB on ${h}`, () => startMariadb(t, h)]),
    ...nodes.map((h): Step => [`pacemaker on ${h}`, () => startPacemaker(t, h)]),
    [`replication ${primary} → ${replica}`, () => setupReplication(t, primary, replica)],
    ['cleanup', () => cleanUpPacemaker(t, log)],
  ]);
}
