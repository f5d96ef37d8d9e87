import { parseArgs } from 'node:util';
import { runMain } from './main.js';
import { RUN_FLAGS, runOptionsFrom } from './run-flags.js';
import { runScenarios } from './run-scenarios.js';

const USAGE = `usage: npm run chaos -- [--repeat N] [--case 1,5,7] [--parallel N] [--profile seed|hardened|hardened-ipmi|PATH] [--strict] [--target netns|containers|vagrant|PATH] [--lab NAME | --name NAME --subnet A.B.C.0/24]
  Runs the recorded failure cases against a lab brought up for the run (or --lab NAME, one already up),
  prints a verdict per act (pass / hazard / fail) and, with --repeat, the outcome distribution.
  --case 8..15  the faults beyond the notebook (scenarios/beyond/: partition, degraded network, pause,
                MySQL crash, host crash, replication at failover, disk full, the fence path's own
                faults); --case beyond runs all of them.
                Not run without --case.
  --random N [--seed S]  N faults drawn from the catalogue (lib/faults/catalogue.ts), each a case of
                its own, the same for the same seed (printed with the run)
  --strict   hazards fail the run (release gates)
  --parallel N  the scenario files spread over N labs at once (netns), lab NAME-k on the subnet's
                third octet + k - 1; default: what the machine's cores and memory hold (2 cores: 1)
  --observer poll  poll every db host every 100 ms (ip, ps) instead of the default: a watcher
                inside each db host that reports changes as they happen, by the host's clock
                (lib/observe/)
  Options left out come from MHC_PROFILE, MHC_TARGET, MHC_STRICT, MHC_REPEAT, MHC_OBSERVER, MHC_PARALLEL, MHC_LAB, MHC_SUBNET (lib/run-config.ts).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      ...RUN_FLAGS,
      lab: { type: 'string' },
      random: { type: 'string' },
      seed: { type: 'string' },
      name: { type: 'string' },
      subnet: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { ok, runId } = await runScenarios({
    ...runOptionsFrom(values),
    labAttach: values.lab,
    random: values.random,
    seed: values.seed,
    labName: values.name,
    subnet: values.subnet,
  });
  console.log(`\nrun ${runId}: results in reports/runs/${runId}/`);
  return ok ? 0 : 1;
}

runMain(main);
