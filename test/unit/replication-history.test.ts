import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeAct } from '../../lib/checks/verdict.js';
import { History, type HistoryEvent } from '../../lib/history.js';
import { loadExpectations } from '../../lib/profile/expectations.js';
import { Profile } from '../../lib/profile/load.js';

const ACT = '13-replica-sql-thread-stopped';

// The hardened lab's case 13 (run 2026-11-28T22-16-27-690Z), up to the end of its first act: the
// replica's SQL thread stopped by the fault, and started again by the mariadb agent's monitor.
const recorded = () => {
  const d = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/histories/hardened', `${ACT}.history.json`), 'utf8')) as {
    startedAt: string;
    events: HistoryEvent[];
  };
  const h = History.fromJSON(d);
  return { h, end: h.actEnds().find((e) => e.act === ACT)! };
};

/** The same history with db2's SQL thread never started again: what the packaged agent left. */
const neverRestarted = () => {
  const { h, end } = recorded();
  for (const e of h.events)
    if (e.type === 'mysql' && e.t >= end.from && e.nodes.db2?.replica) e.nodes.db2.replica = { ...e.nodes.db2.replica, sql: 'No' };
  return { h, end };
};

describe('a replica whose SQL thread stopped, in the verdict', () => {
  const hardened = loadExpectations(Profile.load('hardened'))[ACT]!;
  const seed = loadExpectations(Profile.load('seed'))[ACT]!;

  it('passes where the cluster started it again within the act, and says so', () => {
    const { h, end } = recorded();
    const j = judgeAct(h, end, hardened);
    expect(j.verdict).toBe('pass');
    expect(j.seen).toMatch(/replication stopped: db2 from \+[\d.]+ s \(over by the end\)/);
  });

  it('is a hazard where it was still stopped at the end (doctored: never restarted)', () => {
    const { h, end } = neverRestarted();
    const j = judgeAct(h, end, hardened);
    expect(j.verdict).toBe('hazard');
    expect(j.hazard).toMatch(/did not restart the replica's stopped SQL thread .*\(seen: db2 from \+/);
    expect(j.seen).toMatch(/replication stopped: db2 from \+[\d.]+ s \(still at the end\)/);
  });

  it('is a hazard on the seed, stopped at all: nothing there manages MySQL (its hazardIf.replicationStopped)', () => {
    const { h, end } = recorded();
    expect(judgeAct(h, end, seed).verdict).toBe('hazard');
  });
});
