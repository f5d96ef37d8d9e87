import type { History } from '../history.js';
import type { Target } from '../targets/target.js';

/**
 * A fault changes the cluster and knows how to undo itself. `inject` returns when the fault is
 * in place (or, for a timed fault like a link down, when it has run its course); `undo` puts
 * back what the fault took away, whatever state it finds.
 */
export interface Fault {
  /** e.g. "kill -9 pacemakerd on db1" */
  readonly name: string;
  readonly host?: string;
  /** Faults that break the cluster may only hit a disposable target. */
  readonly destructive: boolean;
  inject(t: Target, h: History): Promise<void>;
  undo(t: Target, h: History): Promise<void>;
}

/** Runs a fault's injection between fault-start/fault-end marks in the history. */
export async function injectFault(f: Fault, t: Target, h: History): Promise<void> {
  h.faultStart(f.name, f.host);
  try {
    await f.inject(t, h);
  } finally {
    h.faultEnd(f.name, f.host);
  }
}
