/**
 * Cold `up` and `down` of the netns lab, N times: median and per-step breakdown.
 * usage: npm run bench:lab -- [--runs 3] [--faithful-timings] [--load N] [--profile seed]
 * --load N: N busy loops on the machine while the lab comes up (issue 15: lab up under load),
 * ended by PID. Run it alone otherwise: timings taken while another lab runs on 2 cores are worthless.
 */
import { parseArgs } from 'node:util';
import { quantile } from '../lib/observe/gaps.js';
import { Profile } from '../lib/profile/load.js';
import { NetnsLab, destroyLab } from '../lib/targets/netns/lab.js';
import { StepLog } from '../lib/util/log.js';
import { busyLoops } from './busy-loops.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'faithful-timings': { type: 'boolean', default: false },
    name: { type: 'string', default: 'bench' },
    subnet: { type: 'string', default: '10.11.97.0/24' },
    load: { type: 'string', default: '0' },
    profile: { type: 'string', default: 'seed' },
  },
});
const runs = Number(values.runs);
const ups: number[] = [];
const downs: number[] = [];
const steps = new Map<string, number[]>();
const load = busyLoops(Number(values.load));
for (let i = 0; i < runs; i++) {
  const log = new StepLog(() => {});
  const t0 = performance.now();
  const lab = await new NetnsLab(Profile.load(values.profile!))
    .withName(values.name!)
    .withSubnet(values.subnet!)
    .withLog(log)
    .withFaithfulTimings(values['faithful-timings'])
    .start();
  ups.push(performance.now() - t0);
  for (const s of log.timings) steps.set(s.step, [...(steps.get(s.step) ?? []), s.ms]);
  const t1 = performance.now();
  await lab.stop();
  downs.push(performance.now() - t1);
  console.error(`run ${i + 1}/${runs}: up ${(ups.at(-1)! / 1000).toFixed(2)} s, down ${(downs.at(-1)! / 1000).toFixed(2)} s`);
}
load.stop();
await destroyLab(values.name!).catch(() => undefined);
const med = (xs: number[]) => quantile(xs, 0.5);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(
  `\nlab bench: ${runs} cold runs of profile ${values.profile}${values['faithful-timings'] ? ' (faithful timings)' : ''}, ${values.load} busy loops beside them`,
);
console.log(`  up    median ${s(med(ups))}  (min ${s(Math.min(...ups))}, max ${s(Math.max(...ups))})   goal ≤ 8 s`);
console.log(`  down  median ${s(med(downs))}  (min ${s(Math.min(...downs))}, max ${s(Math.max(...downs))})   target ≤ 5 s`);
console.log('  where up spends its time (median per step; MariaDB runs in parallel with corosync/pacemaker):');
for (const [k, v] of steps) console.log(`    ${s(med(v)).padStart(8)}  ${k}`);
