import type { DataRead, History } from '../history.js';
import { connectMysql, query } from '../mysql/connect.js';
import { localGtidsOnReplica, replicationState, writablePrimary, type ServerState } from '../probes/replication.js';
import type { Target } from '../targets/target.js';
import { WaitTimeoutError, waitFor } from '../util/wait.js';
import { WORKLOAD_TABLE } from '../workload/writer.js';
import { longestWriteGap, writesOf } from './writes.js';

/**
 * The floor of writes acknowledged through the VIP before the first fault, below which "no
 * acknowledged write lost" is not a claim the evidence supports: 20 writes are 2 s of the
 * workload at its 10/s, enough to show that the path client → VIP → primary → replica works
 * and that the keys written are found again by the final reads.
 */
export const ACKED_BEFORE_FAULT_FLOOR = 20;

/** What the failures did to the data: judged from the history (writes and the final reads). */
export interface DataReport {
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** Why the evidence cannot support the data claim, when inconclusive. */
  inconclusive?: string;
  writes: { total: number; ok: number; fail: number; unknown: number };
  /** Writes acknowledged before the first fault (the floor is ACKED_BEFORE_FAULT_FLOOR). */
  ackedBeforeFault: number;
  /** Acknowledged writes missing on the primary or on the replica. */
  lost: { key: number; missingOn: string[] }[];
  /** Keys present on one node only (acknowledged or not). */
  divergent: { key: number; onlyOn: string }[];
  /** Unknown (timed-out) writes that turned out applied. */
  unknownApplied: number;
  gtid: Record<string, string>;
  gtidDiverged: boolean;
  /** Longest stretch with no acknowledged write, from the first failure to the next success. */
  unavailableMs: number;
  converged: boolean;
  convergeMs: number;
  replicaLagSeconds: number | null;
  primary?: string;
  replica?: string;
  problems: string[];
}

/**
 * The final reads, after recovery: waits (bounded) until the replica has the primary's GTID
 * position, then reads the case's keys on every reachable db host. Recorded in the history as a
 * data-read event, the only input of judgeData.
 */
export async function readData(t: Target, h: History, runKey: string, timeoutMs = 30_000): Promise<void> {
  try {
    h.add({ type: 'data-read', runKey, read: await finalReads(t, runKey, timeoutMs) });
  } catch (e) {
    h.add({ type: 'data-read', runKey, error: (e as Error).message });
  }
}

async function finalReads(t: Target, runKey: string, timeoutMs: number): Promise<DataRead> {
  const problems: string[] = [];
  const states = await replicationState(t);
  // The writable primary first: a promoted server keeps its old replica channel (threads stopped),
  // which made it "the replica" here and its own writes "errant" (seen: the other host unreachable).
  const primaryHost = writablePrimary(states);
  const primary = states.find((s) => s.host === primaryHost);
  const replica = states.find((s) => s !== primary && s.reachable && s.replica);
  const t0 = performance.now();
  let converged = false;
  let last: ServerState[] = states;
  if (primary && replica) {
    try {
      await waitFor(
        `replica ${replica.host} to catch up with ${primary.host} (GTID)`,
        async () => {
          last = await replicationState(t);
          const p = last.find((s) => s.host === primary.host);
          const r = last.find((s) => s.host === replica.host);
          return !!p?.gtidExecuted && p.gtidExecuted === r?.gtidExecuted;
        },
        { timeoutMs, intervalMs: 200 },
      );
      converged = true;
    } catch (e) {
      if (!(e instanceof WaitTimeoutError)) throw e;
      problems.push(e.message);
    }
  } else
    problems.push(
      `no primary/replica pair to compare (${states.map((s) => `${s.host}: ${s.reachable ? (s.replica ? 'replica' : 'primary') : 'unreachable'}`).join(', ')})`,
    );
  const keysOn: Record<string, number[]> = {};
  for (const s of last.filter((x) => x.reachable)) keysOn[s.host] = await keysOnHost(t, s.host, runKey);
  return {
    keysOn,
    gtid: Object.fromEntries(last.map((s) => [s.host, s.gtidExecuted ?? ''])),
    converged,
    convergeMs: Math.round(performance.now() - t0),
    replicaLagSeconds: last.find((s) => s.host === replica?.host)?.replica?.secondsBehind ?? null,
    primary: primary?.host,
    replica: replica?.host,
    replicaWroteOwn: last.some((s) => s.host === replica?.host && localGtidsOnReplica(s, primary?.gtidExecuted).length > 0),
    problems,
  };
}

async function keysOnHost(t: Target, host: string, runKey: string): Promise<number[]> {
  const c = await connectMysql(t, host);
  try {
    return (await query(c, `SELECT seq FROM ${WORKLOAD_TABLE} WHERE run = ? ORDER BY seq`, [runKey])).map((r) => Number(r.seq));
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

/** The data verdict of a case run, from its history alone: the writes and the final reads. */
export function judgeData(h: History, runKey: string, floor = ACKED_BEFORE_FAULT_FLOOR): DataReport {
  const writes = writesOf(h);
  const firstFault = h.faults()[0]?.t ?? Infinity;
  const ackedBeforeFault = writes.filter((w) => w.result === 'ok' && w.t < firstFault).length;
  const counts = {
    total: writes.length,
    ok: writes.filter((w) => w.result === 'ok').length,
    fail: writes.filter((w) => w.result === 'fail').length,
    unknown: writes.filter((w) => w.result === 'unknown').length,
  };
  const ev = h.events.find((e): e is Extract<typeof e, { type: 'data-read' }> => e.type === 'data-read' && e.runKey === runKey);
  const read = ev?.read;
  const keysOn = Object.fromEntries(Object.entries(read?.keysOn ?? {}).map(([k, v]) => [k, new Set(v)]));
  const hosts = Object.keys(keysOn);
  const lost = writes
    .filter((w) => w.result === 'ok')
    .map((w) => ({ key: w.key, missingOn: hosts.filter((x) => !keysOn[x]!.has(w.key)) }))
    .filter((x) => x.missingOn.length);
  // Divergence needs two servers read: with one, every key is "on one node only".
  const all = new Set(hosts.length > 1 ? hosts.flatMap((x) => [...keysOn[x]!]) : []);
  const divergent = [...all]
    .map((key) => ({ key, on: hosts.filter((x) => keysOn[x]!.has(key)) }))
    .filter((x) => x.on.length === 1)
    .map((x) => ({ key: x.key, onlyOn: x.on[0]! }));
  const gtid = read?.gtid ?? {};
  // Positions read from servers that answered; an unreachable one has none, which is no divergence.
  const gtidDiverged = !!read && !read.converged && new Set(Object.values(gtid).filter(Boolean)).size > 1;
  const problems = [...(read?.problems ?? [])];
  if (gtidDiverged)
    problems.push(
      `GTID positions diverge: ${Object.entries(gtid)
        .map(([x, g]) => `${x} ${g || '(empty)'}`)
        .join(', ')}${read!.replicaWroteOwn ? ' — the replica wrote transactions of its own (split brain)' : ''}`,
    );
  if (lost.length)
    problems.push(
      `${lost.length} acknowledged writes lost: keys ${lost
        .slice(0, 20)
        .map((l) => `${l.key} (missing on ${l.missingOn.join('+')})`)
        .join(', ')}${lost.length > 20 ? ', …' : ''}`,
    );
  if (divergent.length)
    problems.push(
      `${divergent.length} writes on one node only: ${divergent
        .slice(0, 20)
        .map((d) => `${d.key}@${d.onlyOn}`)
        .join(', ')}`,
    );
  const inconclusive = !read
    ? `the final reads failed: ${ev?.error ?? 'no data-read event in the history'}`
    : hosts.length < 2
      ? `the final reads reached ${hosts.join(', ') || 'no db host'} only`
      : ackedBeforeFault < floor
        ? `${ackedBeforeFault} writes acknowledged through the VIP before the first fault (floor ${floor}): "none lost" would claim nothing`
        : undefined;
  return {
    verdict: lost.length || divergent.length || gtidDiverged ? 'fail' : inconclusive ? 'inconclusive' : 'pass',
    inconclusive,
    writes: counts,
    ackedBeforeFault,
    lost,
    divergent,
    unknownApplied: writes.filter((w) => w.result === 'unknown' && hosts.some((x) => keysOn[x]!.has(w.key))).length,
    gtid,
    gtidDiverged,
    unavailableMs: longestWriteGap(h) ?? 0,
    converged: read?.converged ?? false,
    convergeMs: read?.convergeMs ?? 0,
    replicaLagSeconds: read?.replicaLagSeconds ?? null,
    primary: read?.primary,
    replica: read?.replica,
    problems,
  };
}
