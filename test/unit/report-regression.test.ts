import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { History } from '../../lib/history.js';
import type { ActResult, CaseRunRecord } from '../../lib/results.js';
import { regressionSincePrevious, summaryTable, writeCaseRun } from '../../lib/results.js';
import { diffLatest, regressionLines, regressionMarkdown, type Run } from '../../lib/report/regression.js';

function act(
  caseId: string,
  actId: string,
  o: Partial<{ verdict: ActResult['verdict']; final: string[]; dual: boolean; ttf: number; faulted: string }>,
): ActResult {
  const final = o.final ?? ['db2'];
  return {
    runId: 'r',
    caseId,
    caseTitle: caseId,
    act: actId,
    actTitle: actId,
    repetition: 1,
    target: 't',
    profile: 'seed',
    fault: 'f',
    verdict: o.verdict ?? 'pass',
    expected: '',
    seen: 'seen',
    mismatches: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    outcome: {
      faulted: o.faulted ?? 'db1',
      initialHolders: ['db1'],
      finalHolders: final,
      vipAfter: final.length > 1 ? 'both' : 'moved',
      dualVip: { seen: !!o.dual, longestMs: o.dual ? 5000 : 0, stillAtEnd: false },
      noVip: { longestMs: 0 },
      timeToFailoverMs: o.ttf,
      daemonsAfter: {},
      observations: 3,
      windowMs: 9000,
    },
  } as ActResult;
}
const rec = (
  runId: string,
  startedAt: string,
  acts: ActResult[],
  auditsOk = true,
  scope = { profile: 'seed', target: 't' },
): CaseRunRecord => ({
  runId,
  startedAt,
  caseId: acts[0]!.caseId,
  caseTitle: 'c',
  repetition: 1,
  ...scope,
  overrides: [],
  acts,
  audits: [],
  auditsOk,
  healed: false,
  wallMs: 1,
  recoveryErrors: [],
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
    const kinds = d.changes
      .filter((c) => c.caseId === '2')
      .map((c) => `${c.kind}:${c.direction}`)
      .sort();
    expect(kinds).toEqual(['audits:worse', 'dual-vip:worse', 'failover:worse', 'final-holder:worse', 'verdict:worse']);
    // Case 5 is the same outcome (ttf within the tolerance): no lines.
    expect(d.changes.filter((c) => c.caseId === '5')).toEqual([]);
    const lines = regressionLines(d);
    expect(lines.some((l) => l.startsWith('REGRESSION') && l.includes('2 / 2-stop: verdict pass → fail'))).toBe(true);
    expect(regressionMarkdown(d, [prev, cur])).toContain('**5 regression(s).**');
    expect(summaryTable(cur.records, lines)).toContain('changes against earlier runs:');
  });

  it('compares a partial run with the last run that had the act; no previous run, no lines', () => {
    const partial = run('B', '2026-01-02T00:00:00Z', [
      rec('B', '2026-01-02T00:00:00Z', [act('5', '5-corosync-stop', { verdict: 'hazard', final: ['db1', 'db2'], dual: true, ttf: 1300 })]),
    ]);
    const c = run('C', '2026-01-03T00:00:00Z', [rec('C', '2026-01-03T00:00:00Z', [act('2', '2-stop', { ttf: 210 })])]);
    const d = diffLatest([prev, partial, c]);
    expect(d.previous).toBe('B');
    expect(d.compared).toBe(1);
    expect(regressionLines(d)).toEqual(['no changes against earlier runs (1 acts compared; previous run B)']);
    expect(regressionLines(diffLatest([prev]))).toEqual(['no previous run of profile seed on target t']);
    expect(summaryTable(prev.records)).not.toContain('changes against');
  });

  // Case 2 regresses between A and the two runs below; only a run of the same profile on the same target may say so.
  const worse = (runId: string, startedAt: string, scope: { profile: string; target: string }) =>
    run(runId, startedAt, [
      rec(runId, startedAt, [act('2', '2-stop', { verdict: 'fail', final: ['db1', 'db2'], dual: true, ttf: 2500 })], true, scope),
    ]);

  it('never compares runs of different profiles, or of different targets', () => {
    for (const scope of [
      { profile: 'my-profile', target: 't' },
      { profile: 'seed', target: 'vagrant' },
    ]) {
      const d = diffLatest([prev, worse('B', '2026-01-02T00:00:00Z', scope)]);
      expect(d.previous).toBeUndefined();
      expect(d.changes).toEqual([]);
      const lines = regressionLines(d);
      expect(lines).toEqual([`no previous run of profile ${scope.profile} on target ${scope.target}`]);
      expect(lines.some((l) => l.startsWith('REGRESSION'))).toBe(false);
      expect(regressionMarkdown(d, [prev])).toContain(`No previous run of profile ${scope.profile} on target ${scope.target}.`);
    }
  });

  it('takes every lab the harness builds from the profile as one target, whatever its name and subnet (--parallel)', () => {
    const lab = (name: string, subnet: string) => ({ profile: 'seed', target: `netns lab '${name}' on ${subnet}` });
    const a = run('A2', '2026-01-01T00:00:00Z', [
      rec('A2', '2026-01-01T00:00:00Z', [act('2', '2-stop', {})], true, lab('suite', '10.11.22.0/24')),
    ]);
    const d = diffLatest([a, worse('B2', '2026-01-02T00:00:00Z', lab('suite-2', '10.11.23.0/24'))]);
    expect(d.previous).toBe('A2');
    expect(regressionLines(d)).toContain('REGRESSION 2 / 2-stop: verdict pass → fail');
    // An SSH target stays the cluster its config names.
    expect(
      diffLatest([a, worse('B3', '2026-01-02T00:00:00Z', { profile: 'seed', target: 'ssh target vagrant: root@db1,db2' })]).previous,
    ).toBeUndefined();
  });

  it('compares with the last run of the same profile and target, past runs of another profile', () => {
    const other = worse('B', '2026-01-02T00:00:00Z', { profile: 'my-profile', target: 't' });
    const d = diffLatest([prev, other, worse('C', '2026-01-03T00:00:00Z', { profile: 'seed', target: 't' })]);
    expect(d.previous).toBe('A');
    expect(d.baselines).toEqual([{ profile: 'seed', target: 't', previous: 'A' }]);
    expect(regressionLines(d)).toContain('REGRESSION 2 / 2-stop: verdict pass → fail');
  });

  it('regressionSincePrevious reads reports/runs and says when a run has no baseline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-regression-test-'));
    try {
      const save = (r: Run) => {
        for (const x of r.records) writeCaseRun(x, {} as History, join(dir, 'runs', r.runId));
      };
      [prev, worse('B', '2026-01-02T00:00:00Z', { profile: 'my-profile', target: 't' })].forEach(save);
      expect(regressionSincePrevious('A', dir)).toEqual(['no previous run of profile seed on target t']);
      expect(regressionSincePrevious('B', dir)).toEqual(['no previous run of profile my-profile on target t']);
      save(worse('C', '2026-01-03T00:00:00Z', { profile: 'seed', target: 't' }));
      expect(regressionSincePrevious('C', dir)?.filter((l) => l.startsWith('REGRESSION')).length).toBeGreaterThan(0);
      expect(regressionSincePrevious('nope', dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
