import type { History, HistoryEvent } from '../history.js';

export type WriteEvent = Extract<HistoryEvent, { type: 'write' }>;

export const writesOf = (h: History, from = 0, to = Infinity): WriteEvent[] =>
  h.events.filter((e): e is WriteEvent => e.type === 'write' && e.t >= from && e.t <= to);

/** A stretch in which writes were attempted and none was acknowledged: from the last acknowledged write before it to the next one (or to the last write). */
export interface WriteGap {
  from: number;
  to: number;
}

/** Every stretch without an acknowledged write in the window (empty when no write failed or none was attempted). */
export function writeGaps(h: History, from = 0, to = Infinity): WriteGap[] {
  const w = writesOf(h, from, to);
  if (!w.length) return [];
  const before = writesOf(h, 0, from)
    .filter((e) => e.result === 'ok')
    .at(-1);
  const gaps: WriteGap[] = [];
  let lastOk = before?.t ?? w[0]!.t;
  let failing = false;
  for (const e of w) {
    if (e.result === 'ok') {
      if (failing) gaps.push({ from: lastOk, to: e.t });
      lastOk = e.t;
      failing = false;
    } else failing = true;
  }
  if (failing) gaps.push({ from: lastOk, to: w.at(-1)!.t });
  return gaps;
}

/**
 * The longest stretch without an acknowledged write: from the last acknowledged write before a
 * failure to the next acknowledged one (or to the last write, if none came). Undefined when no
 * write was attempted in the window.
 */
export function longestWriteGap(h: History, from = 0, to = Infinity): number | undefined {
  if (!writesOf(h, from, to).length) return undefined;
  return Math.round(Math.max(0, ...writeGaps(h, from, to).map((g) => g.to - g.from)));
}
