import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FORGET_MEMORY } from '../../lib/host-boot.js';

// A power loss (cutPower) forgets what the RAM held, as a reboot would: run on fresh tmpfs mounts
// of /run, /dev/shm and /tmp in a throwaway mount namespace (nothing of this machine's), with a
// power switch socket on a mount of its own at /run/mhc, as a lab host has them.
const SETUP = `set -e
  for d in /run /dev/shm /tmp; do mount -t tmpfs tmpfs $d; done
  mkdir -p /run/mhc /run/mysqld /run/resource-agents /dev/shm/qb-180-1020-12-abc
  mount -t tmpfs tmpfs /run/mhc
  touch /run/mhc/power.sock /run/mysqld/mysqld.pid /run/resource-agents/mariadb-diskwait-p_diskwait.state
  head -c 65536 /dev/zero > /dev/shm/qb-180-1020-12-abc/qb-request-cib_rw-data
  touch /dev/shm/qb-event-cmap-header /tmp/left-by-a-daemon`;
// /run/mount is mount(8)'s own (utab), made by the set-up's mounts.
const LIST = "find /run /dev/shm /tmp -mindepth 1 ! -path '/run/mount*' | sort";

function run(script: string): string[] {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n');
}

describe('a power loss forgets the RAM', () => {
  it("empties /dev/shm and /tmp, keeps /run's directories but none of its files, and spares the switch's socket", () => {
    const before = run(`${SETUP}\n${LIST}`);
    expect(before).toContain('/dev/shm/qb-180-1020-12-abc/qb-request-cib_rw-data');
    expect(run(`${SETUP}\n${FORGET_MEMORY}\n${LIST}`)).toEqual(['/run/mhc', '/run/mhc/power.sock', '/run/mysqld', '/run/resource-agents']);
  });
});
