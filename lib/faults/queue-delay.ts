import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeFence, fenceHistory, fencedSince } from '../probes/fencing.js';
import type { HostStream } from '../targets/host-stream.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { installChain, removeChain, type OwnChain } from './iptables.js';
import { NETEM_MISSING } from './netem.js';
import { describeMissing, installHint, type Tool } from './tools.js';

/**
 * Delay of outgoing packets where the kernel has no sch_netem but has NFQUEUE
 * (CONFIG_NETFILTER_NETLINK_QUEUE, xt_NFQUEUE): an iptables rule hands each packet leaving the
 * interface to a queue, and queue-delay.py, running on the host, accepts each one after the delay.
 * Netem stays the first choice where the kernel has it: it keeps time in the kernel and needs no
 * process on the host. Differences from netem: only IPv4 packets the host itself sends are delayed
 * (the OUTPUT hook; ARP and IPv6 pass), and a held packet still counts against its sender's socket
 * memory (netem orphans it): TCP small queues then let a connection have only a couple of packets
 * held at a time, so bulk TCP crawls (measured on a veth pair at 100 ms: ~30 KB/s, where the
 * window would allow MB/s), and a UDP sender blocks once its send buffer's worth is held.
 * Request/answer traffic (knet's pings, MySQL's small writes and replication events) sees the delay
 * as netem gives it.
 */
const DELAYER = readFileSync(join(import.meta.dirname, 'queue-delay.py'), 'utf8');

/** OUTPUT: packets leaving the host, as netem on the root qdisc delays them. */
export const DELAY_CHAIN: OwnChain = { name: 'MHC-DELAY', hook: 'OUTPUT' };
/** The queue's number (0..65535): any one the host's own firewall does not use. */
export const DELAY_QUEUE = 7731;
/** What the delayer needs on the host besides a kernel with NFQUEUE. */
export const QUEUE_DELAY_TOOLS: readonly Tool[] = ['iptables', 'python3'];
/** How long the delayer gets to bind its queue and say so (python3's start and one netlink exchange). */
export const READY_MS = 5_000;

/** A stats line of queue-delay.py (see its header for the meaning of each field). */
export interface DelayerStats {
  held: number;
  released: number;
  flushed: number;
  maxLateMs: number;
  /** null while no packet was released. */
  meanDelayMs: number | null;
  enobufs: number;
  verdictErrors: number;
  final?: true;
  /** Set by QueueDelay when the delayer died with its host's power (the host was fenced): the delay held until then. */
  endedWith?: string;
}
export type DelayerLine = { ready: true } | DelayerStats;

/**
 * OUTPUT rules (without `-A CHAIN`) that send the packets leaving `nic` to the delayer's queue.
 * TCP from `spareTcpPort` (sshd) returns first: over the SSH target it is the harness's own control
 * channel, and the delayer's own output travels on it. --queue-bypass: while no process has bound
 * the queue, packets pass; a delayer that dies leaves the network undelayed, never cut.
 */
export function delayRules(nic: string, queue = DELAY_QUEUE, spareTcpPort = 22): string[][] {
  return [
    ['-o', nic, '-p', 'tcp', '--sport', String(spareTcpPort), '-j', 'RETURN'],
    ['-o', nic, '-j', 'NFQUEUE', '--queue-num', String(queue), '--queue-bypass'],
  ];
}

/** The delayer's options; --stdin: it ends when its input closes, which is how a HostStream is stopped. */
export function delayerOptions(delayMs: number, jitterMs?: number, queue = DELAY_QUEUE): string[] {
  return ['--queue', String(queue), '--delay-ms', String(delayMs), ...(jitterMs ? ['--jitter-ms', String(jitterMs)] : []), '--stdin'];
}

/** The script inline (`-c`): nothing is copied to the host. -u: each line arrives as printed. */
export const delayerArgv = (delayMs: number, jitterMs?: number, queue = DELAY_QUEUE) => [
  'python3',
  '-u',
  '-c',
  DELAYER,
  ...delayerOptions(delayMs, jitterMs, queue),
];

const isCount = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/** One line of the delayer's output; undefined for anything else (a shell's greeting, a partial line). */
export function parseDelayerLine(line: string): DelayerLine | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  if (v.ready === true) return { ready: true };
  const counts = ['held', 'released', 'flushed', 'maxLateMs', 'enobufs', 'verdictErrors'];
  if (!counts.every((k) => isCount(v[k])) || !(v.meanDelayMs === null || isCount(v.meanDelayMs))) return undefined;
  return v as unknown as DelayerStats;
}

/** "1834 packets delayed, mean 100.4 ms", and whatever did not go as asked. */
export function describeDelayStats(s: DelayerStats): string {
  const parts = [`${s.released} packets delayed${s.meanDelayMs === null ? '' : `, mean ${s.meanDelayMs.toFixed(1)} ms`}`];
  if (s.flushed) parts.push(`${s.flushed} released early when the delay ended`);
  if (s.maxLateMs >= 10) parts.push(`a release up to ${s.maxLateMs} ms late`);
  if (s.enobufs) parts.push(`${s.enobufs} receive-buffer overflows (those packets passed undelayed)`);
  if (s.verdictErrors) parts.push(`${s.verdictErrors} verdicts refused by the kernel`);
  if (s.endedWith) parts.push(s.endedWith);
  return parts.join(', ');
}

/** The error when a delay can be had neither way: netem's, and what the NFQUEUE delayer lacks. */
export function noDelayMechanismError(fault: string, host: string, kind: Target['kind'], lacking: readonly Tool[]): HarnessError {
  const { what, packages } = describeMissing(lacking);
  return new HarnessError(
    `cannot inject "${fault}": on ${host}: ${NETEM_MISSING}; the NFQUEUE delayer that stands in for netem needs ${what}; nothing was injected`,
    `${installHint(kind, host, packages)}, or run the delay faults on a kernel with sch_netem`,
  );
}

/** The stats of a delayer that died before it reported any. */
const EMPTY_STATS: DelayerStats = { held: 0, released: 0, flushed: 0, maxLateMs: 0, meanDelayMs: null, enobufs: 0, verdictErrors: 0 };

const lastLine = (s: string) => s.trim().split('\n').at(-1) || 'no error output';

/**
 * The delayer on one host while a fault holds: start() binds the queue and only then installs the
 * rules (no packet is queued to nobody); stop() removes the rules first (no new packet is held),
 * then closes the delayer's input (it releases what it holds and unbinds), and returns its final
 * stats: the evidence that the delay took effect. stop() is safe in any state, and more than once.
 */
export class QueueDelay {
  private stream?: HostStream;
  private last?: DelayerStats;
  private stopping?: Promise<DelayerStats | undefined>;
  /** Why the delayer ended before it was stopped (the delay did not hold to the end). */
  private endedEarly?: string;
  /** When the delayer reported its queue bound (epoch ms). */
  private startedAt = 0;

  constructor(
    private readonly t: Target,
    private readonly host: string,
    private readonly delayMs: number,
    private readonly jitterMs?: number,
    private readonly readyMs = READY_MS,
  ) {}

  /** What runs, for the history (the script by name, not its text). */
  describe(): string {
    const rules = delayRules(this.t.profile.nic).map((r) => `iptables -A ${DELAY_CHAIN.name} ${r.join(' ')}`);
    return [`python3 queue-delay.py ${delayerOptions(this.delayMs, this.jitterMs).join(' ')}`, ...rules].join('; ');
  }

  /** The delayer bound, then the rules; on any failure neither is left behind. */
  async start(): Promise<void> {
    try {
      await this.startDelayer();
      // A stop() that came while the delayer started (an interrupted case) must not be undone.
      if (this.stopping) throw new HarnessError(`on ${this.host}: the NFQUEUE delay was stopped while it started`);
      await installChain(this.t, this.host, DELAY_CHAIN, delayRules(this.t.profile.nic));
    } catch (e) {
      const stream = this.stream;
      this.stream = undefined; // a later stop() only makes sure the rules are gone
      await stream?.stop();
      await removeChain(this.t, this.host, DELAY_CHAIN).catch(() => undefined);
      throw e;
    }
  }

  private async startDelayer(): Promise<void> {
    let ready!: () => void;
    const isReady = new Promise<'ready'>((r) => {
      ready = () => r('ready');
    });
    const stream = this.t.watch(this.host, delayerArgv(this.delayMs, this.jitterMs), (text) => {
      const line = parseDelayerLine(text);
      if (line && 'ready' in line) ready();
      else if (line) this.last = line;
    });
    this.stream = stream;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(() => r('late'), this.readyMs);
    });
    const outcome = await Promise.race([isReady, stream.ended, late]);
    clearTimeout(timer);
    if (outcome === 'late')
      throw new HarnessError(`on ${this.host}: the NFQUEUE delayer did not report queue ${DELAY_QUEUE} bound within ${this.readyMs} ms`);
    if (outcome !== 'ready')
      throw new HarnessError(
        `on ${this.host}: the NFQUEUE delayer could not start (exit ${outcome.exitCode ?? 'by signal'}): ${lastLine(outcome.stderr)}`,
        'the kernel needs CONFIG_NETFILTER_NETLINK_QUEUE (nfnetlink_queue) for the delay faults when it has no sch_netem',
      );
    this.startedAt = Date.now();
    void stream.ended.then((e) => {
      if (!this.stopping)
        this.endedEarly = `on ${this.host}: the NFQUEUE delayer ended while the delay held (exit ${e.exitCode ?? 'by signal'}: ${lastLine(e.stderr)}); packets passed undelayed from then on`;
    });
  }

  /** Rules, then delayer; the final stats (undefined when the delayer never ran). */
  stop(): Promise<DelayerStats | undefined> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<DelayerStats | undefined> {
    const errors: string[] = [];
    await removeChain(this.t, this.host, DELAY_CHAIN).catch((e: Error) => errors.push(e.message));
    const stream = this.stream;
    let endedWith: string | undefined;
    if (stream) {
      await stream.stop();
      if (this.endedEarly) {
        // The lab's power-off (a fencing) kills every process of the host, the delayer with them:
        // the delay held until the host went down, and what followed is the act's outcome.
        const fenced = fencedSince((await fenceHistory(this.t)) ?? [], this.host, this.startedAt);
        if (fenced) endedWith = `the delayer ended with ${this.host}'s power (${describeFence(fenced)}): the delay held until then`;
        else errors.push(this.endedEarly);
      } else if (!this.last?.final) {
        const e = await stream.ended;
        errors.push(
          `on ${this.host}: the NFQUEUE delayer ended without its final stats (exit ${e.exitCode ?? 'by signal'}: ${lastLine(e.stderr)})`,
        );
      }
    }
    if (errors.length) throw new HarnessError(errors.join('\n'));
    if (!stream) return undefined;
    return endedWith ? { ...(this.last ?? EMPTY_STATS), endedWith } : this.last;
  }
}
