import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rowOfFile, SHARD_RECORD, type ShardRecord } from '../ci/merge.js';
import { parseShard } from '../ci/shard.js';
import { REPORTS_DIR } from '../results.js';
import { runMain } from './main.js';
import { RUN_FLAGS, runOptionsFrom } from './run-flags.js';
import { checkRun, runScenarios } from './run-scenarios.js';

const USAGE = `usage: npm run ci:shard -- --shard I/N [--run-id ID] [--profile P] [--case LIST] [--repeat R] [--strict] [--target T]
  One CI job's share of the scenario files (every N-th from the I-th), on a lab of its own; its
  results (runs/, allure-results/, junit.xml, ${SHARD_RECORD}) go to reports/ (MHC_REPORTS_DIR).
  Every shard of one night needs the same --run-id; npm run ci:merge then joins them.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      shard: { type: 'string', default: '1/1' },
      'run-id': { type: 'string' },
      ...RUN_FLAGS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const shard = parseShard(values.shard);
  const opts = { ...runOptionsFrom(values), runId: values['run-id'], shard };
  const checked = await checkRun(opts);
  const record: ShardRecord = {
    shard: values.shard,
    runId: checked.config.runId,
    files: checked.files,
    cases: checked.files.map(rowOfFile),
    exitCode: -1,
  };
  mkdirSync(REPORTS_DIR, { recursive: true });
  const write = () => writeFileSync(join(REPORTS_DIR, SHARD_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  write(); // a shard that dies leaves "exit -1": the merge counts its cases as without result
  console.error(`ci:shard ${values.shard}: ${checked.files.join(', ')} (run ${checked.config.runId})`);
  const { ok } = await runScenarios(opts, checked);
  record.exitCode = ok ? 0 : 1;
  write();
  return record.exitCode;
}

runMain(main);
