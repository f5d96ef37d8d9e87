import type { MissedChange, NodeObservation } from '../history.js';

/** What differs between two states of one host, in words ("pacemaker-based gone", "the VIP added"). */
export function nodeChanges(before: NodeObservation, after: NodeObservation): string[] {
  const flip = (was: boolean, is: boolean, name: string, on: string, off: string) => (was === is ? [] : [`${name} ${is ? on : off}`]);
  return [
    ...flip(before.vip, after.vip, 'the VIP', 'added', 'removed'),
    ...flip(before.linkUp, after.linkUp, 'the link', 'up', 'down'),
    ...flip(before.corosync, after.corosync, 'corosync', 'started', 'gone'),
    ...flip(before.pacemakerd, after.pacemakerd, 'pacemakerd', 'started', 'gone'),
    ...after.children.filter((c) => !before.children.includes(c)).map((c) => `${c} started`),
    ...before.children.filter((c) => !after.children.includes(c)).map((c) => `${c} gone`),
  ];
}

/** A sample only the watcher's look made: no event's reason with it ("tick:proc": the look found a daemon start). */
const lookAlone = (why: string[]) => why.includes('tick') && why.every((r) => r === 'tick' || r === 'tick:proc');

/**
 * The check against missed events (issue 15): each host watcher (host-watch.py) looks at
 * everything every 5 s whatever happened, its "tick", and once more as it ends. A sample with the
 * look's reasons alone (events already waiting are taken into the look's sample, with theirs) that
 * differs from the host's state before is a change no event announced. It happened somewhere
 * since the host's full look before (its start or its last tick), so its time is known only to
 * within that, whatever the watchers' wake-ups say.
 */
export class MissedChanges {
  private readonly lookedAt = new Map<string, number>();

  /** A host's sample (history time `t`) against its state before; the change it found, if no event did. */
  sample(host: string, why: string[], before: NodeObservation | undefined, after: NodeObservation, t: number): MissedChange | undefined {
    const since = this.lookedAt.get(host);
    if (why.includes('tick') || why[0] === 'start') this.lookedAt.set(host, t);
    if (!lookAlone(why) || since === undefined || !before) return undefined;
    const changes = nodeChanges(before, after);
    if (!changes.length) return undefined;
    return { host, t, sinceMs: Math.round(t - since), what: changes.join(', ') };
  }
}
