import { join } from 'node:path';
import type { Profile } from '../../profile/load.js';
import { type SwitchProcess, startSwitchProcess } from '../../fencing/switch-process.js';
import { installExecutable } from './install-agents.js';
import { hostDir, labDir } from './state.js';

/** fence_mhc's source (the containers target copies it into its nodes). */
export const FENCE_AGENT_SOURCE = join(import.meta.dirname, '../../fencing/fence_mhc');
/** Where pacemaker-fenced looks for fence_* agents (RH_STONITH_DIR), shared by every lab host. */
export const AGENT_PATH = '/usr/sbin/fence_mhc';

/** The directory bind-mounted at /run/mhc inside a db host (host-init.sh): its switch socket lives there. */
export const powerDir = (lab: string, host: string) => join(hostDir(lab, host), 'power');
export const powerSocket = (lab: string, host: string) => join(powerDir(lab, host), 'power.sock');
export const powerEventsFile = (lab: string) => join(labDir(lab), 'power-events.jsonl');

/** fence_mhc where pacemaker-fenced finds it, as the fence-agents package would install an agent. */
export const installFenceAgent = (): void => installExecutable(FENCE_AGENT_SOURCE, AGENT_PATH);

/** The switch's socket for the lab's BMCs (lib/fencing/lab-bmc.py), outside every host. */
export const bmcSwitchSocket = (lab: string) => join(labDir(lab), 'bmc-power.sock');

/** Who may ask the lab's switch, each on its own socket: each db host (fence_mhc devices) and the lab's BMCs (fence_ipmilan devices). */
export function switchSockets(lab: string, profile: Profile): Record<string, string> {
  const sockets: Record<string, string> = {};
  if (profile.labFenceDevices.length) for (const h of profile.dbHosts) sockets[h.name] = powerSocket(lab, h.name);
  if (profile.labBmcDevices.length) sockets.bmc = bmcSwitchSocket(lab);
  return sockets;
}

/** Starts the lab's power switch (detached: it outlives this process) and waits until each of its sockets listens. */
export const startPowerSwitch = (lab: string, sockets: string[]): Promise<SwitchProcess> =>
  startSwitchProcess({ kind: 'netns', name: lab, logFile: join(labDir(lab), 'power-switch.log'), sockets });
