import { containersProvider } from './providers/containers.js';
import { netnsProvider } from './providers/netns.js';
import { sshProvider } from './providers/ssh.js';
import type { TargetProvider } from './provider.js';

/** Every kind of target, in the order --target names are matched (ssh takes any other name). */
export const PROVIDERS: readonly TargetProvider[] = [netnsProvider, containersProvider, sshProvider];

export function providerFor(target: string): TargetProvider {
  return PROVIDERS.find((p) => p.serves(target))!;
}
