import type { History } from '../history.js';
import { corosyncLinks, type CorosyncLink } from '../profile/corosync-conf.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { sleep } from '../util/wait.js';
import type { Fault } from './fault.js';
import { corosyncLossHoldMs } from './hold.js';
import { installChain, removeChain, type OwnChain } from './iptables.js';
import { requireTools } from './tools.js';

/** The chain every partition rule lives in, on each db host. */
export const PARTITION_CHAIN: OwnChain = { name: 'MHC-PARTITION', hook: 'INPUT' };

/**
 * Jepsen's grudge (nemesis.clj): each host and the peers whose packets it drops. Both ways is
 * {db1: [db2], db2: [db1]}; one way {db1: [db2]} (db1 no longer hears db2, db2 still hears db1).
 */
export type Grudge = Record<string, string[]>;

/**
 * What is cut: corosync's traffic only (its UDP ports on each link, crmsh crash_test's
 * --split-brain-iptables) — MySQL replication and the clients still flow, the true split brain;
 * or everything from the peer's addresses (Pacemaker CTS's BreakCommCmd), replication included.
 */
export type PartitionScope = 'corosync' | 'all';

/**
 * The INPUT rules (without `-A CHAIN`) by which `host` drops what comes from each peer of its
 * grudge, on every corosync link the peer has an address on.
 */
export function partitionRules(host: string, grudge: Grudge, links: CorosyncLink[], scope: PartitionScope): string[][] {
  const rules: string[][] = [];
  for (const peer of grudge[host] ?? []) {
    const on = links.filter((l) => l.addrs[peer]);
    if (!on.length)
      throw new HarnessError(
        `partition: ${peer} has no address in corosync.conf's nodelist`,
        `each peer of the grudge needs a ringN_addr (nodes: ${[...new Set(links.flatMap((l) => Object.keys(l.addrs)))].join(', ')})`,
      );
    for (const l of on) {
      if (scope === 'all') rules.push(['-s', l.addrs[peer]!, '-j', 'DROP']);
      else for (const port of l.ports) rules.push(['-s', l.addrs[peer]!, '-p', 'udp', '--dport', String(port), '-j', 'DROP']);
    }
  }
  return rules;
}

/** "db1 ⇹ db2" (both ways) / "db1 drops db2" (one way): the grudge in a fault's name. */
export function describeGrudge(grudge: Grudge): string {
  const pairs = Object.entries(grudge).flatMap(([h, peers]) => peers.map((p) => [h, p] as const));
  const mutual = pairs.filter(([a, b]) => a < b && pairs.some(([x, y]) => x === b && y === a));
  const oneWay = pairs.filter(([a, b]) => !pairs.some(([x, y]) => x === b && y === a));
  return [...mutual.map(([a, b]) => `${a} ⇹ ${b}`), ...oneWay.map(([a, b]) => `${a} drops ${b}`)].join(', ');
}

export interface PartitionOptions {
  grudge: Grudge;
  scope?: PartitionScope;
  /** How long the partition holds before it heals; default corosyncLossHoldMs. */
  holdSeconds?: number;
}

/** Installs every host's rules (each host's jump goes in last), then records what was cut. */
async function cut(t: Target, h: History, o: Required<Omit<PartitionOptions, 'holdSeconds'>>): Promise<void> {
  const links = corosyncLinks(t.profile.files.corosyncConf);
  const rules = Object.keys(o.grudge).map((host) => [host, partitionRules(host, o.grudge, links, o.scope)] as const);
  for (const [host, r] of rules) await installChain(t, host, PARTITION_CHAIN, r);
  h.step(
    'partition',
    rules.map(([host, r]) => `${host}: ${r.map((x) => `iptables -A ${PARTITION_CHAIN.name} ${x.join(' ')}`).join('; ')}`).join(' | '),
  );
}

/** Removes the partition chain from every db host (also from hosts the grudge did not name: a leftover of an interrupted run goes too). */
export async function healPartition(t: Target): Promise<void> {
  const errors: string[] = [];
  for (const h of t.profile.dbHosts) await removeChain(t, h.name, PARTITION_CHAIN).catch((e: Error) => errors.push(e.message));
  if (errors.length) throw new HarnessError(errors.join('\n'));
}

/**
 * A partition between db hosts held for a while, then healed (inject returns once healed, as the
 * notebook's ifdown; sleep; ifup). Undo removes the chain wherever it is, so it also heals a
 * partition whose injection stopped half-way.
 */
export function partition(o: PartitionOptions): Fault {
  const scope = o.scope ?? 'corosync';
  const hosts = Object.keys(o.grudge);
  const name = `partition ${describeGrudge(o.grudge)} (${scope === 'corosync' ? "corosync's traffic" : 'all traffic'})${o.holdSeconds ? ` for ${o.holdSeconds}s` : ''}`;
  return {
    name,
    host: hosts[0],
    destructive: true,
    async inject(t, h) {
      await requireTools(t, name, hosts, ['iptables']);
      const holdMs = o.holdSeconds ? o.holdSeconds * 1000 : await corosyncLossHoldMs(t, hosts[0]!);
      await cut(t, h, { grudge: o.grudge, scope });
      await sleep(holdMs);
      await healPartition(t);
      h.step('partition healed', `after ${(holdMs / 1000).toFixed(1)} s`);
    },
    undo: (t) => healPartition(t),
  };
}

/** db1 and db2 no longer hear each other's corosync: the split brain, clients still reaching both. */
export const twoWayPartition = (a: string, b: string, holdSeconds?: number): Fault =>
  partition({ grudge: { [a]: [b], [b]: [a] }, holdSeconds });

/** `dropper` no longer hears `from`; `from` still hears `dropper`. */
export const oneWayPartition = (dropper: string, from: string, holdSeconds?: number): Fault =>
  partition({ grudge: { [dropper]: [from] }, holdSeconds });
