import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeAct } from '../../lib/checks/verdict.js';
import { History, type HistoryEvent } from '../../lib/history.js';
import { loadExpectations } from '../../lib/profile/expectations.js';
import { Profile } from '../../lib/profile/load.js';

// Histories of the faults beyond the notebook, each recorded once on the netns lab (2026-11-28).
const DIR = join(import.meta.dirname, '../../fixtures/histories/beyond');
const expectations = loadExpectations(Profile.load('seed'));

type Doctor = (e: HistoryEvent) => HistoryEvent;
function judged(act: string, doctor: Doctor = (e) => e) {
  const d = JSON.parse(readFileSync(join(DIR, `${act}.history.json`), 'utf8')) as { startedAt: string; events: HistoryEvent[] };
  const h = History.fromJSON({ startedAt: d.startedAt, events: d.events.map(doctor) });
  const end = h.actEnds()[0]!;
  expect(end.act).toBe(act);
  return judgeAct(h, end, expectations[act]!);
}

/** Every MySQL reading of `host` changed by `f` (a doctored history: what the run would have shown otherwise). */
const mysqlOf =
  (host: string, f: (m: Extract<HistoryEvent, { type: 'mysql' }>['nodes'][string]) => object): Doctor =>
  (e) =>
    e.type === 'mysql' && e.nodes[host] ? { ...e, nodes: { ...e.nodes, [host]: { ...e.nodes[host], ...f(e.nodes[host]) } } } : e;

describe('hazards of MySQL state are judged from the MySQL observations of the act, not asserted', () => {
  it('a replica seen writable after its restart is the hazard, with the host and when', () => {
    const j = judged('11-kill-mariadbd-replica');
    expect(j.verdict).toBe('hazard');
    expect(j.hazard).toMatch(/^the restarted replica came back writable .* \(seen: db2 from \+7\.12 s\)$/);
    expect(j.seen).toContain('writable replica: db2 from +7.12 s');
  });

  it('the same act with the replica read_only throughout (a doctored history) passes', () => {
    const j = judged(
      '11-kill-mariadbd-replica',
      mysqlOf('db2', (m) => (m.up ? { readOnly: true } : {})),
    );
    expect(j).toMatchObject({ verdict: 'pass', mismatches: [] });
    expect(j.hazard).toBeUndefined();
  });

  it('the power-lost replica booted writable: hazard; read_only after the boot: pass', () => {
    expect(judged('12-power-loss-replica').verdict).toBe('hazard');
    expect(
      judged(
        '12-power-loss-replica',
        mysqlOf('db2', (m) => (m.up ? { readOnly: true } : {})),
      ).verdict,
    ).toBe('pass');
  });

  it('the VIP on a host whose MariaDB is dead is the hazard; never seen down, it passes', () => {
    const j = judged('11-kill-mariadbd-primary');
    expect(j.verdict).toBe('hazard');
    expect(j.hazard).toMatch(/^the cluster does not manage MySQL: .* \(seen: db1 from \+3\.03 s\)$/);
    const up = judged(
      '11-kill-mariadbd-primary',
      mysqlOf('db1', () => ({ up: true, readOnly: false, error: undefined })),
    );
    expect(up).toMatchObject({ verdict: 'pass', mismatches: [] });
  });

  it('a paused mariadbd (its reads time out) counts as a server that does not answer', () => {
    const j = judged('10-pause-mariadbd-primary');
    expect(j.verdict).toBe('hazard');
    expect(j.hazard).toMatch(/\(seen: db1 from \+3\.04 s\)$/);
  });
});

describe('a VIP holder that answers but does not commit (a full disk) is judged from the writes and the readings', () => {
  it("the primary's datadir full: MariaDB waits for space, the VIP stays on it; hazard from the moment writes stalled 5 s", () => {
    const j = judged('14-disk-full-primary');
    expect(j).toMatchObject({ verdict: 'hazard', mismatches: [] });
    expect(j.hazard).toMatch(/^the cluster does not watch MySQL: .* \(seen: db1 from \+6\.32 s\)$/);
    expect(j.seen).toContain('VIP on a host whose MySQL answered but took no write: db1 from +6.32 s');
    expect(j.outcome?.writesUnavailableMs).toBeGreaterThan(50_000);
  });

  it('the same act with every write acknowledged (a doctored history) passes', () => {
    const j = judged('14-disk-full-primary', (e) => (e.type === 'write' ? { ...e, result: 'ok' } : e));
    expect(j).toMatchObject({ verdict: 'pass', mismatches: [] });
    expect(j.outcome?.mysql?.vipOnStalledServer).toEqual([]);
  });

  it('the same stall with the VIP holder read_only is the read_only holder, not a stalled one', () => {
    const j = judged(
      '14-disk-full-primary',
      mysqlOf('db1', () => ({ readOnly: true })),
    );
    expect(j.outcome?.mysql?.vipOnStalledServer).toEqual([]);
    expect(j.hazard).toBe('the VIP is on db1, a read_only replica: writes through the VIP fail');
  });

  it("the replica's datadir full: its status hangs (not answering), writes go on, no hazard; told in what was seen", () => {
    const j = judged('14-disk-full-replica');
    expect(j).toMatchObject({ verdict: 'pass', mismatches: [] });
    expect(j.seen).toContain('MySQL not answering: db2 from +3.08 s');
  });
});

describe('a dual VIP needs two hosts that can answer on it (link up)', () => {
  it('power loss: the dead host keeps the address on its down link; not a dual VIP, the move to the read_only replica is the hazard', () => {
    const j = judged('12-power-loss-vip-holder');
    expect(j.outcome?.dualVip.seen).toBe(false);
    expect(j).toMatchObject({ verdict: 'hazard', mismatches: [] });
    expect(j.hazard).toBe('the VIP is on db2, a read_only replica: writes through the VIP fail');
  });

  it("the same polls with the dead host's link up (a doctored history) are a dual VIP, which the act does not allow", () => {
    const linkUp: Doctor = (e) =>
      e.type === 'observe' ? { ...e, nodes: Object.fromEntries(Object.entries(e.nodes).map(([n, o]) => [n, { ...o, linkUp: true }])) } : e;
    const j = judged('12-power-loss-vip-holder', linkUp);
    expect(j.verdict).toBe('fail');
    expect(j.mismatches[0]).toMatch(/^expected no dual VIP, saw one from \+\d+\.\d\d s lasting/);
  });
});

describe('every hazard an act expects unconditionally is backed by an observation the act must show', () => {
  // An unconditional hazard is only honest when the run fails unless it saw the danger: a dual VIP
  // it expects, a VIP it expects on both nodes, or a daemon it expects gone. Dangers that may or
  // may not happen belong in hazardIf, judged from what was seen.
  const backedByNextAct: Record<string, string> = {
    // The pin is proven by the case's next act, which expects no VIP at all when the pinned holder fails.
    '7-forced-move': '7-new-holder-fails-while-pinned',
  };
  for (const [act, e] of Object.entries(expectations)) {
    if (!e.hazard) continue;
    it(act, () => {
      const daemonGone = Object.values(e.faultedDaemonsAfter ?? {}).includes(false);
      const next = backedByNextAct[act];
      const backed = e.dualVipDuring === 'expected' || (e.vipAfter.length === 1 && e.vipAfter[0] === 'both') || daemonGone;
      expect(backed || (next !== undefined && expectations[next]?.vipAfter.join() === 'none')).toBe(true);
    });
  }
});

describe("the VIP on a replica whose data is not the primary's (closing MySQL reading, any act)", () => {
  // Case 2 of a recorded run: the VIP moved to db2, a read_only replica, caught up at the close.
  const CASE2 = join(import.meta.dirname, '../../fixtures/judge/2026-11-28T03-29-32-853Z/2-stop.rep1.history.json');
  function case2(db2: object) {
    const d = JSON.parse(readFileSync(CASE2, 'utf8')) as { startedAt: string; events: HistoryEvent[] };
    const h = History.fromJSON(d);
    const end = h.actEnds()[0]!;
    const closing = h.mysqlAt(end.t)!;
    closing.nodes.db2 = { ...closing.nodes.db2!, ...db2 };
    return judgeAct(h, end, expectations[end.act]!);
  }
  const ON_REPLICA = 'the VIP is on db2, a read_only replica: writes through the VIP fail';

  it('caught up: only the read_only hazard', () => {
    expect(case2({})).toMatchObject({ verdict: 'hazard', hazard: ON_REPLICA });
  });

  it('a transaction behind with its SQL thread running is replication catching up, not a hazard of its own', () => {
    expect(case2({ gtid: '0-1-54' }).hazard).toBe(ON_REPLICA);
  });

  it('behind with its SQL thread stopped: stale, with the count', () => {
    expect(case2({ gtid: '0-1-13', replica: { io: 'Yes', sql: 'No', secondsBehind: null } }).hazard).toBe(
      `${ON_REPLICA}; the VIP is on db2, 42 transactions behind the primary by GTID with its SQL thread stopped: reads through the VIP are stale, and promoting it before it applies them loses them`,
    );
  });

  it('a transaction of its own (its server id in its MariaDB position, hidden from a seq comparison): errant', () => {
    const j = case2({ gtid: '0-2-14', replica: { io: 'Yes', sql: 'No', secondsBehind: null } });
    expect(j.hazard).toContain('41 transactions behind the primary by GTID with its SQL thread stopped');
    expect(j.hazard).toContain('the VIP is on db2, which holds transactions no other server has (errant: 0-2-14)');
  });
});

describe('a new primary whose first commits wait is not a stalled server', () => {
  // Recorded on the hardened profile's first lab run (2026-11-28): pacemaker restarted on the VIP
  // holder db2, db1 promoted; with db2 stopped, db1's first commit waits out semi-sync's 3 s
  // timeout, so no write was acknowledged for seconds before and after the VIP came to db1.
  const hardened = loadExpectations(Profile.load('hardened'));
  const load = () =>
    JSON.parse(readFileSync(join(DIR, '../hardened/2-pacemaker-restart.history.json'), 'utf8')) as {
      startedAt: string;
      events: HistoryEvent[];
    };
  const judgedHardened = (doctor: Doctor = (e) => e) => {
    const d = load();
    const h = History.fromJSON({ startedAt: d.startedAt, events: d.events.map(doctor) });
    const end = h.actEnds().find((e) => e.act === '2-pacemaker-restart')!;
    return judgeAct(h, end, hardened['2-pacemaker-restart']!);
  };

  it('the VIP moved to db1, writable 3 s before its first acknowledged write: no stall seen', () => {
    const j = judgedHardened();
    expect(j.outcome?.vipAfter).toBe('moved');
    expect(j.seen).not.toMatch(/took no write/);
  });

  it('the same history with every write after the move failed (doctored): db1 is a stalled holder 5 s after it took the VIP', () => {
    const d = load();
    const moved = d.events.find((e) => e.type === 'observe' && e.nodes.db1?.vip && !e.nodes.db2?.vip)!.t;
    const j = judgedHardened((e) => (e.type === 'write' && e.t > moved ? { ...e, result: 'fail' } : e));
    expect(j.seen).toMatch(/VIP on a host whose MySQL answered but took no write: db1 from \+\d+\.\d+ s/);
  });
});
