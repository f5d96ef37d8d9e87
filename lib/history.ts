import type { FenceOperation } from './probes/fencing.js';
import type { WakeLate } from './observe/gaps.js';

/**
 * One timestamped record of a scenario run, the Jepsen way: the nemesis (faults), the observer
 * (cluster state) and the client (writes) all append here; checks judge the whole afterwards.
 */
export interface NodeObservation {
  /** VIP present on the host's interface. */
  vip: boolean;
  linkUp: boolean;
  corosync: boolean;
  pacemakerd: boolean;
  /** Pacemaker children present (names). */
  children: string[];
}

/** One db host's MySQL as the harness read it (over its own connection, from the management host). */
export interface MysqlObservation {
  up: boolean;
  readOnly?: boolean;
  /** Replication threads, when the server is a replica. */
  replica?: { io: string; sql: string; secondsBehind: number | null };
  gtid?: string;
  serverId?: number;
  error?: string;
}

/** The observer's achieved polling over a window (starts of successive polls). */
export interface PollingStats {
  polls: number;
  /** The interval asked for. */
  intervalMs: number;
  medianGapMs?: number;
  p95GapMs?: number;
  p99GapMs?: number;
  maxGapMs?: number;
  /** The event observer's resolution: how late its watchers woke after a timer (lib/observe/gaps.ts). */
  wakeLate?: WakeLate;
}

/** A change of a host's state that only the watcher's periodic check found (lib/observe/event-observer.ts). */
export interface MissedChange {
  host: string;
  /** When the check found it (history ms). */
  t: number;
  /** How long before that the host's state was last looked at in full (its start or its look before): the change is somewhere in between. */
  sinceMs: number;
  /** What changed, e.g. "pacemaker-based started", "the VIP added". */
  what: string;
}

/** What the final reads after recovery found: the data check judges these, not the live servers. */
export interface DataRead {
  /** The workload's keys found on each reachable db host. */
  keysOn: Record<string, number[]>;
  gtid: Record<string, string>;
  /** Whether the replica caught up with the primary (same GTID position) within the bound. */
  converged: boolean;
  convergeMs: number;
  replicaLagSeconds: number | null;
  primary?: string;
  replica?: string;
  /** Whether the replica wrote transactions of its own (its server id in its GTID position). */
  replicaWroteOwn: boolean;
  problems: string[];
}

export type HistoryEvent =
  | { t: number; type: 'fault'; phase: 'start' | 'end'; fault: string; host?: string; detail?: string }
  | { t: number; type: 'act'; phase: 'start'; act: string; fault: string; faulted?: string }
  | { t: number; type: 'act'; phase: 'end'; act: string; from: number; to: number; settled: boolean; polling: PollingStats; error?: string }
  | { t: number; type: 'mysql'; nodes: Record<string, MysqlObservation> }
  | { t: number; type: 'data-read'; runKey: string; read?: DataRead; error?: string }
  /** t: when the poll started; at: when each node took its sample, by its own clock brought onto the history's. */
  | { t: number; type: 'observe'; nodes: Record<string, NodeObservation>; at?: Record<string, number> }
  | { t: number; type: 'step'; step: string; detail?: string }
  /** A change only a watcher's periodic full look found (lib/observe/missed.ts): it happened in [t - sinceMs, t]. */
  | ({ type: 'missed' } & MissedChange)
  /** A fencing operation as Pacemaker's fencer recorded it; t: when it completed (whole seconds), or when it was read if pending. */
  | { t: number; type: 'fence'; op: FenceOperation }
  | { t: number; type: 'write'; key: number; node?: string; result: 'ok' | 'fail' | 'unknown'; latencyMs: number; error?: string };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export type ActEnd = Extract<HistoryEvent, { type: 'act'; phase: 'end' }>;

export class History {
  readonly events: HistoryEvent[] = [];
  private readonly t0 = performance.now();

  constructor(readonly startedAt = new Date()) {}

  /** Milliseconds since the run started (monotonic). */
  now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  add(e: DistributiveOmit<HistoryEvent, 't'> & { t?: number }): HistoryEvent {
    const ev = { ...e, t: e.t ?? this.now() } as HistoryEvent;
    this.events.push(ev);
    return ev;
  }

  step(step: string, detail?: string): void {
    this.add({ type: 'step', step, detail });
  }

  faultStart(fault: string, host?: string, detail?: string): void {
    this.add({ type: 'fault', phase: 'start', fault, host, detail });
  }

  faultEnd(fault: string, host?: string, detail?: string): void {
    this.add({ type: 'fault', phase: 'end', fault, host, detail });
  }

  observations(from = 0, to = Infinity) {
    return this.events.filter((e): e is Extract<HistoryEvent, { type: 'observe' }> => e.type === 'observe' && e.t >= from && e.t <= to);
  }

  faults() {
    return this.events.filter((e): e is Extract<HistoryEvent, { type: 'fault' }> => e.type === 'fault');
  }

  /** The acts' closing events, in order: each carries its judged window. */
  actEnds() {
    return this.events.filter((e): e is ActEnd => e.type === 'act' && e.phase === 'end');
  }

  /** The last MySQL observation at or before t. */
  mysqlAt(t: number) {
    return this.events.filter((e): e is Extract<HistoryEvent, { type: 'mysql' }> => e.type === 'mysql' && e.t <= t).at(-1);
  }

  /** A history saved by writeCaseRun, to judge again without a cluster. */
  static fromJSON(d: { startedAt: string; events: HistoryEvent[] }): History {
    const h = new History(new Date(d.startedAt));
    h.events.push(...d.events);
    return h;
  }

  toJSON() {
    return { startedAt: this.startedAt.toISOString(), events: this.events };
  }
}
