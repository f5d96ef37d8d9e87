import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { carryPrevious, mergeJunit, mergeShardResults, nightProblems, readShards } from '../ci/merge.js';
import { buildReport } from '../report/build.js';
import { readRuns } from '../report/regression.js';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';

const USAGE = `usage: npm run ci:merge -- --from DIR [--from DIR ...] [--previous DIR] [--strict] [--out DIR]
  Joins the shards of one night (each --from a ci:shard's reports/) into one reports folder (--out,
  default reports/merged): one Allure report (allure-report/) whose history (history.jsonl) carries
  on from --previous (the folder an earlier ci:merge wrote; left out on the first night), the
  regression diff (regression.md), merged JUnit (junit.xml) and the verdict (verdict.md).
  Exit 1 on any fail or inconclusive, or a shard without results; hazards too with --strict.`;

const REDIRECT =
  '<!doctype html><meta http-equiv="refresh" content="0; url=allure-report/index.html"><a href="allure-report/index.html">report</a>\n';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string', multiple: true },
      previous: { type: 'string' },
      strict: { type: 'boolean', default: false },
      out: { type: 'string', default: 'reports/merged' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.from?.length) throw new HarnessError('ci:merge needs at least one --from DIR (a ci:shard reports folder)');
  for (const d of values.from) if (!existsSync(d)) throw new HarnessError(`--from ${d}: no such folder`);
  if (values.previous && !existsSync(values.previous))
    throw new HarnessError(`--previous ${values.previous}: no such folder`, 'leave --previous out on the first night');
  const out = resolve(values.out);
  const given = readShards(values.from);
  const runId = given[0]!.runId;
  // Each shard judged on its own records: a row split over shards is not covered by another one's.
  const shards = given.map((s, i) => ({
    ...s,
    own: readRuns(values.from![i]!).find((r) => r.runId === runId)?.records ?? [],
  }));
  rmSync(out, { recursive: true, force: true });
  if (values.previous) carryPrevious(values.previous, out);
  mergeShardResults(values.from, runId, out);
  writeFileSync(join(out, 'junit.xml'), mergeJunit(values.from.map((d) => join(d, 'junit.xml'))));
  const records = readRuns(out).find((r) => r.runId === runId)?.records ?? [];
  const problems = nightProblems(shards, records, values.strict);
  writeFileSync(join(out, 'verdict.md'), verdictText(runId, shards.length, records.length, problems, values.strict));
  if (records.length) {
    const r = await buildReport({ reportsDir: out, log: (l) => console.error(l) });
    // The folder is published as it is (gh-pages): its root leads to the report.
    writeFileSync(join(out, 'index.html'), REDIRECT);
    console.log(
      `report: ${relative(process.cwd(), r.output)}/index.html (run ${runId}, ${shards.length} shard(s); history ${r.previous ? `since ${r.previous}` : 'starts here'})`,
    );
  }
  console.log(verdictText(runId, shards.length, records.length, problems, values.strict));
  return problems.length ? 1 : 0;
}

function verdictText(runId: string, shards: number, records: number, problems: string[], strict: boolean): string {
  const head = `run ${runId}: ${shards} shard(s), ${records} case run(s): ${problems.length ? 'RED' : 'green'}${strict ? ' (strict: hazards count)' : ''}`;
  return [head, ...problems.map((p) => `  - ${p}`)].join('\n').concat('\n');
}

runMain(main);
