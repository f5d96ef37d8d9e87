import type { History, NodeObservation } from './history.js';
import { hasAddress, parseIpJsonAddr } from './probes/ip-addr.js';
import { PACEMAKER_CHILDREN, daemonPids, parsePs } from './probes/processes.js';
import type { Target } from './targets/target.js';

/**
 * Polls every db host at a fixed interval (≤ 100 ms while a fault is active) and appends an
 * observation to the history whenever what it sees changes. One command per host per tick.
 */
export class Observer {
  private timer?: Promise<void>;
  private running = false;
  private last = '';
  private readonly tickTimes: number[] = [];

  constructor(private readonly target: Target, private readonly history: History, private readonly intervalMs = 100) {}

  start(): this {
    this.running = true;
    this.timer = this.loop();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.timer;
  }

  /** One observation now (also used outside the loop). */
  async observeOnce(): Promise<Record<string, NodeObservation>> {
    const t = this.history.now();
    const entries = await Promise.all(this.target.profile.dbHosts.map(async (h) => [h.name, await observeNode(this.target, h.name)] as const));
    const nodes = Object.fromEntries(entries);
    const key = JSON.stringify(nodes);
    if (key !== this.last) {
      this.last = key;
      this.history.add({ type: 'observe', t, nodes });
    }
    this.tickTimes.push(t);
    return nodes;
  }

  /**
   * The polling actually achieved between two history times (the starts of successive polls): the
   * resolution of every time-to-failover and dual-VIP figure in that window.
   */
  polling(from = 0, to = Infinity): PollingStats {
    const ticks = this.tickTimes.filter((t) => t >= from && t <= to);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!).sort((a, b) => a - b);
    const at = (q: number) => (gaps.length ? Math.round(gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))]!) : undefined);
    return { polls: ticks.length, intervalMs: this.intervalMs, medianGapMs: at(0.5), p95GapMs: at(0.95), maxGapMs: at(1) };
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        await this.observeOnce();
      } catch {
        // a host being torn down mid-poll: the next tick tells
      }
      const wait = this.intervalMs - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export interface PollingStats {
  polls: number;
  /** The interval asked for. */
  intervalMs: number;
  medianGapMs?: number;
  p95GapMs?: number;
  maxGapMs?: number;
}

export async function observeNode(t: Target, host: string): Promise<NodeObservation> {
  const nic = t.profile.nic;
  const r = await t.sh(host, `ip -j addr show dev ${nic}; echo '#ps'; ps -e -o pid=,ppid=,comm=`, { check: false, timeoutMs: 5_000 });
  const [ipText = '[]', psText = ''] = r.stdout.split('#ps\n');
  const ifs = parseIpJsonAddr(ipText.trim() || '[]');
  const d = daemonPids(parsePs(psText));
  return {
    vip: hasAddress(ifs, t.profile.vip.ip, nic),
    linkUp: ifs.some((i) => i.ifname === nic && i.up),
    corosync: !!d.corosync,
    pacemakerd: !!d.pacemakerd,
    children: PACEMAKER_CHILDREN.filter((c) => d[c]),
  };
}
