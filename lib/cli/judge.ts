import { parseArgs } from 'node:util';
import { rejudge } from '../rejudge.js';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';

const USAGE = `usage: npm run judge -- PATH
  Judges the saved run PATH again (reports/runs/<run>, or one *.result.json of it) from its
  histories alone, against the profile's current expectations.json, without a cluster: each act's
  verdict and each case's data verdict, beside the verdict the run recorded. Exit 0 when every
  verdict is the same; 1 when one differs (the expectations changed since, or the judge did).`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const path = positionals[0];
  if (!path) throw new HarnessError('npm run judge needs a PATH', USAGE);
  const rows = rejudge(path);
  let differ = 0;
  for (const r of rows) {
    const same = r.recorded === r.now;
    if (!same) differ++;
    process.stdout.write(
      `${same ? 'same   ' : 'DIFFERS'}  ${r.caseRun}  ${r.what}: ${r.now.toUpperCase()}${same ? '' : ` (recorded ${r.recorded?.toUpperCase() ?? 'nothing'})`} — ${r.detail}\n`,
    );
  }
  process.stdout.write(
    `\n${rows.length} verdicts judged again from the histories: ${rows.length - differ} the same, ${differ} different\n`,
  );
  return differ ? 1 : 0;
}

runMain(() => main(process.argv.slice(2)));
