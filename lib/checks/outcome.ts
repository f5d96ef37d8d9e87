import type { History, NodeObservation } from '../history.js';

/** What happened during one act, derived from the history alone. */
export interface Outcome {
  /** The node the fault was aimed at (the VIP holder unless said). */
  faulted?: string;
  initialHolders: string[];
  finalHolders: string[];
  /** stayed: one holder, the same; moved: one holder, another; both: dual VIP; none: nobody. */
  vipAfter: VipAfter;
  dualVip: { seen: boolean; longestMs: number; firstAtMs?: number; stillAtEnd: boolean };
  noVip: { longestMs: number };
  /** Fault start → first observation of the VIP up on a node other than the initial holder(s). */
  timeToFailoverMs?: number;
  /** Cluster daemons per node at the end of the act. */
  daemonsAfter: Record<string, { corosync: boolean; pacemakerd: boolean; children: number }>;
  observations: number;
  windowMs: number;
  /** Whether each final VIP holder's server was writable (filled in by the runner). */
  vipHolderRoles?: Record<string, 'writable' | 'read_only' | 'unreachable'>;
}

export type VipAfter = 'stayed' | 'moved' | 'both' | 'none';

const holdersOf = (nodes: Record<string, NodeObservation>) => Object.entries(nodes).filter(([, o]) => o.vip).map(([n]) => n).sort();

export function classify(initial: string[], final: string[]): VipAfter {
  if (final.length === 0) return 'none';
  if (final.length > 1) return 'both';
  return initial.length === 1 && final[0] === initial[0] ? 'stayed' : 'moved';
}

/**
 * Judges the window [from, to] of the history: `from` is the act's fault start; the observation
 * just before it gives the initial state.
 */
export function deriveOutcome(h: History, from: number, to: number, faulted?: string): Outcome {
  const before = h.observations(0, from).at(-1);
  const obs = h.observations(from, to);
  const all = before ? [before, ...obs] : obs;
  if (!all.length) throw new Error(`no observations between t=${from} and t=${to}: the observer saw nothing`);
  const initialHolders = holdersOf(all[0]!.nodes);
  const last = all.at(-1)!;
  const finalHolders = holdersOf(last.nodes);

  // Durations: each observation holds until the next one (observations are recorded on change).
  let dualFirst: number | undefined, failover: number | undefined;
  for (const o of all) {
    const holders = holdersOf(o.nodes);
    if (holders.length > 1) dualFirst ??= Math.max(o.t, from) - from;
    if (failover === undefined && o.t >= from && holders.some((x) => !initialHolders.includes(x))) failover = o.t - from;
  }
  // A stretch spans several observations when other fields (daemons, link) change inside it.
  const dualLongest = longestStretch(all, from, to, (n) => holdersOf(n).length > 1);
  const noneLongest = longestStretch(all, from, to, (n) => holdersOf(n).length === 0);

  return {
    faulted,
    initialHolders,
    finalHolders,
    vipAfter: classify(initialHolders, finalHolders),
    dualVip: { seen: dualFirst !== undefined, longestMs: round(dualLongest), firstAtMs: dualFirst === undefined ? undefined : round(dualFirst), stillAtEnd: finalHolders.length > 1 },
    noVip: { longestMs: round(noneLongest) },
    timeToFailoverMs: failover === undefined ? undefined : round(failover),
    daemonsAfter: Object.fromEntries(Object.entries(last.nodes).map(([n, o]) => [n, { corosync: o.corosync, pacemakerd: o.pacemakerd, children: o.children.length }])),
    observations: obs.length,
    windowMs: round(to - from),
  };
}

function longestStretch(all: { t: number; nodes: Record<string, NodeObservation> }[], from: number, to: number, pred: (n: Record<string, NodeObservation>) => boolean): number {
  let longest = 0;
  let runStart: number | undefined;
  for (let i = 0; i < all.length; i++) {
    const o = all[i]!;
    const start = Math.max(o.t, from);
    if (pred(o.nodes)) runStart ??= start;
    else if (runStart !== undefined) {
      longest = Math.max(longest, start - runStart);
      runStart = undefined;
    }
  }
  if (runStart !== undefined) longest = Math.max(longest, to - runStart);
  return longest;
}

const round = (x: number) => Math.round(x);
