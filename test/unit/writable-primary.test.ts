import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServer, type ServerState, writablePrimary } from '../../lib/probes/replication.js';

// Read from the hardened lab (`npm run lab -- status --json`) after db2 was promoted, with a
// replica configuration planted on db2 by CHANGE MASTER without START SLAVE: what the mariadb
// agent leaves on a node it promotes after a fencing (it runs STOP SLAVE, never RESET SLAVE).
// db1 is db2's read_only replica.
const promotedWithStoppedChannel = (): ServerState[] =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '../../fixtures/lab/replication-state.promoted-with-stopped-channel.json'), 'utf8'),
  ) as ServerState[];
const host = (states: ServerState[], name: string) => states.find((s) => s.host === name)!;

describe('the writable primary the workload is prepared on', () => {
  it('is the promoted server even with its old replica configuration left in place', () => {
    expect(writablePrimary(promotedWithStoppedChannel())).toBe('db2');
  });

  it('was a guess before: "no replica configuration" found none, and the profile named db1 (the replica)', () => {
    // The predicate the harness used until 2026-11-28: it fell back to the profile's primary,
    // db1, and wrote the workload's DDL there past read_only (errant GTIDs 0-1-N on the replica).
    const old = promotedWithStoppedChannel().find((x) => x.reachable && !x.replica && !x.readOnly)?.host;
    expect(old).toBeUndefined();
  });

  it('is no server when the promoted one runs a replica thread (two roles at once)', () => {
    const s = promotedWithStoppedChannel();
    host(s, 'db2').replica!.ioRunning = 'Connecting';
    expect(writablePrimary(s)).toBeUndefined();
  });

  it('is no server when both are read_only (a demotion with nothing promoted)', () => {
    const s = promotedWithStoppedChannel();
    host(s, 'db2').readOnly = true;
    expect(writablePrimary(s)).toBeUndefined();
  });

  it("is the one without a replica configuration when a stopped replica came back writable (the seed's restart)", () => {
    const s = promotedWithStoppedChannel();
    delete host(s, 'db2').replica;
    host(s, 'db1').readOnly = false;
    host(s, 'db1').replica = { ...host(s, 'db1').replica!, ioRunning: 'No', sqlRunning: 'No' };
    expect(writablePrimary(s)).toBe('db2');
  });

  it('is no server when the only writable one is unreachable', () => {
    const s = promotedWithStoppedChannel();
    s[1] = { host: 'db2', reachable: false, error: 'connection refused' };
    expect(writablePrimary(s)).toBeUndefined();
    expect(s.map(describeServer).join('; ')).toBe('db1 read_only, replica io=Yes sql=Yes; db2 unreachable');
  });
});
