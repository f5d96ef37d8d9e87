import type { History } from './history.js';

let signalled = false;
/** Whether this process got a Ctrl-C during a case: the cases after it are not started. */
export const interruptedHere = () => signalled;

/**
 * Ctrl-C and SIGTERM during one case. SIGINT (which the terminal sends to this worker too): stop
 * at the next step and let the recovery undo the faults, as after any failure. SIGTERM (the worker
 * is being ended): undo them here, bounded, then exit. Both share one undo, so a fault is never
 * undone twice at once.
 */
export class CaseInterrupt {
  private readonly abort = new AbortController();
  private undoing?: Promise<void>;
  private readonly onSigint = () => {
    // A second Ctrl-C must not end the worker in the middle of the undo: recovery is bounded anyway.
    if (this.abort.signal.aborted) return this.log(`case ${this.caseId}: recovery in progress (its steps are bounded)`);
    signalled = true;
    this.log(`case ${this.caseId}: interrupted; stopping and undoing its faults`);
    this.history.step('interrupted', 'SIGINT');
    this.abort.abort();
  };
  private readonly onSigterm = () => {
    this.log(`case ${this.caseId}: terminated; undoing its faults before exit`);
    this.abort.abort();
    const bound = new Promise((r) => setTimeout(r, 60_000));
    void Promise.race([this.undo(), bound]).finally(() => process.exit(130));
  };

  constructor(
    private readonly caseId: string,
    private readonly log: (l: string) => void,
    private readonly history: History,
    private readonly undoFaults: () => Promise<void>,
  ) {
    process.on('SIGINT', this.onSigint);
    process.once('SIGTERM', this.onSigterm);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }
  get aborted(): boolean {
    return this.abort.signal.aborted;
  }

  /** Undoes the faults once, whoever asks first (the recovery or SIGTERM). */
  undo(): Promise<void> {
    this.undoing ??= this.undoFaults();
    return this.undoing;
  }

  /** Once the faults are undone, signals are no longer this case's business. */
  release(): void {
    process.off('SIGINT', this.onSigint);
    process.off('SIGTERM', this.onSigterm);
  }

  /** The promise, or an interruption: whichever comes first (the fault's own work may go on; recovery undoes it). */
  race<T>(p: Promise<T>): Promise<T | undefined> {
    if (this.aborted) return Promise.resolve(undefined);
    return Promise.race([
      p,
      new Promise<undefined>((r) => this.abort.signal.addEventListener('abort', () => r(undefined), { once: true })),
    ]);
  }
}
