import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CaseRunRecord, distribution, summaryTable } from '../../lib/results.js';

// Case 2-stop of a recorded run, repeated with the figures of other runs put in (what --repeat prints).
const REC = join(import.meta.dirname, '../../fixtures/judge/2026-11-28T03-29-32-853Z/2-stop.rep1.result.json');
function rep(i: number, ttf: number, unavailable: number, lost = 0): CaseRunRecord {
  const r = JSON.parse(readFileSync(REC, 'utf8')) as CaseRunRecord;
  const a = r.acts[0]!;
  a.outcome = { ...a.outcome, timeToFailoverMs: ttf, writesUnavailableMs: unavailable };
  r.repetition = i;
  r.data = { ...r.data!, lost: Array.from({ length: lost }, (_, k) => ({ key: k, missingOn: ['db2'] })) } as CaseRunRecord['data'];
  return r;
}

describe('the outcome distribution of an act over repetitions', () => {
  it('gives min / median / max of failover and write unavailability, the verdicts and the writes lost', () => {
    const d = distribution([rep(1, 2100, 9000), rep(2, 2500, 9800, 2), rep(3, 3100, 11000)]);
    expect(d).toBe(
      '2-stop: 2-pacemaker-stop: final holder db2 3/3; dual VIP seen 0/3; failover 2.10 / 2.50 / 3.10s (min / median / max); writes unavailable 9.00 / 9.80 / 11.00s (min / median / max); verdicts hazard 3/3; acknowledged writes lost 2',
    );
  });

  it('a figure only some runs have says in how many; a single run gives no distribution', () => {
    const r = rep(2, 0, 9000);
    r.acts[0]!.outcome.timeToFailoverMs = undefined;
    expect(distribution([rep(1, 2100, 9000), r])).toContain('failover 1/2 runs, 2.10s;');
    expect(distribution([rep(1, 2100, 9000)])).toBe('');
  });
});

describe('the run summary', () => {
  it('counts a case run whose act could not be played as a failure, with a row saying why', () => {
    const r = rep(1, 2100, 9000);
    r.acts = [];
    r.actError = '9-delay-100ms: on db1: kernel lacks sch_netem (CONFIG_NET_SCH_NETEM): delay faults need it; loss faults still work';
    const t = summaryTable([rep(1, 2100, 9000), r]);
    expect(t).toMatch(/^9-delay-100ms +NOT PLAYED +on db1: kernel lacks sch_netem/m);
    expect(t).toContain('0 pass, 1 hazard, 0 inconclusive, 0 fail, 1 case run with an act that could not be played (a failure);');
  });
});
