import { describe, expect, it } from 'vitest';
import { gapStats, wakeLateStats, wakeLateSummary, wakeLateText } from '../../lib/observe/gaps.js';

// The event observer's resolution: how late its watchers woke after a timer (each line's "late",
// µs, read as ms). One late wake-up in a hundred is the p99; it must show, not be averaged away.
describe('wake-up lateness of the host watchers', () => {
  const onTime = Array.from({ length: 99 }, (_, i) => (i % 3) * 0.1);

  it('gives the median, p99 and worst, to 0.1 ms', () => {
    expect(wakeLateStats([...onTime, 12.345])).toEqual({ samples: 100, medianMs: 0.1, p99Ms: 12.3, maxMs: 12.3 });
  });

  it('shows a watcher that woke late often as a high p99 (a stalled machine)', () => {
    const stalled = [...onTime.slice(0, 90), ...Array.from({ length: 10 }, () => 40)];
    const w = wakeLateStats(stalled);
    expect(w.p99Ms).toBe(40);
    expect(w.medianMs).toBeLessThan(1);
    expect(wakeLateText(w)).toBe('a change stamped at most 40 ms late at p99 (median 0.1, worst 40; 100 watcher wake-ups)');
  });

  it('is not the gap between lines: beats 100 ms apart on time are a 100 ms gap but 0 ms late', () => {
    expect(gapStats(Array.from({ length: 50 }, () => 100)).p99GapMs).toBe(100);
    expect(wakeLateStats(Array.from({ length: 50 }, () => 0)).p99Ms).toBe(0);
  });

  it("sums a run up by its case runs' p99s and the worst wake-up of all", () => {
    const runs = [wakeLateStats([1, 2, 30]), wakeLateStats([1, 4]), wakeLateStats([9])];
    expect(wakeLateSummary(runs)).toBe('p99 median 9 ms, up to 30 ms per case run; worst 30 ms');
  });
});
