import { type ChildProcess, spawn } from 'node:child_process';

/** N busy loops on this machine (the load a benchmark measures beside), each ended by its own PID. */
export function busyLoops(n: number): { stop: () => void } {
  const loops: ChildProcess[] = Array.from({ length: n }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  return {
    stop: () => {
      for (const p of loops) p.kill('SIGKILL');
    },
  };
}
