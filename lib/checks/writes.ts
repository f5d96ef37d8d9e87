import type { History, HistoryEvent } from '../history.js';

export type WriteEvent = Extract<HistoryEvent, { type: 'write' }>;

export const writesOf = (h: History, from = 0, to = Infinity): WriteEvent[] =>
  h.events.filter((e): e is WriteEvent => e.type === 'write' && e.t >= from && e.t <= to);

/**
 * The longest stretch without an acknowledged write: from the last acknowledged write before a
 * failure to the next acknowledged one (or to the last write, if none came). Undefined when no
 * write was attempted in the window.
 */
export function longestWriteGap(h: History, from = 0, to = Infinity): number | undefined {
  const w = writesOf(h, from, to);
  if (!w.length) return undefined;
  const before = writesOf(h, 0, from)
    .filter((e) => e.result === 'ok')
    .at(-1);
  let longest = 0;
  let lastOk: number | undefined = before?.t ?? w[0]!.t;
  let failing = false;
  for (const e of w) {
    if (e.result === 'ok') {
      if (failing && lastOk !== undefined) longest = Math.max(longest, e.t - lastOk);
      lastOk = e.t;
      failing = false;
    } else failing = true;
  }
  if (failing && lastOk !== undefined) longest = Math.max(longest, w.at(-1)!.t - lastOk);
  return Math.round(longest);
}
