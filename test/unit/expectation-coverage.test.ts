import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { CaseDefinition } from '../../lib/run-case.js';
import { Profile } from '../../lib/profile/load.js';
import { loadExpectations } from '../../lib/profile/expectations.js';
import type { Target } from '../../lib/targets/target.js';

// The scenario files register their cases through scenario(); here it only collects them, so a
// missing expectation shows in the unit tests instead of on a live cluster.
const cases: CaseDefinition[] = [];
vi.mock('../../lib/scenario.js', () => ({ scenario: (d: CaseDefinition) => cases.push(d) }));

const ROOT = join(import.meta.dirname, '../..');
const profiles = readdirSync(join(ROOT, 'profiles'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

describe('every act of every scenario has an expectation in every profile', async () => {
  // The notebook's rows and the faults beyond it (scenarios/beyond/, chaos-only until measured).
  for (const dir of ['scenarios', 'scenarios/beyond'])
    for (const f of readdirSync(join(ROOT, dir)).filter((x) => x.endsWith('.test.ts'))) await import(join(ROOT, dir, f));

  it('finds the scenarios', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of profiles) {
    it(`profile ${name}`, () => {
      const profile = Profile.load(name);
      const expectations = loadExpectations(profile);
      const acts = cases
        .filter((c) => !c.notFor?.(profile))
        .flatMap((c) => c.acts({ target: { profile } as Target, holder: 'db1', other: 'db2' }).map((a) => `${c.id}: ${a.id}`));
      expect(acts.length).toBeGreaterThan(cases.length);
      expect(
        acts.filter((a) => !expectations[a.split(': ')[1]!]),
        `acts without an expectation in profiles/${name}/expectations.json`,
      ).toEqual([]);
      // And no expectation that no act uses (a renamed act leaves one behind). A variant answers
      // for its own file only: the base's acts it cannot run (case 15 breaks fence_mhc's path) are
      // checked with the base.
      const used = new Set(acts.map((a) => a.split(': ')[1]));
      const own = join(profile.dir, 'expectations.json');
      const keys = !profile.baseDir
        ? Object.keys(expectations)
        : existsSync(own)
          ? Object.keys(JSON.parse(readFileSync(own, 'utf8')).acts)
          : [];
      expect(
        keys.filter((k) => !used.has(k)),
        'expectations no act uses',
      ).toEqual([]);
    });
  }
});
