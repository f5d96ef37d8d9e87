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

export type HistoryEvent =
  | { t: number; type: 'fault'; phase: 'start' | 'end'; fault: string; host?: string; detail?: string }
  | { t: number; type: 'observe'; nodes: Record<string, NodeObservation> }
  | { t: number; type: 'step'; step: string; detail?: string }
  | { t: number; type: 'write'; key: number; node?: string; result: 'ok' | 'fail' | 'unknown'; latencyMs: number; error?: string };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export class History {
  readonly events: HistoryEvent[] = [];
  readonly startedAt = new Date();
  private readonly t0 = performance.now();

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

  toJSON() {
    return { startedAt: this.startedAt.toISOString(), events: this.events };
  }
}
