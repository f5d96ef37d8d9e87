import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ActResult, CaseRunRecord } from '../results.js';
import type { Verdict } from '../checks/verdict.js';

/**
 * The regression diff: what changed between the latest run and the ones before it, per case and
 * act — verdict, final VIP holder, dual VIP, time-to-failover beyond a tolerance, audits.
 *
 * Runs are often partial (`npm run chaos -- --case 5`), so each act of the latest run is compared
 * with the most recent earlier run that ran the same act (for a full previous run this is simply
 * "the previous run"); the baseline run is named on every line. Only runs of the same profile on
 * the same target are compared.
 */

export interface Run {
  runId: string;
  /** Earliest case start in the run (runs are ordered by it). */
  startedAt: string;
  records: CaseRunRecord[];
}

export interface Tolerance {
  /** A failover time change is reported when it exceeds both (default 1000 ms and 50 %). */
  ttfAbsMs: number;
  ttfRel: number;
}

export const DEFAULT_TOLERANCE: Tolerance = {
  ttfAbsMs: Number(process.env.MHC_TTF_TOLERANCE_MS ?? 1000),
  ttfRel: Number(process.env.MHC_TTF_TOLERANCE_REL ?? 0.5),
};

export type ChangeKind = 'verdict' | 'final-holder' | 'dual-vip' | 'failover' | 'audits' | 'new' | 'gone';

export interface Change {
  /** "caseId / act" */
  key: string;
  caseId: string;
  act: string;
  kind: ChangeKind;
  from: string;
  to: string;
  /** worse: a regression; better: an improvement; changed: neither clearly. */
  direction: 'worse' | 'better' | 'changed';
  baselineRunId?: string;
}

export interface RegressionDiff {
  latest?: string;
  /** The most recent earlier run of the latest run's profile and target (of the first that has one). */
  previous?: string;
  changes: Change[];
  /** Acts compared (present in the latest run and in some earlier run of the same profile and target). */
  compared: number;
  /** Per profile and target of the latest run: the earlier run it is compared with, if any. */
  baselines: { profile: string; target: string; previous?: string }[];
}

/** Reads every run under <reportsDir>/runs, oldest first. */
export function readRuns(reportsDir: string): Run[] {
  const d = join(reportsDir, 'runs');
  if (!existsSync(d)) return [];
  const runs: Run[] = [];
  for (const runId of readdirSync(d)) {
    const rd = join(d, runId);
    if (!statSync(rd).isDirectory()) continue;
    const records = readdirSync(rd)
      .filter((f) => f.endsWith('.result.json'))
      .flatMap((f) => {
        try {
          return [JSON.parse(readFileSync(join(rd, f), 'utf8')) as CaseRunRecord];
        } catch {
          return [];
        }
      })
      .filter((r) => r && typeof r.caseId === 'string' && Array.isArray(r.acts))
      .map((r) => ({ ...r, startedAt: r.startedAt ?? r.acts[0]?.startedAt ?? runIdTime(runId) }))
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.caseId.localeCompare(b.caseId) || a.repetition - b.repetition);
    if (!records.length) continue;
    runs.push({ runId, startedAt: records[0]!.startedAt, records });
  }
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
}

/** Run ids are ISO times with ':' and '.' replaced (2026-11-25T13-16-43-901Z); older records lack startedAt. */
function runIdTime(runId: string): string {
  const m = runId.match(/^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/);
  return m ? `${m[1]}:${m[2]}:${m[3]}.${m[4]}Z` : new Date(0).toISOString();
}

/** How bad a verdict is: a case (or an act over repetitions) is as bad as its worst verdict. */
const RANK: Record<Verdict, number> = { pass: 0, hazard: 1, inconclusive: 2, fail: 3 };
export const worstVerdict = (vs: Verdict[]): Verdict => vs.reduce<Verdict>((w, v) => (RANK[v] > RANK[w] ? v : w), 'pass');
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : undefined;
};
const fmtS = (ms?: number) => (ms === undefined ? 'none' : `${(ms / 1000).toFixed(2)} s`);

/** One act across the repetitions of one run. */
export interface ActSummary {
  caseId: string;
  act: string;
  verdict: Verdict;
  finalHolders: string;
  dualVip: string;
  ttfMs?: number;
  auditsOk: boolean;
  reps: number;
}

export function summariseActs(records: CaseRunRecord[]): Map<string, ActSummary> {
  const by = new Map<string, { a: ActResult; auditsOk: boolean }[]>();
  for (const r of records)
    for (const a of r.acts) by.set(`${a.caseId} / ${a.act}`, [...(by.get(`${a.caseId} / ${a.act}`) ?? []), { a, auditsOk: r.auditsOk }]);
  const out = new Map<string, ActSummary>();
  for (const [k, xs] of by) {
    const n = xs.length;
    const finals = [...new Set(xs.map(({ a }) => roleOf(a)))].sort();
    const dual = xs.filter(({ a }) => a.outcome.dualVip.seen).length;
    out.set(k, {
      caseId: xs[0]!.a.caseId,
      act: xs[0]!.a.act,
      verdict: worstVerdict(xs.map(({ a }) => a.verdict)),
      finalHolders: finals.join(' | '),
      dualVip:
        dual === 0
          ? 'never'
          : dual === n
            ? xs.some(({ a }) => a.outcome.dualVip.stillAtEnd)
              ? 'yes, still at end'
              : 'yes'
            : `${dual}/${n} reps`,
      ttfMs: median(xs.map(({ a }) => a.outcome.timeToFailoverMs).filter((x): x is number => x !== undefined)),
      auditsOk: xs.every((x) => x.auditsOk),
      reps: n,
    });
  }
  return out;
}

/**
 * The final holder by role, not by name: which node holds the VIP first depends on where the
 * previous case left it, so "db1" vs "db2" is no change, but "the other node" vs "the faulted
 * node" (or both, or none) is.
 */
function roleOf(a: ActResult): string {
  const f = a.outcome.finalHolders;
  if (f.length === 0) return 'none';
  if (f.length > 1) return 'both';
  if (!a.outcome.faulted) return f[0]!;
  return f[0] === a.outcome.faulted ? 'faulted node' : 'other node';
}

export function diffActs(prev: ActSummary, cur: ActSummary, tol: Tolerance = DEFAULT_TOLERANCE, baselineRunId?: string): Change[] {
  const key = `${cur.caseId} / ${cur.act}`;
  const c = (kind: ChangeKind, from: string, to: string, direction: Change['direction']): Change => ({
    key,
    caseId: cur.caseId,
    act: cur.act,
    kind,
    from,
    to,
    direction,
    baselineRunId,
  });
  const out: Change[] = [];
  if (prev.verdict !== cur.verdict)
    out.push(c('verdict', prev.verdict, cur.verdict, RANK[cur.verdict] > RANK[prev.verdict] ? 'worse' : 'better'));
  if (prev.finalHolders !== cur.finalHolders)
    out.push(
      c(
        'final-holder',
        prev.finalHolders,
        cur.finalHolders,
        cur.finalHolders.includes('both') ? 'worse' : prev.finalHolders.includes('both') ? 'better' : 'changed',
      ),
    );
  if (prev.dualVip !== cur.dualVip)
    out.push(c('dual-vip', prev.dualVip, cur.dualVip, prev.dualVip === 'never' ? 'worse' : cur.dualVip === 'never' ? 'better' : 'changed'));
  if (prev.ttfMs === undefined && cur.ttfMs !== undefined) out.push(c('failover', 'no failover', fmtS(cur.ttfMs), 'changed'));
  else if (prev.ttfMs !== undefined && cur.ttfMs === undefined) out.push(c('failover', fmtS(prev.ttfMs), 'no failover', 'changed'));
  else if (prev.ttfMs !== undefined && cur.ttfMs !== undefined) {
    const d = cur.ttfMs - prev.ttfMs;
    if (Math.abs(d) > tol.ttfAbsMs && Math.abs(d) > tol.ttfRel * prev.ttfMs) {
      out.push(
        c('failover', fmtS(prev.ttfMs), `${fmtS(cur.ttfMs)} (${d > 0 ? '+' : ''}${(d / 1000).toFixed(2)} s)`, d > 0 ? 'worse' : 'better'),
      );
    }
  }
  if (prev.auditsOk !== cur.auditsOk)
    out.push(c('audits', prev.auditsOk ? 'ok' : 'FAILED', cur.auditsOk ? 'ok' : 'FAILED', cur.auditsOk ? 'better' : 'worse'));
  return out;
}

/** A run's records of one profile on one target: only these are compared with each other. */
const scopeOf = (r: CaseRunRecord) => JSON.stringify([r.profile ?? '?', targetScope(r.target ?? '?')]);

/**
 * A target as a baseline: the labs and container clusters the harness builds from a profile are
 * the same cluster whatever their name and subnet (--parallel gives each worker its own); an SSH
 * target is the cluster its config names.
 */
export const targetScope = (label: string) => label.match(/^(netns lab|containers) /)?.[1] ?? label;

/**
 * The latest run against its predecessors (see the module comment), per (profile, target): the
 * latest run's records of a profile on a target are compared only with earlier records of that
 * profile on that target — another profile's outcomes are a different expectation, not a baseline.
 */
export function diffLatest(runs: Run[], tol: Tolerance = DEFAULT_TOLERANCE): RegressionDiff {
  const latest = runs.at(-1);
  if (!latest) return { changes: [], compared: 0, baselines: [] };
  const d: RegressionDiff = { latest: latest.runId, changes: [], compared: 0, baselines: [] };
  const scopes = [...new Set(latest.records.map(scopeOf))];
  for (const scope of scopes) {
    const [profile, target] = JSON.parse(scope) as [string, string];
    const earlier = runs
      .slice(0, -1)
      .map((r) => ({ ...r, records: r.records.filter((x) => scopeOf(x) === scope) }))
      .filter((r) => r.records.length);
    const s = diffScope(
      latest.records.filter((x) => scopeOf(x) === scope),
      earlier,
      tol,
    );
    d.baselines.push({ profile, target, previous: earlier.at(-1)?.runId });
    d.changes.push(...s.changes);
    d.compared += s.compared;
  }
  d.previous = d.baselines.find((b) => b.previous)?.previous;
  return d;
}

/** The records of one scope of the latest run against the earlier runs of that scope. */
function diffScope(records: CaseRunRecord[], earlier: Run[], tol: Tolerance): { changes: Change[]; compared: number } {
  const previous = earlier.at(-1);
  if (!previous) return { changes: [], compared: 0 };
  const cur = summariseActs(records);
  const summaries = earlier.map((r) => ({ runId: r.runId, acts: summariseActs(r.records) }));
  const changes: Change[] = [];
  let compared = 0;
  for (const [k, s] of cur) {
    const base = [...summaries].reverse().find((r) => r.acts.has(k));
    if (!base) {
      changes.push({ key: k, caseId: s.caseId, act: s.act, kind: 'new', from: '-', to: `${s.verdict}`, direction: 'changed' });
      continue;
    }
    compared++;
    changes.push(...diffActs(base.acts.get(k)!, s, tol, base.runId));
  }
  // Acts the previous run had, of a case the latest run ran, that the latest run did not run.
  const prevActs = summariseActs(previous.records);
  const curCases = new Set([...cur.values()].map((a) => a.caseId));
  for (const [k, s] of prevActs)
    if (!cur.has(k) && curCases.has(s.caseId))
      changes.push({
        key: k,
        caseId: s.caseId,
        act: s.act,
        kind: 'gone',
        from: s.verdict,
        to: 'not run',
        direction: 'changed',
        baselineRunId: previous.runId,
      });
  return { changes, compared };
}

/** Plain lines for a terminal summary. */
export function regressionLines(d: RegressionDiff): string[] {
  const none = noBaselineLines(d);
  if (!d.previous) return none;
  if (!d.changes.length) return [...none, `no changes against earlier runs (${d.compared} acts compared; previous run ${d.previous})`];
  const mark = { worse: 'REGRESSION', better: 'improved', changed: 'changed' } as const;
  return [
    ...none,
    ...d.changes.map(
      (c) =>
        `${mark[c.direction].padEnd(10)} ${c.key}: ${c.kind} ${c.from} → ${c.to}${c.baselineRunId && c.baselineRunId !== d.previous ? ` (vs ${c.baselineRunId})` : ''}`,
    ),
  ];
}

/** Why part (or all) of the latest run was compared with nothing. */
export const noBaselineLines = (d: RegressionDiff) =>
  d.baselines.filter((b) => !b.previous).map((b) => `no previous run of profile ${b.profile} on target ${b.target}`);

export function regressionMarkdown(d: RegressionDiff, runs: Run[], tol: Tolerance = DEFAULT_TOLERANCE): string {
  const out: string[] = ['# Regression diff', ''];
  if (!d.latest) return [...out, 'No runs in reports/runs.', ''].join('\n');
  out.push(`Latest run: \`${d.latest}\`${d.previous ? `; previous run: \`${d.previous}\`` : ''}.`);
  const none = noBaselineLines(d).map((l) => `${l[0]!.toUpperCase()}${l.slice(1)}.`);
  if (!d.previous) return [...out, '', ...none, ''].join('\n');
  if (none.length) out.push('', ...none);
  out.push(
    `Each act of the latest run is compared with the most recent earlier run of the same profile on the same target that ran it (${d.compared} acts compared). Failover-time tolerance: ${tol.ttfAbsMs} ms and ${Math.round(tol.ttfRel * 100)} %. Final holders are compared by role (faulted node / other node / both / none).`,
    '',
  );
  const worse = d.changes.filter((c) => c.direction === 'worse');
  out.push(worse.length ? `**${worse.length} regression(s).**` : '**No regressions.**', '');
  if (d.changes.length) {
    out.push('| | case / act | what | before | now | baseline run |', '| --- | --- | --- | --- | --- | --- |');
    for (const c of d.changes)
      out.push(
        `| ${c.direction === 'worse' ? '🔴 worse' : c.direction === 'better' ? '🟢 better' : '⚪ changed'} | ${c.key} | ${c.kind} | ${c.from} | ${c.to} | ${c.baselineRunId ?? '-'} |`,
      );
    out.push('');
  }
  // Time-to-failover per act over the runs (oldest → newest).
  const keys = [...new Set(runs.flatMap((r) => [...summariseActs(r.records).keys()]))].sort();
  out.push('## Time to failover per act, run by run (median over repetitions)', '');
  out.push(`| case / act | ${runs.map((r) => r.runId).join(' | ')} |`, `| --- | ${runs.map(() => '---').join(' | ')} |`);
  const sums = runs.map((r) => summariseActs(r.records));
  for (const k of keys)
    out.push(
      `| ${k} | ${sums
        .map((s) => {
          const a = s.get(k);
          return a ? `${a.ttfMs === undefined ? '–' : fmtS(a.ttfMs)} ${a.verdict === 'pass' ? '' : a.verdict.toUpperCase()}`.trim() : ' ';
        })
        .join(' | ')} |`,
    );
  out.push('');
  return out.join('\n');
}
