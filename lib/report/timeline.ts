import { History, type ActEnd, type HistoryEvent, type MysqlObservation, type NodeObservation } from '../history.js';
import { provenDualPolls } from '../checks/outcome.js';
import type { ActResult } from '../results.js';

/**
 * A case's history drawn as an SVG timeline: one lane per db node (VIP held, link, corosync,
 * pacemakerd, Pacemaker children, and the replication role when the history has one), fault
 * windows shaded across all lanes, client writes as ticks, time-to-failover marked, and every
 * stretch where more than one node held the VIP as a red band across all lanes — the worst
 * outcome, drawn so nobody can miss it.
 *
 * The SVG is self-contained (no scripts, no external fonts or images) so it renders in an Allure
 * attachment, a browser, or a file viewer. Elements carry classes and data-* attributes (lane,
 * dual-vip, fault-window, failover, write) so tests can check what was drawn.
 */

/** The serialised form of lib/history.ts's History (what .history.json files hold). */
export interface HistoryJson {
  startedAt: string;
  events: HistoryEvent[];
}

export interface TimelineOptions {
  /** Drawing width in px (default 1100). */
  width?: number;
  title?: string;
}

type Obs = Extract<HistoryEvent, { type: 'observe' }>;
type FaultEv = Extract<HistoryEvent, { type: 'fault' }>;
type StepEv = Extract<HistoryEvent, { type: 'step' }>;
type WriteEv = Extract<HistoryEvent, { type: 'write' }>;
type MysqlEv = Extract<HistoryEvent, { type: 'mysql' }>;

/** A node observation, possibly with a replication role (added by later observers). */
type NodeObs = NodeObservation & { role?: string };

const COLORS = {
  up: '#2e9d4f',
  down: '#c9ccd1',
  vip: '#1f6fd1',
  noVip: '#eef1f5',
  dual: '#e0182d',
  fault: '#f5a623',
  effect: '#fde9c4',
  text: '#1d2330',
  grid: '#e3e6ea',
  ok: '#2e9d4f',
  fail: '#e0182d',
  unknown: '#8a8f98',
  primary: '#6f42c1',
  replica: '#9aa5b1',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const holdersOf = (nodes: Record<string, NodeObservation>) =>
  Object.entries(nodes)
    .filter(([, o]) => o.vip)
    .map(([n]) => n)
    .sort();

interface Interval {
  from: number;
  to: number;
}

/** Stretches (observation-held: each observation holds until the next) where pred is true. */
function stretches(obs: Obs[], end: number, pred: (o: Obs) => boolean): Interval[] {
  const out: Interval[] = [];
  let start: number | undefined;
  for (let i = 0; i < obs.length; i++) {
    const o = obs[i]!;
    if (pred(o)) start ??= o.t;
    else if (start !== undefined) {
      out.push({ from: start, to: o.t });
      start = undefined;
    }
  }
  if (start !== undefined) out.push({ from: start, to: end });
  return out;
}

/** Fault windows: injection (start → end) and effect (start → "undone: <fault>" step, or the end). */
export function faultWindows(
  events: HistoryEvent[],
  end: number,
): { fault: string; host?: string; from: number; to: number; effectTo: number }[] {
  const faults = events.filter((e): e is FaultEv => e.type === 'fault');
  const steps = events.filter((e): e is StepEv => e.type === 'step');
  const out: { fault: string; host?: string; from: number; to: number; effectTo: number }[] = [];
  const used = new Set<FaultEv>();
  for (const s of faults.filter((f) => f.phase === 'start')) {
    const e = faults.find((f) => f.phase === 'end' && f.fault === s.fault && f.t >= s.t && !used.has(f));
    if (e) used.add(e);
    const undone = steps.find((x) => x.t >= s.t && (x.step === `undone: ${s.fault}` || x.step === `undo failed: ${s.fault}`));
    out.push({ fault: s.fault, host: s.host, from: s.t, to: e?.t ?? end, effectTo: Math.max(e?.t ?? end, undone?.t ?? end) });
  }
  return out;
}

/** Failover markers: per act, fault start and fault start + time-to-failover. */
function failovers(
  events: HistoryEvent[],
  acts: ActResult[] | undefined,
  historyStart: number,
): { act: string; from: number; at: number; ms: number }[] {
  const starts = events.filter((e): e is FaultEv => e.type === 'fault' && e.phase === 'start');
  if (acts?.length) {
    return acts.flatMap((a, i) => {
      if (a.outcome.timeToFailoverMs === undefined) return [];
      // The act's window opens at its fault start; match by order, fall back to its startedAt.
      const from = starts[i]?.t ?? Date.parse(a.startedAt) - historyStart;
      return [{ act: a.act, from, at: from + a.outcome.timeToFailoverMs, ms: a.outcome.timeToFailoverMs }];
    });
  }
  // Without act results: derive as lib/checks/outcome.ts does (first VIP on a node that did not hold it).
  const obs = events.filter((e): e is Obs => e.type === 'observe');
  const ends = events.filter((e): e is ActEnd => e.type === 'act' && e.phase === 'end');
  return starts.flatMap((s, i) => {
    const end = ends.find((j) => j.t >= s.t);
    const to = end?.to ?? Infinity;
    const before = obs.filter((o) => o.t <= s.t).at(-1);
    if (!before) return [];
    const initial = holdersOf(before.nodes);
    const hit = obs.find((o) => o.t >= s.t && o.t <= to && holdersOf(o.nodes).some((h) => !initial.includes(h)));
    return hit ? [{ act: end?.act ?? `act ${i + 1}`, from: s.t, at: hit.t, ms: hit.t - s.t }] : [];
  });
}

export function timelineSvg(h: HistoryJson, acts?: ActResult[], opts: TimelineOptions = {}): string {
  const events = [...h.events].sort((a, b) => a.t - b.t);
  const obs = events.filter((e): e is Obs => e.type === 'observe');
  const writes = events.filter((e): e is WriteEv => e.type === 'write');
  const steps = events.filter((e): e is StepEv => e.type === 'step');
  const end = Math.max(1, ...events.map((e) => e.t));
  const nodes = [...new Set(obs.flatMap((o) => Object.keys(o.nodes)))].sort();
  const hasRole = obs.some((o) => Object.values(o.nodes).some((n) => (n as NodeObs).role !== undefined));
  const mysql = events.filter((e): e is MysqlEv => e.type === 'mysql');
  const rows: { key: string; label: string }[] = [
    { key: 'vip', label: 'VIP' },
    { key: 'link', label: 'link eth1' },
    { key: 'corosync', label: 'corosync' },
    { key: 'pacemakerd', label: 'pacemakerd' },
    { key: 'children', label: 'pcmk children' },
    ...(hasRole ? [{ key: 'role', label: 'role' }] : []),
    ...(mysql.length ? [{ key: 'mysql', label: 'MySQL' }] : []),
  ];

  const W = opts.width ?? 1100;
  const left = 130,
    right = 20,
    top = 52,
    rowH = 16,
    rowGap = 3,
    laneGap = 14;
  const laneH = rows.length * (rowH + rowGap);
  const writesH = writes.length ? 26 : 0;
  const lanesBottom = top + nodes.length * (laneH + laneGap) - laneGap;
  const axisY = lanesBottom + 8 + writesH;
  const H = axisY + 74;
  const plotW = W - left - right;
  const x = (t: number) => left + (Math.max(0, Math.min(end, t)) / end) * plotW;
  const laneTop = (i: number) => top + i * (laneH + laneGap);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="mhc-timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`,
  );
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  const title = opts.title ?? `history from ${h.startedAt} (${sec(end)})`;
  out.push(`<text x="8" y="18" font-size="13" font-weight="bold" fill="${COLORS.text}">${esc(title)}</text>`);

  // Lanes.
  nodes.forEach((node, ni) => {
    const y0 = laneTop(ni);
    out.push(`<g class="lane" data-node="${esc(node)}">`);
    out.push(`<text x="8" y="${y0 + laneH / 2 + 4}" font-size="13" font-weight="bold" fill="${COLORS.text}">${esc(node)}</text>`);
    rows.forEach((r, ri) => {
      const y = y0 + ri * (rowH + rowGap);
      out.push(`<text x="${left - 6}" y="${y + rowH - 4}" text-anchor="end" fill="#555b66" font-size="10">${r.label}</text>`);
      out.push(`<rect x="${left}" y="${y}" width="${plotW}" height="${rowH}" fill="#fafbfc" stroke="${COLORS.grid}"/>`);
      // The MySQL row follows the MySQL readings; every other row the cluster observations.
      const source: (Obs | MysqlEv)[] = r.key === 'mysql' ? mysql : obs;
      for (let i = 0; i < source.length; i++) {
        const o = source[i]!;
        const n = o.nodes[node];
        const t1 = source[i + 1]?.t ?? end;
        if (!n || t1 <= o.t) continue;
        const seg = r.key === 'mysql' ? mysqlSegment(n as MysqlObservation) : segment(r.key, n as NodeObs);
        if (!seg) continue;
        out.push(
          `<rect class="seg seg-${r.key}" data-state="${esc(seg.state)}" x="${x(o.t).toFixed(1)}" y="${y}" width="${Math.max(0.8, x(t1) - x(o.t)).toFixed(1)}" height="${rowH}" fill="${seg.fill}"><title>${esc(`${node} ${r.label}: ${seg.state} from +${sec(o.t)} to +${sec(t1)}`)}</title></rect>`,
        );
        if (seg.label && x(t1) - x(o.t) > 30)
          out.push(`<text x="${x(o.t) + 3}" y="${y + rowH - 4}" fill="#ffffff" font-size="10">${esc(seg.label)}</text>`);
      }
    });
    out.push('</g>');
  });

  // Fault windows over the lanes: effect (light, until undone) and injection (darker).
  const fw = faultWindows(events, end);
  fw.forEach((f, i) => {
    out.push(`<g class="fault-window" data-fault="${esc(f.fault)}" data-from="${f.from}" data-to="${f.to}">`);
    out.push(
      `<title>${esc(`fault: ${f.fault}${f.host ? ` (on ${f.host})` : ''}; injected +${sec(f.from)} → +${sec(f.to)}; in effect until +${sec(f.effectTo)}`)}</title>`,
    );
    out.push(
      `<rect class="fault-effect" x="${x(f.from)}" y="${top - 6}" width="${Math.max(1, x(f.effectTo) - x(f.from))}" height="${lanesBottom - top + 12}" fill="${COLORS.fault}" opacity="0.12" stroke="${COLORS.fault}" stroke-dasharray="4 3"/>`,
    );
    out.push(
      `<rect class="fault-inject" x="${x(f.from)}" y="${top - 6}" width="${Math.max(2, x(f.to) - x(f.from))}" height="${lanesBottom - top + 12}" fill="${COLORS.fault}" opacity="0.45"/>`,
    );
    out.push(`<text x="${x(f.from) + 2}" y="${30 + (i % 2) * 11}" fill="#9a5b00" font-size="10">⚡ ${esc(f.fault)}</text>`);
    out.push('</g>');
  });

  // Dual VIP: red bands across every lane, labelled — where proven, as the checker counts it.
  const proven = provenDualPolls(History.fromJSON(h));
  const dual = stretches(obs, end, (o) => proven.has(o));
  for (const d of dual) {
    const holders = holdersOf(obs.find((o) => o.t === d.from)!.nodes);
    const x0 = x(d.from),
      w = Math.max(3, x(d.to) - x(d.from));
    const label = `DUAL VIP (${holders.join(' + ')}) ${sec(d.to - d.from)}${d.to >= end && obs.at(-1) && holdersOf(obs.at(-1)!.nodes).length > 1 ? ', still at end' : ''}`;
    out.push(`<g class="dual-vip" data-from="${d.from}" data-to="${d.to}" data-holders="${esc(holders.join(','))}">`);
    out.push(`<title>${esc(label)}</title>`);
    out.push(
      `<rect x="${x0}" y="${top - 10}" width="${w}" height="${lanesBottom - top + 20}" fill="${COLORS.dual}" fill-opacity="0.22" stroke="${COLORS.dual}" stroke-width="2"/>`,
    );
    out.push(`<rect x="${x0}" y="${top - 10}" width="${Math.max(w, label.length * 6.6 + 8)}" height="15" fill="${COLORS.dual}"/>`);
    out.push(`<text x="${x0 + 4}" y="${top + 1}" fill="#ffffff" font-weight="bold" font-size="11">${esc(label)}</text>`);
    out.push('</g>');
  }

  // Writes.
  if (writes.length) {
    const wy = lanesBottom + 8;
    out.push(`<g class="writes"><text x="${left - 6}" y="${wy + 14}" text-anchor="end" fill="#555b66" font-size="10">writes</text>`);
    const ok = writes.filter((w) => w.result === 'ok').length;
    out.push(`<text x="8" y="${wy + 14}" font-size="10" fill="#555b66">${ok}/${writes.length} acked</text>`);
    for (const w of writes) {
      const c = w.result === 'ok' ? COLORS.ok : w.result === 'fail' ? COLORS.fail : COLORS.unknown;
      out.push(
        `<line class="write write-${w.result}" x1="${x(w.t).toFixed(1)}" x2="${x(w.t).toFixed(1)}" y1="${wy + (w.result === 'ok' ? 10 : 2)}" y2="${wy + 20}" stroke="${c}" stroke-width="1.5"><title>${esc(`write #${w.key}${w.node ? ` via ${w.node}` : ''}: ${w.result} (${w.latencyMs} ms)${w.error ? ` ${w.error}` : ''} at +${sec(w.t)}`)}</title></line>`,
      );
    }
    out.push('</g>');
  }

  // Time-to-failover markers.
  for (const f of failovers(events, acts, Date.parse(h.startedAt))) {
    out.push(`<g class="failover" data-act="${esc(f.act)}" data-ms="${Math.round(f.ms)}">`);
    out.push(
      `<title>${esc(`${f.act}: time to failover ${sec(f.ms)} (fault at +${sec(f.from)}, VIP up elsewhere at +${sec(f.at)})`)}</title>`,
    );
    out.push(
      `<line x1="${x(f.at)}" x2="${x(f.at)}" y1="${top - 8}" y2="${axisY}" stroke="${COLORS.vip}" stroke-width="2" stroke-dasharray="5 3"/>`,
    );
    out.push(`<line x1="${x(f.from)}" x2="${x(f.at)}" y1="${axisY + 30}" y2="${axisY + 30}" stroke="${COLORS.vip}" stroke-width="2"/>`);
    out.push(`<line x1="${x(f.from)}" x2="${x(f.from)}" y1="${axisY + 25}" y2="${axisY + 35}" stroke="${COLORS.vip}" stroke-width="2"/>`);
    out.push(
      `<text x="${x(f.at) + 3}" y="${axisY + 34}" fill="${COLORS.vip}" font-size="10" font-weight="bold">failover ${sec(f.ms)}</text>`,
    );
    out.push('</g>');
  }

  // Axis with ticks and steps.
  out.push(`<g class="axis"><line x1="${left}" x2="${left + plotW}" y1="${axisY}" y2="${axisY}" stroke="#555b66"/>`);
  const step = niceStep(end / 10);
  for (let t = 0; t <= end + 1e-6; t += step) {
    out.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${axisY}" y2="${axisY + 4}" stroke="#555b66"/><text x="${x(t)}" y="${axisY + 15}" text-anchor="middle" fill="#555b66" font-size="10">${(t / 1000).toFixed(step < 1000 ? 1 : 0)}s</text>`,
    );
  }
  out.push('</g>');
  out.push(`<g class="steps">`);
  for (const s of steps) {
    out.push(
      `<g class="step" data-step="${esc(s.step)}"><title>${esc(`+${sec(s.t)} ${s.step}${s.detail ? `: ${s.detail}` : ''}`)}</title><path d="M ${x(s.t) - 4} ${axisY + 52} L ${x(s.t)} ${axisY + 44} L ${x(s.t) + 4} ${axisY + 52} Z" fill="#555b66"/></g>`,
    );
  }
  out.push('</g>');
  // Legend.
  const legend: [string, string][] = [
    ['held / up', COLORS.vip],
    ['daemon up', COLORS.up],
    ['down', COLORS.down],
    ['fault injected', COLORS.fault],
    ['fault in effect (until undone)', COLORS.effect],
    ['dual VIP', COLORS.dual],
  ];
  let lx = left;
  for (const [l, c] of legend) {
    out.push(
      `<rect x="${lx}" y="${H - 12}" width="10" height="10" fill="${c}"/><text x="${lx + 14}" y="${H - 3}" font-size="10" fill="#555b66">${l}</text>`,
    );
    lx += 24 + l.length * 6;
  }
  out.push('</svg>');
  return out.join('\n');
}

function segment(key: string, n: NodeObs): { state: string; fill: string; label?: string } | undefined {
  switch (key) {
    case 'vip':
      return n.vip ? { state: 'held', fill: COLORS.vip, label: 'VIP' } : { state: 'not held', fill: COLORS.noVip };
    case 'link':
      return n.linkUp ? { state: 'up', fill: COLORS.up } : { state: 'down', fill: COLORS.fail, label: 'DOWN' };
    case 'corosync':
      return n.corosync ? { state: 'up', fill: COLORS.up } : { state: 'down', fill: COLORS.down };
    case 'pacemakerd':
      return n.pacemakerd ? { state: 'up', fill: COLORS.up } : { state: 'down', fill: COLORS.down };
    case 'children': {
      const k = n.children.length;
      return { state: `${k}/6`, fill: k === 6 ? COLORS.up : k === 0 ? COLORS.down : '#e8a33d', label: k === 6 ? undefined : `${k}/6` };
    }
    case 'role':
      return n.role === undefined
        ? undefined
        : { state: n.role, fill: n.role === 'primary' ? COLORS.primary : COLORS.replica, label: n.role };
    default:
      return undefined;
  }
}

/** A db host's MySQL: writable (primary), read_only, the replica's threads when one is not running, its lag, or down. */
function mysqlSegment(m: MysqlObservation): { state: string; fill: string; label?: string } {
  if (!m.up) return { state: `down (${m.error ?? 'no answer'})`, fill: COLORS.down, label: 'down' };
  const threads = m.replica && (m.replica.io !== 'Yes' || m.replica.sql !== 'Yes') ? ` io=${m.replica.io} sql=${m.replica.sql}` : '';
  const lag = m.replica?.secondsBehind ? ` lag ${m.replica.secondsBehind}s` : '';
  const state = `${m.readOnly ? 'read_only' : 'writable'}${m.replica ? ' replica' : ''}${threads}${lag}`;
  // A writable replica (one restarted after a crash: read_only is set at run time) is as wrong as stopped threads.
  const wrong = threads || (m.replica && !m.readOnly);
  return { state, fill: wrong ? COLORS.fail : m.readOnly ? COLORS.replica : COLORS.primary, label: state };
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}
