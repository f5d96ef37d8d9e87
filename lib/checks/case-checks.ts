import type { ActResult, CaseRunRecord } from '../results.js';

/**
 * What a case run must satisfy, and the test status that follows — one definition for the live
 * test (lib/scenario.ts), the live Allure results (lib/report/allure-status.ts) and the offline
 * ones (lib/report/allure-results.ts), so the three cannot disagree.
 *
 * Only pass is green. A hazard (the expected outcome, and a known dangerous state) and an
 * inconclusive act (the evidence cannot support a verdict) make the case "broken", not "passed"
 * and not "failed"; their messages start with a fixed prefix so Allure's categories (matched by
 * message) put them apart from each other and from the failures.
 */

export const HAZARD = 'HAZARD:';
export const INCONCLUSIVE = 'INCONCLUSIVE:';

export type Status = 'passed' | 'failed' | 'broken';
export interface StatusWithMessage {
  status: Status;
  message?: string;
}

export interface CaseCheck {
  /** The step name: what must hold. */
  name: string;
  /** The heading of the problems in a status message. */
  failure: string;
  /**
   * fail: the run is wrong; inconclusive: it cannot be judged; hazard: it is known dangerous;
   * operator-hazard: known dangerous, and only because of the operator's own command (reported as
   * a hazard everywhere, but no configuration gate fails on it).
   */
  kind: 'fail' | 'inconclusive' | 'hazard' | 'operator-hazard';
  problems: string[];
}

/** Every check of a case run (all repetitions), fail checks first, then inconclusive, then hazard. */
export function caseChecks(records: CaseRunRecord[]): CaseCheck[] {
  const multi = records.length > 1;
  const rep = (r: CaseRunRecord) => (multi ? `#${r.repetition} ` : '');
  const acts = (verdict: ActResult['verdict'], why: (a: ActResult) => string, which: (a: ActResult) => boolean = () => true) =>
    records.flatMap((r) =>
      r.acts.filter((a) => a.verdict === verdict && which(a)).map((a) => `${a.act}${multi ? ` #${r.repetition}` : ''}: ${why(a)}`),
    );
  return [
    // A case whose act could not be played has nothing to judge: that is a failure, never a pass.
    {
      name: 'check: every act was played to its judgement',
      failure: 'an act could not be played',
      kind: 'fail',
      problems: records.flatMap((r) =>
        r.actError ? [`${rep(r)}${r.actError}`] : r.acts.length ? [] : [`${rep(r)}no act was played (the record holds none)`],
      ),
    },
    {
      name: 'check: no act differs from its expectation',
      failure: "outcome differs from the profile's expectation",
      kind: 'fail',
      problems: acts('fail', (a) => a.mismatches.join('; ')),
    },
    {
      name: 'check: the cluster is healthy after the case (audits)',
      failure: 'audits after the case (cluster left unhealthy)',
      kind: 'fail',
      problems: records.flatMap((r) => r.audits.filter((x) => !x.ok).map((x) => `${rep(r)}${x.audit}: ${x.detail}`)),
    },
    {
      name: "check: the notebook's recovery steps succeeded",
      failure: "the notebook's recovery steps",
      kind: 'fail',
      problems: records.flatMap((r) => r.recoveryErrors.map((e) => `${rep(r)}${e}`)),
    },
    // A lost acknowledged write is expected of some hazards (the lost keys are in the report).
    {
      name: 'check: no acknowledged write lost in a case with no hazard',
      failure: 'acknowledged writes lost in a case with no hazard',
      kind: 'fail',
      problems: records
        .filter((r) => r.acts.every((a) => a.verdict === 'pass'))
        .flatMap((r) => (r.data?.problems ?? []).map((p) => `${rep(r)}${p}`)),
    },
    {
      name: 'check: every act had the evidence for a verdict',
      failure: 'not enough evidence for a verdict',
      kind: 'inconclusive',
      problems: acts('inconclusive', (a) => a.inconclusive ?? a.seen),
    },
    {
      name: 'check: the data claim had the evidence for a verdict',
      failure: 'not enough evidence for the data claim',
      kind: 'inconclusive',
      problems: records.filter((r) => r.data?.verdict === 'inconclusive').map((r) => `${rep(r)}data: ${r.data!.inconclusive}`),
    },
    {
      name: 'check: no act ended in a known dangerous state',
      failure: 'known dangerous state',
      kind: 'hazard',
      problems: acts(
        'hazard',
        (a) => `${a.hazard ?? 'hazard'} — seen: ${a.seen}`,
        (a) => !a.operatorInstead,
      ),
    },
    {
      name: "check: no act ended in a known dangerous state of the operator's own command",
      failure: "known dangerous state, from the operator's own command",
      kind: 'operator-hazard',
      problems: acts(
        'hazard',
        (a) => `${a.hazard} — seen: ${a.seen} — run instead: ${a.operatorInstead}`,
        (a) => !!a.operatorInstead,
      ),
    },
  ];
}

/**
 * The status of a case with these checks: failed when a fail check has problems, else broken
 * (inconclusive before hazard), else passed. The message lists every check with problems.
 */
export function statusOf(checks: CaseCheck[]): StatusWithMessage {
  const bad = checks.filter((c) => c.problems.length);
  const kind = (['fail', 'inconclusive', 'hazard', 'operator-hazard'] as const).find((k) => bad.some((c) => c.kind === k));
  if (!kind) return { status: 'passed' };
  const message = bad.map((c) => `${c.failure}:\n${c.problems.map((p) => `  ${p}`).join('\n')}`).join('\n');
  if (kind === 'fail') return { status: 'failed', message };
  return { status: 'broken', message: `${kind === 'inconclusive' ? INCONCLUSIVE : HAZARD} ${message}` };
}

/**
 * The checks that fail a run: fail and inconclusive always, the configuration's hazards in strict
 * mode (a release gate), the operator's own commands never (they stay hazards in every report).
 */
export function gatingChecks(checks: CaseCheck[], strict: boolean): CaseCheck[] {
  return checks.filter((c) => c.kind === 'fail' || c.kind === 'inconclusive' || (c.kind === 'hazard' && strict));
}

/** The status of one act's judgement (its judge step in either report). */
export function actStatus(a: Pick<ActResult, 'verdict' | 'mismatches' | 'hazard' | 'inconclusive' | 'seen'>): StatusWithMessage {
  switch (a.verdict) {
    case 'fail':
      return { status: 'failed', message: a.mismatches.join('; ') };
    case 'hazard':
      return { status: 'broken', message: `${HAZARD} ${a.hazard ?? a.seen}` };
    case 'inconclusive':
      return { status: 'broken', message: `${INCONCLUSIVE} ${a.inconclusive ?? a.seen}` };
    case 'pass':
      return { status: 'passed' };
  }
}

/**
 * What fails a scenario test. The name is what allure-vitest reads ("assert" in it: status
 * "failed", not "broken"); lib/report/allure-status.ts makes HAZARD:/INCONCLUSIVE: messages broken.
 */
export class CaseAssertionError extends Error {
  override name = 'CaseAssertionError';
}
