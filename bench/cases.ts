/**
 * The notebook's rows, serial and on parallel labs, in one run (issue 15): wall time of each, the
 * per-act floor (corosync's token + consensus), the harness's own CPU, the observer's achieved
 * resolution, and whether the verdicts stayed the same.
 * usage: npm run bench:cases -- [--runs 1] [--case 1,5] [--parallel 2] [--only serial|parallel] [--observer poll|events] [--baseline RUN_ID]
 * --baseline: a saved run (reports/runs/RUN_ID, one lab, the same cases) as the serial leg instead of running it again.
 * Run it alone: figures taken beside another lab on 2 cores are worthless.
 */
import { parseArgs } from 'node:util';
import { runScenarios } from '../lib/cli/run-scenarios.js';
import { actSide, sideCells } from '../lib/compare.js';
import { type CaseRunRecord, readRun } from '../lib/results.js';
import { quantile, wakeLateSummary } from '../lib/observe/gaps.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    case: { type: 'string', multiple: true },
    parallel: { type: 'string', default: '2' },
    only: { type: 'string' },
    observer: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const cases = values.case?.flatMap((c) => c.split(','));
const med = (xs: number[]) => (xs.length ? quantile(xs, 0.5) : undefined);
const s = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);

interface Leg {
  name: string;
  parallel: number;
  runId: string;
  /** The whole run's wall time; unknown for a saved baseline. */
  wallMs?: number;
  runs: CaseRunRecord[];
}

async function leg(name: string, parallel: number): Promise<Leg> {
  const t0 = performance.now();
  const { runId } = await runScenarios({ repeat: values.runs, cases, parallel, observer: values.observer });
  return { name, parallel, runId, wallMs: performance.now() - t0, runs: readRun(runId) };
}

function report(l: Leg): void {
  const acts = l.runs.flatMap((r) => r.acts);
  const floor = l.runs.find((r) => r.actFloorMs)?.actFloorMs;
  const gaps = l.runs.map((r) => r.polling).filter((p) => p?.medianGapMs);
  const cpu = l.runs.map((r) => r.harnessCpu?.percent).filter((x): x is number => x !== undefined);
  const caseSum = l.runs.reduce((a, r) => a + r.wallMs, 0);
  console.log(`\n${l.name} (--parallel ${l.parallel}, observer ${values.observer ?? 'events'}): run ${l.runId}`);
  console.log(`  whole run ${s(l.wallMs)} (with lab up and down); the cases' own wall time summed ${s(caseSum)}`);
  console.log(`  the cases, from the first one's start to the last one's end: ${s(casesSpanMs(l.runs))}`);
  if (floor)
    console.log(
      `  floor: ${acts.length} acts × corosync token + consensus ${s(floor.membership)} = ${s(acts.length * floor.membership)}; with the watch after each fault (+3 s) ${s(acts.length * floor.watched)}`,
    );
  if (gaps.length)
    console.log(
      `  observer resolution while faults were active: gap median ${med(gaps.map((p) => p!.medianGapMs!))} ms, p95 up to ${Math.max(...gaps.map((p) => p!.p95GapMs ?? 0))} ms, worst ${Math.max(...gaps.map((p) => p!.maxGapMs ?? 0))} ms`,
    );
  const late = l.runs.map((r) => r.polling?.wakeLate).filter((w) => w !== undefined);
  if (late.length)
    console.log(`  observer resolution (how late a watcher woke, so how late a change is stamped): ${wakeLateSummary(late)}`);
  if (cpu.length)
    console.log(
      `  harness CPU (worker, observer, writer, faults): median ${med(cpu)} %, max ${Math.max(...cpu)} % of one core per case run`,
    );
  const busy = l.runs.flatMap((r) => (r.machineCpu ? [r.machineCpu.busyPercent] : []));
  const waiting = l.runs.flatMap((r) => (r.machineCpu?.waitingPercent === undefined ? [] : [r.machineCpu.waitingPercent]));
  if (busy.length)
    console.log(
      `  this machine's cores: busy median ${med(busy)} %, max ${Math.max(...busy)} %; some task waiting for a core median ${med(waiting) ?? '-'} %, max ${waiting.length ? Math.max(...waiting) : '-'} % of the time per case run`,
    );
  const most = Math.max(0, ...l.runs.map((r) => r.labsRunning?.length ?? 0));
  console.log(`  labs running at once: at most ${most}`);
}

/** From the first case run's start to the last one's end: the rows' own wall, labs up and down aside. */
function casesSpanMs(runs: CaseRunRecord[]): number | undefined {
  if (!runs.length) return undefined;
  const start = Math.min(...runs.map((r) => Date.parse(r.startedAt)));
  return Math.max(...runs.map((r) => Date.parse(r.startedAt) + r.wallMs)) - start;
}

/**
 * Per act, each leg's outcome distribution (the same cases, the same cluster): verdicts, where the
 * VIP ended, failover and writes-unavailable median–max; "DIFFERS" where the verdicts or VIP do.
 */
function compare(a: Leg, b: Leg): void {
  const acts = [...new Set([...a.runs, ...b.runs].flatMap((r) => r.acts.map((x) => x.act)))];
  console.log(`\noutcomes per act, ${a.name} | ${b.name} (verdicts, VIP after, failover, writes unavailable, writes lost):`);
  let differ = 0;
  for (const act of acts) {
    const [ca, cb] = [a, b].map((l) => sideCells(actSide(l.runId, l.runs, act)));
    const same = ca![0] === cb![0] && ca![1] === cb![1];
    if (!same) differ++;
    console.log(`  ${same ? 'same   ' : 'DIFFERS'}  ${act}: ${ca!.join('; ')} | ${cb!.join('; ')}`);
  }
  console.log(`  ${differ} of ${acts.length} acts differ in verdicts or VIP; wall ${s(a.wallMs)} → ${s(b.wallMs)}`);
}

const n = Number(values.parallel);
/** A saved one-lab run as the serial leg (its cases' own times are in its records; its whole wall is not). */
function savedLeg(runId: string): Leg {
  const runs = readRun(runId);
  if (!runs.length) throw new Error(`--baseline ${runId}: no case records in reports/runs/${runId}`);
  const labs = Math.max(...runs.map((r) => r.labsRunning?.length ?? 1));
  if (labs > 1) throw new Error(`--baseline ${runId}: it ran beside ${labs - 1} other lab(s), not as a serial leg`);
  return { name: `serial (run ${runId}, saved)`, parallel: 1, runId, runs };
}

const serial = values.baseline ? savedLeg(values.baseline) : values.only === 'parallel' ? undefined : await leg('serial', 1);
const parallel = values.only === 'serial' ? undefined : await leg('parallel', n);
for (const l of [serial, parallel]) if (l) report(l);
if (serial && parallel) compare(serial, parallel);
