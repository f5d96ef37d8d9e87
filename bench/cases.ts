/**
 * Wall time per case and time-to-failover per act, median of N runs, from a real chaos run.
 * usage: npm run bench:cases -- [--runs 1] [--case 1,5]
 * Run it alone: figures taken while another lab runs on 2 cores are worthless.
 */
import { parseArgs } from 'node:util';
import { runScenarios } from '../lib/cli/run-scenarios.js';
import { readRun } from '../lib/results.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' }, case: { type: 'string', multiple: true } } });
const t0 = performance.now();
const { runId } = await runScenarios({ repeat: Number(values.runs), cases: values.case?.flatMap((c) => c.split(',')) });
const totalMs = performance.now() - t0;
const runs = readRun(runId);
const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : undefined);
const s = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
const byCase = new Map<string, number[]>();
for (const r of runs) byCase.set(r.caseId, [...(byCase.get(r.caseId) ?? []), r.wallMs]);
console.log(`\ncases bench: run ${runId}, ${values.runs} repetition(s); whole run ${s(totalMs)} (includes lab up/down)`);
console.log('  wall time per case (median; inject + observe + recovery + audits + data check):');
let sum = 0;
for (const [c, xs] of byCase) {
  sum += med(xs)!;
  console.log(`    ${s(med(xs)).padStart(9)}  case ${c}`);
}
// The notebook's seven rows once each: per row its plain case (3, not 3-follow-on), else the first
// of its variants (2-stop, 4-pacemaker-based); the rest (restart, follow-on, other children) are extras.
const rows = [1, 2, 3, 4, 5, 6, 7].map(
  (n) => [...byCase.keys()].find((c) => c === String(n)) ?? [...byCase.keys()].find((c) => c.startsWith(`${n}-`)),
);
const rowSum = rows.reduce((acc, c) => acc + (c ? med(byCase.get(c)!)! : 0), 0);
console.log(`  the seven notebook rows once each (${rows.map((c) => c ?? '?').join(', ')}): ${s(rowSum)}   target ≤ 180 s`);
console.log(`  every scenario once (with 2-restart, 3-follow-on and all six children of case 4): ${s(sum)}`);
console.log('  time to failover per act (fault start → VIP up on a new node; median, 100 ms resolution):');
const byAct = new Map<string, number[]>();
for (const a of runs.flatMap((r) => r.acts))
  if (a.outcome.timeToFailoverMs !== undefined)
    byAct.set(`${a.caseId}: ${a.act}`, [...(byAct.get(`${a.caseId}: ${a.act}`) ?? []), a.outcome.timeToFailoverMs]);
for (const [a, xs] of byAct) console.log(`    ${s(med(xs)).padStart(9)}  ${a} (n=${xs.length})`);
