import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { isSameProcess, procStart } from '../targets/netns/state.js';
import { HarnessError } from './errors.js';
import { waitFor } from './wait.js';

/** A process started detached (it outlives its starter, as a lab does), recorded by PID and start time: ended only if still the same process. */
export interface DetachedProcess {
  pid: number;
  start: string;
}

export interface DetachedStart {
  /** What it is, for messages: "the power switch of netns "lab"". */
  what: string;
  command: string;
  args: string[];
  /** Its stdout and stderr (appended). */
  logFile: string;
  /** Whether it is ready; asked every 50 ms for up to 15 s. */
  ready: () => boolean;
  /** Said when it exits at start. */
  fix?: string;
}

/** Starts a detached process and waits until it is ready; its exit at start is an error with its log's end. */
export async function startDetached(o: DetachedStart): Promise<DetachedProcess> {
  const fd = openSync(o.logFile, 'a');
  const child = spawn(o.command, o.args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid!;
  await waitFor(
    `${o.what} (PID ${pid}) to be ready`,
    () => {
      if (procStart(pid) === undefined)
        throw new HarnessError(`${o.what} exited at start:\n${readFileSync(o.logFile, 'utf8').slice(-800)}`, o.fix);
      return o.ready();
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return { pid, start: procStart(pid)! };
}

/** Ends it by PID (SIGTERM, then SIGKILL after 5 s), if it is still the process that was started. */
export async function stopDetached(p: DetachedProcess | undefined, what: string): Promise<void> {
  if (!p || !isSameProcess(p.pid, p.start)) return;
  process.kill(p.pid, 'SIGTERM');
  await waitFor(`${what} to exit after SIGTERM`, () => !isSameProcess(p.pid, p.start), { timeoutMs: 5_000, intervalMs: 50 }).catch(() => {
    if (isSameProcess(p.pid, p.start)) process.kill(p.pid, 'SIGKILL');
  });
}
