import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { History, NodeObservation, PollingStats } from '../history.js';
import { Observer, type ClusterObserver } from '../observer.js';
import { hasAddress, parseIpJsonAddr } from '../probes/ip-addr.js';
import { PACEMAKER_CHILDREN, daemonPids } from '../probes/processes.js';
import type { HostStream } from '../targets/host-stream.js';
import type { Target } from '../targets/target.js';
import { gapStats, wakeLateStats } from './gaps.js';
import { MissedChanges } from './missed.js';

const WATCHER = readFileSync(join(import.meta.dirname, 'host-watch.py'), 'utf8');
/** A stopped watcher (its host lost power, or it failed) is started again after this long, while the observer runs. */
const RESTART_MS = 250;

/** One line of host-watch.py: a sample of the host's state, or a beat (alive, nothing changed). */
export type WatchLine =
  | { t: number; why: string[]; ip: unknown[]; ps: [number, number, string][]; cpu: number; late?: number }
  | { t: number; beat: true; late?: number };

/** A host's state as a watcher sample shows it (the same fields the polling observer reads). */
export function nodeOfSample(s: Extract<WatchLine, { why: string[] }>, vip: string, nic: string): NodeObservation {
  const ifs = parseIpJsonAddr(JSON.stringify(s.ip));
  const d = daemonPids(s.ps.map(([pid, ppid, comm]) => ({ pid, ppid, comm })));
  return {
    vip: hasAddress(ifs, vip, nic),
    linkUp: ifs.some((i) => i.ifname === nic && i.up),
    corosync: !!d.corosync,
    pacemakerd: !!d.pacemakerd,
    children: PACEMAKER_CHILDREN.filter((c) => d[c]),
  };
}

/**
 * How often a watcher reads a young process again (until its exec gave it its daemon's name): the
 * latency of a daemon start after its exec woke the watcher. Exits and addresses are events. Where
 * the host has no inotify, the watcher looks at /proc this often instead.
 */
const PROC_POLL_MS = 5;

/**
 * The cluster as each db host's own watcher (lib/observe/host-watch.py) reports it: a sample when
 * an address, a link or a cluster daemon changes, stamped with the host's clock, and a beat every
 * beatMs otherwise. Nothing is polled: the history gets an observation when a host's state changes,
 * at the moment the host saw it (brought onto the history's clock by the offset the polling
 * observer estimates over each host's channel). A change is stamped as late as the watcher wakes
 * after it: each line says how late its watcher last woke after a timer (`late`), and those figures
 * are the resolution. The beats prove each watcher alive: one that stalls or dies shows as a gap
 * between its lines, never as a quiet cluster.
 */
export class EventObserver implements ClusterObserver {
  private readonly clock: Observer;
  private readonly streams = new Map<string, HostStream>();
  private readonly nodes = new Map<string, NodeObservation>();
  /** History times of every line of each host (samples and beats). */
  private readonly lineTimes = new Map<string, number[]>();
  /** Per line of any host: its history time and how late its watcher had woken (µs). */
  private readonly wakes: { t: number; lateUs: number }[] = [];
  private readonly cpu = new Map<string, { cpuS: number; firstAt: number; lastAt: number; base: number }>();
  private running = false;
  private lastKey = '';
  private lastT = 0;
  /** Changes only a watcher's periodic full look found: events the watchers missed. */
  private readonly missed = new MissedChanges();
  /** Why watchers ended while they should have run (each restart is in the history too). */
  readonly problems: string[] = [];

  constructor(
    private readonly target: Target,
    private readonly history: History,
    private readonly beatMs = 100,
  ) {
    this.clock = new Observer(target, history, beatMs);
  }

  /** A polled observation (also the clock estimate the watchers' stamps are brought onto the history's time with). */
  async observeOnce(): Promise<Record<string, NodeObservation>> {
    for (let i = 0; i < 3; i++) await this.clock.observeOnce();
    return this.clock.observeOnce();
  }

  start(): this {
    this.running = true;
    for (const h of this.target.profile.dbHosts) this.startWatcher(h.name);
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all([...this.streams.values()].map((s) => s.stop()));
    this.streams.clear();
  }

  private startWatcher(host: string): void {
    const argv = ['python3', '-u', '-c', WATCHER, this.target.profile.nic, String(PROC_POLL_MS), '--stdin', `--beat-ms=${this.beatMs}`];
    const s = this.target.watch(host, argv, (line) => this.onLine(host, line));
    this.streams.set(host, s);
    void s.ended.then((e) => {
      if (!this.running || this.streams.get(host) !== s) return;
      const why = `watcher on ${host} ended (exit ${e.exitCode ?? 'by signal'}${e.stderr ? `: ${e.stderr.split('\n').at(-1)}` : ''}); started again`;
      this.problems.push(why);
      this.history.step('observer', why);
      setTimeout(() => this.running && this.startWatcher(host), RESTART_MS);
    });
  }

  private onLine(host: string, text: string): void {
    let line: WatchLine;
    try {
      line = JSON.parse(text) as WatchLine;
    } catch {
      return; // not one of the watcher's lines (a shell's greeting): nothing to observe
    }
    const t = this.clock.toHistoryTime(host, line.t / 1e6);
    if (t === undefined) return;
    const times = this.lineTimes.get(host) ?? [];
    times.push(t);
    this.lineTimes.set(host, times);
    if (typeof line.late === 'number') this.wakes.push({ t, lateUs: line.late });
    if ('beat' in line) return;
    this.countCpu(host, line.cpu, t);
    const node = nodeOfSample(line, this.target.profile.vip.ip, this.target.profile.nic);
    // A change only the watcher's look found: in the history, where the acts' verdicts read it.
    const m = this.missed.sample(host, line.why, this.nodes.get(host), node, t);
    if (m) this.history.add({ type: 'missed', ...m });
    this.nodes.set(host, node);
    this.record(t);
  }

  /** An observation when the merged state changed (or shows a dual VIP), at the host's moment, kept in time order. */
  private record(t: number): void {
    if (this.nodes.size < this.target.profile.dbHosts.length) return;
    const nodes = Object.fromEntries(this.target.profile.dbHosts.map((h) => [h.name, this.nodes.get(h.name)!]));
    const key = JSON.stringify(nodes);
    const dual = Object.values(nodes).filter((n) => n.vip).length > 1;
    if (key === this.lastKey && !dual) return;
    this.lastKey = key;
    // Hosts' stamps arrive over channels of different latency: a stamp earlier than the last
    // observation is recorded at that observation's time (off by that latency difference, a few ms).
    this.lastT = Math.max(t, this.lastT);
    this.history.add({ type: 'observe', t: this.lastT, nodes });
  }

  private countCpu(host: string, cpuS: number, t: number): void {
    const c = this.cpu.get(host);
    if (!c || cpuS < c.cpuS) this.cpu.set(host, { cpuS, firstAt: t, lastAt: t, base: cpuS });
    else Object.assign(c, { cpuS, lastAt: t });
  }

  /** Per host: the watcher's own CPU as a share of one core, over the time it ran (from its samples). */
  cost(): Record<string, { cpuPercent: number; overS: number }> {
    return Object.fromEntries(
      [...this.cpu].map(([h, c]) => {
        const overS = (c.lastAt - c.firstAt) / 1000;
        return [h, { cpuPercent: overS > 0 ? Math.round(((c.cpuS - c.base) / overS) * 1000) / 10 : 0, overS: Math.round(overS) }];
      }),
    );
  }

  /**
   * The gaps between two lines of any one host over [from, to], the window's ends included (a
   * watcher silent for the whole window is one gap as long as the window): the resolution.
   */
  polling(from = 0, to = Infinity): PollingStats {
    const end = Number.isFinite(to) ? to : this.history.now();
    const gaps = this.target.profile.dbHosts.flatMap((h) => {
      const ts = this.lineTimes.get(h.name) ?? [];
      const w = [Math.max(from, ts[0] ?? from), ...ts.filter((t) => t > from && t < end), end];
      return w.slice(1).map((t, i) => t - w[i]!);
    });
    const lines = [...this.lineTimes.values()].reduce((n, ts) => n + ts.filter((t) => t >= from && t <= to).length, 0);
    const late = this.wakes.filter((w) => w.t >= from && w.t <= end).map((w) => w.lateUs / 1000);
    return {
      polls: lines,
      intervalMs: this.beatMs,
      ...gapStats(gaps),
      ...(late.length ? { wakeLate: wakeLateStats(late) } : {}),
    };
  }

  clockOffsets(): Record<string, { offsetMs: number; rttMs: number }> {
    return this.clock.clockOffsets();
  }
}
