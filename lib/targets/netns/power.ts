import { join } from 'node:path';
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

/** Starts the lab's power switch (detached: it outlives this process) and waits until every db host's socket listens. */
export const startPowerSwitch = (lab: string, dbHosts: string[]): Promise<SwitchProcess> =>
  startSwitchProcess({
    kind: 'netns',
    name: lab,
    logFile: join(labDir(lab), 'power-switch.log'),
    sockets: dbHosts.map((h) => powerSocket(lab, h)),
  });
