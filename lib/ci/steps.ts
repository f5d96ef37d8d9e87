/**
 * The steps of a nightly chaos run, by npm script name. The GitHub and GitLab workflows call these
 * and `npm run ci:local` runs them in the same order on one machine, so every step a workflow runs
 * is exercised here (test/unit/workflows.test.ts keeps the workflows to this list).
 *
 *   ci:shard  -- --shard I/N --run-id ID [--profile P] [--case LIST] [--repeat R] [--strict] [--target T]
 *                one job's share of the scenario files, on a lab of its own; results in reports/
 *   ci:merge  -- --from DIR ... [--previous DIR] [--strict] [--out DIR]
 *                every shard's results into one Allure report with the earlier nights' history
 *                (--previous: the folder the previous night's ci:merge wrote: history.jsonl, runs/),
 *                the regression diff, merged JUnit; exits non-zero on any fail or inconclusive
 *                (and on hazards with --strict)
 */
export const CI_STEPS = { shard: 'ci:shard', merge: 'ci:merge' } as const;

/** The options a workflow passes to ci:shard, by flag (workflow_dispatch inputs map onto these). */
export const SHARD_FLAGS = ['--shard', '--run-id', '--profile', '--case', '--repeat', '--strict', '--target'] as const;
/** The options a workflow passes to ci:merge. */
export const MERGE_FLAGS = ['--from', '--previous', '--strict', '--out'] as const;
