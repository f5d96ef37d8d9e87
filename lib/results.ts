import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditResult } from './checks/audits.js';
import type { Outcome } from './checks/outcome.js';
import type { Judgement, Verdict } from './checks/verdict.js';
import type { DataReport } from './checks/data.js';
import type { History, MissedChange } from './history.js';
import type { HealReport } from './heal.js';
import type { PollingStats } from './observer.js';
import { type WakeLate, wakeLateSummary } from './observe/gaps.js';
import { describeOverride, type LabOverride } from './targets/target.js';
import type { MachineCpu } from './util/cpu.js';
import { redact } from './util/redact.js';
import { diffLatest, median, readRuns, regressionLines } from './report/regression.js';

/** reports/ of this checkout, or MHC_REPORTS_DIR (a test that runs the chaos CLI keeps its results apart). */
export const REPORTS_DIR = resolve(process.env.MHC_REPORTS_DIR ?? resolve(import.meta.dirname, '../reports'));

/** The result of one act of one repetition of a case. */
export interface ActResult {
  runId: string;
  caseId: string;
  caseTitle: string;
  act: string;
  actTitle: string;
  repetition: number;
  target: string;
  profile: string;
  fault: string;
  verdict: Verdict;
  hazard?: string;
  /** Set when the hazard is only the operator's own command: what to run instead (the gate does not fail on it). */
  operatorInstead?: string;
  /** Why the evidence cannot support a verdict, when the verdict is "inconclusive". */
  inconclusive?: string;
  expected: string;
  seen: string;
  mismatches: string[];
  outcome: Outcome;
  startedAt: string;
}

/** The fields of an ActResult that its judgement gives (the live run and `npm run compare` alike). */
export function judgedFields(j: Judgement & { outcome?: Outcome }, recorded?: Outcome) {
  return {
    verdict: j.verdict,
    hazard: j.hazard,
    ...(j.operatorInstead ? { operatorInstead: j.operatorInstead } : {}),
    inconclusive: j.inconclusive,
    seen: j.seen,
    mismatches: j.mismatches,
    outcome: (j.outcome ?? recorded)!,
  };
}

export interface CaseRunRecord {
  runId: string;
  startedAt: string;
  caseId: string;
  caseTitle: string;
  repetition: number;
  target: string;
  profile: string;
  overrides: unknown;
  acts: ActResult[];
  audits: AuditResult[];
  auditsOk: boolean;
  healed: boolean;
  /** The heal ladder's climb after this case left the cluster unhealthy. */
  heal?: HealReport;
  wallMs: number;
  recoveryErrors: string[];
  /** The act that could not be played to its judgement, and why (its injection or observation threw). */
  actError?: string;
  /** The workload's key for this case run (run/case/repetition): its rows and its data-read event. */
  runKey?: string;
  /** Writes through the VIP and what became of them. */
  data?: DataReport;
  /** Labs running on this machine when the case started (this case's own included, for the lab target). */
  labsRunning?: string[];
  /** Each db host's clock minus this machine's, as the observer estimated it (and the round trip of the estimate). */
  clockOffsets?: Record<string, { offsetMs: number; rttMs: number }>;
  /** The event observer's watchers' own CPU per db host (share of one core). */
  observerCost?: Record<string, { cpuPercent: number; overS: number }>;
  /** The observer's achieved polling: the resolution of this run's timings. */
  polling?: PollingStats;
  /**
   * The harness's own CPU during the case: its worker process and the commands it ran (observer
   * polls, writer, faults), as a share of one core over the case's wall time. Left out when the
   * heal ladder rebuilt the lab (the old lab's reaped processes would count).
   */
  harnessCpu?: { cpuMs: number; percent: number };
  /**
   * This whole machine's CPU during the case (every lab, every process): how busy its cores were
   * and how long some runnable task waited for one. Timings taken while tasks waited are coarser.
   */
  machineCpu?: MachineCpu;
  /** Changes only a watcher's periodic full look found, over the whole case run (the event observer). */
  missedChanges?: MissedChange[];
  /**
   * What every act waits at least, whatever the harness does: corosync's token + consensus (no
   * membership change is seen sooner), and the watch after a fault's end (that + 3 s for Pacemaker).
   */
  actFloorMs?: { membership: number; watched: number };
}

export const runDir = (runId: string) => join(REPORTS_DIR, 'runs', runId);

/** Set by `npm run chaos` on Ctrl-C: the cases of the run that have not started are skipped. */
const interruptMarker = (runId: string) => join(runDir(runId), 'INTERRUPTED');
export function markInterrupted(runId: string): void {
  mkdirSync(runDir(runId), { recursive: true });
  writeFileSync(interruptMarker(runId), `${new Date().toISOString()}\n`);
}
export const runInterrupted = (runId: string) => existsSync(interruptMarker(runId));

export function writeCaseRun(r: CaseRunRecord, history: History, d = runDir(r.runId)): void {
  mkdirSync(d, { recursive: true });
  const base = `${r.caseId}.rep${r.repetition}`;
  writeFileSync(join(d, `${base}.result.json`), redact(JSON.stringify(r, null, 2)));
  writeFileSync(join(d, `${base}.history.json`), redact(JSON.stringify(history, null, 1)));
}

export function readRun(runId: string): CaseRunRecord[] {
  const d = runDir(runId);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith('.result.json'))
    .map((f) => JSON.parse(readFileSync(join(d, f), 'utf8')) as CaseRunRecord)
    .sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
}

const s = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)}s`);

/**
 * The table printed at the end of a run: case, act, verdict, outcome, time-to-failover; then, when
 * given (see regressionSincePrevious), what changed against earlier runs.
 */
export function summaryTable(runs: CaseRunRecord[], regression?: string[]): string {
  const rows: string[][] = [['act', 'verdict', 'outcome', 'failover', 'audits']];
  for (const r of runs) {
    for (const a of r.acts) {
      rows.push([
        `${a.act}${r.repetition > 1 || runs.some((x) => x.caseId === r.caseId && x.repetition > 1) ? ` #${r.repetition}` : ''}`,
        a.verdict.toUpperCase(),
        a.seen,
        s(a.outcome.timeToFailoverMs),
        r.auditsOk ? 'ok' : r.healed ? 'FAILED (healed)' : 'FAILED',
      ]);
    }
    // A case run whose act could not be played has no act row of its own: it gets one, as a failure.
    if (r.actError)
      rows.push([
        `${r.actError.split(':')[0]}${r.repetition > 1 || runs.some((x) => x.caseId === r.caseId && x.repetition > 1) ? ` #${r.repetition}` : ''}`,
        'NOT PLAYED',
        r.actError.slice(r.actError.indexOf(':') + 2),
        '-',
        r.auditsOk ? 'ok' : 'FAILED',
      ]);
  }
  const w = rows[0]!.map((_, i) => Math.min(i === 2 ? 90 : 40, Math.max(...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (c.length > w[i]! ? `${c.slice(0, w[i]! - 1)}…` : c.padEnd(w[i]!))).join('  ');
  const count = (v: string) => runs.flatMap((r) => r.acts).filter((a) => a.verdict === v).length;
  return [
    line(rows[0]!),
    line(w.map((n) => '-'.repeat(n))),
    ...rows.slice(1).map(line),
    '',
    `${count('pass')} pass, ${count('hazard')} hazard, ${count('inconclusive')} inconclusive, ${count('fail')} fail${notPlayed(runs)}; ${runs.filter((r) => !r.auditsOk).length} case runs left the cluster unhealthy`,
    ...dataLine(runs),
    ...pollingLine(runs),
    ...harnessCpuLine(runs),
    ...machineCpuLine(runs),
    ...labsLine(runs),
    ...overrideLines(runs),
    ...(regression?.length ? ['', 'changes against earlier runs:', ...regression.map((l) => `  ${l}`)] : []),
  ].join('\n');
}

const notPlayed = (runs: CaseRunRecord[]) => {
  const n = runs.filter((r) => r.actError).length;
  return n ? `, ${n} case run${n > 1 ? 's' : ''} with an act that could not be played (a failure)` : '';
};

/** Timings the lab set that the profile does not contain (start-up only; shown with every result). */
function overrideLines(runs: CaseRunRecord[]): string[] {
  const seen = new Map<string, string>();
  for (const r of runs) for (const o of (r.overrides ?? []) as LabOverride[]) seen.set(o.setting, describeOverride(o));
  return [...seen.values()];
}

/** The data verdicts: writes through the VIP, judged per case run. */
function dataLine(runs: CaseRunRecord[]): string[] {
  const d = runs.map((r) => r.data).filter((x): x is DataReport => !!x?.verdict);
  if (!d.length) return [];
  const n = (v: DataReport['verdict']) => d.filter((x) => x.verdict === v).length;
  const acked = d.map((x) => x.ackedBeforeFault).sort((a, b) => a - b);
  return [
    `data (writes through the VIP): ${n('pass')} pass, ${n('inconclusive')} inconclusive, ${n('fail')} fail; acknowledged before the first fault: ${acked[0]}–${acked.at(-1)} per case run`,
  ];
}

/** How many labs shared the machine while the cases ran: timings taken beside another lab are worth less. */
function labsLine(runs: CaseRunRecord[]): string[] {
  const seen = runs.map((r) => r.labsRunning).filter((x): x is string[] => !!x);
  if (!seen.length) return [];
  const most = seen.reduce((a, b) => (b.length > a.length ? b : a));
  return [
    `labs and container clusters running at once on this machine during the cases: at most ${most.length}${most.length ? ` (${most.join(', ')})` : ''}`,
  ];
}

/** How finely the faults were watched: the resolution of every failover and dual-VIP time above. */
function pollingLine(runs: CaseRunRecord[]): string[] {
  const p = runs.map((r) => r.polling).filter((x): x is PollingStats => !!x?.medianGapMs);
  if (!p.length) return [];
  return [
    `observer while faults were active: gap between a host's lines median ${median(p.map((x) => x.medianGapMs!))} ms, p95 up to ${Math.max(...p.map((x) => x.p95GapMs ?? 0))} ms, p99 up to ${Math.max(...p.map((x) => x.p99GapMs ?? x.maxGapMs ?? 0))} ms, worst ${Math.max(...p.map((x) => x.maxGapMs ?? 0))} ms (asked: ${p[0]!.intervalMs} ms)`,
    ...wakeLateLine(p),
    ...missedLine(p, runs),
    ...watcherCostLine(runs),
  ];
}

/** Changes the watchers' periodic looks found that no event announced (each stamped late): none, or each one. */
function missedLine(p: PollingStats[], runs: CaseRunRecord[]): string[] {
  if (!p.some((x) => x.wakeLate)) return []; // the polling observer has no events to miss
  const m = runs.flatMap((r) => r.missedChanges ?? []);
  return [
    `changes no watcher event announced (found by the periodic full look, stamped late): ${m.length ? m.map((x) => `${x.host} ${x.what} (within ${x.sinceMs} ms)`).join('; ') : 'none'}`,
  ];
}

/** The event observer's resolution over the run: its case runs' p99s, and the worst wake-up of all. */
function wakeLateLine(p: PollingStats[]): string[] {
  const w = p.map((x) => x.wakeLate).filter((x): x is WakeLate => !!x);
  if (!w.length) return [];
  return [`observer's resolution (how late a watcher woke after a timer, so how late a change was stamped): ${wakeLateSummary(w)}`];
}

/** The event observer's watchers' own CPU, summed over a lab's db hosts, per case run. */
function watcherCostLine(runs: CaseRunRecord[]): string[] {
  const perLab = runs
    .map((r) => r.observerCost)
    .filter((c): c is NonNullable<CaseRunRecord['observerCost']> => !!c && Object.keys(c).length > 0)
    .map((c) => Math.round(Object.values(c).reduce((n, h) => n + h.cpuPercent, 0) * 10) / 10);
  if (!perLab.length) return [];
  return [
    `watchers inside the hosts (the observer's cost there): median ${median(perLab)} %, max ${Math.max(...perLab)} % of one core per lab`,
  ];
}

/** How contended this machine was while the cases ran (all labs, all processes), per case run. */
function machineCpuLine(runs: CaseRunRecord[]): string[] {
  const m = runs.map((r) => r.machineCpu).filter((x): x is MachineCpu => !!x);
  if (!m.length) return [];
  const busy = m.map((x) => x.busyPercent);
  const waiting = m.map((x) => x.waitingPercent).filter((x): x is number => x !== undefined);
  return [
    `this machine's cores during the cases: busy median ${median(busy)} %, max ${Math.max(...busy)} %${waiting.length ? `; some task waiting for a core median ${median(waiting)} %, max ${Math.max(...waiting)} % of the time` : ''} per case run`,
  ];
}

/** What watching and writing cost this machine: the harness's worker and its commands, per case run. */
function harnessCpuLine(runs: CaseRunRecord[]): string[] {
  const c = runs.map((r) => r.harnessCpu?.percent).filter((x): x is number => x !== undefined);
  if (!c.length) return [];
  return [
    `harness CPU (its worker and the commands it ran: observer, writer, faults): median ${median(c)} %, max ${Math.max(...c)} % of one core per case run`,
  ];
}

/**
 * The regression diff lines for run `runId` against the runs before it in reports/runs of the same
 * profile on the same target (each act against the most recent such run that ran it; "no previous
 * run of profile X on target Y" when there is none); undefined when the run is not in reports/runs.
 */
export function regressionSincePrevious(runId: string, reportsDir = REPORTS_DIR): string[] | undefined {
  const runs = readRuns(reportsDir);
  const i = runs.findIndex((r) => r.runId === runId);
  if (i < 0) return undefined;
  return regressionLines(diffLatest(runs.slice(0, i + 1)));
}

/**
 * Per act across repetitions: how outcomes were distributed (a varying case is a finding) — final
 * holder, dual VIP, failover and write-unavailability ranges, verdicts, and the acknowledged writes
 * lost in the case runs that played the act.
 */
export function distribution(runs: CaseRunRecord[]): string {
  const byAct = new Map<string, { a: ActResult; r: CaseRunRecord }[]>();
  for (const r of runs)
    for (const a of r.acts) byAct.set(`${a.caseId}: ${a.act}`, [...(byAct.get(`${a.caseId}: ${a.act}`) ?? []), { a, r }]);
  const out: string[] = [];
  for (const [act, played] of byAct) {
    if (played.length < 2) continue;
    const rs = played.map((p) => p.a);
    const n = rs.length;
    const finals = tally(rs.map((r) => r.outcome.finalHolders.join('+') || 'none'));
    const dual = rs.filter((r) => r.outcome.dualVip.seen);
    const verdicts = tally(rs.map((r) => r.verdict));
    const lost = played.reduce((sum, p) => sum + (p.r.data?.lost.length ?? 0), 0);
    const varies = Object.keys(finals).length > 1 || (dual.length > 0 && dual.length < n) || Object.keys(verdicts).length > 1;
    const parts = [
      `final holder ${fmtTally(finals, n)}`,
      `dual VIP seen ${dual.length}/${n}${dual.length ? ` (${spread(dual.map((r) => r.outcome.dualVip.longestMs))})` : ''}`,
      ...optional(
        'failover',
        rs.map((r) => r.outcome.timeToFailoverMs),
      ),
      ...optional(
        'writes unavailable',
        rs.map((r) => r.outcome.writesUnavailableMs),
      ),
      `verdicts ${fmtTally(verdicts, n)}`,
      `acknowledged writes lost ${lost}`,
    ];
    out.push(`${act}: ${parts.join('; ')}${varies ? '  ← FINDING: outcome varies' : ''}`);
  }
  return out.join('\n');
}

/** "8.45 s" for one figure, "8.45 / 8.61 / 9.02 s (min / median / max)" for several. */
function spread(xs: number[]): string {
  const v = [...xs].sort((a, b) => a - b);
  if (v.length === 1 || v[0] === v.at(-1)) return s(v[0]!);
  return `${(v[0]! / 1000).toFixed(2)} / ${(v[Math.floor(v.length / 2)]! / 1000).toFixed(2)} / ${s(v.at(-1)!)} (min / median / max)`;
}

const optional = (name: string, xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? [`${name} ${v.length < xs.length ? `${v.length}/${xs.length} runs, ` : ''}${spread(v)}`] : [];
};

const tally = (xs: string[]) => {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
};
const fmtTally = (t: Record<string, number>, n: number) =>
  Object.entries(t)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}/${n}`)
    .join(', ');
