/** Median, p95, p99 and largest of a list of gaps between successive samples (ms, rounded): an observer's achieved resolution. */
export function gapStats(gaps: number[]): { medianGapMs?: number; p95GapMs?: number; p99GapMs?: number; maxGapMs?: number } {
  const g = [...gaps].sort((a, b) => a - b);
  const at = (q: number) => (g.length ? Math.round(g[Math.min(g.length - 1, Math.floor(q * g.length))]!) : undefined);
  return { medianGapMs: at(0.5), p95GapMs: at(0.95), p99GapMs: at(0.99), maxGapMs: at(1) };
}
