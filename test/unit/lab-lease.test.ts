import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ancestry, heldByAnother, ownerAlive, procStart, type LabState } from '../../lib/targets/netns/state.js';

const stateOwnedBy = (pid: number, start = procStart(pid)!): LabState => ({
  name: 'x',
  subnet: '10.0.0.0/24',
  profileDir: '',
  bridgeNetns: 'mhc-x',
  createdAt: '',
  hosts: {},
  overrides: [],
  complete: true,
  owner: { pid, start },
});

// The suite's lab is leased by vitest's main process; its workers (children) may rebuild it.
describe('lab lease', () => {
  it('this process and its ancestors hold the lease; the lab is not "held by another" for them', () => {
    expect(ancestry()[0]).toBe(process.pid);
    expect(ancestry()).toContain(process.ppid);
    for (const pid of [process.pid, process.ppid]) {
      expect(ownerAlive(stateOwnedBy(pid))).toBe(true);
      expect(heldByAnother(stateOwnedBy(pid))).toBe(false);
    }
  });

  it('a live process outside our ancestry holds it; a dead or reused PID does not', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      expect(heldByAnother(stateOwnedBy(other.pid!))).toBe(true);
      expect(ownerAlive(stateOwnedBy(other.pid!, 'not-its-start-time'))).toBe(false);
    } finally {
      other.kill('SIGTERM');
    }
    await new Promise((r) => other.once('exit', r));
    expect(heldByAnother(stateOwnedBy(other.pid!, 'gone'))).toBe(false);
  });
});
