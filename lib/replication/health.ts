import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { errantFromFacts } from './errant.js';
import type { ConnectOptions } from './server.js';
import { factsOf, readTopology, type Topology } from './topology.js';

/** mysqlrpladmin health, for the pair: healthy when exactly one host replicates from the other and all is in order. */
export interface HealthReport {
  healthy: boolean;
  primary?: string;
  replica?: string;
  /** Seconds the replica is behind, when it says. */
  lagSeconds?: number | null;
  /** One line per problem; empty when healthy. */
  problems: string[];
  topology: Topology;
}

export async function replicationHealth(t: Target, opts: ConnectOptions = {}): Promise<HealthReport> {
  const topo = await readTopology(t, opts);
  return judgeHealth(topo);
}

/** The judgement alone, on facts already read (unit-testable). */
export function judgeHealth(topo: Topology): HealthReport {
  const problems: string[] = [];
  for (const s of topo.servers) if (s.error) problems.push(`${s.error.split('\n')[0]}`);
  if (topo.channels.length === 0) problems.push('no host replicates from the other (expected exactly one replica)');
  if (topo.channels.length > 1)
    problems.push(
      `both hosts replicate (${topo.channels.map((c) => `${c.replica} from ${c.source}`).join(', ')}): a circular set-up, expected exactly one replica`,
    );
  const { primary, replica } = topo;
  const p = factsOf(topo, primary);
  const r = factsOf(topo, replica);
  if (replica && primary && !topo.servers.some((s) => s.host === primary))
    problems.push(`${replica} replicates from ${primary}, which is not the other db host`);
  if (r?.replica) {
    const st = r.replica;
    if (st.ioRunning !== 'Yes')
      problems.push(`${replica}: IO thread ${st.ioRunning || 'not running'}${st.lastIoError ? `: ${st.lastIoError}` : ''}`);
    if (st.sqlRunning !== 'Yes')
      problems.push(`${replica}: SQL thread ${st.sqlRunning || 'not running'}${st.lastSqlError ? `: ${st.lastSqlError}` : ''}`);
    if (!st.usingGtid) problems.push(`${replica}: replicates by binlog file/position, not GTID auto-positioning`);
    if (!r.readOnly) problems.push(`${replica}: read_only is OFF on the replica (writes there become errant transactions)`);
  }
  if (p && topo.channels.length <= 1 && p.readOnly) problems.push(`${primary}: read_only is ON on the primary (clients cannot write)`);
  if (p && r) problems.push(...errantFromFacts(p, r).lines);
  return { healthy: problems.length === 0, primary, replica, lagSeconds: r?.replica?.secondsBehind, problems, topology: topo };
}

/** Throws a HarnessError listing the problems unless the pair is healthy; the gate of switchover. */
export async function requireHealthy(
  t: Target,
  what: string,
  opts: ConnectOptions = {},
): Promise<HealthReport & { primary: string; replica: string }> {
  const h = await replicationHealth(t, opts);
  if (!h.healthy || !h.primary || !h.replica) {
    throw new HarnessError(
      `${what}: replication is not healthy, nothing was changed:\n${h.problems.map((l) => `  - ${l}`).join('\n')}`,
      'fix these first (npm run repl -- health shows them)',
    );
  }
  return h as HealthReport & { primary: string; replica: string };
}

export function formatHealth(h: HealthReport): string {
  const head = h.healthy
    ? `healthy: ${h.replica} replicates from ${h.primary} (lag ${h.lagSeconds ?? '?'} s)`
    : `NOT healthy${h.primary ? ` (primary ${h.primary}${h.replica ? `, replica ${h.replica}` : ''})` : ''}`;
  return [head, ...h.problems.map((l) => `  - ${l}`)].join('\n');
}
