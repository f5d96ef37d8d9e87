import { describe, expect, it } from 'vitest';
import { machineCpuBetween, machineCpuSample, selfAndChildrenCpuMs } from '../../lib/util/cpu.js';

describe("the harness's CPU from /proc/self/stat", () => {
  it('sums utime, stime, cutime and cstime (fields 14–17), counting fields after the command name', () => {
    // A real line (cat's own), its command name changed to one with a space and a ')' inside.
    const line =
      '3571 (my (cat) x) R 3568 3568 3568 0 -1 4194304 107 0 0 0 7 3 120 50 20 0 1 0 1283349 5586944 229 18446744073709551615 94596374138880 94596374154241 140727389655824 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94596374169264 94596374170792 94596397674496 140727389662181 140727389662201 140727389662201 140727389667307 0\n';
    expect(selfAndChildrenCpuMs(line)).toBe((7 + 3 + 120 + 50) * 10);
  });

  it('reads this process and grows with the work it does', () => {
    const before = selfAndChildrenCpuMs();
    const end = performance.now() + 150;
    while (performance.now() < end);
    expect(selfAndChildrenCpuMs()).toBeGreaterThan(before);
  });
});

// /proc/stat's first line and /proc/pressure/cpu on this 2-core machine, read 1 s apart (2026-11-29).
const pressure = (total: number) =>
  `some avg10=10.86 avg60=12.20 avg300=12.35 total=${total}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;
const idle = [
  machineCpuSample({ stat: 'cpu  767751 413 650619 6572269 6184 0 16882 173 0 0\n', pressure: pressure(3308204039) }),
  machineCpuSample({ stat: 'cpu  767751 413 650619 6572468 6184 0 16882 173 0 0\n', pressure: pressure(3308205101) }),
] as const;
// The same, while three busy loops shared the two cores.
const contended = [
  machineCpuSample({ stat: 'cpu  767953 413 650622 6573122 6184 0 16882 173 0 0\n', pressure: pressure(3308731284) }),
  machineCpuSample({ stat: 'cpu  768155 413 650623 6573122 6184 0 16882 173 0 0\n', pressure: pressure(3309244380) }),
] as const;

describe("the machine's CPU from /proc/stat and /proc/pressure/cpu", () => {
  it('is idle and uncontended on a quiet machine', () => {
    expect(machineCpuBetween(idle[0], idle[1], 1000)).toEqual({ busyPercent: 0, waitingPercent: 0.1 });
  });

  it('shows every core busy and tasks waiting half the time with three loops on two cores', () => {
    expect(machineCpuBetween(contended[0], contended[1], 1000)).toEqual({ busyPercent: 100, waitingPercent: 51.3 });
  });

  it('leaves the waiting out on a kernel without pressure stall information', () => {
    const a = machineCpuSample({ stat: 'cpu  767953 413 650622 6573122 6184 0 16882 173 0 0\n' });
    expect(machineCpuBetween(a, contended[1], 1000)).toEqual({ busyPercent: 100 });
    expect(machineCpuSample().totalTicks).toBeGreaterThan(0);
  });
});
