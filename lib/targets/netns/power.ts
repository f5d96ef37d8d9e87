import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../../util/errors.js';
import { waitFor } from '../../util/wait.js';
import { installExecutable } from './install-agents.js';
import { hostDir, isSameProcess, labDir, procStart } from './state.js';

const DAEMON = join(import.meta.dirname, 'power-switch-daemon.ts');
const TSX = join(import.meta.dirname, '../../../node_modules/tsx/dist/loader.mjs');
const AGENT_SOURCE = join(import.meta.dirname, '../../fencing/fence_mhc');
/** Where pacemaker-fenced looks for fence_* agents (RH_STONITH_DIR), shared by every lab host. */
export const AGENT_PATH = '/usr/sbin/fence_mhc';

/** The directory bind-mounted at /run/mhc inside a db host (host-init.sh): its switch socket lives there. */
export const powerDir = (lab: string, host: string) => join(hostDir(lab, host), 'power');
export const powerSocket = (lab: string, host: string) => join(powerDir(lab, host), 'power.sock');
export const powerEventsFile = (lab: string) => join(labDir(lab), 'power-events.jsonl');
const switchLog = (lab: string) => join(labDir(lab), 'power-switch.log');

/** fence_mhc where pacemaker-fenced finds it, as the fence-agents package would install an agent. */
export const installFenceAgent = (): void => installExecutable(AGENT_SOURCE, AGENT_PATH);

/** Starts the lab's power switch (detached: it outlives this process) and waits until every db host's socket listens. */
export async function startPowerSwitch(lab: string, dbHosts: string[]): Promise<{ pid: number; start: string }> {
  const fd = openSync(switchLog(lab), 'a');
  const child = spawn(process.execPath, ['--import', TSX, DAEMON, lab], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid!;
  await waitFor(
    `the power switch of lab ${lab} (PID ${pid}) to listen for ${dbHosts.join(', ')}`,
    () => {
      if (procStart(pid) === undefined)
        throw new HarnessError(`the power switch of lab ${lab} exited at start:\n${readFileSync(switchLog(lab), 'utf8').slice(-800)}`);
      return dbHosts.every((h) => existsSync(powerSocket(lab, h)));
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return { pid, start: procStart(pid)! };
}

/** Ends the switch by PID (SIGTERM), if it is still the process that was started. */
export async function stopPowerSwitch(p: { pid: number; start: string } | undefined): Promise<void> {
  if (!p || !isSameProcess(p.pid, p.start)) return;
  process.kill(p.pid, 'SIGTERM');
  await waitFor('the power switch to exit after SIGTERM', () => !isSameProcess(p.pid, p.start), { timeoutMs: 5_000, intervalMs: 50 }).catch(
    () => {
      if (isSameProcess(p.pid, p.start)) process.kill(p.pid, 'SIGKILL');
    },
  );
}
