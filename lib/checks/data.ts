import type { History } from '../history.js';
import { connectMysql, query } from '../mysql/connect.js';
import { localGtidsOnReplica, replicationState, type ServerState } from '../probes/replication.js';
import type { Target } from '../targets/target.js';
import { WaitTimeoutError, waitFor } from '../util/wait.js';
import { WORKLOAD_TABLE } from '../workload/writer.js';

/** What the failures did to the data: judged after recovery, once the replica has caught up. */
export interface DataReport {
  writes: { total: number; ok: number; fail: number; unknown: number };
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

export function writeStats(h: History) {
  const w = h.events.filter((e): e is Extract<typeof e, { type: 'write' }> => e.type === 'write');
  const longestGap = (() => {
    let longest = 0;
    let lastOk: number | undefined = w[0]?.t;
    let failing = false;
    for (const e of w) {
      if (e.result === 'ok') {
        if (failing && lastOk !== undefined) longest = Math.max(longest, e.t - lastOk);
        lastOk = e.t;
        failing = false;
      } else failing = true;
    }
    if (failing && lastOk !== undefined) longest = Math.max(longest, (w.at(-1)?.t ?? lastOk) - lastOk);
    return Math.round(longest);
  })();
  return {
    writes: w,
    counts: { total: w.length, ok: w.filter((e) => e.result === 'ok').length, fail: w.filter((e) => e.result === 'fail').length, unknown: w.filter((e) => e.result === 'unknown').length },
    unavailableMs: longestGap,
  };
}

export async function checkData(t: Target, h: History, runKey: string, timeoutMs = 30_000): Promise<DataReport> {
  const { writes, counts, unavailableMs } = writeStats(h);
  const problems: string[] = [];
  const states = await replicationState(t);
  const replica = states.find((s) => s.replica);
  const primary = states.find((s) => s !== replica && s.reachable);
  // Converge: the replica must have applied everything the primary has (bounded).
  const t0 = performance.now();
  let converged = false;
  let last: ServerState[] = states;
  if (primary && replica) {
    try {
      await waitFor(`replica ${replica.host} to catch up with ${primary.host} (GTID)`, async () => {
        last = await replicationState(t);
        const p = last.find((s) => s.host === primary.host);
        const r = last.find((s) => s.host === replica.host);
        return !!p?.gtidExecuted && p.gtidExecuted === r?.gtidExecuted;
      }, { timeoutMs, intervalMs: 200 });
      converged = true;
    } catch (e) {
      if (!(e instanceof WaitTimeoutError)) throw e;
      problems.push(e.message);
    }
  } else problems.push(`no primary/replica pair to compare (${states.map((s) => `${s.host}: ${s.reachable ? (s.replica ? 'replica' : 'primary') : 'unreachable'}`).join(', ')})`);

  const keysOn: Record<string, Set<number>> = {};
  for (const s of last.filter((x) => x.reachable)) {
    const c = await connectMysql(t, s.host);
    try {
      const rows = await query(c, `SELECT id FROM ${WORKLOAD_TABLE} WHERE run = ?`, [runKey]);
      keysOn[s.host] = new Set(rows.map((r) => Number(r.id)));
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }
  const hosts = Object.keys(keysOn);
  const acked = writes.filter((w) => w.result === 'ok').map((w) => w.key);
  const lost = acked.map((key) => ({ key, missingOn: hosts.filter((hh) => !keysOn[hh]!.has(key)) })).filter((x) => x.missingOn.length);
  const all = new Set(hosts.flatMap((hh) => [...keysOn[hh]!]));
  const divergent = [...all].map((key) => ({ key, on: hosts.filter((hh) => keysOn[hh]!.has(key)) })).filter((x) => x.on.length === 1).map((x) => ({ key: x.key, onlyOn: x.on[0]! }));
  const unknownApplied = writes.filter((w) => w.result === 'unknown' && hosts.some((hh) => keysOn[hh]!.has(w.key))).length;
  const gtid = Object.fromEntries(last.map((s) => [s.host, s.gtidExecuted ?? '']));
  const gtidDiverged = converged ? false : new Set(Object.values(gtid)).size > 1;
  if (gtidDiverged) problems.push(`GTID positions diverge: ${Object.entries(gtid).map(([h, g]) => `${h} ${g || '(empty)'}`).join(', ')}${last.some((s) => localGtidsOnReplica(s).length) ? ' — the replica wrote transactions of its own (split brain)' : ''}`);
  if (lost.length) problems.push(`${lost.length} acknowledged writes lost: keys ${lost.slice(0, 20).map((l) => `${l.key} (missing on ${l.missingOn.join('+')})`).join(', ')}${lost.length > 20 ? ', …' : ''}`);
  if (divergent.length) problems.push(`${divergent.length} writes on one node only: ${divergent.slice(0, 20).map((d) => `${d.key}@${d.onlyOn}`).join(', ')}`);
  return {
    writes: counts, lost, divergent, unknownApplied, gtid, gtidDiverged, unavailableMs, converged,
    convergeMs: Math.round(performance.now() - t0),
    replicaLagSeconds: last.find((s) => s.replica)?.replica?.secondsBehind ?? null,
    primary: primary?.host, replica: replica?.host, problems,
  };
}
