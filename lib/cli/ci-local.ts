import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CI_STEPS } from '../ci/steps.js';
import { REPORTS_DIR } from '../results.js';
import { newRunId } from '../run-config.js';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';
import { RUN_FLAGS, runFlagArgs, runOptionsFrom } from './run-flags.js';
import { checkRun } from './run-scenarios.js';

const USAGE = `usage: npm run ci:local -- --shards N [--profile P] [--case LIST] [--repeat R] [--strict] [--target T] [--previous DIR]
  Runs what the nightly workflow runs, on this machine: \`npm run ${CI_STEPS.shard}\` once per shard (one after
  the other, each on a lab of its own, results in reports/ci-local/<run>/shard-I), then
  \`npm run ${CI_STEPS.merge}\` into reports/ci-local/<run>/merged, carrying the history of the previous
  local run (reports/ci-local/last, or --previous DIR). Exit code: the merge's (fail or
  inconclusive: 1; hazards too with --strict).`;

const ROOT = resolve(import.meta.dirname, '../..');

/** `npm run SCRIPT -- ARGS` in this checkout, its output passed through; resolves to its exit code. */
function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  console.error(`\n$ npm run ${script} -- ${args.join(' ')}`);
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, stdio: 'inherit', env });
  return new Promise((res) => child.on('exit', (code) => res(code ?? 1)));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      shards: { type: 'string', default: '2' },
      ...RUN_FLAGS,
      previous: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const n = Number(values.shards);
  if (!/^\d+$/.test(values.shards) || n < 1) throw new HarnessError(`--shards "${values.shards}" is not a positive whole number`);
  const runId = newRunId();
  // Every shard's options checked once, before any lab comes up (a shard count above the files too).
  await checkRun({ ...runOptionsFrom(values), runId, shard: { index: n, count: n } });
  const last = join(REPORTS_DIR, 'ci-local', 'last');
  const previous = values.previous ?? (existsSync(last) ? last : undefined);
  if (values.previous && !existsSync(join(values.previous, 'history.jsonl')))
    throw new HarnessError(
      `--previous ${values.previous}: no history.jsonl there`,
      'give a folder ci:merge wrote, or leave --previous out',
    );
  const base = join(REPORTS_DIR, 'ci-local', runId);
  const shardArgs = runFlagArgs(values);
  const from: string[] = [];
  for (let i = 1; i <= n; i++) {
    const dir = join(base, `shard-${i}`);
    from.push(dir);
    await npmRun(CI_STEPS.shard, ['--shard', `${i}/${n}`, '--run-id', runId, ...shardArgs], { ...process.env, MHC_REPORTS_DIR: dir });
  }
  const merged = join(base, 'merged');
  const code = await npmRun(CI_STEPS.merge, [
    ...from.flatMap((d) => ['--from', relative(ROOT, d)]),
    ...(previous ? ['--previous', relative(ROOT, previous)] : []),
    ...(values.strict ? ['--strict'] : []),
    '--out',
    relative(ROOT, merged),
  ]);
  if (existsSync(join(merged, 'history.jsonl'))) {
    rmSync(last, { recursive: true, force: true });
    mkdirSync(last, { recursive: true });
    cpSync(join(merged, 'history.jsonl'), join(last, 'history.jsonl'));
    cpSync(join(merged, 'runs'), join(last, 'runs'), { recursive: true, filter: (src) => !src.endsWith('.history.json') });
  }
  console.log(`ci:local: ${n} shard(s), merged report in ${relative(process.cwd(), merged)}/allure-report (exit ${code})`);
  return code;
}

runMain(main);
