import { inject, it } from 'vitest';
import * as allure from 'allure-js-commons';
import type { Status } from 'allure-js-commons';
import { CaseAssertionError, caseChecks, gatingChecks, statusOf } from './checks/case-checks.js';
import type { Target } from './targets/target.js';
import { interruptedHere, runCase, type CaseDefinition } from './run-case.js';
import { join } from 'node:path';
import { clusterVersions } from './probes/versions.js';
import { readRunEnvironment, writeAllureEnvironment, writeRunEnvironment } from './report/environment.js';
import { REPORTS_DIR, runDir, runInterrupted, type CaseRunRecord } from './results.js';
import { AllureCase } from './report/allure-case.js';
import { currentWorker } from './parallel-labs.js';
import { providerFor } from './targets/providers.js';

export type { Act, CaseContext } from './run-case.js';

let target: Target | undefined;

/**
 * The target the suite runs against, from its provider (lib/targets/providers.ts). The netns lab
 * is brought up by the first scenario, so that it does not idle beside the integration tests'
 * labs; the global setup's teardown brings it down.
 */
export async function suiteTarget(): Promise<Target> {
  if (target) return target;
  const c = inject('runConfig');
  target = await providerFor(c.target).suiteTarget(c, inject('suiteTarget'));
  await recordEnvironment(target, c.runId);
  return target;
}

/** The run's profile, target and cluster versions: the Allure report's environment (once a run). */
async function recordEnvironment(t: Target, runId: string): Promise<void> {
  if (readRunEnvironment(runDir(runId))) return;
  const env = { profile: t.profile.name, target: t.label, versions: await clusterVersions(t, t.profile.dbHosts[0]!.name) };
  writeRunEnvironment(runDir(runId), env);
  writeAllureEnvironment(join(REPORTS_DIR, 'allure-results'), env);
}

/**
 * Registers a case as a test: it runs --repeat times, then checks every act's outcome matched
 * the expectation (fail otherwise), reports hazards (and fails them in strict mode), fails
 * inconclusive acts, and fails the test if the case left the cluster unhealthy.
 */
export function scenario(def: CaseDefinition): void {
  it(
    `case ${def.id}: ${def.title}`,
    async ({ annotate, skip }) => {
      const { runId, repeat, strict, observer, parallel } = inject('runConfig');
      const interrupted = () => interruptedHere() || runInterrupted(runId);
      if (interrupted()) skip('the run was interrupted (Ctrl-C) before this case');
      const t = await suiteTarget();
      // Labs at once write to one terminal: each line says whose it is (the lab slot suiteTarget claimed).
      const tag = parallel > 1 ? `[worker ${currentWorker()}] ` : '';
      const notHere = def.notFor?.(t.profile);
      if (notHere) skip(`case ${def.id} is not a case of profile ${t.profile.name}: ${notHere}`);
      const records: CaseRunRecord[] = [];
      const report = new AllureCase(def, t, runId);
      await report.begin();
      for (let rep = 1; rep <= repeat; rep++) {
        if (rep > 1 && interrupted()) break;
        const { record } = await report.repetition(rep, repeat, () =>
          runCase(t, def, {
            runId,
            repetition: rep,
            observer,
            log: (l) => process.stderr.write(`${tag}${l}\n`),
            step: report.step,
            onEvidence: report.onEvidence,
          }),
        );
        records.push(record);
      }
      await report.finish(records);
      for (const r of records) {
        for (const a of r.acts) {
          if (a.verdict === 'hazard')
            await annotate(
              `HAZARD (${a.act}${records.length > 1 ? ` #${r.repetition}` : ''}): ${a.hazard} — seen: ${a.seen}${a.operatorInstead ? ` — the operator's command; run instead: ${a.operatorInstead}` : ''}`,
              'warning',
            );
          else if (a.verdict === 'inconclusive')
            await annotate(
              `INCONCLUSIVE (${a.act}${records.length > 1 ? ` #${r.repetition}` : ''}): ${a.inconclusive ?? a.seen}`,
              'warning',
            );
          else await annotate(`${a.verdict.toUpperCase()} (${a.act}): ${a.seen}`, 'notice');
        }
      }
      // Data: what became of the writes through the VIP (the check below fails lost writes unless the
      // case's outcome is a known hazard; then the lost keys are in the report).
      for (const r of records) {
        const d = r.data;
        if (!d) continue;
        await annotate(
          `writes #${r.repetition}: ${d.writes.ok}/${d.writes.total} acknowledged, ${d.writes.fail} failed, ${d.writes.unknown} unknown; unavailable ${(d.unavailableMs / 1000).toFixed(1)} s; lost ${d.lost.length}; divergent ${d.divergent.length}`,
          d.lost.length ? 'warning' : 'notice',
        );
      }
      await checkCase(records, strict);
    },
    caseTimeoutMs(),
  );
}

/**
 * A hang guard, not a budget: every wait inside a case is bounded and says what it awaited, but
 * vitest abandons a test body that outlives its timeout and starts the next case on the same lab
 * while the old one still runs (seen: an act that waits out a controller's fencing retries, ~11
 * min). So the guard is far beyond any case: 30 min per repetition.
 */
function caseTimeoutMs(): number {
  return inject('runConfig').repeat * CASE_REPETITION_GUARD_MS;
}
const CASE_REPETITION_GUARD_MS = 30 * 60_000;

/**
 * The end of a case: one named Allure step per check (allure-vitest would show each `expect` as an
 * anonymous `expect([]).toEqual([])` step), then one error with every problem. Fail checks and
 * inconclusive acts always fail the test; hazards only in strict mode.
 */
async function checkCase(records: CaseRunRecord[], strict: boolean): Promise<void> {
  const checks = caseChecks(records);
  for (const c of checks) {
    const s = statusOf([c]);
    await allure.logStep(c.name, s.status as Status, s.message ? new Error(s.message) : undefined);
  }
  const failing = gatingChecks(checks, strict);
  const s = statusOf(failing);
  if (s.status !== 'passed') throw new CaseAssertionError(s.message);
}
