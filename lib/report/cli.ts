import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { redact } from '../util/redact.js';
import { buildReport } from './build.js';
import { regressionLines } from './regression.js';

const USAGE = `usage: npm run report -- [--reports DIR] [--output DIR]
  Builds the HTML report (Allure 3, offline) for the latest run in reports/runs into
  reports/allure-report, appends the run to reports/history.jsonl (trends, time to failover over
  time) and writes the regression diff against earlier runs to reports/regression.md.
  Open it with: npx allure open reports/allure-report`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      reports: { type: 'string' },
      output: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const r = await buildReport({ reportsDir: values.reports, output: values.output, log: (l) => console.error(l) });
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  console.log(
    `report: ${rel(r.output)}/index.html (run ${r.latest}, ${r.tests} results from ${r.source}${r.replayed.length ? `, ${r.replayed.length} earlier run(s) added to the history` : ''}) in ${(r.ms / 1000).toFixed(1)} s`,
  );
  console.log(`regression diff (${rel(r.regressionPath)}):\n  ${regressionLines(r.diff).join('\n  ')}`);
  return 0;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(redact(`error: ${(e as Error).stack ?? e}`));
    process.exit(1);
  },
);
