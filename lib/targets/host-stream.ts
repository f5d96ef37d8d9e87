import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * A long-running command on a host (a watcher) whose output arrives line by line. The command must
 * end when its standard input closes: that is how it is stopped, the same way through nsenter,
 * docker exec and an SSH channel (a signal would reach only the local end of the first two).
 */
export interface HostStream {
  /** Settles when the command has ended: its exit code (null when it was ended by a signal) and its last stderr. */
  readonly ended: Promise<{ exitCode: number | null; stderr: string }>;
  /** Closes its input and waits for its end (bounded; then the local end is killed). */
  stop(): Promise<void>;
}

/** How long a stopped watcher gets to end by itself before its local process is killed. */
export const STREAM_STOP_MS = 3_000;

/** Calls onLine for each complete line of `out` (a partial last line waits for the rest). */
export function splitLines(out: Readable, onLine: (line: string) => void): void {
  let rest = '';
  out.setEncoding('utf8');
  out.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) if (l) onLine(l);
  });
}

/** A HostStream through a local process that places the command on the host (nsenter, docker exec). */
export function processHostStream(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv | undefined,
  onLine: (line: string) => void,
): HostStream {
  // A process group of its own, as the lab's streams: the terminal's Ctrl-C goes to the harness,
  // which still needs its observer for the case's recovery.
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env, detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  child.stdin.on('error', () => {
    /* EPIPE once the command is gone: 'ended' says why */
  });
  splitLines(child.stdout, onLine);
  const ended = new Promise<{ exitCode: number | null; stderr: string }>((resolve) => {
    child.on('error', (e) => resolve({ exitCode: null, stderr: `${stderr}${e.message}` }));
    child.on('close', (code) => resolve({ exitCode: code, stderr: stderr.trim() }));
  });
  return {
    ended,
    async stop() {
      child.stdin.end();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => {
        timer = setTimeout(() => r('late'), STREAM_STOP_MS);
      });
      if ((await Promise.race([ended, late])) === 'late' && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      clearTimeout(timer);
      await ended;
    },
  };
}
