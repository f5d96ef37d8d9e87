import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';

/**
 * iptables rules of the harness's own, in a chain of their own that one jump from a built-in
 * chain leads to: installing fills the chain before the jump goes in (the rules take effect at
 * once), and removing deletes the jump and the chain, which takes away exactly what a fault added
 * and nothing of the host's own firewall. Only INPUT is hooked by the faults: a DROP in OUTPUT
 * hands the local sender EPERM, which knet counts as a send error rather than a lost packet.
 */
export interface OwnChain {
  /** e.g. MHC-PARTITION (iptables allows 28 characters) */
  name: string;
  hook: 'INPUT' | 'OUTPUT';
}

/** `-w`: wait for the xtables lock instead of failing when another iptables runs (legacy backend; nft ignores it). */
const ipt = (...args: string[]) => ['iptables', '-w', ...args];

/** The commands that put `rules` (each a rule spec without `-A CHAIN`) into the chain, the jump last. */
export function chainInstallCommands(c: OwnChain, rules: string[][]): string[][] {
  return [ipt('-N', c.name), ipt('-F', c.name), ...rules.map((r) => ipt('-A', c.name, ...r)), ipt('-I', c.hook, '1', '-j', c.name)];
}

/** One jump is deleted per command; a chain is never jumped to more than a few times (an install that ran twice). */
const MAX_JUMPS = 5;

/** The commands that remove the chain: every jump to it, its rules, the chain itself. */
export function chainRemoveCommands(c: OwnChain): string[][] {
  return [...Array.from({ length: MAX_JUMPS }, () => ipt('-D', c.hook, '-j', c.name)), ipt('-F', c.name), ipt('-X', c.name)];
}

/** Installs the chain on a host (an earlier copy of it is replaced, never doubled). */
export async function installChain(t: Target, host: string, c: OwnChain, rules: string[][]): Promise<void> {
  await removeChain(t, host, c);
  const [create, ...rest] = chainInstallCommands(c, rules);
  await t.exec(host, create!, { check: false }); // "Chain already exists" is fine
  for (const argv of rest) await t.exec(host, argv, { timeoutMs: 10_000 });
}

/**
 * Removes the chain from a host, whatever state it is in (absent, half-installed, jumped to
 * twice); then checks that it is gone. Safe to run when nothing was installed.
 */
export async function removeChain(t: Target, host: string, c: OwnChain): Promise<void> {
  for (const argv of chainRemoveCommands(c)) await t.exec(host, argv, { check: false, timeoutMs: 10_000 });
  const left = await t.exec(host, ipt('-S', c.name), { check: false, timeoutMs: 10_000 });
  if (left.exitCode === 0)
    throw new HarnessError(
      `on ${host}: iptables chain ${c.name} is still there after its removal:\n${left.stdout.trim()}`,
      `remove it by hand: iptables -D ${c.hook} -j ${c.name}; iptables -F ${c.name}; iptables -X ${c.name}`,
    );
}
