import { PACEMAKER_CHILDREN } from '../probes/processes.js';
import type { CaseContext } from '../run-case.js';
import type { Fault } from './fault.js';
import {
  corosyncKill,
  corosyncStop,
  degradedNetwork,
  hostCrash,
  killChild,
  killPacemakerd,
  linkDown,
  mysqlCrash,
  oneWayPartition,
  pacemakerRestart,
  pacemakerStop,
  pause,
  twoWayPartition,
} from './index.js';
import { diskFull } from './disk-full.js';
import { errantTransaction, replicaSqlThreadStopped } from './replication-at-failover.js';

/** One fault the harness can inject on its own, under the key of its expectation (expectations.json). */
export interface CatalogueEntry {
  act: string;
  title: string;
  fault: (c: CaseContext) => Fault;
}

/**
 * The single-fault acts of the notebook's rows and beyond, as their scenarios inject them: what a
 * random schedule draws from. Left out: the chained acts (3's follow-on, 7's forced move and clear,
 * 13's failovers to the spoiled replica), which mean something only in their order.
 */
export const CATALOGUE: readonly CatalogueEntry[] = [
  { act: '1-network-down', title: 'link down 10 s on the VIP holder', fault: ({ holder }) => linkDown(holder, 10) },
  { act: '2-pacemaker-stop', title: 'pacemaker stop on the VIP holder', fault: ({ holder }) => pacemakerStop(holder) },
  { act: '2-pacemaker-restart', title: 'pacemaker restart on the VIP holder', fault: ({ holder }) => pacemakerRestart(holder) },
  { act: '3-kill-pacemakerd', title: 'kill -9 pacemakerd on the VIP holder', fault: ({ holder }) => killPacemakerd(holder) },
  ...PACEMAKER_CHILDREN.map((child) => ({
    act: `4-kill-${child}`,
    title: `kill -9 ${child} on the VIP holder`,
    fault: ({ holder }: CaseContext) => killChild(holder, child),
  })),
  { act: '5-corosync-stop', title: 'corosync stop on the VIP holder', fault: ({ holder }) => corosyncStop(holder) },
  { act: '6-kill-corosync', title: 'kill -9 corosync on the VIP holder', fault: ({ holder }) => corosyncKill(holder) },
  {
    act: '8-partition-two-way',
    title: 'partition between the db hosts, both ways',
    fault: ({ holder, other }) => twoWayPartition(holder, other),
  },
  {
    act: '8-partition-one-way',
    title: 'partition one way (the holder drops its peer)',
    fault: ({ holder, other }) => oneWayPartition(holder, other),
  },
  { act: '9-loss-2pct', title: '2 % packet loss on the holder', fault: ({ holder }) => degradedNetwork(holder, { lossPercent: 2 }, 20) },
  { act: '9-loss-60pct', title: '60 % packet loss on the holder', fault: ({ holder }) => degradedNetwork(holder, { lossPercent: 60 }, 20) },
  {
    act: '9-delay-100ms',
    title: 'delay 100 ± 20 ms on the holder',
    fault: ({ holder }) => degradedNetwork(holder, { delayMs: 100, jitterMs: 20 }, 20),
  },
  { act: '9-delay-2000ms', title: 'delay 2000 ms on the holder', fault: ({ holder }) => degradedNetwork(holder, { delayMs: 2000 }, 20) },
  { act: '10-pause-corosync', title: 'SIGSTOP of corosync on the holder', fault: ({ holder }) => pause(holder, 'corosync') },
  {
    act: '10-pause-mariadbd-primary',
    title: 'SIGSTOP of mariadbd on the primary for 15 s',
    fault: ({ holder }) => pause(holder, 'mariadbd', 15),
  },
  { act: '11-kill-mariadbd-primary', title: 'kill -9 mariadbd on the primary', fault: ({ holder }) => mysqlCrash(holder, 'primary') },
  { act: '11-kill-mariadbd-replica', title: 'kill -9 mariadbd on the replica', fault: ({ other }) => mysqlCrash(other, 'replica') },
  { act: '12-power-loss-vip-holder', title: 'power loss of the VIP holder for 20 s', fault: ({ holder }) => hostCrash(holder, 20) },
  { act: '12-power-loss-replica', title: 'power loss of the replica for 20 s', fault: ({ other }) => hostCrash(other, 20) },
  {
    act: '13-replica-sql-thread-stopped',
    title: "the replica's SQL thread stopped",
    fault: ({ holder, other }) => replicaSqlThreadStopped(holder, other),
  },
  {
    act: '13-errant-transaction-on-replica',
    title: 'an errant transaction on the replica',
    fault: ({ holder, other }) => errantTransaction(holder, other),
  },
  { act: '14-disk-full-primary', title: "the primary's datadir full for 20 s", fault: ({ holder }) => diskFull(holder, 'primary') },
  { act: '14-disk-full-replica', title: "the replica's datadir full for 20 s", fault: ({ other }) => diskFull(other, 'replica') },
];

/** mulberry32: a small seeded generator, so that a schedule is the same from the same seed anywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` faults drawn from the catalogue (with repeats), the same ones in the same order for the same seed. */
export function drawSchedule(count: number, seed: number, from: readonly CatalogueEntry[] = CATALOGUE): CatalogueEntry[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => from[Math.floor(next() * from.length)]!);
}
