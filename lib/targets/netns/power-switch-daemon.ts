/**
 * The lab's power switch as a process of its own, outside the hosts (as fence_virtd or an IPMI
 * board is outside a VM or server): it lives as long as the lab, whichever process brought the
 * lab up. Started by lib/targets/netns/power.ts with the lab's name; ends on SIGTERM.
 * Every request and every boot it started is one JSON line in the lab's power events file.
 */
import { appendFileSync } from 'node:fs';
import { PowerSwitch } from '../../fencing/power-switch.js';
import { targetPower } from '../../fencing/target-power.js';
import { Profile } from '../../profile/load.js';
import { StartedNetnsLab } from './lab.js';
import { powerEventsFile, powerSocket } from './power.js';
import { readState } from './state.js';

async function main(name: string): Promise<void> {
  const state = readState(name);
  if (!state) throw new Error(`no lab named "${name}"`);
  const profile = Profile.load(state.profileDir).withSubnet(state.subnet);
  const lab = new StartedNetnsLab(state, profile);
  const events = powerEventsFile(name);
  const record = (e: object) => appendFileSync(events, `${JSON.stringify(e)}\n`);
  const plugs = profile.dbHosts.map((h) => h.name);
  const power = new PowerSwitch({
    plugs,
    callbacks: targetPower(lab, (host, outcome) => record({ at: Date.now(), kind: 'boot', host, ...outcome })),
    onEvent: (e) => record({ kind: 'request', ...e }),
  });
  for (const h of plugs) await power.listen(h, powerSocket(name, h));
  process.on('SIGTERM', () => {
    power.close().finally(() => process.exit(0));
  });
  console.log(`power switch of lab ${name}: plugs ${plugs.join(', ')}, ready`);
}

main(process.argv[2] ?? '').catch((e: Error) => {
  console.error(`power switch: ${e.message}`);
  process.exit(1);
});
