import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { allPass, compareProfiles, comparisonMarkdown, sideCells } from '../compare.js';
import { readRuns } from '../report/regression.js';
import { rejudgedRuns } from '../rejudge.js';
import { REPORTS_DIR } from '../results.js';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';

const USAGE = `usage: npm run compare -- PROFILE PROFILE [--target netns|containers|ssh]
  The two profiles side by side per act, from the saved runs in reports/runs (each profile's latest
  run of each act, judged again from its history against the current expectations): verdict, VIP outcome, time to failover, write unavailability, acknowledged
  writes lost. Printed, and written to reports/compare/A-vs-B.md and .json (the Allure report
  shows the latest). Run the cases first: npm run chaos -- --profile NAME [--case …] [--repeat N].
  Exit 0 when the second profile played every act and passed each every time, 1 otherwise.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, target: { type: 'string' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 2) throw new HarnessError('npm run compare needs two profile names', USAGE);
  const c = compareProfiles(rejudgedRuns(readRuns(REPORTS_DIR), join(REPORTS_DIR, 'runs')), positionals, values.target);
  if (!c.acts.length)
    throw new HarnessError(
      `no saved run of profile ${positionals.join(' or ')} in ${join(REPORTS_DIR, 'runs')}`,
      'run the cases first: npm run chaos -- --profile NAME',
    );
  printTable(
    c.profiles,
    c.acts.map((a) => ({ act: a.act, cells: a.sides.map(sideCells) })),
  );
  const dir = join(REPORTS_DIR, 'compare');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${positionals.join('-vs-')}`);
  writeFileSync(`${base}.md`, comparisonMarkdown(c));
  writeFileSync(`${base}.json`, `${JSON.stringify(c, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(c, null, 2)}\n`);
  process.stdout.write(`\nwritten: ${base}.md, ${base}.json\n`);
  return allPass(c, 1) ? 0 : 1;
}

/** act, then one line per profile: verdict, VIP, failover, writes unavailable, writes lost, aligned. */
function printTable(profiles: string[], rows: { act: string; cells: string[][] }[]): void {
  const lines = [['act', 'profile', 'verdict', 'VIP', 'failover', 'unavailable', 'lost']];
  for (const r of rows) for (const [i, p] of profiles.entries()) lines.push([i === 0 ? r.act : '', p, ...r.cells[i]!]);
  const widths = lines[0]!.map((_, k) => Math.max(...lines.map((l) => l[k]!.length)));
  for (const l of lines)
    process.stdout.write(
      `${l
        .map((x, k) => x.padEnd(widths[k]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}

runMain(() => main(process.argv.slice(2)));
