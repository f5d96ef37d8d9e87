import type { Expectation } from '../profile/expectations.js';
import type { Outcome } from './outcome.js';

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
  /** Why the evidence cannot support a verdict, when the verdict is "inconclusive". */
  inconclusive?: string;
}

const ms = (x?: number) => (x === undefined ? '-' : `${(x / 1000).toFixed(2)} s`);

export function describeOutcome(o: Outcome): string {
  const roles = o.vipHolderRoles ?? {};
  const final = o.finalHolders.map((h) => (roles[h] && roles[h] !== 'writable' ? `${h} ${roles[h]}` : h));
  const parts = [`VIP ${o.vipAfter} (${o.initialHolders.join('+') || 'none'} → ${final.join('+') || 'none'})`];
  if (o.dualVip.seen) parts.push(`dual VIP from +${ms(o.dualVip.firstAtMs)} for ${ms(o.dualVip.longestMs)}${o.dualVip.stillAtEnd ? ', still at end' : ''}`);
  if (o.timeToFailoverMs !== undefined) parts.push(`failover ${ms(o.timeToFailoverMs)}`);
  if (o.faulted) {
    const d = o.daemonsAfter[o.faulted];
    if (d) parts.push(`${o.faulted}: corosync ${d.corosync ? 'up' : 'down'}, pacemakerd ${d.pacemakerd ? 'up' : 'down'}, ${d.children}/6 children`);
  }
  return parts.join('; ');
}

/** Compares an act's outcome with its expectation: pass, hazard (as expected, and dangerous) or fail. */
export function judge(e: Expectation, o: Outcome): Judgement {
  const m: string[] = [];
  if (!e.vipAfter.includes(o.vipAfter)) {
    m.push(`expected the VIP to end ${e.vipAfter.join(' or ')}, saw ${o.vipAfter}: on ${o.finalHolders.join(' and ') || 'no node'} at +${ms(o.windowMs)} (was on ${o.initialHolders.join(' and ') || 'no node'})`);
  }
  if (e.finalHolderIs && o.finalHolders.length === 1 && o.faulted) {
    const role = o.finalHolders[0] === o.faulted ? 'faulted' : 'other';
    if (!e.finalHolderIs.includes(role)) m.push(`expected the VIP to end on the ${e.finalHolderIs.join(' or ')} node, saw it on ${o.finalHolders[0]} (the ${role} node)`);
  }
  if (e.dualVipDuring === 'never' && o.dualVip.seen) m.push(`expected no dual VIP, saw one from +${ms(o.dualVip.firstAtMs)} lasting ${ms(o.dualVip.longestMs)}`);
  if (e.dualVipDuring === 'expected' && !o.dualVip.seen) m.push('expected a dual VIP (the notebook saw one), saw none');
  const want = e.faultedDaemonsAfter;
  const have = o.faulted ? o.daemonsAfter[o.faulted] : undefined;
  if (want && have) {
    for (const k of ['corosync', 'pacemakerd'] as const) {
      if (want[k] !== undefined && want[k] !== have[k]) m.push(`expected ${k} on ${o.faulted} to be ${want[k] ? 'running' : 'gone'} afterwards, it was ${have[k] ? 'running' : 'gone'}`);
    }
    if (want.allChildren !== undefined && want.allChildren !== (have.children === 6)) m.push(`expected ${want.allChildren ? 'all six' : 'not all'} pacemaker children on ${o.faulted} afterwards, saw ${have.children}`);
  }
  // The invariant no peer checks: the VIP leads to the writable primary. The seed's design moves
  // the VIP and the primary independently, so a VIP on the read_only replica is always a hazard.
  const roles = Object.entries(o.vipHolderRoles ?? {});
  const onReplica = roles.filter(([, r]) => r === 'read_only').map(([h]) => h);
  const writableHolders = roles.filter(([, r]) => r === 'writable').map(([h]) => h);
  const hazards = [
    onReplica.length ? `the VIP is on ${onReplica.join(' and ')}, a read_only replica: writes through the VIP fail` : undefined,
    writableHolders.length > 1 ? `the VIP is on ${writableHolders.join(' and ')}, all writable: writes can land on both sides` : undefined,
    e.hazard,
    o.dualVip.seen ? e.hazardIf?.dualVip : undefined,
    o.vipAfter === 'moved' ? e.hazardIf?.vipMoved : undefined,
    o.vipAfter === 'both' ? e.hazardIf?.vipBoth : undefined,
    have && have.children < 6 ? e.hazardIf?.childDown : undefined,
  ].filter((x): x is string => !!x);
  const verdict: Verdict = m.length ? 'fail' : hazards.length ? 'hazard' : 'pass';
  return { verdict, mismatches: m, seen: describeOutcome(o), hazard: hazards.join('; ') || undefined };
}
