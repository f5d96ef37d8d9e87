import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startVitest } from 'vitest/node';
import { loadTargetConfig } from '../targets/select.js';
import { HarnessError } from '../util/errors.js';

const SCENARIOS = resolve(import.meta.dirname, '../../scenarios');

export interface ScenarioRunOptions {
  cases?: string[];
  repeat?: number;
  profile?: string;
  strict?: boolean;
  target?: string;
  labAttach?: string;
  runId?: string;
}

/** Scenario files for case numbers like "1", "4", "07". */
export function scenarioFiles(cases?: string[]): string[] {
  const all = readdirSync(SCENARIOS).filter((f) => f.endsWith('.test.ts')).sort();
  if (!cases?.length) return all.map((f) => join('scenarios', f));
  return cases.map((c) => {
    const n = c.replace(/^0+/, '');
    const f = all.find((x) => x.replace(/^0+/, '').startsWith(`${n}-`));
    if (!f) throw new HarnessError(`no scenario for case "${c}"`, `cases are ${all.map((x) => x.split('-')[0]!.replace(/^0+/, '')).join(', ')}`);
    return join('scenarios', f);
  });
}

/** Runs the scenario suite through vitest (one lab for the run); returns the run id and whether it passed. */
export async function runScenarios(o: ScenarioRunOptions): Promise<{ runId: string; ok: boolean }> {
  // netns: the lab (brought up for the run, or --lab); any other name is an ssh target config,
  // validated here so that a bad one fails before vitest starts.
  const target = o.target || 'netns';
  if (target !== 'netns' && o.labAttach) throw new HarnessError(`--lab ${o.labAttach} is for the netns target, not --target ${target}`);
  await loadTargetConfig(target);
  process.env.MHC_TARGET = target;
  const runId = o.runId ?? new Date().toISOString().replace(/[:.]/g, '-');
  Object.assign(process.env, {
    MHC_RUN_ID: runId,
    MHC_REPEAT: String(o.repeat ?? 1),
    MHC_STRICT: o.strict ? '1' : '',
    ...(o.profile ? { MHC_PROFILE: o.profile } : {}),
    ...(o.labAttach ? { MHC_LAB_ATTACH: o.labAttach } : {}),
  });
  const files = scenarioFiles(o.cases);
  const vitest = await startVitest('test', files, { project: ['scenarios'], watch: false, run: true });
  const failed = vitest.state.getFiles().some((f) => f.result?.state === 'fail') || vitest.state.getCountOfFailedTests() > 0;
  await vitest.close();
  return { runId, ok: !failed };
}
