import type { Expectation } from '../profile/expectations.js';
import type { ActEnd, History, HistoryEvent, MissedChange } from '../history.js';
import { describeFence } from '../probes/fencing.js';
import { actOutcome, type MysqlSighting, type Outcome } from './outcome.js';

/** inconclusive: the evidence cannot support a verdict (Jepsen's :unknown); only pass is green. */
export type Verdict = 'pass' | 'hazard' | 'inconclusive' | 'fail';

export interface Judgement {
  verdict: Verdict;
  /** One line per expectation that did not hold: expected, seen, when. */
  mismatches: string[];
  /** A one-line summary of what was seen. */
  seen: string;
  /** The hazard(s) that this run's outcome is, when the verdict is "hazard". */
  hazard?: string;
  /** Set when the hazard is only the operator's own command (the expectation's operatorInstead): what to run instead. */
  operatorInstead?: string;
  /** Why the evidence cannot support a verdict, when the verdict is "inconclusive". */
  inconclusive?: string;
  /** Budgets the measurement exceeded by less than its own resolution: neither met nor missed. */
  unproven?: string[];
}

const ms = (x?: number) => (x === undefined ? '-' : `${(x / 1000).toFixed(2)} s`);

export function describeOutcome(o: Outcome): string {
  const roles = o.vipHolderRoles ?? {};
  const final = o.finalHolders.map((h) => (roles[h] && roles[h] !== 'writable' ? `${h} ${roles[h]}` : h));
  const parts = [`VIP ${o.vipAfter} (${o.initialHolders.join('+') || 'none'} → ${final.join('+') || 'none'})`];
  if (o.dualVip.seen)
    parts.push(`dual VIP from +${ms(o.dualVip.firstAtMs)} for ${ms(o.dualVip.longestMs)}${o.dualVip.stillAtEnd ? ', still at end' : ''}`);
  if (o.timeToFailoverMs !== undefined) parts.push(`failover ${ms(o.timeToFailoverMs)}`);
  if (o.mysql?.writableReplicas.length) parts.push(`writable replica: ${sightings(o.mysql.writableReplicas)}`);
  if (o.mysql?.vipOnDownServer.length) parts.push(`VIP on a host whose MySQL did not answer: ${sightings(o.mysql.vipOnDownServer)}`);
  const stopped = o.mysql?.replicationStopped ?? [];
  if (stopped.length) {
    const left = new Set(o.mysql?.replicationLeftStopped.map((x) => x.host));
    const state = (x: MysqlSighting) => (left.has(x.host) ? 'still at the end' : 'over by the end');
    parts.push(`replication stopped: ${stopped.map((x) => `${x.host} from +${ms(x.atMs)} (${state(x)})`).join(', ')}`);
  }
  const silent = (o.mysql?.notAnswering ?? []).filter((x) => !o.mysql?.vipOnDownServer.some((d) => d.host === x.host));
  if (silent.length) parts.push(`MySQL not answering: ${sightings(silent)}`);
  if (o.mysql?.vipOnStalledServer?.length)
    parts.push(`VIP on a host whose MySQL answered but took no write: ${sightings(o.mysql.vipOnStalledServer)}`);
  parts.push(...describeFencing(o));
  if (o.faulted) {
    const d = o.daemonsAfter[o.faulted];
    if (d)
      parts.push(
        `${o.faulted}: corosync ${d.corosync ? 'up' : 'down'}, pacemakerd ${d.pacemakerd ? 'up' : 'down'}, ${d.children}/6 children`,
      );
  }
  return parts.join('; ');
}

/** The act's fencing, the same operation repeated (a controller retrying a broken path) said once with its count and span. */
function describeFencing(o: Outcome): string[] {
  const groups = new Map<string, { what: string; moot: string; at: number[] }>();
  for (const f of o.fencing ?? []) {
    const what = describeFence(f);
    const moot = f.targetBack ? ` (moot: ${f.target} was back in the cluster)` : '';
    const g = groups.get(what + moot) ?? { what, moot, at: [] };
    g.at.push(f.atMs);
    groups.set(what + moot, g);
  }
  const when = (at: number[]) => (at.length === 1 ? `at +${ms(at[0])}` : `×${at.length} from +${ms(at[0])} to +${ms(at.at(-1))}`);
  const parts = [...groups.values()].map((g) => `${g.what} ${when(g.at)}${g.moot}`);
  for (const host of o.fencedNotBack ?? []) parts.push(`${host} not back in the cluster after its fencing`);
  return parts;
}

const sightings = (l: MysqlSighting[]) => l.map((x) => `${x.host} from +${ms(x.atMs)}`).join(', ');

/** A conditional hazard's text, with what was seen that makes it one. */
const sightedHazard = (text: string | undefined, l: MysqlSighting[] | undefined) =>
  text && l?.length ? `${text} (seen: ${sightings(l)})` : undefined;

/**
 * Compares an act's outcome with its expectation: pass, hazard (as expected, and dangerous) or fail.
 * resolutionMs: how far apart the observer's polls were (a failover time is known to that much).
 */
export function judge(e: Expectation, o: Outcome, resolutionMs = 0): Judgement {
  const m: string[] = [];
  if (!e.vipAfter.includes(o.vipAfter)) {
    m.push(
      `expected the VIP to end ${e.vipAfter.join(' or ')}, saw ${o.vipAfter}: on ${o.finalHolders.join(' and ') || 'no node'} at +${ms(o.windowMs)} (was on ${o.initialHolders.join(' and ') || 'no node'})`,
    );
  }
  if (e.finalHolderIs && o.finalHolders.length === 1 && o.faulted) {
    const role = o.finalHolders[0] === o.faulted ? 'faulted' : 'other';
    if (!e.finalHolderIs.includes(role))
      m.push(`expected the VIP to end on the ${e.finalHolderIs.join(' or ')} node, saw it on ${o.finalHolders[0]} (the ${role} node)`);
  }
  if (e.dualVipDuring === 'never' && o.dualVip.seen)
    m.push(`expected no dual VIP, saw one from +${ms(o.dualVip.firstAtMs)} lasting ${ms(o.dualVip.longestMs)}`);
  if (e.dualVipDuring === 'expected' && !o.dualVip.seen) m.push('expected a dual VIP (the notebook saw one), saw none');
  m.push(...fencingMismatches(e, o));
  const budgets = overBudget(e, o, resolutionMs);
  m.push(...budgets.missed);
  const want = e.faultedDaemonsAfter;
  const have = o.faulted ? o.daemonsAfter[o.faulted] : undefined;
  if (want && have) {
    for (const k of ['corosync', 'pacemakerd'] as const) {
      if (want[k] !== undefined && want[k] !== have[k])
        m.push(`expected ${k} on ${o.faulted} to be ${want[k] ? 'running' : 'gone'} afterwards, it was ${have[k] ? 'running' : 'gone'}`);
    }
    if (want.allChildren !== undefined && want.allChildren !== (have.children === 6))
      m.push(`expected ${want.allChildren ? 'all six' : 'not all'} pacemaker children on ${o.faulted} afterwards, saw ${have.children}`);
  }
  // The invariant no peer checks: the VIP leads to the writable primary. The seed's design moves
  // the VIP and the primary independently, so a VIP on the read_only replica is always a hazard.
  const roles = Object.entries(o.vipHolderRoles ?? {});
  const onReplica = roles.filter(([, r]) => r === 'read_only').map(([h]) => h);
  const writableHolders = roles.filter(([, r]) => r === 'writable').map(([h]) => h);
  const hazards = [
    onReplica.length ? `the VIP is on ${onReplica.join(' and ')}, a read_only replica: writes through the VIP fail` : undefined,
    ...replicaHolderHazards(o),
    writableHolders.length > 1 ? `the VIP is on ${writableHolders.join(' and ')}, all writable: writes can land on both sides` : undefined,
    e.hazard,
    o.dualVip.seen ? e.hazardIf?.dualVip : undefined,
    o.vipAfter === 'moved' ? e.hazardIf?.vipMoved : undefined,
    o.vipAfter === 'both' ? e.hazardIf?.vipBoth : undefined,
    have && have.children < 6 ? e.hazardIf?.childDown : undefined,
    sightedHazard(e.hazardIf?.writableReplica, o.mysql?.writableReplicas),
    sightedHazard(e.hazardIf?.vipOnDownServer, o.mysql?.vipOnDownServer),
    sightedHazard(e.hazardIf?.replicationStopped, o.mysql?.replicationStopped),
    sightedHazard(e.hazardIf?.replicationLeftStopped, o.mysql?.replicationLeftStopped),
    sightedHazard(e.hazardIf?.vipOnStalledServer, o.mysql?.vipOnStalledServer),
  ].filter((x): x is string => !!x);
  const verdict: Verdict = m.length ? 'fail' : hazards.length ? 'hazard' : 'pass';
  // The operator's command is the only danger seen: anything the configuration let happen besides
  // it (a dual VIP, a writable replica) keeps the hazard the configuration's.
  const operatorOnly = verdict === 'hazard' && !!e.operatorInstead && !o.dualVip.seen && hazards.every((x) => x === e.hazard);
  return {
    verdict,
    mismatches: m,
    seen: describeOutcome(o),
    hazard: hazards.join('; ') || undefined,
    ...(operatorOnly ? { operatorInstead: e.operatorInstead } : {}),
    ...(budgets.unproven.length ? { unproven: budgets.unproven } : {}),
  };
}

/**
 * Pacemaker blocks the lost node's resources until its fencing succeeds: a failed fencing must be
 * said as such, not left to look like a slow failover, and so must a fenced host that did not come
 * back. One whose target had come back is moot. Where the act breaks the fence path itself, what
 * it expects must be seen: a fencing that fails, or a host fenced that stays away.
 */
function fencingMismatches(e: Expectation, o: Outcome): string[] {
  const ops = o.fencing ?? [];
  const failed = ops.filter((f) => f.status === 'failed' && !f.targetBack);
  const done = ops.filter((f) => f.status === 'success');
  const notBack = o.fencedNotBack ?? [];
  const at = (f: { atMs: number }) => ` (at +${ms(f.atMs)})`;
  if (e.fencing === 'fails') {
    const m = done.map((f) => `expected every fencing to fail (the fence path was broken), saw ${describeFence(f)}${at(f)}`);
    if (!failed.length) m.push('expected a fencing to fail (the fence path was broken), saw none fail');
    return m;
  }
  const m = ops.filter((f) => f.status !== 'success' && !f.targetBack).map((f) => `${describeFence(f)}${at(f)}`);
  if (e.fencing === 'target-not-back') {
    if (!done.length) m.push("expected a fencing to succeed (the fence path works, the target's boot does not), saw none succeed");
    else if (!notBack.length)
      m.push(
        `expected the fenced host to stay out of the cluster (its boot was broken), saw ${done.map((f) => f.target).join(' and ')} back`,
      );
    return m;
  }
  for (const host of notBack) m.push(`${host} was fenced and not back in the cluster at the act's end (+${ms(o.windowMs)})`);
  return m;
}

/**
 * The VIP on a replica whose data is not the primary's, at the act's close: stale (its SQL thread
 * stopped short of transactions another server has: reads through the VIP miss them, and promoting
 * it loses them) or errant (it holds transactions no other server has: written past the primary).
 */
function replicaHolderHazards(o: Outcome): string[] {
  return Object.entries(o.vipHolderGtid ?? {}).flatMap(([host, g]) => [
    // A running SQL thread a transaction behind is async replication catching up, not a state.
    ...(g.missing > 0 && g.sql !== 'Yes'
      ? [
          `the VIP is on ${host}, ${g.missing} transaction${g.missing > 1 ? 's' : ''} behind the primary by GTID with its SQL thread stopped: reads through the VIP are stale, and promoting it before it applies them loses them`,
        ]
      : []),
    ...(g.errant.length
      ? [
          `the VIP is on ${host}, which holds transactions no other server has (errant: ${g.errant.join(', ')}): written past the primary, they stay if it is promoted and stop replication from it`,
        ]
      : []),
  ]);
}

/**
 * Budgets of the expectation that the act exceeded, each with the figure measured and the budget.
 * The failover is seen at the first poll that shows it, so it happened up to one poll gap earlier:
 * over the budget by less than that gap is unproven (the act cannot be judged on it), not missed.
 */
function overBudget(e: Expectation, o: Outcome, resolutionMs: number): { missed: string[]; unproven: string[] } {
  const missed: string[] = [];
  const unproven: string[] = [];
  const ttf = o.timeToFailoverMs;
  if (e.failoverWithinMs !== undefined && ttf !== undefined && ttf > e.failoverWithinMs) {
    if (ttf - resolutionMs > e.failoverWithinMs)
      missed.push(`failover took ${ms(ttf)}, over the profile's budget of ${ms(e.failoverWithinMs)} (failoverWithinMs)`);
    else
      unproven.push(
        `failover seen at ${ms(ttf)} against a budget of ${ms(e.failoverWithinMs)}, with observer polls up to ${resolutionMs} ms apart: it may have been within the budget`,
      );
  }
  if (
    e.writesUnavailableWithinMs !== undefined &&
    o.writesUnavailableMs !== undefined &&
    o.writesUnavailableMs > e.writesUnavailableWithinMs
  ) {
    missed.push(
      `writes through the VIP were unavailable for ${ms(o.writesUnavailableMs)}, over the profile's budget of ${ms(e.writesUnavailableWithinMs)} (writesUnavailableWithinMs)`,
    );
  }
  return { missed, unproven };
}

/**
 * The resolution an act needs unless its expectation says otherwise: the largest gap between two
 * polls during the act. The dual VIPs the seed's cases show last 1–6 s; the worst gap seen over
 * whole fault windows was 856 ms on a quiet 2-core machine (a soak run) and 1028 ms under load, so
 * 1.5 s keeps a ≥ 1.5 s dual VIP from falling between polls without calling a quiet run unjudgeable.
 */
export const DEFAULT_MAX_OBSERVATION_GAP_MS = 1_500;

/**
 * Why the evidence of a recorded act cannot support a verdict, if it cannot: the act's own step
 * threw, the window closed before the cluster settled, the observer's polls were further apart
 * than the act's resolution, or a change was found only by a watcher's periodic look (its time
 * known to within more than that resolution).
 */
export function missingEvidence(e: Expectation, end: ActEnd, missed: MissedChange[] = []): string | undefined {
  if (end.error) return `the act could not be observed to its end: ${end.error}`;
  if (!end.settled) return `the window closed at +${ms(end.to - end.from)} while the cluster was still changing`;
  const need = e.maxObservationGapMs ?? DEFAULT_MAX_OBSERVATION_GAP_MS;
  if (end.polling.maxGapMs === undefined) return 'no observer polls during the act';
  if (end.polling.maxGapMs > need)
    return `observer polls up to ${end.polling.maxGapMs} ms apart during the act (it needs ≤ ${need} ms): a short dual VIP could fall between two polls`;
  // A change found late may have happened inside the act: [t - sinceMs, t] meets [from, to].
  const blurred = missed.filter((m) => m.sinceMs > need && m.t >= end.from && m.t - m.sinceMs <= end.to);
  if (blurred.length)
    return `${blurred.map((m) => `${m.host}: ${m.what}`).join('; ')}: found by the watcher's periodic look, not by an event, so known only to within ${Math.max(...blurred.map((m) => m.sinceMs))} ms (the act needs ≤ ${need} ms)`;
  return undefined;
}

/**
 * The verdict of a recorded act from the history alone (used by the runner and by `npm run judge`):
 * fail when the evidence contradicts the expectation, inconclusive when it cannot support a
 * verdict, else hazard or pass.
 */
export function judgeAct(h: History, end: ActEnd, e: Expectation): Judgement & { outcome?: Outcome } {
  let outcome: Outcome;
  try {
    outcome = actOutcome(h, end);
  } catch (err) {
    return { verdict: 'inconclusive', mismatches: [], seen: 'nothing observed', inconclusive: (err as Error).message };
  }
  const j = judge(e, outcome, end.polling.maxGapMs ?? Number.POSITIVE_INFINITY);
  const missed = h.events.filter((x): x is Extract<HistoryEvent, { type: 'missed' }> => x.type === 'missed');
  const missing = [missingEvidence(e, end, missed), ...(j.unproven ?? [])].filter((x): x is string => !!x);
  if (j.verdict === 'fail' || !missing.length) return { ...j, outcome };
  return { ...j, verdict: 'inconclusive', inconclusive: missing.join('; '), outcome };
}
