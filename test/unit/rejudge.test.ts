import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaseRunRecord } from '../../lib/results.js';
import { rejudge, rejudgedRuns } from '../../lib/rejudge.js';
import type { Run } from '../../lib/report/regression.js';
import { Profile } from '../../lib/profile/load.js';
import { loadExpectations } from '../../lib/profile/expectations.js';

// Case runs of a whole `npm test` on the lab (captured after the workload's keys stopped colliding):
// their verdicts must come back the same from their histories alone, without a cluster.
const DIR = join(import.meta.dirname, '../../fixtures/judge');
const RUN = join(DIR, readdirSync(DIR)[0]!);
const records = readdirSync(RUN)
  .filter((f) => f.endsWith('.result.json'))
  .map((f) => JSON.parse(readFileSync(join(RUN, f), 'utf8')) as CaseRunRecord);

describe('npm run judge: verdicts from the saved history alone', () => {
  it('every act and data verdict of the saved run comes back the same', () => {
    const rows = rejudge(RUN);
    expect(rows.length).toBe(records.reduce((n, r) => n + r.acts.length + (r.data ? 1 : 0), 0));
    expect(rows.filter((r) => r.recorded !== r.now).map((r) => `${r.caseRun} ${r.what}: ${r.recorded} → ${r.now} (${r.detail})`)).toEqual(
      [],
    );
  });

  it('the data claim of every case run has its evidence: ≥ 20 writes acknowledged through the VIP before the first fault', () => {
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.data!.ackedBeforeFault, r.caseId).toBeGreaterThanOrEqual(20);
      expect(r.data!.verdict, r.caseId).not.toBe('inconclusive');
    }
  });

  it('against a tighter budget the same histories are judged otherwise, naming both figures', () => {
    const seed = loadExpectations(Profile.load('seed'));
    const rows = rejudge(RUN, () => ({ ...seed, '2-pacemaker-stop': { ...seed['2-pacemaker-stop']!, failoverWithinMs: 1 } }));
    const stop = rows.find((r) => r.what === '2-pacemaker-stop')!;
    expect(stop.now).toBe('fail');
    expect(stop.detail).toMatch(/failover took \d+\.\d\d s, over the profile's budget of 0\.00 s \(failoverWithinMs\)/);
  });

  it('npm run compare shows what the current expectations say of the saved runs, not what was recorded', () => {
    const seed = loadExpectations(Profile.load('seed'));
    const runs: Run[] = [{ runId: RUN.split('/').at(-1)!, startedAt: '', records }];
    const same = rejudgedRuns(runs, DIR, () => seed);
    expect(same[0]!.records.flatMap((r) => r.acts.map((a) => a.verdict))).toEqual(records.flatMap((r) => r.acts.map((a) => a.verdict)));
    const tighter = rejudgedRuns(runs, DIR, () => ({ ...seed, '2-pacemaker-stop': { ...seed['2-pacemaker-stop']!, failoverWithinMs: 1 } }));
    const stop = tighter[0]!.records.flatMap((r) => r.acts).find((a) => a.act === '2-pacemaker-stop')!;
    expect(stop.verdict).toBe('fail');
    expect(stop.mismatches[0]).toMatch(/over the profile's budget of 0\.00 s/);
    // A profile that is gone (a deleted copy) keeps the recorded verdicts.
    const gone = rejudgedRuns(runs, DIR, () => {
      throw new Error('no such profile');
    });
    expect(gone[0]!.records.map((r) => r.acts)).toEqual(records.map((r) => r.acts));
  });
});
