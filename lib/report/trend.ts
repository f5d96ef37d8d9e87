import type { Run } from './regression.js';
import { summariseActs } from './regression.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PALETTE = [
  '#1f6fd1',
  '#e0182d',
  '#2e9d4f',
  '#f5a623',
  '#6f42c1',
  '#17a2b8',
  '#8a5a44',
  '#d63384',
  '#495057',
  '#20c997',
  '#fd7e14',
  '#0d6efd',
];

/**
 * Time-to-failover per act across runs (oldest → newest) as an SVG line chart: one line per act
 * that failed over at least once; a point per run (median over repetitions); a red ring marks a
 * run where the act saw a dual VIP.
 */
export function failoverTrendSvg(runs: Run[], opts: { width?: number } = {}): string {
  const sums = runs.map((r) => summariseActs(r.records));
  const keys = [...new Set(sums.flatMap((s) => [...s.entries()].filter(([, a]) => a.ttfMs !== undefined).map(([k]) => k)))].sort();
  const W = opts.width ?? 900,
    left = 60,
    right = 260,
    top = 30,
    bottom = 60;
  const H = Math.max(240, top + bottom + 14 * keys.length);
  const plotW = W - left - right,
    plotH = H - top - bottom;
  const max = Math.max(1000, ...sums.flatMap((s) => [...s.values()].map((a) => a.ttfMs ?? 0)));
  const x = (i: number) => left + (runs.length <= 1 ? plotW / 2 : (i / (runs.length - 1)) * plotW);
  const y = (ms: number) => top + plotH - (ms / max) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="mhc-failover-trend" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">Time to failover per act, run by run</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (max / 4) * k;
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e6ea"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555b66">${(v / 1000).toFixed(1)}s</text>`,
    );
  }
  runs.forEach((r, i) => {
    out.push(
      `<text x="${x(i)}" y="${top + plotH + 14}" text-anchor="end" fill="#555b66" font-size="9" transform="rotate(-25 ${x(i)} ${top + plotH + 14})">${esc(r.runId)}</text>`,
    );
  });
  keys.forEach((k, ki) => {
    const c = PALETTE[ki % PALETTE.length]!;
    const pts = sums.map((s, i) => ({ i, a: s.get(k) })).filter((p) => p.a?.ttfMs !== undefined);
    out.push(`<g class="trend-line" data-act="${esc(k)}">`);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${x(p.i).toFixed(1)},${y(p.a!.ttfMs!).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of pts) {
      out.push(
        `<circle cx="${x(p.i)}" cy="${y(p.a!.ttfMs!)}" r="3.5" fill="${c}"><title>${esc(`${k} in ${runs[p.i]!.runId}: ${(p.a!.ttfMs! / 1000).toFixed(2)} s, ${p.a!.verdict}${p.a!.dualVip !== 'never' ? `, dual VIP ${p.a!.dualVip}` : ''}`)}</title></circle>`,
      );
      if (p.a!.dualVip !== 'never')
        out.push(`<circle cx="${x(p.i)}" cy="${y(p.a!.ttfMs!)}" r="7" fill="none" stroke="#e0182d" stroke-width="2"/>`);
    }
    out.push(
      `<rect x="${left + plotW + 14}" y="${top + ki * 14}" width="10" height="10" fill="${c}"/><text x="${left + plotW + 28}" y="${top + ki * 14 + 9}" fill="#1d2330">${esc(k)}</text></g>`,
    );
  });
  if (!keys.length) out.push(`<text x="${left + 10}" y="${top + 30}" fill="#555b66">no act failed over in any run</text>`);
  out.push('</svg>');
  return out.join('\n');
}
