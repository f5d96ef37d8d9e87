/** The value at quantile q (0–1) of a non-empty list, nearest rank (1: the largest). */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Median, p95, p99 and largest of a list of gaps between successive samples (ms, rounded): an observer's achieved resolution. */
export function gapStats(gaps: number[]): { medianGapMs?: number; p95GapMs?: number; p99GapMs?: number; maxGapMs?: number } {
  const at = (q: number) => (gaps.length ? Math.round(quantile(gaps, q)) : undefined);
  return { medianGapMs: at(0.5), p95GapMs: at(0.95), p99GapMs: at(0.99), maxGapMs: at(1) };
}

/**
 * How late watchers woke after their timers were due (ms, to 0.1 ms): a change wakes a watcher as
 * a timer does, so this is how late an event-driven observer stamps a change — its resolution.
 */
export function wakeLateStats(lateMs: number[]): WakeLate {
  const at = (q: number) => Math.round(quantile(lateMs, q) * 10) / 10;
  return { samples: lateMs.length, medianMs: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

export interface WakeLate {
  samples: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

/** One line for reports: the resolution of an event observer's stamps. */
export const wakeLateText = (w: WakeLate) =>
  `a change stamped at most ${w.p99Ms} ms late at p99 (median ${w.medianMs}, worst ${w.maxMs}; ${w.samples} watcher wake-ups)`;

/** The resolution over a run's case runs, for its summary and bench:cases: their p99s, and the worst wake-up of all. */
export const wakeLateSummary = (w: WakeLate[]) =>
  `p99 median ${quantile(
    w.map((x) => x.p99Ms),
    0.5,
  )} ms, up to ${Math.max(...w.map((x) => x.p99Ms))} ms per case run; worst ${Math.max(...w.map((x) => x.maxMs))} ms`;
