import { describe, inject, it } from 'vitest';
import { drawSchedule } from '../../lib/faults/catalogue.js';
import { scenario } from '../../lib/scenario.js';

// A random schedule (issue 12, after Jepsen's nemesis generator): `npm run chaos -- --random N
// --seed S` draws N faults from the catalogue (lib/faults/catalogue.ts), the same ones for the same
// seed. Each is a case of its own: prepared, injected, judged against its act's expectation, then
// undone and audited before the next one is drawn.
const random = inject('runConfig')?.random;
if (random) {
  drawSchedule(random.count, random.seed).forEach((entry, i) => {
    scenario({
      id: `R${i + 1}`,
      title: `random ${i + 1}/${random.count} (seed ${random.seed}): ${entry.title}`,
      acts: (c) => [{ id: entry.act, fault: entry.fault(c) }],
    });
  });
} else {
  describe('random schedule', () => {
    it.skip('needs npm run chaos -- --random N --seed S', () => {});
  });
}
