import type { ActEnd, History, HistoryEvent, NodeObservation } from '../history.js';
import { detectGtidFlavor, errantGtids, gtidMissingCount } from '../replication/gtid.js';
import { longestWriteGap, writeGaps } from './writes.js';

/** What happened during one act, derived from the history alone. */
import type { FenceOperation } from '../probes/fencing.js';
import { PACEMAKER_CHILDREN } from '../probes/processes.js';
import type { MysqlObservation } from '../history.js';

export interface Outcome {
  /** The node the fault was aimed at (the VIP holder unless said). */
  faulted?: string;
  initialHolders: string[];
  finalHolders: string[];
  /** stayed: one holder, the same; moved: one holder, another; both: dual VIP; none: nobody. */
  vipAfter: VipAfter;
  dualVip: { seen: boolean; longestMs: number; firstAtMs?: number; stillAtEnd: boolean; unprovenPolls?: number };
  noVip: { longestMs: number };
  /** Fault start → first observation of the VIP up on a node other than the initial holder(s). */
  timeToFailoverMs?: number;
  /** Cluster daemons per node at the end of the act. */
  daemonsAfter: Record<string, { corosync: boolean; pacemakerd: boolean; children: number }>;
  observations: number;
  windowMs: number;
  /** Whether each final VIP holder's server was writable (from the MySQL observation that closes the act). */
  vipHolderRoles?: Record<string, 'writable' | 'read_only' | 'unreachable'>;
  /** Longest stretch in the window with no write acknowledged through the VIP (when a workload ran). */
  writesUnavailableMs?: number;
  /**
   * For each final VIP holder that is a replica, its GTID position against the other servers at
   * the act's close: transactions they have that it lacks (stale), and transactions it has that
   * none of them has (errant: written on it directly).
   */
  vipHolderGtid?: Record<string, { missing: number; errant: string[]; gtid: string; sql?: string }>;
  /** What the MySQL observations between the fault start and the act's close showed (when MySQL was watched). */
  mysql?: MysqlDuring;
  /** Fencing operations Pacemaker recorded during the act, each ms after the fault start (whole seconds: the fencer's). */
  /**
   * targetBack on a failed operation: its target had been cut off (link or corosync down) in the
   * act and was seen back (link, corosync and pacemakerd up) when the fencing failed — the fence
   * was moot (Pacemaker 2.1.5's fencer fails a query the rejoining target answers first).
   */
  fencing?: (FenceOperation & { atMs: number; targetBack?: boolean })[];
  /** Hosts a fencing in the act rebooted (or powered on) that were not back in the cluster (corosync, pacemakerd, all children) at its end. */
  fencedNotBack?: string[];
}

/** A dangerous MySQL state seen on a host during an act: the first reading that showed it (ms after the fault start). */
export interface MysqlSighting {
  host: string;
  atMs: number;
}

export interface MysqlDuring {
  /** Replicas (replica threads configured) seen writable: a client that reaches one writes past replication. */
  writableReplicas: MysqlSighting[];
  /** Hosts seen answering on the VIP while their MySQL did not answer: writes through the VIP fail. */
  vipOnDownServer: MysqlSighting[];
  /** Replicas seen with a replication thread not running: they fall behind, and nothing in the cluster notices. */
  replicationStopped: MysqlSighting[];
  /**
   * Of those, the replicas whose last reading in the act still showed it: nothing put replication
   * right (a cluster that manages MySQL restarts a stopped thread within a monitor).
   */
  replicationLeftStopped: MysqlSighting[];
  /**
   * Hosts seen answering on the VIP, their MySQL up and writable, while no write through the VIP had
   * been acknowledged for STALL_MS: a server that answers but does not commit (a full disk, a lock).
   */
  vipOnStalledServer: MysqlSighting[];
  /** Hosts whose MySQL did not answer a reading (down, paused, or hung): told in what was seen, whether or not a hazard. */
  notAnswering: MysqlSighting[];
}

/**
 * How long writes through the VIP must have gone unacknowledged before a writable, answering VIP
 * holder counts as stalled: over two of the writer's 2 s timeouts, longer than the moment a failing
 * holder still shows the VIP before it goes.
 */
export const STALL_MS = 5_000;

export type VipAfter = 'stayed' | 'moved' | 'both' | 'none';

/**
 * The nodes holding the VIP. answering: only those that can answer on it, the address on a link
 * that is up — a host whose power or network is gone keeps the address on its down link, yet
 * nobody reaches it there: that is not a split brain, and the VIP on it and its peer is not a dual VIP.
 */
const holdersOf = (nodes: Record<string, NodeObservation>, answering = false) =>
  Object.entries(nodes)
    .filter(([, o]) => o.vip && (!answering || o.linkUp))
    .map(([n]) => n)
    .sort();
const answeringHoldersOf = (nodes: Record<string, NodeObservation>) => holdersOf(nodes, true);

export function classify(initial: string[], final: string[]): VipAfter {
  if (final.length === 0) return 'none';
  if (final.length > 1) return 'both';
  return initial.length === 1 && final[0] === initial[0] ? 'stayed' : 'moved';
}

/**
 * Judges the window [from, to] of the history: `from` is the act's fault start; the observation
 * just before it gives the initial state.
 */
export function deriveOutcome(h: History, from: number, to: number, faulted?: string, closedAt = to): Outcome {
  const proven = provenDualPolls(h);
  const before = h.observations(0, from).at(-1);
  const obs = h.observations(from, to);
  const all = before ? [before, ...obs] : obs;
  if (!all.length) throw new Error(`no observations between t=${from} and t=${to}: the observer saw nothing`);
  const initialHolders = holdersOf(all[0]!.nodes);
  const last = all.at(-1)!;
  const finalHolders = holdersOf(last.nodes);
  const isDual = (o: Obs) => proven.has(o);

  // Durations: each observation holds until the next one (observations are recorded on change).
  let dualFirst: number | undefined, failover: number | undefined;
  for (const o of all) {
    if (isDual(o)) dualFirst ??= Math.max(o.t, from) - from;
    if (failover === undefined && o.t >= from && holdersOf(o.nodes).some((x) => !initialHolders.includes(x))) failover = o.t - from;
  }
  // A stretch spans several observations when other fields (daemons, link) change inside it.
  const dualLongest = longestStretch(all, from, to, isDual);
  const noneLongest = longestStretch(all, from, to, (o) => holdersOf(o.nodes).length === 0);
  const unprovenPolls = all.filter((o) => answeringHoldersOf(o.nodes).length > 1 && !isDual(o)).length;

  return {
    faulted,
    initialHolders,
    finalHolders,
    vipAfter: classify(initialHolders, finalHolders),
    dualVip: {
      seen: dualFirst !== undefined,
      longestMs: round(dualLongest),
      firstAtMs: dualFirst === undefined ? undefined : round(dualFirst),
      stillAtEnd: finalHolders.length > 1 && isDual(last),
      ...(unprovenPolls ? { unprovenPolls } : {}),
    },
    noVip: { longestMs: round(noneLongest) },
    timeToFailoverMs: failover === undefined ? undefined : round(failover),
    daemonsAfter: Object.fromEntries(
      Object.entries(last.nodes).map(([n, o]) => [n, { corosync: o.corosync, pacemakerd: o.pacemakerd, children: o.children.length }]),
    ),
    observations: obs.length,
    windowMs: round(to - from),
    vipHolderRoles: rolesAt(h, closedAt, finalHolders),
    vipHolderGtid: replicaHoldersGtid(h, closedAt, finalHolders),
    writesUnavailableMs: longestWriteGap(h, from, to),
    mysql: mysqlDuring(h, from, closedAt),
    ...fencingDuring(h, from, closedAt, last),
  };
}

/**
 * A server with a replica configuration that acts as one: read_only, or a replica thread running.
 * A writable server whose threads are both stopped is a primary with a leftover channel — what the
 * mariadb agent leaves on the node it promotes (it never resets the old one) — not a replica.
 */
export const actsAsReplica = (m: MysqlObservation) =>
  !!m.replica && (m.readOnly !== false || m.replica.io === 'Yes' || m.replica.sql === 'Yes');

/** A fencing after which its target boots again: a successful reboot (or on), not an off. */
export const bootsTarget = (op: FenceOperation) => op.status === 'success' && op.action !== 'off';

/** A node seen back in the cluster: corosync, pacemakerd and all six children running. */
export const inCluster = (n: NodeObservation | undefined) =>
  !!n && n.corosync && n.pacemakerd && PACEMAKER_CHILDREN.every((c) => n.children.includes(c));

/**
 * The fencing operations recorded in the act (ms after the fault start), and the hosts they
 * rebooted that `last` (the act's last observation) does not show back; absent when none was.
 */
function fencingDuring(h: History, from: number, closedAt: number, last: Obs): Pick<Outcome, 'fencing' | 'fencedNotBack'> {
  const ops = h.events.flatMap((e) =>
    e.type === 'fence' && e.t >= from && e.t <= closedAt
      ? [
          {
            ...e.op,
            atMs: round(e.t - from),
            ...(e.op.status === 'failed' && targetBack(h, e.op.target, from, e.t) ? { targetBack: true } : {}),
          },
        ]
      : [],
  );
  if (!ops.length) return {};
  // The fencer lists its history newest first.
  ops.sort((a, b) => a.atMs - b.atMs);
  const rebooted = [...new Set(ops.filter(bootsTarget).map((f) => f.target))];
  const notBack = rebooted.filter((host) => !inCluster(last.nodes[host]));
  return { fencing: ops, ...(notBack.length ? { fencedNotBack: notBack } : {}) };
}

/**
 * Whether `host` was cut off after `from` and seen back by `at`: the fencer records whole seconds,
 * so the operation may have ended up to a second after its recorded time.
 */
function targetBack(h: History, host: string, from: number, at: number): boolean {
  const seen = h.observations(from, at + 1000).flatMap((o) => (o.nodes[host] ? [o.nodes[host]] : []));
  const cutOff = seen.findIndex((n) => !n.linkUp || !n.corosync);
  const last = seen.at(-1);
  return cutOff >= 0 && !!last && last.linkUp && last.corosync && last.pacemakerd;
}

/**
 * The dangerous MySQL states in the MySQL observations from the fault start to the act's close,
 * each host with the first reading that showed it. A reading counts against the VIP holders of
 * the last observer poll before it. Undefined when MySQL was not watched in that window.
 */
export function mysqlDuring(h: History, from: number, closedAt: number): MysqlDuring | undefined {
  const reads = h.events.filter((e): e is MysqlEvent => e.type === 'mysql' && e.t >= from && e.t <= closedAt);
  if (!reads.length) return undefined;
  const polls = h.observations(0, closedAt);
  const writable = new Map<string, number>();
  const down = new Map<string, number>();
  const stopped = new Map<string, number>();
  const stillStopped = new Set<string>();
  const silent = new Map<string, number>();
  let p = 0;
  for (const r of reads) {
    while (p < polls.length && polls[p]!.t <= r.t) p++;
    const answering = p ? answeringHoldersOf(polls[p - 1]!.nodes) : [];
    for (const [host, m] of Object.entries(r.nodes)) {
      if (m.up && actsAsReplica(m) && m.readOnly === false && !writable.has(host)) writable.set(host, round(r.t - from));
      if (!m.up && !silent.has(host)) silent.set(host, round(r.t - from));
      if (!m.up && answering.includes(host) && !down.has(host)) down.set(host, round(r.t - from));
      if (m.up && actsAsReplica(m) && (m.replica!.io !== 'Yes' || m.replica!.sql !== 'Yes')) {
        if (!stopped.has(host)) stopped.set(host, round(r.t - from));
        stillStopped.add(host);
      } else if (m.up) stillStopped.delete(host); // replicating again, or no longer a replica
    }
  }
  const list = (m: Map<string, number>) => [...m].map(([host, atMs]) => ({ host, atMs }));
  return {
    writableReplicas: list(writable),
    vipOnDownServer: list(down),
    replicationStopped: list(stopped),
    replicationLeftStopped: list(stopped).filter((x) => stillStopped.has(x.host)),
    vipOnStalledServer: list(stalledHolders(h, from, closedAt, polls)),
    notAnswering: list(silent),
  };
}

/**
 * Hosts that answered on the VIP with their MySQL up and writable for STALL_MS or more on end
 * during a stretch without an acknowledged write, each at the moment that span reached STALL_MS.
 * A host counts from when it became such a holder, not from the last write: a new primary whose
 * first commit waits a moment (semi-sync's timeout after a failover) is not a stalled server.
 * Readings and polls are recorded on change, so each one's state holds until the next: a server
 * that answers the same reading every second during the stall has one reading, from before it.
 */
function stalledHolders(h: History, from: number, closedAt: number, polls: Obs[]): Map<string, number> {
  const out = new Map<string, number>();
  const reads = h.events.filter((e): e is MysqlEvent => e.type === 'mysql' && e.t <= closedAt);
  const lastAt = <T extends { t: number }>(l: T[], t: number) => l.filter((e) => e.t <= t).at(-1);
  for (const g of writeGaps(h, from, closedAt)) {
    const moments = [...new Set([g.from, ...reads.map((r) => r.t), ...polls.map((o) => o.t)])]
      .filter((t) => t >= g.from && t <= g.to)
      .sort((a, b) => a - b);
    const since = new Map<string, number>();
    moments.forEach((t, i) => {
      const r = lastAt(reads, t);
      const poll = lastAt(polls, t);
      const holding = new Set(
        r && poll ? answeringHoldersOf(poll.nodes).filter((x) => r.nodes[x]?.up && r.nodes[x]?.readOnly === false) : [],
      );
      for (const host of since.keys()) if (!holding.has(host)) since.delete(host);
      const until = moments[i + 1] ?? g.to;
      for (const host of holding) {
        const s = since.get(host) ?? t;
        since.set(host, s);
        // A stall that began before the fault is counted from the fault on.
        const at = Math.max(s + STALL_MS, from);
        if (until >= at && !out.has(host)) out.set(host, round(at - from));
      }
    });
  }
  return out;
}

type MysqlEvent = Extract<HistoryEvent, { type: 'mysql' }>;

type Obs = Extract<HistoryEvent, { type: 'observe' }>;

/**
 * The polls whose VIP-on-several-nodes is proven (on several hosts that can answer on it). The nodes of one poll are sampled at different
 * moments (hundreds of ms apart over SSH), so one node read before it dropped the VIP and the
 * other after it took it look like a dual VIP that never was. Proven: the node sampled first still
 * held the VIP at the next poll, or the node sampled last already held it at the poll before.
 * (Every poll showing two holders is recorded, so its neighbours are the polls around it.) Polls
 * recorded without per-node sample times count as they read.
 */
export function provenDualPolls(h: History): Set<Obs> {
  const all = h.observations();
  const out = new Set<Obs>();
  const answersAt = (o: Obs | undefined, host: string) => o?.nodes[host]?.vip === true && o.nodes[host]?.linkUp === true;
  all.forEach((o, i) => {
    const holders = answeringHoldersOf(o.nodes);
    if (holders.length < 2) return;
    const at = o.at;
    if (!at || holders.some((x) => at[x] === undefined)) {
      out.add(o);
      return;
    }
    const byTime = [...holders].sort((a, b) => at[a]! - at[b]!);
    const firstStillHeld = all[i + 1] ? answersAt(all[i + 1], byTime[0]!) : true;
    const lastHeldBefore = answersAt(all[i - 1], byTime.at(-1)!);
    if (firstStillHeld || lastHeldBefore) out.add(o);
  });
  return out;
}

/** The outcome of a recorded act: its window and faulted node come from the act's own events. */
export function actOutcome(h: History, end: ActEnd): Outcome {
  const start = h.events
    .filter(
      (e): e is Extract<HistoryEvent, { type: 'act'; phase: 'start' }> =>
        e.type === 'act' && e.phase === 'start' && e.act === end.act && e.t <= end.from + 1,
    )
    .at(-1);
  return deriveOutcome(h, end.from, end.to, start?.faulted, end.t);
}

/** Whether each final VIP holder's server was writable, from the last MySQL observation before the act closed (the runner takes one then). */
function rolesAt(h: History, closedAt: number, holders: string[]): Outcome['vipHolderRoles'] {
  const m = h.mysqlAt(closedAt);
  if (!m) return undefined;
  return Object.fromEntries(
    holders.map((x) => {
      const o = m.nodes[x];
      return [x, !o?.up ? 'unreachable' : o.readOnly ? 'read_only' : 'writable'] as const;
    }),
  );
}

/** The GTID comparison of each final VIP holder that is a replica, from the closing MySQL observation. */
function replicaHoldersGtid(h: History, closedAt: number, holders: string[]): Outcome['vipHolderGtid'] {
  const m = h.mysqlAt(closedAt);
  if (!m) return undefined;
  const out: NonNullable<Outcome['vipHolderGtid']> = {};
  for (const x of holders) {
    const me = m.nodes[x];
    const others = Object.entries(m.nodes).flatMap(([n, o]) => (n !== x && o.up && o.gtid !== undefined ? [o.gtid] : []));
    const flavor = detectGtidFlavor(me?.gtid ?? '') ?? detectGtidFlavor(others[0] ?? '');
    if (!me?.up || !actsAsReplica(me) || me.gtid === undefined || !flavor || !others.length) continue;
    out[x] = {
      missing: Math.max(...others.map((o) => gtidMissingCount(me.gtid!, o, flavor))),
      errant: errantGtids(me.gtid, me.serverId, others, flavor),
      gtid: me.gtid,
      sql: me.replica!.sql,
    };
  }
  return Object.keys(out).length ? out : undefined;
}

function longestStretch(all: Obs[], from: number, to: number, pred: (o: Obs) => boolean): number {
  let longest = 0;
  let runStart: number | undefined;
  for (let i = 0; i < all.length; i++) {
    const o = all[i]!;
    const start = Math.max(o.t, from);
    if (pred(o)) runStart ??= start;
    else if (runStart !== undefined) {
      longest = Math.max(longest, start - runStart);
      runStart = undefined;
    }
  }
  if (runStart !== undefined) longest = Math.max(longest, to - runStart);
  return longest;
}

const round = (x: number) => Math.round(x);
