import type { Verdict } from './checks/verdict.js';
import type { Run } from './report/regression.js';
import type { ActResult, CaseRunRecord } from './results.js';

/** One profile's runs of one act: the latest run that played it, all its repetitions summed up. */
export interface ActSide {
  runId: string;
  target: string;
  runs: number;
  verdicts: Partial<Record<Verdict, number>>;
  vipAfter: Record<string, number>;
  failoverMs?: { median: number; max: number };
  writesUnavailableMs?: { median: number; max: number };
  /** Acknowledged writes lost over the act's case runs, and how many were acknowledged (a loss of 0 of 0 proves nothing). */
  lostWrites: number;
  ackedWrites: number;
}

export interface ActComparison {
  act: string;
  title: string;
  sides: (ActSide | undefined)[];
}

export interface Comparison {
  profiles: string[];
  acts: ActComparison[];
}

const spread = (xs: number[]) => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)]!, max: s.at(-1)! };
};
const count = <T extends string>(xs: T[]) => {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
};

/** The latest run of `profile` (on `targetKind`, when given) that played `act`, summed up; undefined if none did. */
function side(runs: Run[], profile: string, act: string, targetKind?: string): ActSide | undefined {
  for (const run of [...runs].reverse()) {
    const recs = run.records.filter((r) => r.profile === profile && (!targetKind || r.target.startsWith(targetKind)));
    const s = actSide(run.runId, recs, act);
    if (s) return s;
  }
  return undefined;
}

/** Every play of `act` in one run's case records, summed up; undefined if none played it. */
export function actSide(runId: string, records: CaseRunRecord[], act: string): ActSide | undefined {
  const plays = records.flatMap((r) => r.acts.filter((a) => a.act === act).map((a) => ({ r, a })));
  if (!plays.length) return undefined;
  const cases = [...new Set(plays.map((p) => p.r))];
  return {
    runId,
    target: plays[0]!.r.target,
    runs: plays.length,
    verdicts: count(plays.map((p) => p.a.verdict)),
    vipAfter: count(plays.map((p) => p.a.outcome.vipAfter)),
    failoverMs: spread(plays.flatMap((p) => (p.a.outcome.timeToFailoverMs === undefined ? [] : [p.a.outcome.timeToFailoverMs]))),
    writesUnavailableMs: spread(
      plays.flatMap((p) => (p.a.outcome.writesUnavailableMs === undefined ? [] : [p.a.outcome.writesUnavailableMs])),
    ),
    lostWrites: sum(cases, (r) => r.data?.lost.length ?? 0),
    ackedWrites: sum(cases, (r) => r.data?.writes.ok ?? 0),
  };
}

const sum = (rs: CaseRunRecord[], f: (r: CaseRunRecord) => number) => rs.reduce((n, r) => n + f(r), 0);

/** Every act either profile played, in case order, each profile's latest run of it side by side. */
export function compareProfiles(runs: Run[], profiles: string[], targetKind?: string): Comparison {
  const titles = new Map<string, ActResult>();
  for (const run of runs)
    for (const r of run.records) if (profiles.includes(r.profile)) for (const a of r.acts) if (!titles.has(a.act)) titles.set(a.act, a);
  // By case number, then in the order the acts were first played (a case's own order).
  const seen = [...titles.keys()];
  const order = seen.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || seen.indexOf(a) - seen.indexOf(b));
  return {
    profiles,
    acts: order.map((act) => ({ act, title: titles.get(act)!.actTitle, sides: profiles.map((p) => side(runs, p, act, targetKind)) })),
  };
}

const secs = (x?: { median: number; max: number }) =>
  x ? (x.median === x.max ? `${(x.max / 1000).toFixed(1)} s` : `${(x.median / 1000).toFixed(1)}–${(x.max / 1000).toFixed(1)} s`) : '-';
const dist = (m: Record<string, number>, n: number) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => (v === n ? k : `${k} ${v}/${n}`))
    .join(', ');

/** One profile's cells of an act's row: verdict, VIP, failover, writes unavailable, writes lost. */
export function sideCells(s: ActSide | undefined): string[] {
  if (!s) return ['not run', '', '', '', ''];
  return [
    dist(s.verdicts, s.runs),
    dist(s.vipAfter, s.runs),
    secs(s.failoverMs),
    secs(s.writesUnavailableMs),
    s.ackedWrites ? `${s.lostWrites} of ${s.ackedWrites}` : 'none acknowledged',
  ];
}

const COLUMNS = ['verdict', 'VIP', 'failover', 'writes unavailable', 'writes lost'];

/** The comparison as a Markdown table (README, reports/, the Allure entry). */
export function comparisonMarkdown(c: Comparison): string {
  const head = ['act', ...c.profiles.flatMap((p) => COLUMNS.map((k) => `${p}: ${k}`))];
  const rows = c.acts.map((a) => [a.act, ...a.sides.flatMap(sideCells)]);
  const runsOf = c.profiles.map((p, i) => {
    const ids = [...new Set(c.acts.flatMap((a) => (a.sides[i] ? [`${a.sides[i]!.runId} (${a.sides[i]!.target})`] : [])))];
    return `- ${p}: ${ids.join(', ') || 'no run'}`;
  });
  return [
    `# ${c.profiles.join(' vs ')}`,
    '',
    "Each profile's latest run of each act; verdicts and VIP outcomes over its repetitions, times as median–max. Lost writes count acknowledged writes missing afterwards.",
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    'Runs:',
    ...runsOf,
    '',
  ].join('\n');
}

/** Whether every act of `profile` (index in the comparison) was played and passed every time. */
export const allPass = (c: Comparison, i: number) =>
  c.acts.every((a) => a.sides[i] && (a.sides[i]!.verdicts.pass ?? 0) === a.sides[i]!.runs);
