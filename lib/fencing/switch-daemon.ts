/**
 * A target's power switch as a process of its own, outside the hosts (as fence_virtd or an IPMI
 * board is outside a VM or server): it lives as long as the lab or container cluster, whichever
 * process brought it up. Started by switch-process.ts with the target's kind and name; ends on
 * SIGTERM. Every request and every boot it started is one JSON line in the target's power events file.
 */
import { appendFileSync } from 'node:fs';
import type { Target } from '../targets/target.js';
import { PowerSwitch } from './power-switch.js';
import { targetPower } from './target-power.js';

interface SwitchWiring {
  target: Target;
  /** The hosts it powers: the target's db hosts. */
  plugs: string[];
  /** Who may ask, each on a socket of its own: a db host (its fence device's socket=) or the lab's BMCs ("bmc"). */
  sockets: Record<string, string>;
  eventsFile: string;
}

/** The target behind the switch, attached by kind and name (imported here only: the targets import the switch's starter). */
async function wiring(kind: string, name: string): Promise<SwitchWiring> {
  if (kind === 'netns') {
    const { netnsSwitchWiring } = await import('../targets/netns/lab.js');
    return netnsSwitchWiring(name);
  }
  if (kind === 'containers') {
    const { containersSwitchWiring } = await import('../targets/containers/cluster.js');
    return containersSwitchWiring(name);
  }
  throw new Error(`no power switch for target kind "${kind}"`);
}

async function main(kind: string, name: string): Promise<void> {
  const { target, plugs, sockets, eventsFile } = await wiring(kind, name);
  const record = (e: object) => appendFileSync(eventsFile, `${JSON.stringify(e)}\n`);
  const power = new PowerSwitch({
    plugs,
    callbacks: targetPower(target, (host, outcome) => record({ at: Date.now(), kind: 'boot', host, ...outcome })),
    onEvent: (e) => record({ kind: 'request', ...e }),
  });
  for (const [host, socket] of Object.entries(sockets)) await power.listen(host, socket);
  process.on('SIGTERM', () => {
    power.close().finally(() => process.exit(0));
  });
  console.log(`power switch of ${kind} "${name}": plugs ${plugs.join(', ')}, ready`);
}

main(process.argv[2] ?? '', process.argv[3] ?? '').catch((e: Error) => {
  console.error(`power switch: ${e.message}`);
  process.exit(1);
});
