import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createVitest } from 'vitest/node';
import { loadTargetConfig, selectTarget, sshTargetFor } from '../targets/select.js';
import { heal } from '../heal.js';
import { markInterrupted } from '../results.js';
import { HarnessError } from '../util/errors.js';
import { dockerBinaries } from '../targets/containers/engine.js';

const SCENARIOS = resolve(import.meta.dirname, '../../scenarios');
/** The faults beyond the notebook: run by --case only, not by default nor by `npm test` (vitest.config.ts). */
export const BEYOND = 'beyond';

const testFiles = (dir: string) =>
  readdirSync(join(SCENARIOS, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => (dir ? `${dir}/${f}` : f));

/**
 * Scenario files for case numbers like "1", "4", "07" (scenarios/ then scenarios/beyond/), or
 * "beyond" for every file of scenarios/beyond/. Without cases: the notebook's rows (scenarios/).
 */
export function scenarioFiles(cases?: string[]): string[] {
  const notebook = testFiles('');
  const beyond = testFiles(BEYOND);
  if (!cases?.length) return notebook.map((f) => join('scenarios', f));
  const all = [...notebook, ...beyond];
  const number = (f: string) => f.split('/').at(-1)!.split('-')[0]!.replace(/^0+/, '');
  return cases.flatMap((c) => {
    if (c === BEYOND) return beyond.map((f) => join('scenarios', f));
    const n = c.replace(/^0+/, '');
    const f = all.find((x) => number(x) === n);
    if (!f)
      throw new HarnessError(
        `no scenario for case "${c}"`,
        `cases are ${all.map(number).join(', ')}, or ${BEYOND} for ${beyond.map(number).join(', ')}`,
      );
    return [join('scenarios', f)];
  });
}

export interface ScenarioRunOptions {
  cases?: string[];
  repeat?: number;
  profile?: string;
  strict?: boolean;
  target?: string;
  labAttach?: string;
  runId?: string;
}

/** Runs the scenario suite through vitest (one lab for the run); returns the run id and whether it passed. */
export async function runScenarios(o: ScenarioRunOptions): Promise<{ runId: string; ok: boolean }> {
  // netns: the lab (brought up for the run, or --lab); any other name is an ssh target config,
  // validated here so that a bad one fails before vitest starts.
  const target = o.target || 'netns';
  if (target !== 'netns' && o.labAttach) throw new HarnessError(`--lab ${o.labAttach} is for the netns target, not --target ${target}`);
  await loadTargetConfig(target);
  if (target === 'containers') dockerBinaries(); // no Docker engine: say so before vitest starts
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
  // vitest.config.ts includes scenarios/beyond/ only when asked: `npm test` stays the notebook's rows.
  if (files.some((f) => f.startsWith(join('scenarios', BEYOND)))) process.env.MHC_SCENARIOS_BEYOND = '1';
  // Ctrl-C: the case in progress undoes its faults (run-case.ts: its worker gets the same signal
  // from the terminal), the cases after it are skipped, the suite's teardown brings down a lab
  // made for the run, and an attached cluster is repaired below. Vitest's own handler would exit
  // this process at once (before any of that), so it is replaced by ours.
  process.env.TEST = 'true';
  process.env.VITEST = 'true';
  process.env.NODE_ENV ??= 'test';
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const vitest = await createVitest('test', { project: ['scenarios'], watch: false, run: true });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    for (const l of process.listeners(sig)) if (!before[sig].includes(l)) process.off(sig, l);
  }
  // The run is stopped with a marker, not with vitest's cancel: that marks a running test skipped
  // without waiting for it and then ends its worker within half a second, cutting the case's own
  // recovery short. The case in progress gets the terminal's SIGINT itself (run-case.ts) and
  // recovers; every case after it sees the marker and is skipped (lib/scenario.ts).
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    markInterrupted(runId);
    process.stderr.write(
      `\ninterrupted: the running case stops and undoes its faults; the cases after it are skipped${o.labAttach || target !== 'netns' ? '; then the cluster is repaired' : ''}\n`,
    );
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  let failed = true;
  try {
    await vitest.start(files);
    failed =
      vitest.state.getFiles().some((f) => f.result?.state === 'fail') ||
      vitest.state.getCountOfFailedTests() > 0 ||
      vitest.state.getUnhandledErrors().length > 0;
  } finally {
    await vitest.close(); // the suite's teardown: a lab brought up for the run goes down here
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
  if (interrupted && (o.labAttach || (target !== 'netns' && target !== 'containers'))) {
    const config = await loadTargetConfig(target);
    const t = config ? sshTargetFor(config) : selectTarget({ labName: o.labAttach });
    const h = await heal(t, (l) => process.stderr.write(`${l}\n`));
    process.stderr.write(
      h.ok
        ? 'cluster repaired: every audit passes\n'
        : `cluster NOT repaired: ${h.results
            .filter((r) => !r.ok)
            .map((r) => `${r.audit}: ${r.detail}`)
            .join('; ')}\n`,
    );
    return { runId, ok: false };
  }
  return { runId, ok: !failed && !interrupted };
}
