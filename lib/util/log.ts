import { redact } from './redact.js';

/** One line per step with its elapsed time, so a slow boot shows where the time went. */
export interface StepTiming {
  step: string;
  ms: number;
}

export class StepLog {
  readonly timings: StepTiming[] = [];
  private readonly t0 = Date.now();
  constructor(private readonly out: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  info(msg: string): void {
    this.out(redact(msg));
  }

  async step<T>(step: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      const v = await fn();
      const ms = Date.now() - t;
      this.timings.push({ step, ms });
      this.out(redact(`  ${fmt(ms).padStart(7)}  ${step}   (t+${fmt(Date.now() - this.t0)})`));
      return v;
    } catch (e) {
      this.out(redact(`  ${'FAILED'.padStart(7)}  ${step} after ${fmt(Date.now() - t)}`));
      throw e;
    }
  }

  get totalMs(): number {
    return Date.now() - this.t0;
  }
}

export const fmt = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

export const silentLog = () => new StepLog(() => {});
