import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type DetachedProcess, startDetached, stopDetached } from '../util/detached-process.js';

const DAEMON = join(import.meta.dirname, 'switch-daemon.ts');
const TSX = join(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs');

/** A running power switch process, as recorded in its target's state (ended by PID only if still the same process). */
export type SwitchProcess = DetachedProcess;

/** Which target's switch: the daemon attaches to it by kind and name (lib/fencing/switch-daemon.ts). */
export interface SwitchOwner {
  kind: 'netns' | 'containers';
  name: string;
  /** The switch's own log (its start-up line, its errors). */
  logFile: string;
  /** The sockets it listens on: it is ready once all exist. */
  sockets: string[];
}

/**
 * Starts a target's power switch as a process of its own (detached: it outlives this process, as
 * the lab does) and waits until each of its sockets listens.
 */
export const startSwitchProcess = (o: SwitchOwner): Promise<SwitchProcess> =>
  startDetached({
    what: `the power switch of ${o.kind} "${o.name}", listening on ${o.sockets.join(', ')}`,
    command: process.execPath,
    args: ['--import', TSX, DAEMON, o.kind, o.name],
    logFile: o.logFile,
    ready: () => o.sockets.every((s) => existsSync(s)),
  });

/** Ends the switch by PID (SIGTERM, then SIGKILL after 5 s), if it is still the process that was started. */
export const stopSwitchProcess = (p: SwitchProcess | undefined): Promise<void> => stopDetached(p, 'the power switch');
