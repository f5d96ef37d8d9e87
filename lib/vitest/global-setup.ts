import type { TestProject } from 'vitest/node';
import { distribution, readRun, regressionSincePrevious, summaryTable } from '../results.js';
import { type RunConfig, resolveRunConfig } from '../run-config.js';
import type { SuiteTargetContext } from '../targets/provider.js';
import { providerFor } from '../targets/providers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's options: from `npm run chaos` (lib/cli/run-scenarios.ts), else from the environment. */
    runConfig: RunConfig;
    /** What the target's provider set up for the suite (lib/targets/provider.ts). */
    suiteTarget: SuiteTargetContext;
  }
}

/**
 * The scenario suite's one target for the whole run: the provider brings it up (or defers that to
 * the first scenario) before the first scenario and ends it after the last, also when tests fail.
 */
export default async function setup(project: TestProject) {
  const config = project.getProvidedContext().runConfig ?? resolveRunConfig();
  project.provide('runConfig', config);
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const suite = await providerFor(config.target).setUpSuite(config, log);
  project.provide('suiteTarget', suite.context);
  return async () => {
    const runs = readRun(config.runId);
    if (runs.length) {
      process.stdout.write(`\n${summaryTable(runs, regressionSincePrevious(config.runId))}\n`);
      const d = distribution(runs);
      if (d) process.stdout.write(`\noutcome distribution:\n${d}\n`);
    }
    await suite.teardown();
  };
}
