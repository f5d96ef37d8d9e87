import { inject, it, expect } from 'vitest';
import { Profile } from './profile/load.js';
import { readState } from './targets/netns/state.js';
import { StartedNetnsLab } from './targets/netns/lab.js';
import type { Target } from './targets/target.js';
import { runCase, type CaseDefinition } from './run-case.js';
import type { CaseRunRecord } from './results.js';

export type { Act, CaseContext } from './run-case.js';

let target: Target | undefined;

/** The target the suite runs against (the suite's lab unless configured otherwise). */
export function suiteTarget(): Target {
  if (target) return target;
  const name = inject('labName');
  const s = readState(name);
  target = StartedNetnsLab.attach(name, Profile.load(s?.profileDir ?? process.env.MHC_PROFILE ?? 'seed'));
  return target;
}

const repeat = () => Math.max(1, Number(process.env.MHC_REPEAT ?? 1));
const strict = () => ['1', 'true', 'yes'].includes(String(process.env.MHC_STRICT ?? '').toLowerCase());

/**
 * Registers a case as a test: it runs --repeat times, then asserts every act's outcome matched
 * the expectation (fail otherwise), reports hazards (and fails them in strict mode), and fails
 * the test if the case left the cluster unhealthy.
 */
export function scenario(def: CaseDefinition): void {
  it(`case ${def.id}: ${def.title}`, async ({ annotate }) => {
    const t = suiteTarget();
    const records: CaseRunRecord[] = [];
    for (let rep = 1; rep <= repeat(); rep++) {
      const { record } = await runCase(t, def, { runId: inject('runId'), repetition: rep, log: (l) => process.stderr.write(l + '\n') });
      records.push(record);
    }
    for (const r of records) {
      for (const a of r.acts) {
        if (a.verdict === 'hazard') await annotate(`HAZARD (${a.act}${records.length > 1 ? ` #${r.repetition}` : ''}): ${a.hazard} — seen: ${a.seen}`, 'warning');
        else await annotate(`${a.verdict.toUpperCase()} (${a.act}): ${a.seen}`, 'notice');
      }
    }
    const acts = records.flatMap((r) => r.acts.map((a) => ({ ...a, rep: r.repetition })));
    expect(acts.filter((a) => a.verdict === 'fail').map((a) => `${a.act} #${a.rep}: ${a.mismatches.join('; ')}`), 'outcome differs from the profile\'s expectation').toEqual([]);
    if (strict()) expect(acts.filter((a) => a.verdict === 'hazard').map((a) => `${a.act} #${a.rep}: ${a.hazard}`), 'hazards fail the run in strict mode').toEqual([]);
    expect(records.flatMap((r) => r.audits.filter((x) => !x.ok).map((x) => `#${r.repetition} ${x.audit}: ${x.detail}`)), 'audits after the case (cluster left unhealthy)').toEqual([]);
    expect(records.flatMap((r) => r.recoveryErrors), 'the notebook\'s recovery steps').toEqual([]);
  });
}
