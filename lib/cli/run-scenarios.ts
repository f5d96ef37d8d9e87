import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createVitest } from 'vitest/node';
import { type Shard, shardFiles } from '../ci/shard.js';
import { drawSchedule } from '../faults/catalogue.js';
import { heal } from '../heal.js';
import { Profile } from '../profile/load.js';
import { markInterrupted } from '../results.js';
import { type RunConfig, type RunOptions, resolveRunConfig } from '../run-config.js';
import { destroyLabsTogether, NetnsLab } from '../targets/netns/lab.js';
import type { TargetProvider } from '../targets/provider.js';
import { providerFor } from '../targets/providers.js';
import { runLabs } from '../parallel-labs.js';
import { HarnessError } from '../util/errors.js';
import { StepLog } from '../util/log.js';

const SCENARIOS = resolve(import.meta.dirname, '../../scenarios');
/** The faults beyond the notebook: run by --case only, not by default nor by `npm test` (vitest.config.ts). */
export const BEYOND = 'beyond';
/** The random schedule's scenario file (--random N --seed S). */
export const RANDOM_FILE = join('scenarios', BEYOND, 'random.test.ts');

/** The scenario files of a folder: a row number each (scenarios/beyond/random.test.ts is --random's own). */
const testFiles = (dir: string) =>
  readdirSync(join(SCENARIOS, dir))
    .filter((f) => /^\d+-.*\.test\.ts$/.test(f))
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
    // A row may be several files (row 4: one per child daemon, so parallel labs share it out).
    const files = all.filter((x) => number(x) === n);
    if (!files.length)
      throw new HarnessError(
        `no scenario for case "${c}"`,
        `cases are ${[...new Set(all.map(number))].join(', ')}, or ${BEYOND} for ${beyond.map(number).join(', ')}`,
      );
    return files.map((f) => join('scenarios', f));
  });
}

export interface ScenarioRunOptions extends RunOptions {
  cases?: string[];
  /** Only this shard's share of the files (ci:shard). */
  shard?: Shard;
}

export interface CheckedRun {
  config: RunConfig;
  provider: TargetProvider;
  files: string[];
}

/**
 * Everything about a run that can be wrong before anything starts: the options, the profile (it
 * must load), the target (its config, its tools), the case numbers. One clear error each.
 */
export async function checkRun(o: ScenarioRunOptions): Promise<CheckedRun> {
  const config = resolveRunConfig(o);
  Profile.load(config.profile);
  const provider = providerFor(config.target);
  await provider.preflight(config);
  if (config.random && o.cases?.length) throw new HarnessError('--random draws its own cases: give either --random or --case');
  const all = config.random ? [RANDOM_FILE] : scenarioFiles(o.cases);
  const files = o.shard ? shardFiles(all, o.shard) : all;
  // No more labs than files: a lab with no file to run would only take the others' CPU.
  return { config: { ...config, parallel: Math.min(config.parallel, Math.max(1, files.length)) }, provider, files };
}

/**
 * Brings the run's own lab up before vitest starts (netns, not --lab): a profile Pacemaker rejects
 * is then one clear error, not a failed first test. The run holds the lab's lease; the scenarios
 * attach to it.
 */
async function bringUpRunLab(c: RunConfig): Promise<RunConfig> {
  const profile = Profile.load(c.profile);
  // Several labs come up together; each is waited for before a failure is reported, so that the
  // caller's finally finds every one of them complete or gone (a lab failing its start tears itself down).
  const started = await Promise.allSettled(
    runLabs(c.lab, profile.subnet, c.parallel).map(async (l) => {
      let b = new NetnsLab(profile)
        .withName(l.name)
        .withOwner()
        .withLog(new StepLog(c.parallel > 1 ? (line) => process.stderr.write(`[${l.name}] ${line}\n`) : undefined))
        .withFaithfulTimings(c.lab.faithfulTimings);
      if (l.subnet) b = b.withSubnet(l.subnet);
      await b.start();
    }),
  );
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return { ...c, lab: { ...c.lab, attach: true } };
}

/** Runs the scenario suite through vitest (one target for the run); returns the run id and whether it passed. */
export async function runScenarios(o: ScenarioRunOptions, checked?: CheckedRun): Promise<{ runId: string; ok: boolean }> {
  const { config, provider, files } = checked ?? (await checkRun(o));
  if (config.random) {
    const { count, seed } = config.random;
    const drawn = drawSchedule(count, seed).map((e, i) => `R${i + 1} ${e.act}`);
    process.stderr.write(`random schedule, seed ${seed} (replay: --random ${count} --seed ${seed}): ${drawn.join(', ')}\n`);
  }
  const ownLab = provider.kind === 'netns' && !config.lab.attach;
  try {
    const runConfig = ownLab ? await bringUpRunLab(config) : config;
    const { failed, interrupted } = await runVitest(runConfig, files);
    if (interrupted) {
      const t = await provider.clusterToRepair(config);
      if (t) {
        const h = await heal(t, (l) => process.stderr.write(`${l}\n`));
        process.stderr.write(
          h.ok
            ? 'cluster repaired: every audit passes\n'
            : `cluster NOT repaired: ${h.results
                .filter((r) => !r.ok)
                .map((r) => `${r.audit}: ${r.detail}`)
                .join('; ')}\n`,
        );
      }
    }
    return { runId: config.runId, ok: !failed && !interrupted };
  } finally {
    if (ownLab)
      await destroyLabsTogether(
        runLabs(config.lab, Profile.load(config.profile).subnet, config.parallel).map((l) => l.name),
        (line) => process.stderr.write(`${line}\n`),
      );
  }
}

/** The scenarios project of vitest, with the run's configuration provided to its setup and workers. */
async function runVitest(runConfig: RunConfig, files: string[]): Promise<{ failed: boolean; interrupted: boolean }> {
  // vitest.config.ts includes scenarios/beyond/ only when asked: `npm test` stays the notebook's rows.
  if (files.some((f) => f.startsWith(join('scenarios', BEYOND)))) process.env.MHC_SCENARIOS_BEYOND = '1';
  // vitest.config.ts gives the scenarios project one worker per lab.
  process.env.MHC_PARALLEL = String(runConfig.parallel);
  // Ctrl-C: the case in progress undoes its faults (run-case.ts: its worker gets the same signal
  // from the terminal), the cases after it are skipped, the suite's teardown ends what it brought
  // up, and an attached cluster is repaired by the caller. Vitest's own handler would exit this
  // process at once (before any of that), so it is replaced by ours.
  process.env.TEST = 'true';
  process.env.VITEST = 'true';
  process.env.NODE_ENV ??= 'test';
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const vitest = await createVitest('test', { project: ['scenarios'], watch: false, run: true, provide: { runConfig } });
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
    markInterrupted(runConfig.runId);
    process.stderr.write('\ninterrupted: the running case stops and undoes its faults; the cases after it are skipped\n');
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
    await vitest.close(); // the suite's teardown
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
  return { failed, interrupted };
}
