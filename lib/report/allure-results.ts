import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActEnd, HistoryEvent } from '../history.js';
import type { CaseRunRecord } from '../results.js';
import { redact } from '../util/redact.js';
import { worstVerdict, type Run } from './regression.js';
import { timelineSvg, type HistoryJson } from './timeline.js';
import { actStatus, caseChecks, statusOf, type Status as CaseStatus } from '../checks/case-checks.js';
import { CATEGORIES } from './allure-status.js';

/**
 * Allure results (the allure2 JSON format that Allure 3 reads) written from reports/runs: used for
 * runs that did not go through the Allure vitest reporter and for the runs before the latest one
 * (history and trends). One Allure test per case (all repetitions), as the scenario suite has one
 * vitest test per case, with the same historyId/testCaseId as lib/report/allure-case.ts sets live.
 */

export interface Label {
  name: string;
  value: string;
}

export const caseNumber = (caseId: string) => caseId.match(/^\d+/)?.[0] ?? caseId;

export function caseLabels(c: { caseId: string; caseTitle: string; profile: string; target: string; runId: string }): Label[] {
  return [
    { name: 'case', value: caseNumber(c.caseId) },
    { name: 'caseId', value: c.caseId },
    { name: 'profile', value: c.profile },
    { name: 'target', value: c.target },
    { name: 'runId', value: c.runId },
    { name: 'epic', value: 'notebook failure cases' },
    { name: 'feature', value: `case ${caseNumber(c.caseId)}` },
  ];
}

export const caseHistoryId = (caseId: string) => `mhc-case-${caseId}`;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

type Status = CaseStatus | 'skipped';
interface Attachment {
  name: string;
  source: string;
  type: string;
}
interface Step {
  name: string;
  status: Status;
  stage: 'finished';
  start: number;
  stop: number;
  steps: Step[];
  attachments: Attachment[];
  parameters: { name: string; value: string }[];
  statusDetails?: { message?: string; trace?: string };
}

/** Writes attachment files into an Allure results directory. */
export class ResultsWriter {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  attach(name: string, content: string | Buffer, type: string, ext: string): Attachment {
    const source = `${randomUUID()}-attachment.${ext}`;
    writeFileSync(join(this.dir, source), typeof content === 'string' ? redact(content) : content);
    return { name, source, type };
  }

  /** categories.json: how Allure 2 readers group the results (Allure 3 takes them from its config). */
  writeCategories(): void {
    writeFileSync(join(this.dir, 'categories.json'), JSON.stringify(CATEGORIES, null, 2));
  }

  writeResult(r: Record<string, unknown>): void {
    writeFileSync(join(this.dir, `${r.uuid as string}-result.json`), JSON.stringify(r));
  }

  /** Allure 3 performance metrics (`*-perf.json`): shown in the report's Metrics section, with history. */
  writeMetrics(metrics: { key: string; value: number; start: number; stop: number }[]): void {
    if (!metrics.length) return;
    writeFileSync(join(this.dir, `${randomUUID()}-perf.json`), JSON.stringify(metrics.map((m) => ({ id: randomUUID(), ...m }))));
  }
}

/** Steps reconstructed from a repetition's history, with the real timestamps. */
export function stepsFromHistory(h: HistoryJson, rec: CaseRunRecord): Step[] {
  const t0 = Date.parse(h.startedAt);
  const at = (t: number) => Math.round(t0 + t);
  const ev = [...h.events].sort((a, b) => a.t - b.t);
  const faults = ev.filter((e): e is Extract<HistoryEvent, { type: 'fault' }> => e.type === 'fault');
  const steps = ev.filter((e): e is Extract<HistoryEvent, { type: 'step' }> => e.type === 'step');
  const mk = (name: string, from: number, to: number, status: Status = 'passed', message?: string, children: Step[] = []): Step => ({
    name,
    status,
    stage: 'finished',
    start: at(from),
    stop: at(Math.max(from, to)),
    steps: children,
    attachments: [],
    parameters: [],
    ...(message ? { statusDetails: { message } } : {}),
  });
  const out: Step[] = [];
  const starts = faults.filter((f) => f.phase === 'start');
  const ends = ev.filter((e): e is ActEnd => e.type === 'act' && e.phase === 'end');
  rec.acts.forEach((a, i) => {
    const s = starts[i];
    const judged = ends.filter((x) => x.act === a.act)[rec.acts.slice(0, i).filter((y) => y.act === a.act).length];
    if (!s || !judged) return;
    const e = faults.find((f) => f.phase === 'end' && f.fault === s.fault && f.t >= s.t);
    const end = e?.t ?? s.t;
    const st = actStatus(a);
    out.push(
      mk(`act ${a.act}`, s.t, judged.t, st.status, st.message, [
        mk(`inject: ${s.fault}`, s.t, end),
        mk('observe until settled', end, judged.t),
        mk(`judge: ${a.verdict.toUpperCase()} — ${a.seen}`, judged.t, judged.t, st.status, st.message),
      ]),
    );
  });
  const recovery = steps.find((x) => x.step === 'recovery');
  let prev = recovery?.t;
  for (const x of steps) {
    if (prev === undefined || x.t < prev) continue;
    const undone = x.step.match(/^(undone|undo failed): (.*)$/);
    if (undone) {
      out.push(mk(`recover: undo ${undone[2]}`, prev, x.t, undone[1] === 'undone' ? 'passed' : 'broken', x.detail));
      prev = x.t;
    } else if (x.step === 'audits') {
      out.push(mk('audit', prev, x.t, rec.auditsOk ? 'passed' : 'failed', rec.auditsOk ? undefined : x.detail));
      prev = x.t;
    }
  }
  return out;
}

export interface ConvertOptions {
  /** Attach the timeline SVG and the history/result JSON (default true; off for history-only replays). */
  attachments?: boolean;
}

/** Writes one Allure test result per case of the run; returns how many. */
export function writeRunAsAllure(run: Run, reportsDir: string, w: ResultsWriter, o: ConvertOptions = {}): number {
  const byCase = new Map<string, CaseRunRecord[]>();
  for (const r of run.records) byCase.set(r.caseId, [...(byCase.get(r.caseId) ?? []), r]);
  for (const [caseId, recs] of byCase) {
    recs.sort((a, b) => a.repetition - b.repetition);
    const first = recs[0]!;
    const multi = recs.length > 1;
    const steps: Step[] = [];
    const attachments: Attachment[] = [];
    for (const rec of recs) {
      const hp = join(reportsDir, 'runs', run.runId, `${caseId}.rep${rec.repetition}.history.json`);
      const h = existsSync(hp) ? (JSON.parse(readFileSync(hp, 'utf8')) as HistoryJson) : undefined;
      const repSteps = h ? stepsFromHistory(h, rec) : [];
      const repAtt: Attachment[] = [];
      if (o.attachments !== false && h) {
        repAtt.push(
          w.attach(
            `timeline${multi ? ` (repetition ${rec.repetition})` : ''}`,
            timelineSvg(h, rec.acts, { title: `case ${caseId}${multi ? ` #${rec.repetition}` : ''}: ${rec.caseTitle}` }),
            'image/svg+xml',
            'svg',
          ),
        );
        repAtt.push(
          w.attach(`history${multi ? ` (repetition ${rec.repetition})` : ''}`, readFileSync(hp, 'utf8'), 'application/json', 'json'),
        );
      }
      if (o.attachments !== false)
        repAtt.push(
          w.attach(`result${multi ? ` (repetition ${rec.repetition})` : ''}`, JSON.stringify(rec, null, 2), 'application/json', 'json'),
        );
      if (multi) {
        const start = Date.parse(rec.startedAt);
        const st = statusOf(caseChecks([rec]));
        steps.push({
          name: `repetition ${rec.repetition}`,
          status: st.status,
          stage: 'finished',
          start,
          stop: start + rec.wallMs,
          steps: repSteps,
          attachments: repAtt,
          parameters: [],
          ...(st.message ? { statusDetails: { message: st.message } } : {}),
        });
      } else {
        steps.push(...repSteps);
        attachments.push(...repAtt);
      }
    }
    const acts = recs.flatMap((r) => r.acts.map((a) => ({ ...a, rep: r.repetition })));
    const verdict = worstVerdict(acts.map((a) => a.verdict));
    // The same checks as the live test (lib/scenario.ts): only pass is green.
    const st = statusOf(caseChecks(recs));
    const start = Date.parse(first.startedAt);
    const stop = Math.max(...recs.map((r) => Date.parse(r.startedAt) + r.wallMs));
    const name = `case ${caseId}: ${first.caseTitle}`;
    w.writeResult({
      uuid: randomUUID(),
      historyId: md5(caseHistoryId(caseId)),
      testCaseId: caseHistoryId(caseId),
      name,
      fullName: `scenarios#${name}`,
      status: st.status,
      statusDetails: st.message ? { message: st.message } : {},
      stage: 'finished',
      start,
      stop,
      description: [
        `Notebook case ${caseId}: ${first.caseTitle}. Target: ${first.target}; profile: ${first.profile}; run ${run.runId}.`,
        '',
        ...acts.map(
          (a) =>
            `- **${a.act}${multi ? ` #${a.rep}` : ''}** — ${a.verdict.toUpperCase()}: ${a.seen}${a.hazard && a.verdict === 'hazard' ? `  \n  hazard: ${a.hazard}` : ''}${a.inconclusive && a.verdict === 'inconclusive' ? `  \n  inconclusive: ${a.inconclusive}` : ''}`,
        ),
        '',
        '(Converted from reports/runs: no live crm_mon/ip addr/log evidence for this run.)',
      ].join('\n'),
      labels: [
        ...caseLabels({ caseId, caseTitle: first.caseTitle, profile: first.profile, target: first.target, runId: run.runId }),
        { name: 'verdict', value: verdict },
        { name: 'repetition', value: String(recs.length) },
        ...[...new Set(acts.map((a) => a.verdict))].map((v) => ({ name: 'tag', value: v })),
      ],
      parameters: acts.map((a) => ({
        name: `${a.act}${multi ? ` #${a.rep}` : ''}`,
        value: `${a.verdict.toUpperCase()}: ${a.seen}`,
        excluded: true,
      })),
      links: [],
      steps,
      attachments,
    });
  }
  return byCase.size;
}

/** Time-to-failover (and dual-VIP duration) per act as Allure 3 metrics. */
export function runMetrics(run: Run): { key: string; value: number; start: number; stop: number }[] {
  return run.records.flatMap((r) =>
    r.acts.flatMap((a) => {
      const start = Date.parse(a.startedAt);
      const stop = start + a.outcome.windowMs;
      const m = [];
      if (a.outcome.timeToFailoverMs !== undefined)
        m.push({ key: ttfKey(a.caseId, a.act), value: a.outcome.timeToFailoverMs, start, stop });
      if (a.outcome.dualVip.seen) m.push({ key: `dual VIP ${a.caseId} / ${a.act}`, value: a.outcome.dualVip.longestMs, start, stop });
      return m;
    }),
  );
}

export const ttfKey = (caseId: string, act: string) => `failover ${caseId} / ${act}`;
