/**
 * Runs `tick` every `intervalMs`, start to start, until stopped: a slow tick delays the next one and
 * never overlaps it. A tick that throws is skipped (a host torn down mid-poll: the next tick tells).
 */
export class PollLoop {
  private running = false;
  private done?: Promise<void>;

  constructor(
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.done = this.run();
  }

  /** Resolves once the tick in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      await this.tick().catch(() => {});
      const wait = this.intervalMs - (performance.now() - started);
      if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
