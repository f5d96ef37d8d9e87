import { describe, expect, it } from 'vitest';
import type { ActResult, CaseRunRecord } from '../../lib/results.js';
import { summaryTable } from '../../lib/results.js';
import { diffLatest, regressionLines, regressionMarkdown, type Run } from '../../lib/report/regression.js';

function act(caseId: string, actId: string, o: Partial<{ verdict: ActResult['verdict']; final: string[]; dual: boolean; ttf: number; faulted: string }>): ActResult {
  const final = o.final ?? ['db2'];
  return {
    runId: 'r', caseId, caseTitle: caseId, act: actId, actTitle: actId, repetition: 1, target: 't', profile: 'seed', fault: 'f', verdict: o.verdict ?? 'pass',
    expected: '', seen: 'seen', mismatches: [], startedAt: '2026-01-01T00:00:00.000Z',
    outcome: {
      faulted: o.faulted ?? 'db1', initialHolders: ['db1'], finalHolders: final, vipAfter: final.length > 1 ? 'both' : 'moved',
      dualVip: { seen: !!o.dual, longestMs: o.dual ? 5000 : 0, stillAtEnd: false }, noVip: { longestMs: 0 }, timeToFailoverMs: o.ttf,
      daemonsAfter: {}, observations: 3, windowMs: 9000,
    },
  } as ActResult;
}
const rec = (runId: string, startedAt: string, acts: ActResult[], auditsOk = true): CaseRunRecord => ({
  runId, startedAt, caseId: acts[0]!.caseId, caseTitle: 'c', repetition: 1, target: 't', profile: 'seed', overrides: [], acts, audits: [], auditsOk, healed: false, wallMs: 1, recoveryErrors: [],
});
const run = (runId: string, startedAt: string, records: CaseRunRecord[]): Run => ({ runId, startedAt, records });

describe('regression diff', () => {
  const prev = run('A', '2026-01-01T00:00:00Z', [
    rec('A', '2026-01-01T00:00:00Z', [act('2', '2-stop', { ttf: 200 })]),
    rec('A', '2026-01-01T00:01:00Z', [act('5', '5-corosync-stop', { verdict: 'hazard', final: ['db1', 'db2'], dual: true, ttf: 1300 })]),
  ]);

  it('reports verdict, dual VIP, final holder, failover time and audits changes', () => {
    const cur = run('B', '2026-01-02T00:00:00Z', [
      rec('B', '2026-01-02T00:00:00Z', [act('2', '2-stop', { verdict: 'fail', final: ['db1', 'db2'], dual: true, ttf: 2500 })], false),
      rec('B', '2026-01-02T00:01:00Z', [act('5', '5-corosync-stop', { verdict: 'hazard', final: ['db2', 'db1'], dual: true, ttf: 1400 })]),
    ]);
    const d = diffLatest([prev, cur]);
    expect(d.previous).toBe('A');
    const kinds = d.changes.filter((c) => c.caseId === '2').map((c) => `${c.kind}:${c.direction}`).sort();
    expect(kinds).toEqual(['audits:worse', 'dual-vip:worse', 'failover:worse', 'final-holder:worse', 'verdict:worse']);
    // Case 5 is the same outcome (ttf within the tolerance): no lines.
    expect(d.changes.filter((c) => c.caseId === '5')).toEqual([]);
    const lines = regressionLines(d);
    expect(lines.some((l) => l.startsWith('REGRESSION') && l.includes('2 / 2-stop: verdict pass → fail'))).toBe(true);
    expect(regressionMarkdown(d, [prev, cur])).toContain('**5 regression(s).**');
    expect(summaryTable(cur.records, lines)).toContain('changes against earlier runs:');
  });

  it('compares a partial run with the last run that had the act; no previous run, no lines', () => {
    const partial = run('B', '2026-01-02T00:00:00Z', [rec('B', '2026-01-02T00:00:00Z', [act('5', '5-corosync-stop', { verdict: 'hazard', final: ['db1', 'db2'], dual: true, ttf: 1300 })])]);
    const c = run('C', '2026-01-03T00:00:00Z', [rec('C', '2026-01-03T00:00:00Z', [act('2', '2-stop', { ttf: 210 })])]);
    const d = diffLatest([prev, partial, c]);
    expect(d.previous).toBe('B');
    expect(d.compared).toBe(1);
    expect(regressionLines(d)).toEqual(['no changes against earlier runs (1 acts compared; previous run B)']);
    expect(regressionLines(diffLatest([prev]))).toEqual([]);
    expect(summaryTable(prev.records)).not.toContain('changes against');
  });
});
