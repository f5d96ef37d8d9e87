import { describe, expect, it } from 'vitest';
import { CATALOGUE, drawSchedule, seededRandom } from '../../lib/faults/catalogue.js';
import { Profile } from '../../lib/profile/load.js';
import { loadExpectations } from '../../lib/profile/expectations.js';
import { resolveRunConfig } from '../../lib/run-config.js';

describe('random schedule', () => {
  it('draws the same faults in the same order from the same seed, others from another', () => {
    const a = drawSchedule(20, 42).map((e) => e.act);
    expect(drawSchedule(20, 42).map((e) => e.act)).toEqual(a);
    expect(drawSchedule(20, 43).map((e) => e.act)).not.toEqual(a);
    expect(a).toHaveLength(20);
    // Spread over the catalogue, not stuck on one entry.
    expect(new Set(drawSchedule(200, 7).map((e) => e.act)).size).toBeGreaterThan(CATALOGUE.length / 2);
    const r = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });

  it('every catalogue act has an expectation in the seed profile (a drawn act can always be judged)', () => {
    const expectations = loadExpectations(Profile.load('seed'));
    expect(CATALOGUE.map((e) => e.act).filter((a) => !expectations[a])).toEqual([]);
    expect(new Set(CATALOGUE.map((e) => e.act)).size).toBe(CATALOGUE.length);
  });

  it('--random N --seed S as the user typed them, with one clear line for a bad one', () => {
    expect(resolveRunConfig({ random: '3', seed: '11' }, {}).random).toEqual({ count: 3, seed: 11 });
    expect(resolveRunConfig({ random: '3' }, {}).random?.seed).toBeTypeOf('number');
    expect(resolveRunConfig({}, {}).random).toBeUndefined();
    expect(() => resolveRunConfig({ random: 'many' }, {})).toThrow(/^bad run option --random: .*\(got "many"\)$/);
    expect(() => resolveRunConfig({ random: '0' }, {})).toThrow(/^bad run option --random: a positive whole number \(got 0\)$/);
    expect(() => resolveRunConfig({ seed: '4' }, {})).toThrow(/^--seed goes with --random N$/);
  });
});
