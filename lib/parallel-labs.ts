import { availableParallelism, totalmem } from 'node:os';
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

/** This worker's number (vitest's pool id), 1 outside a worker. */
export const currentWorker = () => Number(process.env.VITEST_POOL_ID ?? 1);
