import type { History } from '../history.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { sleep } from '../util/wait.js';
import type { Fault } from './fault.js';
import { installChain, removeChain, type OwnChain } from './iptables.js';
import {
  type Degradation,
  degradationProblems,
  describeDegradation,
  lossRules,
  netemDelayArgv,
  removeNetem,
  requireNetem,
} from './netem.js';
import { requireTools, type Tool } from './tools.js';

/** The chain the loss rules live in. */
export const LOSS_CHAIN: OwnChain = { name: 'MHC-LOSS', hook: 'INPUT' };

const toolsFor = (d: Degradation): Tool[] => [
  ...(d.lossPercent !== undefined ? (['iptables'] as const) : []),
  ...(d.delayMs !== undefined ? (['tc'] as const) : []),
];

/** Every check that can fail before anything changes: the levels, the tools, netem for a delay. */
async function preflight(t: Target, name: string, host: string, d: Degradation): Promise<void> {
  const problems = degradationProblems(d);
  if (problems.length) throw new HarnessError(`cannot inject "${name}": ${problems.join('; ')}`);
  await requireTools(t, name, [host], toolsFor(d));
  if (d.delayMs !== undefined) await requireNetem(t, host, t.profile.nic);
}

async function apply(t: Target, h: History, host: string, d: Degradation): Promise<void> {
  const nic = t.profile.nic;
  const steps: string[] = [];
  if (d.lossPercent !== undefined) {
    const rules = lossRules(nic, d.lossPercent);
    await installChain(t, host, LOSS_CHAIN, rules);
    steps.push(...rules.map((r) => `iptables -A ${LOSS_CHAIN.name} ${r.join(' ')}`));
  }
  if (d.delayMs !== undefined) {
    const argv = netemDelayArgv(nic, d.delayMs, d.jitterMs);
    await t.exec(host, argv, { timeoutMs: 10_000 });
    steps.push(argv.join(' '));
  }
  h.step('degraded network', `${host}: ${steps.join('; ')}`);
}

/**
 * Takes the fault's parts away, each whatever state it is in; reports every part that could not
 * be. The loss chain is ours by name; a netem root qdisc is taken as ours only by a fault that delays.
 */
export async function restoreNetwork(t: Target, host: string, d: Degradation): Promise<void> {
  const errors: string[] = [];
  await removeChain(t, host, LOSS_CHAIN).catch((e: Error) => errors.push(e.message));
  if (d.delayMs !== undefined) await removeNetem(t, host, t.profile.nic).catch((e: Error) => errors.push(e.message));
  if (errors.length) throw new HarnessError(errors.join('\n'));
}

/**
 * The profile's interface of `host` degraded for holdSeconds, then restored (inject returns once
 * restored). Loss: that share of the packets arriving on it is dropped (iptables, INPUT, sshd's
 * TCP spared); delay: every packet leaving it waits (tc netem, root qdisc). Undo takes both away
 * wherever they are, so it also restores a degradation whose injection stopped half-way.
 */
export function degradedNetwork(host: string, d: Degradation, holdSeconds = 20): Fault {
  const name = `degraded network on ${host}: ${describeDegradation(d)} for ${holdSeconds}s`;
  return {
    name,
    host,
    destructive: true,
    async inject(t, h) {
      await preflight(t, name, host, d);
      await apply(t, h, host, d);
      await sleep(holdSeconds * 1000);
      await restoreNetwork(t, host, d);
      h.step('network restored', host);
    },
    undo: (t) => restoreNetwork(t, host, d),
  };
}
