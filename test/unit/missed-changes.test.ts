import { describe, expect, it } from 'vitest';
import type { NodeObservation } from '../../lib/history.js';
import { MissedChanges, nodeChanges } from '../../lib/observe/missed.js';

const up: NodeObservation = {
  vip: true,
  linkUp: true,
  corosync: true,
  pacemakerd: true,
  children: ['pacemaker-based', 'pacemaker-fenced'],
};
const based = { ...up, children: ['pacemaker-fenced'] };

describe('changes no watcher event announced', () => {
  it('names what differs between two states of a host', () => {
    expect(nodeChanges(up, up)).toEqual([]);
    expect(nodeChanges(up, { ...based, vip: false, linkUp: false })).toEqual(['the VIP removed', 'the link down', 'pacemaker-based gone']);
    expect(nodeChanges({ ...up, corosync: false, pacemakerd: false, children: [] }, up)).toEqual([
      'corosync started',
      'pacemakerd started',
      'pacemaker-based started',
      'pacemaker-fenced started',
    ]);
  });

  it('counts a change only when the periodic look alone found it, within the time since the look before', () => {
    const c = new MissedChanges();
    expect(c.sample('db1', ['start'], undefined, up, 1000)).toBeUndefined();
    // An event's sample ("exit PID") changes the state: announced.
    expect(c.sample('db1', ['exit 812'], up, based, 2000)).toBeUndefined();
    // The look with nothing new; events waiting taken into the look's sample (before it or after
    // it), and an exec's start carried into it: theirs, not missed.
    expect(c.sample('db1', ['tick'], based, based, 6000)).toBeUndefined();
    expect(c.sample('db1', ['net', 'tick'], based, { ...based, vip: false }, 9000)).toBeUndefined();
    expect(c.sample('db1', ['tick', 'exit 812'], up, based, 9000)).toBeUndefined();
    expect(c.sample('db1', ['proc', 'tick'], based, up, 9000)).toBeUndefined();
    expect(c.sample('db1', ['tick', 'exec', 'proc'], based, up, 9000)).toBeUndefined();
    // The look alone finds pacemaker-based back: missed, somewhere in the 5 s since the look before.
    expect(c.sample('db1', ['tick', 'tick:proc'], { ...based, vip: false }, { ...up, vip: false }, 14000)).toEqual({
      host: 'db1',
      t: 14000,
      sinceMs: 5000,
      what: 'pacemaker-based started',
    });
    // Another host's looks are its own; a restarted watcher's first sample is not checked.
    expect(c.sample('db2', ['tick'], up, based, 14500)).toBeUndefined();
    expect(c.sample('db1', ['start'], up, based, 15000)).toBeUndefined();
  });
});
