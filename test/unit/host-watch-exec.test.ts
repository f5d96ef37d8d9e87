import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The watcher's bookkeeping of an exec in progress (lib/observe/host-watch.py's Processes), driven
// with the reads a busy machine gives: fanotify reported the exec at its start, and the first read
// of the process came before the exec was through.
const WATCH = resolve(import.meta.dirname, '../../lib/observe/host-watch.py');

/** The daemons the watcher ends up with after an exec event and two looks, each read giving the next of `reads`. */
function daemonsAfter(reads: [number, number, string][], execName: string | null): unknown {
  const script = `
import importlib.util, json, sys
reads, exec_name = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["host-watch", "eth1"]
spec = importlib.util.spec_from_file_location("hw", ${JSON.stringify(WATCH)})
hw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hw)
hw.stat_of = lambda pid: (reads.pop(0) if len(reads) > 1 else reads[0]) if pid == 4242 else None
hw.Processes.watch_exit = lambda self, pid: None  # no such process to open a pidfd on
p = hw.Processes(hw.YOUNG_AFTER_EXEC_S)
p.update(False, execing={4242: exec_name})
p.update(False)
print(json.dumps(p.daemons()))
`;
  const r = spawnSync('python3', ['-c', script, JSON.stringify(reads), JSON.stringify(execName)], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('host watcher: an exec in progress', () => {
  it('a child pacemakerd forked, read while still named pacemakerd, is read until it is the daemon it execs (missed on 4 labs before)', () => {
    const child = (comm: string): [number, number, string] => [4242, 207, comm];
    expect(daemonsAfter([child('pacemakerd'), child('pacemaker-based')], 'pacemaker-based')).toEqual([child('pacemaker-based')]);
    // Without the program's name (its event's file unreadable), it is read for the whole bound.
    expect(daemonsAfter([child('pacemakerd'), child('pacemaker-based')], null)).toEqual([child('pacemaker-based')]);
  });
});
