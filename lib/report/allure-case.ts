import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as allure from 'allure-js-commons';
import type { Judgement, Verdict } from '../checks/verdict.js';
import { actStatus, caseChecks, statusOf } from '../checks/case-checks.js';
import type { CaseDefinition } from '../run-case.js';
import { runDir, type CaseRunRecord } from '../results.js';
import { describeOverride, type Target } from '../targets/target.js';
import { redact } from '../util/redact.js';
import { collectEvidence } from './evidence.js';
import { caseLabels } from './allure-results.js';
import { worstVerdict } from './regression.js';
import { STATUS_LABEL } from './allure-status.js';
import { timelineSvg, type HistoryJson } from './timeline.js';
import { wakeLateText } from '../observe/gaps.js';

/**
 * Allure for one scenario test (used by lib/scenario.ts): labels, a step per phase of the case
 * (per act: inject, observe, judge; then recover, audit), evidence (crm_mon, ip addr, replication,
 * logs) at the moments runCase offers, and per repetition the history JSON and its timeline.
 *
 * Everything is best effort: a reporting problem is printed and never changes the case's outcome.
 * Outside an Allure-enabled vitest run the calls are no-ops (allure-js-commons has no runtime).
 */
export class AllureCase {
  /** The act step that is open (phases of one act are nested under it). */
  private openAct?: { act: string; close: () => void; done: PromiseLike<void> };

  constructor(
    private readonly def: CaseDefinition,
    private readonly t: Target,
    private readonly runId: string,
  ) {}

  /** Labels known before the case runs. */
  async begin(): Promise<void> {
    await safe(async () => {
      await allure.labels(
        ...caseLabels({
          caseId: this.def.id,
          caseTitle: this.def.title,
          profile: this.t.profile.name,
          target: this.t.label,
          runId: this.runId,
        }),
      );
      // Stable identity across runs (trends/history), whichever file or title the case has.
      await allure.historyId(`mhc-case-${this.def.id}`);
      await allure.testCaseId(`mhc-case-${this.def.id}`);
      // A timing the lab sets that the profile does not contain must be visible wherever results are read.
      await allure.description(
        `Notebook case ${this.def.id}: ${this.def.title}. Target: ${this.t.label}; profile: ${this.t.profile.name}; run ${this.runId}.${this.t.overrides.map((o) => `\n\n${describeOverride(o, true)}`).join('')}`,
      );
      for (const o of this.t.overrides) await allure.parameter(`lab override: ${o.setting}`, `${o.value} (profile: ${o.profileValue})`);
    });
  }

  /** runCase's `step` option. */
  step = async <T>(name: string, body: () => Promise<T>, act?: string): Promise<T> => {
    if (act !== this.openAct?.act) await this.closeAct();
    if (act && !this.openAct) this.openActStep(act);
    let value: { v: T } | undefined;
    try {
      return await allure.step(name, async (ctx) => {
        const v = await body();
        value = { v };
        const j = asJudgement(v);
        if (j) {
          await ctx.displayName(`judge: ${j.verdict.toUpperCase()} — ${j.seen}`);
          if (j.verdict !== 'pass') throw new VerdictStepError(j);
        }
        return v;
      });
    } catch (e) {
      // The judge step shows as failed (or broken); the case goes on (the test checks the verdicts at the end).
      if (e instanceof VerdictStepError && value) return value.v;
      throw e;
    }
  };

  /** runCase's `onEvidence` option. */
  onEvidence = async (moment: string): Promise<void> => {
    const final = moment === 'after';
    if (final) await this.closeAct();
    await safe(async () => {
      const ev = await collectEvidence(this.t, moment, { logLines: moment === 'before' ? 0 : 400, timeoutMs: 10_000 });
      const attach = async () => {
        for (const e of ev) await allure.attachment(e.name, e.content, { contentType: e.contentType, fileExtension: e.fileExtension });
      };
      await allure.step(`evidence ${moment}`, attach);
    });
  };

  /**
   * Runs one repetition (an Allure step of its own when there are several), then attaches its
   * history, timeline and result — also when the repetition threw.
   */
  async repetition<R extends { record: CaseRunRecord }>(rep: number, of: number, body: () => Promise<R>): Promise<R> {
    let out: R | undefined;
    const run = async () => {
      try {
        out = await body();
        return out;
      } finally {
        await this.end(out?.record, rep);
      }
    };
    return of > 1 ? allure.step(`repetition ${rep}`, run) : run();
  }

  /** After one repetition: close the steps, attach the history and its timeline. */
  async end(record: CaseRunRecord | undefined, rep: number): Promise<void> {
    await this.closeAct();
    await safe(async () => {
      const base = join(runDir(this.runId), `${this.def.id}.rep${rep}`);
      if (existsSync(`${base}.history.json`)) {
        const text = readFileSync(`${base}.history.json`, 'utf8');
        await allure.attachment(
          `timeline (repetition ${rep})`,
          timelineSvg(JSON.parse(text) as HistoryJson, record?.acts, { title: `case ${this.def.id} #${rep}: ${this.def.title}` }),
          { contentType: 'image/svg+xml', fileExtension: 'svg' },
        );
        await allure.attachment(`history (repetition ${rep})`, redact(text), { contentType: 'application/json', fileExtension: 'json' });
      }
      if (record)
        await allure.attachment(`result (repetition ${rep})`, redact(JSON.stringify(record, null, 2)), {
          contentType: 'application/json',
          fileExtension: 'json',
        });
    });
  }

  /** After every repetition: verdict and repetition labels, the acts' outcomes as parameters. */
  async finish(records: CaseRunRecord[]): Promise<void> {
    await safe(async () => {
      const verdicts = records.flatMap((r) => r.acts.map((a) => a.verdict));
      await allure.label('verdict', worstVerdict(verdicts));
      // For the reporter's listener (allure-status.ts): the message of a case that passes its test
      // but must not show green (a hazard; strict mode and inconclusive acts fail the test anyway).
      const s = statusOf(caseChecks(records));
      if (s.status === 'broken' && s.message) await allure.label(STATUS_LABEL, s.message);
      await allure.label('repetition', String(records.length));
      for (const v of new Set<Verdict>(verdicts)) await allure.tag(v);
      for (const r of records)
        for (const a of r.acts) {
          await allure.parameter(`${a.act}${records.length > 1 ? ` #${r.repetition}` : ''}`, `${a.verdict.toUpperCase()}: ${a.seen}`, {
            excluded: true,
          });
        }
      // The resolution of the timings above: the observer's achieved poll gaps while faults were active.
      for (const r of records)
        if (r.polling?.medianGapMs !== undefined) {
          await allure.parameter(
            `observer poll gap${records.length > 1 ? ` #${r.repetition}` : ''}`,
            `median ${r.polling.medianGapMs} ms, p95 ${r.polling.p95GapMs} ms, p99 ${r.polling.p99GapMs ?? '-'} ms, max ${r.polling.maxGapMs} ms (${r.polling.polls} polls)`,
            { excluded: true },
          );
          if (r.polling.wakeLate)
            await allure.parameter(
              `observer resolution${records.length > 1 ? ` #${r.repetition}` : ''}`,
              wakeLateText(r.polling.wakeLate),
              {
                excluded: true,
              },
            );
        }
    });
  }

  private openActStep(act: string): void {
    let close!: () => void;
    const until = new Promise<void>((r) => {
      close = r;
    });
    // allure-js records steps in call order, so this step encloses every step started until close().
    const done = allure.step(`act ${act}`, () => until);
    this.openAct = { act, close, done };
  }

  private async closeAct(): Promise<void> {
    const a = this.openAct;
    if (!a) return;
    this.openAct = undefined;
    a.close();
    await Promise.resolve(a.done).catch(() => {});
  }
}

/**
 * Ends a judge step with the verdict's status: allure-js takes a step's status from the error's
 * shape — an assertion ("Assertion" in the name, expected/actual) is failed, any other error broken.
 */
class VerdictStepError extends Error {
  constructor(j: Judgement) {
    const s = actStatus(j);
    super(s.message);
    if (s.status === 'failed')
      Object.assign(this, { name: 'VerdictAssertionError', expected: "the profile's expectation", actual: j.seen });
    else this.name = 'VerdictNotice';
  }
}

function asJudgement(v: unknown): Judgement | undefined {
  return v && typeof v === 'object' && 'verdict' in v && 'mismatches' in v && 'seen' in v ? (v as Judgement) : undefined;
}

async function safe(f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    process.stderr.write(`allure: ${redact((e as Error).message)}\n`);
  }
}
