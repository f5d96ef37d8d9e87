import type { History } from '../history.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { sleep } from '../util/wait.js';
import type { Fault } from './fault.js';
import { installChain, removeChain, type OwnChain } from './iptables.js';
import { type Degradation, degradationProblems, describeDegradation, lossRules, netemDelayArgv, probeNetem, removeNetem } from './netem.js';
import { DELAY_CHAIN, QUEUE_DELAY_TOOLS, QueueDelay, describeDelayStats, noDelayMechanismError } from './queue-delay.js';
import { requireTools, toolsMissingOn, type Tool } from './tools.js';

/** The chain the loss rules live in. */
export const LOSS_CHAIN: OwnChain = { name: 'MHC-LOSS', hook: 'INPUT' };

/** How a delay is applied on a host: the kernel's netem, or the NFQUEUE delayer (queue-delay.ts). */
export type DelayMechanism = 'netem' | 'nfqueue';

/** The history's words for each, so that a report says which one a run's delay came from. */
export const DELAY_MECHANISM_LABEL: Record<DelayMechanism, string> = {
  netem: 'delay by tc netem',
  nfqueue: 'delay by NFQUEUE (kernel has no sch_netem)',
};

/**
 * Netem where the kernel has it (it keeps time in the kernel, nothing runs on the host), else the
 * NFQUEUE delayer if the host has its tools; else the tools it lacks (the fault cannot be had).
 */
export function pickDelayMechanism(netem: 'ok' | 'missing', lackingForQueue: readonly Tool[]): DelayMechanism | { lacking: Tool[] } {
  if (netem === 'ok') return 'netem';
  return lackingForQueue.length ? { lacking: [...lackingForQueue] } : 'nfqueue';
}

const toolsFor = (d: Degradation): Tool[] => [
  ...(d.lossPercent !== undefined ? (['iptables'] as const) : []),
  ...(d.delayMs !== undefined ? (['tc'] as const) : []),
];

/**
 * Every check that can fail before anything changes: the levels, the tools, and for a delay its
 * mechanism (netem probed by trying it; the NFQUEUE delayer's tools only when netem is missing).
 */
async function preflight(t: Target, name: string, host: string, d: Degradation): Promise<DelayMechanism | undefined> {
  const problems = degradationProblems(d);
  if (problems.length) throw new HarnessError(`cannot inject "${name}": ${problems.join('; ')}`);
  await requireTools(t, name, [host], toolsFor(d));
  if (d.delayMs === undefined) return undefined;
  const netem = await probeNetem(t, host, t.profile.nic);
  const lacking = netem === 'ok' ? [] : await toolsMissingOn(t, name, host, QUEUE_DELAY_TOOLS);
  const m = pickDelayMechanism(netem, lacking);
  if (typeof m === 'object') throw noDelayMechanismError(name, host, t.kind, m.lacking);
  return m;
}

async function apply(t: Target, h: History, host: string, d: Degradation, delay?: DelayMechanism, queue?: QueueDelay): Promise<void> {
  const nic = t.profile.nic;
  const steps: string[] = [];
  if (d.lossPercent !== undefined) {
    const rules = lossRules(nic, d.lossPercent);
    await installChain(t, host, LOSS_CHAIN, rules);
    steps.push(...rules.map((r) => `iptables -A ${LOSS_CHAIN.name} ${r.join(' ')}`));
  }
  if (d.delayMs !== undefined && delay === 'netem') {
    const argv = netemDelayArgv(nic, d.delayMs, d.jitterMs);
    await t.exec(host, argv, { timeoutMs: 10_000 });
    steps.push(`${DELAY_MECHANISM_LABEL.netem}: ${argv.join(' ')}`);
  }
  if (queue) {
    await queue.start();
    steps.push(`${DELAY_MECHANISM_LABEL.nfqueue}: ${queue.describe()}`);
  }
  h.step('degraded network', `${host}: ${steps.join('; ')}`);
}

/**
 * Takes the fault's parts away, each whatever state it is in; reports every part that could not
 * be. The loss and delay chains are ours by name; a netem root qdisc is taken as ours only by a
 * fault that delays. Both delay mechanisms are removed whichever was chosen: an undo after an
 * injection that stopped half-way (or in another process) does not know which one it was, and
 * each removal does nothing where its part is absent. `queue`: the delayer this process started;
 * returns what it achieved (the history's evidence that the delay took effect).
 */
export async function restoreNetwork(t: Target, host: string, d: Degradation, queue?: QueueDelay): Promise<string | undefined> {
  const errors: string[] = [];
  const failed = (e: Error) => {
    errors.push(e.message);
    return undefined;
  };
  await removeChain(t, host, LOSS_CHAIN).catch(failed);
  let achieved: string | undefined;
  if (d.delayMs !== undefined) {
    // The delayer's stop removes the delay chain first; without a delayer, the chain alone.
    const stats = queue ? await queue.stop().catch(failed) : await removeChain(t, host, DELAY_CHAIN).catch(failed);
    if (stats) achieved = `${DELAY_MECHANISM_LABEL.nfqueue}: ${describeDelayStats(stats)}`;
    await removeNetem(t, host, t.profile.nic).catch(failed);
  }
  if (errors.length) throw new HarnessError(errors.join('\n'));
  return achieved;
}

/**
 * The profile's interface of `host` degraded for holdSeconds, then restored (inject returns once
 * restored). Loss: that share of the packets arriving on it is dropped (iptables, INPUT, sshd's
 * TCP spared); delay: every packet leaving it waits (tc netem on the root qdisc, or where the
 * kernel has no sch_netem the NFQUEUE delayer of queue-delay.ts, sshd's TCP spared). Undo takes
 * every part away wherever it is, so it also restores a degradation whose injection stopped half-way.
 */
export function degradedNetwork(host: string, d: Degradation, holdSeconds = 20): Fault {
  const name = `degraded network on ${host}: ${describeDegradation(d)} for ${holdSeconds}s`;
  /** The running delayer (it runs on the host while the fault holds), for the first restore to stop. */
  let queue: QueueDelay | undefined;
  /** Whichever of inject's restore and undo comes first stops the delayer and has its stats; the other removes the rest. */
  const restore = (t: Target) => {
    const q = queue;
    queue = undefined;
    return restoreNetwork(t, host, d, q);
  };
  return {
    name,
    host,
    destructive: true,
    async inject(t, h) {
      const delay = await preflight(t, name, host, d);
      // Made before it starts, so that an undo during the start finds it.
      queue = delay === 'nfqueue' ? new QueueDelay(t, host, d.delayMs!, d.jitterMs) : undefined;
      await apply(t, h, host, d, delay, queue);
      await sleep(holdSeconds * 1000);
      const achieved = await restore(t);
      h.step('network restored', achieved ? `${host}: ${achieved}` : host);
    },
    async undo(t, h) {
      const achieved = await restore(t);
      if (achieved) h.step('network restored', `${host}: ${achieved}`);
    },
  };
}
