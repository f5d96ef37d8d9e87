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

/** This machine's CPU counters at one moment: every core's busy and total time, and the CPU pressure stall. */
export interface MachineCpuSample {
  busyTicks: number;
  totalTicks: number;
  /** /proc/pressure/cpu "some" total (µs a runnable task waited for a core); absent without PSI. */
  waitingUs?: number;
}

/** What this machine's cores did between two samples, as shares of the wall time between them. */
export interface MachineCpu {
  /** Busy share of all cores (100 = every core busy all the time). */
  busyPercent: number;
  /** Share of the time in which some runnable task waited for a core (PSI "some"): contention. */
  waitingPercent?: number;
}

/** The text of /proc/stat and of /proc/pressure/cpu (absent without PSI, or with psi=0). */
export interface MachineCpuFiles {
  stat: string;
  pressure?: string;
}

const readMachineCpuFiles = (): MachineCpuFiles => {
  const stat = readFileSync('/proc/stat', 'utf8');
  try {
    return { stat, pressure: readFileSync('/proc/pressure/cpu', 'utf8') };
  } catch {
    return { stat };
  }
};

/**
 * The machine's CPU counters: the aggregate `cpu` line of /proc/stat (user..steal; idle and iowait
 * are not busy) and, where the kernel has pressure stall information, /proc/pressure/cpu.
 */
export function machineCpuSample({ stat, pressure } = readMachineCpuFiles()): MachineCpuSample {
  const ticks = stat.split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const totalTicks = ticks.reduce((a, b) => a + b, 0);
  const waiting = pressure && /^some .*\btotal=(\d+)/m.exec(pressure)?.[1];
  return { busyTicks: totalTicks - idle, totalTicks, ...(waiting ? { waitingUs: Number(waiting) } : {}) };
}

/** The machine's CPU between `a` and `b`, `wallMs` apart. */
export function machineCpuBetween(a: MachineCpuSample, b: MachineCpuSample, wallMs: number): MachineCpu {
  const pct = (x: number) => Math.round(x * 1000) / 10;
  const total = b.totalTicks - a.totalTicks;
  return {
    busyPercent: total > 0 ? pct((b.busyTicks - a.busyTicks) / total) : 0,
    ...(a.waitingUs !== undefined && b.waitingUs !== undefined && wallMs > 0
      ? { waitingPercent: pct((b.waitingUs - a.waitingUs) / 1000 / wallMs) }
      : {}),
  };
}
