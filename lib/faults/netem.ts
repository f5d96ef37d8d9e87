import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';

/**
 * A degraded link, Jepsen's :packet nemesis in the parts this harness can apply: loss of incoming
 * packets (iptables' statistic match, in every kernel with xt_statistic) and delay with jitter of
 * outgoing ones (tc netem where the kernel has sch_netem, else the NFQUEUE delayer of queue-delay.ts).
 */
export interface Degradation {
  /** Percent of the packets arriving on the interface that are dropped (0 < x ≤ 100). */
  lossPercent?: number;
  /** Added to every packet leaving the interface (ms). */
  delayMs?: number;
  /** ± around delayMs, uniform (netem reorders packets when jitter exceeds their spacing). */
  jitterMs?: number;
}

const MAX_DELAY_MS = 60_000;

/** What is wrong with a degradation, one line each (empty: valid). */
export function degradationProblems(d: Degradation): string[] {
  const out: string[] = [];
  const num = (x: number | undefined) => x !== undefined && !Number.isFinite(x);
  if (d.lossPercent === undefined && d.delayMs === undefined) out.push('a degradation needs lossPercent or delayMs');
  // 0.001 %: the probability is written with 5 decimals (lossProbability).
  if (num(d.lossPercent) || (d.lossPercent !== undefined && (d.lossPercent < 0.001 || d.lossPercent > 100)))
    out.push(`lossPercent must be between 0.001 and 100, got ${d.lossPercent}`);
  if (num(d.delayMs) || (d.delayMs !== undefined && (d.delayMs <= 0 || d.delayMs > MAX_DELAY_MS)))
    out.push(`delayMs must be above 0 and at most ${MAX_DELAY_MS}, got ${d.delayMs}`);
  if (d.jitterMs !== undefined) {
    if (d.delayMs === undefined) out.push('jitterMs needs delayMs');
    else if (!Number.isFinite(d.jitterMs) || d.jitterMs < 0 || d.jitterMs > d.delayMs)
      out.push(`jitterMs must be between 0 and delayMs (${d.delayMs}), got ${d.jitterMs}`);
  }
  return out;
}

/** "loss 5% in", "delay 100 ms ± 20 ms out", joined by ", ". */
export function describeDegradation(d: Degradation): string {
  return [
    d.lossPercent !== undefined ? `loss ${d.lossPercent}% in` : undefined,
    d.delayMs !== undefined ? `delay ${d.delayMs} ms${d.jitterMs ? ` ± ${d.jitterMs} ms` : ''} out` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

/** iptables' statistic match wants a probability (0..1); at most 5 decimals keeps it readable in `iptables -S`. */
export const lossProbability = (percent: number) => String(Math.round(percent * 1000) / 100_000);

/**
 * INPUT rules (without `-A CHAIN`) that drop incoming packets on `nic` at random. TCP to
 * `spareTcpPort` (sshd) is let through first: over the SSH target it is the harness's own control
 * channel, not traffic of the system under test, and its loss would only blur the observer.
 */
export function lossRules(nic: string, percent: number, spareTcpPort = 22): string[][] {
  return [
    ['-i', nic, '-p', 'tcp', '--dport', String(spareTcpPort), '-j', 'RETURN'],
    ['-i', nic, '-m', 'statistic', '--mode', 'random', '--probability', lossProbability(percent), '-j', 'DROP'],
  ];
}

/** `tc qdisc replace dev NIC root netem delay Dms [Jms]` (replace: an existing root qdisc is swapped, not refused). */
export function netemDelayArgv(nic: string, delayMs: number, jitterMs?: number): string[] {
  return ['tc', 'qdisc', 'replace', 'dev', nic, 'root', 'netem', 'delay', `${delayMs}ms`, ...(jitterMs ? [`${jitterMs}ms`] : [])];
}

/** Part of the error when a delay can be had neither by netem nor by the NFQUEUE delayer (queue-delay.ts). */
export const NETEM_MISSING = 'kernel lacks sch_netem (CONFIG_NET_SCH_NETEM): delay faults need it; loss faults still work';

/**
 * Reads the probe's result: `tc qdisc replace … netem` fails with "Specified qdisc kind is
 * unknown" (newer iproute2/kernels) or "No such file or directory" (older) when the kernel has no
 * sch_netem and cannot load it.
 */
export function netemProbeVerdict(exitCode: number, stderr: string): 'ok' | 'missing' | { error: string } {
  if (exitCode === 0) return 'ok';
  if (/qdisc kind is unknown|No such file or directory|Unknown qdisc/i.test(stderr)) return 'missing';
  return { error: stderr.trim() || `exit ${exitCode}` };
}

/**
 * Whether `host`'s kernel has netem: a netem qdisc with no delay is put on `nic` and removed at
 * once (the kernel loads sch_netem on demand; only trying tells). 'missing' is an answer (the
 * delay faults then use the NFQUEUE delayer); any other failure of tc is thrown.
 */
export async function probeNetem(t: Target, host: string, nic: string): Promise<'ok' | 'missing'> {
  const r = await t.exec(host, netemDelayArgv(nic, 0), { check: false, timeoutMs: 10_000 });
  const v = netemProbeVerdict(r.exitCode, r.stderr);
  if (v === 'ok') await t.exec(host, ['tc', 'qdisc', 'del', 'dev', nic, 'root'], { timeoutMs: 10_000 });
  if (typeof v === 'object') throw new HarnessError(`on ${host}: cannot put a netem qdisc on ${nic}: ${v.error}`);
  return v;
}

/** Removes the root qdisc of `nic` if it is a netem one (ours); a kernel default root qdisc is left alone. */
export async function removeNetem(t: Target, host: string, nic: string): Promise<void> {
  const shown = await t.exec(host, ['tc', 'qdisc', 'show', 'dev', nic, 'root'], { check: false, timeoutMs: 10_000 });
  if (shown.exitCode !== 0 || !/\bnetem\b/.test(shown.stdout)) return;
  await t.exec(host, ['tc', 'qdisc', 'del', 'dev', nic, 'root'], { timeoutMs: 10_000 });
}
