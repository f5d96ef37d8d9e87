import { readFileSync } from 'node:fs';

/** /proc reports CPU times in USER_HZ ticks, 100 per second on every Linux ABI. */
const TICKS_PER_S = 100;

/**
 * The CPU this process has used, with the commands it started and waited for (ms): fields utime,
 * stime, cutime and cstime of /proc/self/stat (proc(5)). For a scenario worker that is the
 * harness's own cost — the observer's polls, the writer, the faults' commands — and none of the
 * cluster's daemons, which the hosts' inits reap.
 */
export function selfAndChildrenCpuMs(stat = readFileSync('/proc/self/stat', 'utf8')): number {
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime..cstime are fields 14..17.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]), 0);
  return (ticks * 1000) / TICKS_PER_S;
}
