import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { isSameProcess, LABS_ROOT, procStart } from './targets/netns/state.js';
import { HarnessError } from './util/errors.js';

/**
 * Several labs for one run (issue 15): the scenario files spread over N vitest workers, each
 * driving a lab of its own — its own name and subnet, so that its namespaces, its reports and
 * its addresses never meet another's. Worker k (VITEST_POOL_ID, 1..N) gets lab NAME-k on the
 * base subnet's third octet + k - 1. One lab (N = 1) keeps the run's own name and subnet.
 */
export interface WorkerLab {
  name: string;
  subnet?: string;
}

/**
 * What one lab keeps busy while a case runs: a core and 3 GiB. Two Pacemaker stacks and two
 * MariaDB are mostly idle between faults; the harness's own share per case run (event observer,
 * writer, faults) is 13-17 % of a core, its watchers 0.5-0.7 % (measured 2026-11-29: the seed's
 * scenarios on 2 labs on 2 cores, README "Parallel labs"). It was two cores while the observer
 * polled every host every 100 ms through new processes (124-154 % of a core per case run).
 */
const CORES_PER_LAB = 1;
const GIB_PER_LAB = 3;

/** At most this many labs at once (the run option's bound). */
export const MAX_PARALLEL = 8;

/** The default N on a machine: what its cores and memory hold, 1 to MAX_PARALLEL (this 2-core machine: 2). */
export function defaultParallel(cores = availableParallelism(), memBytes = totalmem()): number {
  const fits = Math.min(Math.floor(cores / CORES_PER_LAB), Math.floor(memBytes / 2 ** 30 / GIB_PER_LAB));
  return Math.max(1, Math.min(MAX_PARALLEL, fits));
}

/** The lab of worker `worker` (1-based) out of `parallel`, from the run's lab and the profile's subnet. */
export function workerLab(lab: WorkerLab, profileSubnet: string, parallel: number, worker: number): WorkerLab {
  if (parallel <= 1) return lab;
  if (!Number.isInteger(worker) || worker < 1 || worker > parallel)
    throw new HarnessError(`worker ${worker} has no lab: the run has ${parallel} (VITEST_POOL_ID is 1..${parallel})`);
  const [a, b, c] = (lab.subnet ?? profileSubnet).split('.').map(Number) as [number, number, number];
  if (c + parallel - 1 > 255)
    throw new HarnessError(`--parallel ${parallel} needs ${parallel} subnets after ${a}.${b}.${c}.0/24`, 'choose a lower --subnet');
  return { name: `${lab.name}-${worker}`, subnet: `${a}.${b}.${c + worker - 1}.0/24` };
}

/** Every lab of a run, worker 1 first. */
export const runLabs = (lab: WorkerLab, profileSubnet: string, parallel: number): WorkerLab[] =>
  Array.from({ length: Math.max(1, parallel) }, (_, i) => workerLab(lab, profileSubnet, parallel, i + 1));

/** Where workers claim their labs: a file per run and lab slot (claimWorkerSlot). */
export const SLOTS_DIR = join(LABS_ROOT, '..', 'worker-slots');

let claimed: number | undefined;

/** This worker's lab slot once claimed (claimWorkerSlot), 1 before: a run of one lab. */
export const currentWorker = () => claimed ?? 1;

/**
 * Which of the run's `parallel` labs this worker process drives: the first slot 1..N that no live
 * process holds, kept until the process exits. vitest's VITEST_POOL_ID cannot say it: after a
 * project that runs one file at a time (integration, fileParallelism: false), vitest 4 gives every
 * worker of the next project pool id 1 (reproduced with two toy projects), and two workers brought
 * up the same lab at once. A slot is a file created exclusively, holding the worker's PID and
 * start time; it is removed when the worker exits, and one whose process is gone is taken over.
 */
export function claimWorkerSlot(runId: string, parallel: number, dir = SLOTS_DIR): number {
  if (claimed !== undefined) return claimed;
  if (parallel <= 1) {
    claimed = 1;
    return claimed;
  }
  mkdirSync(dir, { recursive: true });
  const me: SlotHolder = { pid: process.pid, start: procStart(process.pid) ?? '' };
  for (let k = 1; k <= parallel; k++) {
    const file = join(dir, `${runId}.${k}.json`);
    if (!takeSlot(file, me)) continue;
    process.once('exit', () => releaseSlot(file, me));
    claimed = k;
    return k;
  }
  throw new HarnessError(
    `no lab is free for this worker: the ${parallel} lab slots of run ${runId} are held by live processes (${dir})`,
    'another worker of the same run holds each; run with a higher --parallel or fewer workers',
  );
}

interface SlotHolder {
  pid: number;
  start: string;
}

/** Creates the slot's file, or takes it over from a process that is gone; false when a live one holds it. */
function takeSlot(file: string, me: SlotHolder): boolean {
  try {
    writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // Held: by a live process, or stale. Only one process may look at a stale slot at a time (mkdir is
  // exclusive), so two cannot both remove it and both create it anew.
  const guard = `${file}.takeover`;
  try {
    mkdirSync(guard);
  } catch {
    return false;
  }
  try {
    const holder = readHolder(file);
    if (holder && isSameProcess(holder.pid, holder.start)) return false;
    // No holder readable in a file just made: its creator is writing it (wx creates, then writes).
    if (!holder && Date.now() - statSync(file).mtimeMs < 10_000) return false;
    writeFileSync(file, JSON.stringify(me));
    return true;
  } finally {
    rmSync(guard, { recursive: true, force: true });
  }
}

function readHolder(file: string): SlotHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SlotHolder;
  } catch {
    return undefined;
  }
}

function releaseSlot(file: string, me: SlotHolder): void {
  const holder = readHolder(file);
  if (holder?.pid === me.pid && holder.start === me.start) rmSync(file, { force: true });
}

/** Removes a finished run's slot files (a worker ended by its pool's signal leaves its own behind). */
export function releaseRunSlots(runId: string, dir = SLOTS_DIR): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (f.startsWith(`${runId}.`)) rmSync(join(dir, f), { recursive: true, force: true });
}

/** For tests: forget this process's claim (each vitest worker process claims once). */
export const forgetClaimForTests = () => {
  claimed = undefined;
};
