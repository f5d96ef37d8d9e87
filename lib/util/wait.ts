/** Bounded polling: every wait in the harness goes through here so each one has a limit and a name. */
export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastError?: unknown,
  ) {
    const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
    super(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}${last}`);
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Errors of this class end the wait at once instead of counting as "not yet". */
  fatal?: abstract new (
    ...args: never[]
  ) => Error;
}

/** Polls `probe` until it returns a value other than undefined/false, or throws WaitTimeoutError naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs, intervalMs = 200, fatal }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      lastError = undefined;
    } catch (e) {
      if (fatal && e instanceof fatal) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, lastError);
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The promise, or a rejection naming `what` once ms have passed (the work itself is not cancelled). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}
