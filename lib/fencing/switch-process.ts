import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSameProcess, procStart } from '../targets/netns/state.js';
import { HarnessError } from '../util/errors.js';
import { waitFor } from '../util/wait.js';

const DAEMON = join(import.meta.dirname, 'switch-daemon.ts');
const TSX = join(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs');

/** A running power switch process, as recorded in its target's state (ended by PID only if still the same process). */
export interface SwitchProcess {
  pid: number;
  start: string;
}

/** Which target's switch: the daemon attaches to it by kind and name (lib/fencing/switch-daemon.ts). */
export interface SwitchOwner {
  kind: 'netns' | 'containers';
  name: string;
  /** The switch's own log (its start-up line, its errors). */
  logFile: string;
  /** The sockets it listens on, one per db host: it is ready once all exist. */
  sockets: string[];
}

/**
 * Starts a target's power switch as a process of its own (detached: it outlives this process, as
 * the lab does) and waits until every db host's socket listens.
 */
export async function startSwitchProcess(o: SwitchOwner): Promise<SwitchProcess> {
  const fd = openSync(o.logFile, 'a');
  const child = spawn(process.execPath, ['--import', TSX, DAEMON, o.kind, o.name], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid!;
  await waitFor(
    `the power switch of ${o.kind} "${o.name}" (PID ${pid}) to listen on ${o.sockets.join(', ')}`,
    () => {
      if (procStart(pid) === undefined)
        throw new HarnessError(
          `the power switch of ${o.kind} "${o.name}" exited at start:\n${readFileSync(o.logFile, 'utf8').slice(-800)}`,
        );
      return o.sockets.every((s) => existsSync(s));
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return { pid, start: procStart(pid)! };
}

/** Ends the switch by PID (SIGTERM, then SIGKILL after 5 s), if it is still the process that was started. */
export async function stopSwitchProcess(p: SwitchProcess | undefined): Promise<void> {
  if (!p || !isSameProcess(p.pid, p.start)) return;
  process.kill(p.pid, 'SIGTERM');
  await waitFor('the power switch to exit after SIGTERM', () => !isSameProcess(p.pid, p.start), { timeoutMs: 5_000, intervalMs: 50 }).catch(
    () => {
      if (isSameProcess(p.pid, p.start)) process.kill(p.pid, 'SIGKILL');
    },
  );
}
