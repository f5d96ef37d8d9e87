import { parseArgs } from 'node:util';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';
import { runScenarios } from './run-scenarios.js';

const USAGE = `usage: npm run chaos -- [--repeat N] [--case 1,5,7] [--profile seed|PATH] [--strict] [--target netns|containers|vagrant|PATH] [--lab NAME]
  Runs the recorded failure cases against a lab brought up for the run (or --lab NAME, one already up),
  prints a verdict per act (pass / hazard / fail) and, with --repeat, the outcome distribution.
  --case 8..12  the faults beyond the notebook (scenarios/beyond/: partition, degraded network, pause,
                MySQL crash, host crash); --case beyond runs all of them. Not run without --case.
  --strict   hazards fail the run (release gates); also MHC_STRICT=1`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      repeat: { type: 'string', default: '1' },
      case: { type: 'string', multiple: true },
      profile: { type: 'string' },
      strict: { type: 'boolean', default: ['1', 'true'].includes(process.env.MHC_STRICT ?? '') },
      target: { type: 'string', default: process.env.MHC_TARGET ?? 'netns' },
      lab: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new HarnessError(`--repeat must be a positive integer, got "${values.repeat}"`);
  const cases = values.case?.flatMap((c) => c.split(',')).filter(Boolean);
  const { ok, runId } = await runScenarios({
    cases,
    repeat,
    profile: values.profile,
    strict: values.strict,
    target: values.target,
    labAttach: values.lab,
  });
  console.log(`\nrun ${runId}: results in reports/runs/${runId}/`);
  return ok ? 0 : 1;
}

runMain(main);
