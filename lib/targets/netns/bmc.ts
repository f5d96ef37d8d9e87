import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Profile } from '../../profile/load.js';
import { HarnessError } from '../../util/errors.js';
import { type DetachedProcess, startDetached, stopDetached } from '../../util/detached-process.js';
import { bmcSwitchSocket } from './power.js';
import { type LabState, labDir } from './state.js';

const BMC_SCRIPT = join(import.meta.dirname, '../../fencing/lab-bmc.py');
/** Debian's Python, which has python3-pyghmi (not whatever python3 comes first on PATH). */
const PYTHON = '/usr/bin/python3';
const NEEDS = 'install fence-agents, ipmitool and python3-pyghmi (npm run setup)';

/**
 * Starts the lab's BMCs (lib/fencing/lab-bmc.py) for a profile whose fence devices are
 * fence_ipmilan at the subnet's .1: that address on the bridge, in the bridge's namespace (where
 * a VM network has its hypervisor), one UDP port per db host, each powering its host through the
 * lab's switch. Detached, as the switch is; ended by PID with the lab.
 */
export async function startLabBmcs(state: LabState, profile: Profile): Promise<DetachedProcess> {
  const devices = profile.labBmcDevices;
  const accounts = new Set(devices.map((d) => `${d.login}\n${d.password}`));
  if (accounts.size !== 1)
    throw new HarnessError(
      `profile ${profile.name}: the lab's BMCs share one account, but its fence_ipmilan devices give ${accounts.size}`,
      'use the same username= and password= on each',
    );
  if (!existsSync('/usr/sbin/fence_ipmilan') || !existsSync('/usr/bin/ipmitool'))
    throw new HarnessError(`profile ${profile.name} fences with fence_ipmilan, which this machine lacks`, NEEDS);
  const { address } = devices[0]!;
  await execa('ip', ['-n', state.bridgeNetns, 'addr', 'add', `${address}/24`, 'dev', 'br0']);
  const dir = labDir(state.name);
  const users = join(dir, 'bmc-account.json');
  writeFileSync(users, JSON.stringify({ login: devices[0]!.login, password: devices[0]!.password }), { mode: 0o600 });
  const logFile = join(dir, 'bmc.log');
  const args = [
    '--address',
    address,
    '--socket',
    bmcSwitchSocket(state.name),
    '--users',
    users,
    ...devices.map((d) => `${d.plug}:${d.port}`),
  ];
  // ip netns exec execs the program: the PID is the BMC's own.
  return startDetached({
    what: `the lab's BMCs at ${address}`,
    command: 'ip',
    args: ['netns', 'exec', state.bridgeNetns, PYTHON, '-u', BMC_SCRIPT, ...args],
    logFile,
    ready: () => readFileSync(logFile, 'utf8').includes('ready:'),
    fix: NEEDS,
  });
}

/** Ends the lab's BMCs by PID, if they still run. */
export const stopLabBmcs = (p: DetachedProcess | undefined): Promise<void> => stopDetached(p, "the lab's BMCs");
