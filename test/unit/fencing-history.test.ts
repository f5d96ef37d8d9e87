import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeAct } from '../../lib/checks/verdict.js';
import { hostsBack, rebootedHosts, recordFencing, stillFencing } from '../../lib/fencing/observe.js';
import { History, type HistoryEvent, type NodeObservation } from '../../lib/history.js';
import { loadExpectations } from '../../lib/profile/expectations.js';
import { Profile } from '../../lib/profile/load.js';
import {
  describeFence,
  type FenceOperation,
  fenceHistory,
  fencedSince,
  mergeFenceHistories,
  parseFenceHistory,
} from '../../lib/probes/fencing.js';
import { PACEMAKER_CHILDREN } from '../../lib/probes/processes.js';
import type { ExecResult, Target } from '../../lib/targets/target.js';

const FIX = join(import.meta.dirname, '../../fixtures');

describe("Pacemaker's fencing history (stonith_admin --history '*' --output-as=xml, captured on the hardened lab)", () => {
  it('one reboot of db2 asked by hand on db1 and carried out by db1', () => {
    const ops = parseFenceHistory(readFileSync(join(FIX, 'lab/stonith_admin-history.reboot.xml'), 'utf8'));
    expect(ops).toEqual([
      {
        target: 'db2',
        action: 'reboot',
        status: 'success',
        origin: 'db1',
        delegate: 'db1',
        client: 'stonith_admin.3933',
        completedAt: Date.UTC(2026, 10, 28, 13, 40, 25),
        exitReason: undefined,
      },
    ]);
    expect(describeFence(ops[0]!)).toBe('db2 fenced (reboot) by db1');
  });

  it('an empty history is no operation', () => {
    const empty =
      '<pacemaker-result api-version="2.25" request="stonith_admin --history * --output-as=xml">\n  <list name="fencing history" count="0"/>\n  <status code="0" message="OK"/>\n</pacemaker-result>';
    expect(parseFenceHistory(empty)).toEqual([]);
  });
});

// Captured on the hardened-ipmi lab: db2 fenced by hand from db1, then both asked 20 s later, when
// db2 had booted and its fencer had just started (before it synced with db1's).
const FRESH = readFileSync(join(FIX, 'lab/stonith_admin-history.fresh-after-fencing.xml'), 'utf8');
const PEER = readFileSync(join(FIX, 'lab/stonith_admin-history.peer-of-fresh.xml'), 'utf8');
const db1FencedAt = Date.UTC(2026, 10, 29, 12, 28, 52);

/** A target whose hosts answer stonith_admin with captured outputs (undefined: the host does not answer). */
function answeringTarget(answers: Record<string, string | undefined>): Target {
  return {
    profile: Profile.load('hardened'),
    async exec(host: string): Promise<ExecResult> {
      const out = answers[host];
      return out === undefined
        ? { stdout: '', stderr: 'Could not connect to fencer', exitCode: 102 }
        : { stdout: out, stderr: '', exitCode: 0 };
    },
  } as unknown as Target;
}

describe('a fencer that has just started answers with an empty history (captured on the hardened-ipmi lab)', () => {
  it("so the history is every host's answer merged, each operation once", async () => {
    expect(parseFenceHistory(FRESH)).toEqual([]);
    const merged = await fenceHistory(answeringTarget({ db1: FRESH, db2: PEER }));
    expect(merged?.map(describeFence)).toEqual(['db2 fenced (reboot) by db1', 'db2 fenced (reboot) by db1', 'db1 fenced (reboot) by db2']);
    expect(mergeFenceHistories([parseFenceHistory(PEER), parseFenceHistory(PEER)])).toHaveLength(3);
  });

  it('one host not answering leaves the other\'s; none answering is unknown, not "no fencing"', async () => {
    expect(await fenceHistory(answeringTarget({ db1: undefined, db2: PEER }))).toHaveLength(3);
    expect(await fenceHistory(answeringTarget({ db1: undefined, db2: undefined }))).toBeUndefined();
  });

  it('the fencing of db1 reaches the act, which then waits for db1 to boot (case 1: db1 asked first, just booted)', async () => {
    const h = new History(new Date(db1FencedAt - 28_000));
    expect(await recordFencing(answeringTarget({ db1: FRESH, db2: PEER }), h, 2_000)).toBe(3);
    expect(rebootedHosts(h, 2_000)).toContain('db1');
  });
});

describe('whether a host was fenced since a time (a fault whose process died with its host)', () => {
  const ops = parseFenceHistory(PEER);
  it("finds the host's fencing completed at or after the time (the fencer's whole seconds: 1 s slack)", () => {
    expect(fencedSince(ops, 'db1', Date.UTC(2026, 10, 29, 12, 28, 40))?.completedAt).toBe(db1FencedAt);
    expect(fencedSince(ops, 'db1', db1FencedAt + 900)?.target).toBe('db1');
    expect(fencedSince(ops, 'db1', db1FencedAt + 1500)).toBeUndefined();
    expect(fencedSince([], 'db1', 0)).toBeUndefined();
  });
  it('a fencing still pending counts (the power is already cut); a failed one does not', () => {
    const pending: FenceOperation = { target: 'db2', action: 'reboot', status: 'pending' };
    expect(fencedSince([pending], 'db2', Date.now())).toBe(pending);
    expect(fencedSince([{ ...pending, status: 'failed', completedAt: Date.now() }], 'db2', 0)).toBeUndefined();
  });
});

describe('fencing in the verdict', () => {
  // The hardened profile's first recorded 2-pacemaker-restart (no fencing happened in it), with a
  // fencing operation planted in the act: what the runner adds after the act from the fencer's history.
  const hardened = loadExpectations(Profile.load('hardened'));
  const judgedWith = (op: FenceOperation) => {
    const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened/2-pacemaker-restart.history.json'), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    };
    const h = History.fromJSON(d);
    const end = h.actEnds().find((e) => e.act === '2-pacemaker-restart')!;
    h.events.push({ t: end.from + 4000, type: 'fence', op });
    return judgeAct(h, end, hardened['2-pacemaker-restart']!);
  };
  const op: FenceOperation = { target: 'db2', action: 'reboot', status: 'success', origin: 'db1', delegate: 'db1' };

  it('a successful fencing is told in what was seen, with when; it changes no verdict by itself', () => {
    const j = judgedWith(op);
    expect(j.seen).toContain('db2 fenced (reboot) by db1 at +4.00 s');
    expect(j.mismatches.join()).not.toMatch(/fenc/);
  });

  it('a failed fencing fails the act, said as such (Pacemaker blocks the resources meanwhile)', () => {
    const j = judgedWith({ ...op, status: 'failed', exitReason: 'power switch unreachable' });
    expect(j.verdict).toBe('fail');
    expect(j.mismatches).toContain('fencing of db2 (reboot) by db1 failed: power switch unreachable (at +4.00 s)');
  });
});

/** Case 1 of a recorded hardened history (optionally doctored), judged against the hardened expectations. */
function judgedCase1(file: string, doctor: (e: HistoryEvent) => HistoryEvent = (e) => e) {
  const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened', file), 'utf8')) as { startedAt: string; events: HistoryEvent[] };
  const h = History.fromJSON({ startedAt: d.startedAt, events: d.events.map(doctor) });
  return judgeAct(h, h.actEnds()[0]!, loadExpectations(Profile.load('hardened'))['1-network-down']!);
}

describe('case 1 on the hardened lab: db1 cut off, fenced by db2, db2 promoted', () => {
  // Recorded 2026-11-28 (run 2026-11-28T14-03-28-756Z). db2 keeps its old replica channel, both
  // threads stopped, once promoted: the mariadb agent never resets it.
  const judged = (doctor?: (e: HistoryEvent) => HistoryEvent) => judgedCase1('1-network-down.history.json', doctor);

  it('passes: the fencing is in what was seen, the promoted db2 is not a writable replica', () => {
    const j = judged();
    expect(j.verdict).toBe('pass');
    expect(j.seen).toMatch(/db1 fenced \(reboot\) by db2 at \+\d+\.\d\d s/);
    expect(j.seen).not.toMatch(/writable replica/);
  });

  it('the same history with db2 replicating while writable (doctored) shows a writable replica', () => {
    const j = judged((e) =>
      e.type === 'mysql' && e.nodes.db2?.replica && e.nodes.db2.readOnly === false
        ? { ...e, nodes: { ...e.nodes, db2: { ...e.nodes.db2, replica: { ...e.nodes.db2.replica, io: 'Yes' } } } }
        : e,
    );
    expect(j.seen).toMatch(/writable replica: db2 from \+/);
  });
});

describe("a fencing that failed because its target came back (Pacemaker 2.1.5's fencer, case 1 on the hardened lab)", () => {
  // Run 2026-11-28T17-56-52-056Z: db1's link came back at +10 s as db2 asked to fence it; db1's
  // fencer answered the query first ("0 devices"), db2's fencer counted that as the only reply
  // expected and failed the fencing with "No fence device". db1 rejoined; the VIP stayed.
  const judged = (doctor?: (e: HistoryEvent) => HistoryEvent) =>
    judgedCase1('1-network-down.fence-failed-target-back.history.json', doctor);
  const db1 = (e: HistoryEvent, n: Partial<NodeObservation>): HistoryEvent =>
    e.type === 'observe' && e.nodes.db1 ? { ...e, nodes: { ...e.nodes, db1: { ...e.nodes.db1, ...n } } } : e;

  it('is moot, said in what was seen, and the act passes', () => {
    const j = judged();
    expect(j.verdict).toBe('pass');
    expect(j.seen).toMatch(/fencing of db1 \(reboot\) by db2 failed at \+\d+\.\d\d s \(moot: db1 was back in the cluster\)/);
  });

  it('fails the act when the target was never cut off (doctored: db1 always connected), as a kill of pacemaker-based would', () => {
    const j = judged((e) => db1(e, { linkUp: true, corosync: true }));
    expect(j.verdict).toBe('fail');
    expect(j.mismatches).toContainEqual(expect.stringMatching(/^fencing of db1 \(reboot\) by db2 failed/));
  });

  it('fails the act when the target was still cut off (doctored: db1 link down throughout)', () => {
    const j = judged((e) => db1(e, { linkUp: false }));
    expect(j.mismatches).toContainEqual(expect.stringMatching(/^fencing of db1 \(reboot\) by db2 failed/));
  });
});

describe('an act with a fenced host lasts until the host is back', () => {
  const recorded = () => {
    const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened/1-network-down.history.json'), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    };
    return d;
  };
  const upTo = (t: number) => {
    const d = recorded();
    return History.fromJSON({ startedAt: d.startedAt, events: d.events.filter((e) => e.t <= t) });
  };

  it('the host db1 rebooted is waited for; back once observed with corosync, pacemakerd and six children', () => {
    const h = upTo(Infinity);
    const fence = h.events.find((e) => e.type === 'fence')!;
    expect(rebootedHosts(h, 0)).toEqual(['db1']);
    expect(rebootedHosts(h, fence.t + 1)).toEqual([]);
    expect(hostsBack(h, ['db1'])).toBe(true);
  });

  it('not back in the observations right after its power-off (doctored: the history cut there)', () => {
    const h = upTo(Infinity);
    const off = h.observations().find((o) => o.nodes.db1 && !o.nodes.db1.corosync)!;
    expect(hostsBack(upTo(off.t), ['db1'])).toBe(false);
  });

  it('an off that was not followed by an on is no reboot to wait for', () => {
    const d = recorded();
    const events = d.events.map((e) => (e.type === 'fence' ? { ...e, op: { ...e.op, action: 'off' } } : e));
    expect(rebootedHosts(History.fromJSON({ startedAt: d.startedAt, events }), 0)).toEqual([]);
  });
});

describe('failed fencing, as Pacemaker recorded it (captured on the hardened lab with the switch out of reach)', () => {
  const ops = parseFenceHistory(readFileSync(join(FIX, 'lab/stonith_admin-history.failed.xml'), 'utf8'));

  it("the controller's attempts are each a failed operation, with when", () => {
    const failed = ops.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(10);
    expect(failed[0]).toMatchObject({ target: 'db2', action: 'reboot', origin: 'db1', delegate: 'db1', client: 'pacemaker-controld.158' });
    expect(failed[0]!.completedAt).toBe(Date.UTC(2026, 10, 28, 15, 5, 37));
    expect(describeFence(failed[0]!)).toBe('fencing of db2 (reboot) by db1 failed');
  });
});

describe('a fenced host that does not come back (the recorded case 1, doctored after its fencing)', () => {
  // db1 down in every observation from its fencing on: powered off, and its boot never came.
  const stayedAway = (fenceAt: number) => (e: HistoryEvent) =>
    e.type === 'observe' && e.t >= fenceAt && e.nodes.db1
      ? { ...e, nodes: { ...e.nodes, db1: { ...e.nodes.db1, corosync: false, pacemakerd: false, children: [] } } }
      : e;
  const fenceAt = () => {
    const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened/1-network-down.history.json'), 'utf8')) as { events: HistoryEvent[] };
    return d.events.find((e) => e.type === 'fence')!.t;
  };
  const judgedWith = (fencing: 'succeeds' | 'target-not-back') => {
    const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened/1-network-down.history.json'), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    };
    const h = History.fromJSON({ startedAt: d.startedAt, events: d.events.map(stayedAway(fenceAt())) });
    return judgeAct(h, h.actEnds()[0]!, { ...loadExpectations(Profile.load('hardened'))['1-network-down']!, fencing });
  };

  it('fails an act that expects fencing to work, naming the host', () => {
    const j = judgedWith('succeeds');
    expect(j.verdict).toBe('fail');
    expect(j.mismatches).toContainEqual(
      expect.stringMatching(/^db1 was fenced and not back in the cluster at the act's end \(\+\d+\.\d\d s\)$/),
    );
    expect(j.seen).toContain('db1 not back in the cluster after its fencing');
  });

  it("is what an act that breaks the target's boot expects; the recorded history, where db1 came back, is then a mismatch", () => {
    expect(judgedWith('target-not-back').mismatches.join()).not.toMatch(/fenc/);
    const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened/1-network-down.history.json'), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    };
    const h = History.fromJSON(d);
    const j = judgeAct(h, h.actEnds()[0]!, {
      ...loadExpectations(Profile.load('hardened'))['1-network-down']!,
      fencing: 'target-not-back',
    });
    expect(j.verdict).toBe('fail');
    expect(j.mismatches).toContain('expected the fenced host to stay out of the cluster (its boot was broken), saw db1 back');
  });

  it('an act that breaks the fence path fails when every fencing succeeded (the recorded history)', () => {
    const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened/1-network-down.history.json'), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    };
    const h = History.fromJSON(d);
    const j = judgeAct(h, h.actEnds()[0]!, { ...loadExpectations(Profile.load('hardened'))['1-network-down']!, fencing: 'fails' });
    expect(j.verdict).toBe('fail');
    expect(j.mismatches).toEqual([
      expect.stringMatching(/^expected every fencing to fail \(the fence path was broken\), saw db1 fenced \(reboot\) by db2 \(at \+/),
      'expected a fencing to fail (the fence path was broken), saw none fail',
    ]);
  });
});

/** A recorded case-15 act (optionally doctored), judged against the hardened expectation of `act` (or a replacement). */
function judgedFencePath(file: string, act: string, doctor: (e: HistoryEvent) => HistoryEvent = (e) => e, expectation?: string) {
  const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened', file), 'utf8')) as { startedAt: string; events: HistoryEvent[] };
  const h = History.fromJSON({ startedAt: d.startedAt, events: d.events.map(doctor) });
  return judgeAct(h, h.actEnds()[0]!, loadExpectations(Profile.load('hardened'))[expectation ?? act]!);
}

describe('case 15 on the hardened lab: the switch out of reach, then db1 loses corosync', () => {
  // Run 2026-11-28T19-45-59-399Z: db2's controller tried to fence db1 ten times (each try the
  // fencer's two runs of fence_mhc, "No such file or directory"), then gave up; db2 was never
  // promoted, and db1 kept the VIP and its writes (its MariaDB was never stopped).
  const judged = (doctor?: (e: HistoryEvent) => HistoryEvent, expectation?: string) =>
    judgedFencePath('15-fence-switch-unreachable.history.json', '15-fence-switch-unreachable', doctor, expectation);

  it('passes: the failed fencing is said once, with its count and span, and nothing was promoted', () => {
    const j = judged();
    expect(j.verdict).toBe('pass');
    expect(j.seen).toMatch(/^VIP stayed \(db1 → db1\); fencing of db1 \(reboot\) by db2 failed ×10 from \+\d+\.\d\d s to \+\d+\.\d\d s;/);
  });

  it('fails, naming every failed fencing, where the fence path was expected to work (case 6 on the same history)', () => {
    const j = judged(undefined, '6-kill-corosync');
    expect(j.verdict).toBe('fail');
    expect(j.mismatches.filter((m) => m.startsWith('fencing of db1 (reboot) by db2 failed'))).toHaveLength(10);
  });

  it('fails when no fencing failed (doctored: the fence events removed): a broken path must be seen breaking', () => {
    const j = judged((e) => (e.type === 'fence' ? { ...e, type: 'step', name: 'removed', detail: '' } : e) as HistoryEvent);
    expect(j.verdict).toBe('fail');
    expect(j.mismatches).toContain('expected a fencing to fail (the fence path was broken), saw none fail');
  });

  it('fails when a fencing succeeded through the broken path (doctored)', () => {
    let first = true;
    const j = judged((e) => {
      if (e.type !== 'fence' || !first) return e;
      first = false;
      return { ...e, op: { ...e.op, status: 'success' } };
    });
    expect(j.mismatches).toContainEqual(
      expect.stringMatching(/^expected every fencing to fail \(the fence path was broken\), saw db1 fenced \(reboot\) by db2 \(at \+/),
    );
  });
});

describe('case 15 on the hardened lab: db1 fenced, its boot unable to start corosync', () => {
  // Same run: db2 fenced db1 (reboot: off, then on) and was promoted; db1 booted without
  // corosync.conf and stayed out; the act waited the boot delay + 60 s for it, then said so.
  const judged = (doctor?: (e: HistoryEvent) => HistoryEvent, expectation?: string) =>
    judgedFencePath('15-fenced-host-not-back.history.json', '15-fenced-host-not-back', doctor, expectation);

  it('passes: the failover, the fencing and the host that stayed away are all in what was seen', () => {
    const j = judged();
    expect(j.verdict).toBe('pass');
    expect(j.seen).toMatch(
      /VIP moved \(db1 → db2\); failover \d+\.\d\d s;.* db1 fenced \(reboot\) by db2 at \+\d+\.\d\d s; db1 not back in the cluster after its fencing/,
    );
  });

  it('fails where a fenced host is expected back (case 6 on the same history)', () => {
    const j = judged(undefined, '6-kill-corosync');
    expect(j.verdict).toBe('fail');
    expect(j.mismatches).toContainEqual(expect.stringMatching(/^db1 was fenced and not back in the cluster at the act's end/));
  });

  it("fails when db1 came back after all (doctored: its daemons up in the act's last observation)", () => {
    const d = JSON.parse(readFileSync(join(FIX, 'histories/hardened/15-fenced-host-not-back.history.json'), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    };
    const h = History.fromJSON(d);
    const lastAt = h.observations(0, h.actEnds()[0]!.to).at(-1)!.t;
    const children = [...PACEMAKER_CHILDREN];
    const j = judged(
      (e): HistoryEvent =>
        e.type === 'observe' && e.t === lastAt && e.nodes.db1
          ? { ...e, nodes: { ...e.nodes, db1: { ...e.nodes.db1, corosync: true, pacemakerd: true, children } } }
          : e,
    );
    expect(j.mismatches).toContain('expected the fenced host to stay out of the cluster (its boot was broken), saw db1 back');
  });
});

describe('an act that expects its fencing to fail lasts until the controller gave up', () => {
  // The history captured on the hardened lab with the switch unreachable: its failed fencings, none pending.
  const failed = parseFenceHistory(readFileSync(join(FIX, 'lab/stonith_admin-history.failed.xml'), 'utf8'));
  const startedAt = new Date(Date.UTC(2026, 10, 28, 15, 5, 0));
  const since = 10_000; // the act began at 15:05:10Z

  it('is over once failures are recorded and none is pending', () => {
    expect(failed.filter((op) => op.status === 'failed').length).toBeGreaterThanOrEqual(10);
    expect(stillFencing(failed, startedAt, since)).toBe(false);
  });

  it('is not over while no failure is recorded yet, nor while an attempt is pending', () => {
    expect(stillFencing([], startedAt, since)).toBe(true);
    expect(stillFencing([...failed, { target: 'db2', action: 'reboot', status: 'pending' }], startedAt, since)).toBe(true);
  });

  it("counts only the act's own operations: failures from before it do not end it", () => {
    expect(stillFencing(failed, startedAt, 60 * 60_000)).toBe(true);
  });
});
