import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, deriveOutcome } from '../../lib/checks/outcome.js';
import { judge } from '../../lib/checks/verdict.js';
import { History, type HistoryEvent } from '../../lib/history.js';
import { Profile } from '../../lib/profile/load.js';
import { loadExpectations } from '../../lib/profile/expectations.js';

// Histories recorded by real scenario runs against the lab (reports/runs/…/*.history.json).
function history(f: string): History {
  return History.fromJSON(
    JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/histories', f), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    },
  );
}

/** The window the runner judged, from the act's own end event. */
function actWindow(h: History, act: string): [number, number] {
  const end = h.actEnds().find((e) => e.act === act)!;
  return [end.from, end.to];
}

const expectations = loadExpectations(Profile.load('seed'));

/** The outcome of one act of a recorded history, and its judgement against that act's expectation. */
function judged(file: string, act: string, faulted: string) {
  const h = history(file);
  const [from, to] = actWindow(h, act);
  const o = deriveOutcome(h, from, to, faulted);
  return { o, j: judge(expectations[act]!, o) };
}

describe('checker on recorded histories', () => {
  it('corosync stop: dual VIP from the history, judged a hazard as the notebook expects', () => {
    const h = history('5-corosync-stop.history.json');
    const [from, to] = actWindow(h, '5-corosync-stop');
    const o = deriveOutcome(h, from, to, 'db1');
    expect(o.vipAfter).toBe('both');
    expect(o.initialHolders).toEqual(['db1']);
    expect(o.finalHolders).toEqual(['db1', 'db2']);
    expect(o.dualVip.seen).toBe(true);
    expect(o.dualVip.stillAtEnd).toBe(true);
    expect(o.dualVip.longestMs).toBeGreaterThan(5000);
    expect(o.daemonsAfter.db1).toMatchObject({ corosync: false });
    const j = judge(expectations['5-corosync-stop']!, o);
    expect(j.verdict).toBe('hazard');
    expect(j.mismatches).toEqual([]);
  });

  it('pacemaker stop: a clean failover with its time from the 100 ms observations', () => {
    const h = history('2-pacemaker-stop.history.json');
    const [from, to] = actWindow(h, '2-pacemaker-stop');
    const o = deriveOutcome(h, from, to, 'db1');
    expect(o).toMatchObject({ vipAfter: 'moved', initialHolders: ['db1'], finalHolders: ['db2'] });
    expect(o.dualVip.seen).toBe(false);
    expect(o.timeToFailoverMs).toBeGreaterThan(0);
    expect(o.timeToFailoverMs).toBeLessThan(5000);
    expect(judge(expectations['2-pacemaker-stop']!, o).verdict).toBe('pass');
  });

  it('the same outcome judged against a different expectation is a fail that says what and when', () => {
    const h = history('5-corosync-stop.history.json');
    const [from, to] = actWindow(h, '5-corosync-stop');
    const j = judge(expectations['2-pacemaker-stop']!, deriveOutcome(h, from, to, 'db1'));
    expect(j.verdict).toBe('fail');
    expect(j.mismatches[0]).toMatch(/expected the VIP to end moved, saw both: on db1 and db2 at \+\d+\.\d\d s \(was on db1\)/);
    expect(j.mismatches).toContainEqual(expect.stringMatching(/expected no dual VIP, saw one from \+\d/));
  });

  it('forced move then failure while pinned: the VIP ends nowhere', () => {
    const h = history('7-forced-move.history.json');
    const [from, to] = actWindow(h, '7-new-holder-fails-while-pinned');
    const o = deriveOutcome(h, from, to, 'db2');
    expect(o.vipAfter).toBe('none');
    expect(judge(expectations['7-new-holder-fails-while-pinned']!, o).verdict).toBe('hazard');
  });

  it("a hazard named as the operator's own command carries what to run instead, and only when it is the sole hazard", () => {
    const instead = 'crm resource move vip db2 lifetime=PT5M';
    const h = history('7-forced-move.history.json');
    const [from, to] = actWindow(h, '7-new-holder-fails-while-pinned');
    const o = deriveOutcome(h, from, to, 'db2');
    const e = expectations['7-new-holder-fails-while-pinned']!;
    expect(judge({ ...e, operatorInstead: instead }, o)).toMatchObject({ verdict: 'hazard', operatorInstead: instead });
    expect(judge(e, o).operatorInstead).toBeUndefined();
    // A dual VIP (corosync stop) is the configuration's danger, whatever the expectation says of the operator.
    const [f5, t5] = actWindow(history('5-corosync-stop.history.json'), '5-corosync-stop');
    const o5 = deriveOutcome(history('5-corosync-stop.history.json'), f5, t5, 'db1');
    const e5 = { ...expectations['5-corosync-stop']!, hazard: 'the operator stopped corosync', operatorInstead: 'crm node standby first' };
    const j5 = judge(e5, o5);
    expect(j5.verdict).toBe('hazard');
    expect(j5.operatorInstead).toBeUndefined();
  });

  it('kill -9 pacemaker-based with the CIB daemon not respawned: a dual VIP that outlasts the window is a named hazard', () => {
    // Seen in 2 of 8 runs (bench:cases and a CI run, 2026-11-25): db2 took the VIP, db1 kept it, pacemaker-based stayed down.
    const { o, j } = judged('4-kill-pacemaker-based.dual-vip-stuck.history.json', '4-kill-pacemaker-based', 'db1');
    expect(o).toMatchObject({ vipAfter: 'both', initialHolders: ['db1'], finalHolders: ['db1', 'db2'] });
    expect(o.dualVip).toMatchObject({ seen: true, stillAtEnd: true });
    expect(o.daemonsAfter.db1).toMatchObject({ corosync: true, pacemakerd: true, children: 5 });
    expect(j.verdict).toBe('hazard');
    expect(j.hazard).toContain('the VIP stayed on both nodes');
    expect(j.hazard).toContain('stayed down');
    // The other children were never seen to do this: the same outcome there is a fail.
    expect(judge(expectations['4-kill-pacemaker-execd']!, o).verdict).toBe('fail');
  });

  it('kill -9 pacemaker-execd: a dual VIP that Pacemaker resolves onto the peer is a named hazard', () => {
    // Seen in a CI run (2026-11-25): db2 started the VIP too, then multiple-active recovery kept it there.
    const { o, j } = judged('4-kill-pacemaker-execd.moved.history.json', '4-kill-pacemaker-execd', 'db1');
    expect(o).toMatchObject({ vipAfter: 'moved', initialHolders: ['db1'], finalHolders: ['db2'] });
    expect(o.dualVip).toMatchObject({ seen: true, stillAtEnd: false });
    expect(j.verdict).toBe('hazard');
    expect(j.hazard).toContain('multiple-active recovery');
    // Never seen for pacemaker-fenced: there the same outcome is a fail (a change worth a look).
    expect(judge(expectations['4-kill-pacemaker-fenced']!, o).verdict).toBe('fail');
  });

  it('classifies final holders relative to the initial ones', () => {
    expect(classify(['db1'], ['db1'])).toBe('stayed');
    expect(classify(['db1'], ['db2'])).toBe('moved');
    expect(classify(['db1'], ['db1', 'db2'])).toBe('both');
    expect(classify(['db1'], [])).toBe('none');
    expect(classify([], ['db1'])).toBe('moved');
  });
});
