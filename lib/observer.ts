import type { History, NodeObservation, PollingStats } from './history.js';
import { hasAddress, parseIpJsonAddr } from './probes/ip-addr.js';
import { PACEMAKER_CHILDREN, daemonPids, parsePs } from './probes/processes.js';
import type { Target } from './targets/target.js';
import { PollLoop } from './util/poll-loop.js';
import { gapStats } from './observe/gaps.js';

/** What a case's runner needs of whatever watches the cluster: the polling Observer or the EventObserver (lib/observe/). */
export interface ClusterObserver {
  /** One observation now, before the observer starts (the case's initial state). */
  observeOnce(): Promise<Record<string, NodeObservation>>;
  start(): this;
  stop(): Promise<void>;
  /** The resolution achieved over a window of the history. */
  polling(from?: number, to?: number): PollingStats;
  clockOffsets(): Record<string, { offsetMs: number; rttMs: number }>;
  /** The observation's own CPU per host, as a share of one core (watchers that can tell). */
  cost?(): Record<string, { cpuPercent: number; overS: number }>;
}

/**
 * Polls every db host at a fixed interval (≤ 100 ms while a fault is active) and appends an
 * observation to the history whenever what it sees changes. One command per host per tick.
 */
export class Observer implements ClusterObserver {
  private readonly loop: PollLoop;
  private last = '';
  private readonly tickTimes: number[] = [];
  private readonly clock = new Map<string, { offsetMs: number; rttMs: number }>();

  constructor(
    private readonly target: Target,
    private readonly history: History,
    private readonly intervalMs = 100,
  ) {
    this.loop = new PollLoop(async () => {
      await this.observeOnce();
    }, this.intervalMs);
  }

  start(): this {
    this.loop.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * One observation now (also used outside the loop). Each node's sample carries that node's own
   * clock reading, taken in the same command and brought onto the history's time by the host's
   * estimated clock offset: two hosts' samples of one poll can be hundreds of ms apart over SSH.
   * Recorded when something changed, and every poll that shows the VIP on two nodes (the dual-VIP
   * check needs the polls around it).
   */
  async observeOnce(): Promise<Record<string, NodeObservation>> {
    const t = this.history.now();
    const entries = await Promise.all(this.target.profile.dbHosts.map(async (h) => [h.name, await this.sample(h.name)] as const));
    const nodes = Object.fromEntries(entries.map(([h, s]) => [h, s.node]));
    const at = Object.fromEntries(entries.flatMap(([h, s]) => (s.at === undefined ? [] : [[h, s.at]])));
    const key = JSON.stringify(nodes);
    const dual = Object.values(nodes).filter((n) => n.vip).length > 1;
    if (key !== this.last || dual) {
      this.last = key;
      this.history.add({ type: 'observe', t, nodes, at });
    }
    this.tickTimes.push(t);
    return nodes;
  }

  /** A host's sample, its time on the history's clock, and the offset estimate updated from its round trip. */
  private async sample(host: string): Promise<{ node: NodeObservation; at?: number }> {
    const sent = this.history.now();
    const { node, clockMs } = await observeNode(this.target, host);
    const received = this.history.now();
    if (clockMs === undefined) return { node };
    // Offset = node clock − the history's clock at the round trip's midpoint; the shortest round trip is the best estimate.
    const offset = clockMs - (this.history.startedAt.getTime() + (sent + received) / 2);
    const prev = this.clock.get(host);
    if (!prev || received - sent <= prev.rttMs) this.clock.set(host, { offsetMs: offset, rttMs: received - sent });
    return { node, at: this.toHistoryTime(host, clockMs) };
  }

  /** A reading of host's clock (ms since the epoch) on the history's time, by the offset estimated so far; undefined before any estimate. */
  toHistoryTime(host: string, clockMs: number): number | undefined {
    const c = this.clock.get(host);
    return c ? Math.round((clockMs - c.offsetMs - this.history.startedAt.getTime()) * 10) / 10 : undefined;
  }

  /** Each host's clock offset from this machine's as estimated (ms, with the round trip it came from). */
  clockOffsets(): Record<string, { offsetMs: number; rttMs: number }> {
    return Object.fromEntries([...this.clock].map(([h, c]) => [h, { offsetMs: Math.round(c.offsetMs), rttMs: Math.round(c.rttMs) }]));
  }

  /**
   * The polling actually achieved between two history times (the starts of successive polls): the
   * resolution of every time-to-failover and dual-VIP figure in that window.
   */
  polling(from = 0, to = Infinity): PollingStats {
    const ticks = this.tickTimes.filter((t) => t >= from && t <= to);
    return { polls: ticks.length, intervalMs: this.intervalMs, ...gapStats(ticks.slice(1).map((t, i) => t - ticks[i]!)) };
  }
}

export type { PollingStats };

export async function observeNode(t: Target, host: string): Promise<{ node: NodeObservation; clockMs?: number }> {
  const nic = t.profile.nic;
  // The clock first, right before the address read the VIP state comes from.
  const r = await t.sh(host, `echo "#clock $(date +%s%N)"; ip -j addr show dev ${nic}; echo '#ps'; ps -e -o pid=,ppid=,comm=`, {
    check: false,
    timeoutMs: 5_000,
  });
  return parseObservation(r.stdout, t.profile.vip.ip, nic);
}

/** One host's sample as observeNode's command prints it: its clock (ns), `ip -j addr`, then `ps`. */
export function parseObservation(stdout: string, vip: string, nic: string): { node: NodeObservation; clockMs?: number } {
  const clock = stdout.match(/^#clock (\d+)\n/);
  const [ipText = '[]', psText = ''] = stdout.replace(/^#clock \d+\n/, '').split('#ps\n');
  const ifs = parseIpJsonAddr(ipText.trim() || '[]');
  const d = daemonPids(parsePs(psText));
  return {
    node: {
      vip: hasAddress(ifs, vip, nic),
      linkUp: ifs.some((i) => i.ifname === nic && i.up),
      corosync: !!d.corosync,
      pacemakerd: !!d.pacemakerd,
      children: PACEMAKER_CHILDREN.filter((c) => d[c]),
    },
    clockMs: clock ? Number(clock[1]) / 1e6 : undefined,
  };
}
