import { describe, expect, it } from 'vitest';
import { selfAndChildrenCpuMs } from '../../lib/util/cpu.js';

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
