/** Median, p95, p99 and largest of a list of gaps between successive samples (ms, rounded): an observer's achieved resolution. */
export function gapStats(gaps: number[]): { medianGapMs?: number; p95GapMs?: number; p99GapMs?: number; maxGapMs?: number } {
  const g = [...gaps].sort((a, b) => a - b);
  const at = (q: number) => (g.length ? Math.round(g[Math.min(g.length - 1, Math.floor(q * g.length))]!) : undefined);
  return { medianGapMs: at(0.5), p95GapMs: at(0.95), p99GapMs: at(0.99), maxGapMs: at(1) };
}

/**
 * How late watchers woke after their timers were due (ms, to 0.1 ms): a change wakes a watcher as
 * a timer does, so this is how late an event-driven observer stamps a change — its resolution.
 */
export function wakeLateStats(lateMs: number[]): WakeLate {
  const l = [...lateMs].sort((a, b) => a - b);
  const at = (q: number) => Math.round(l[Math.min(l.length - 1, Math.floor(q * l.length))]! * 10) / 10;
  return { samples: l.length, medianMs: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
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
