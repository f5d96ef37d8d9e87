import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ballastPath, emptyScript, fillScript } from '../../lib/faults/disk-full.js';
import { Profile } from '../../lib/profile/load.js';

// The hardened profile's mariadb-diskwait agent (profiles/hardened/ocf/mariadb-diskwait) against a
// real MariaDB with a binlog on a small tmpfs of its own, in a throwaway mount namespace, socket
// only (--skip-networking: no address anywhere). Its monitor must pass on a server that writes,
// fail once a commit waits for disk space (the planted fault: the disk-full fault's own fill), and
// pass again once the space is back — and pass on a server that does not answer (not its job).
const agent = Profile.load('hardened').ocfAgents['mariadb-diskwait']!;

function story(dir: string): string {
  const data = join(dir, 'data');
  const sock = join(dir, 'run', 'mysqld.sock');
  const monitor = `OCF_ROOT=/usr/lib/ocf HA_RSCTMP=${dir}/rsc OCF_RESOURCE_INSTANCE=p_diskwait OCF_RESKEY_socket=${sock} ${agent}`;
  const small = '--innodb-log-file-size=8M --innodb-buffer-pool-size=16M';
  const sql = (q: string) => `mysql --no-defaults -S ${sock} -u root -N -B -e "${q}"`;
  return `set -u
    mkdir -p ${data} ${dir}/rsc ${dir}/run && chown mysql: ${dir}/run
    mount -t tmpfs -o size=48m,uid=$(id -u mysql),gid=$(id -g mysql),mode=750 tmpfs ${data}
    mariadb-install-db --no-defaults --user=mysql --datadir=${data} --skip-test-db --auth-root-authentication-method=socket ${small} >/dev/null 2>&1 || exit 90
    mariadbd --no-defaults --user=mysql --datadir=${data} --socket=${sock} --skip-networking --log-bin=${data}/bin \
      --pid-file=${dir}/run/mysqld.pid ${small} >${dir}/mysqld.log 2>&1 &
    M=$!
    trap 'kill -9 $M 2>/dev/null; wait $M 2>/dev/null' EXIT
    for i in $(seq 100); do [ -S ${sock} ] && break; sleep 0.1; done
    ${sql('CREATE DATABASE t; CREATE TABLE t.x (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100))')} || { tail -5 ${dir}/mysqld.log >&2; exit 91; }
    ${monitor} start; echo "start $?"
    ${monitor} monitor; echo "writing $?"
    sh ${dir}/fill.sh
    (for i in $(seq 5000); do ${sql("INSERT INTO t.x (v) VALUES (REPEAT('c', 90))")} 2>/dev/null || break; done) &
    W=$!
    for i in $(seq 100); do [ "$(${sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE = 'Waiting for someone to free space'")})" != 0 ] && break; sleep 0.1; done
    ${monitor} monitor 2>${dir}/reason; echo "waiting $?"
    sh ${dir}/empty.sh
    kill -9 $M; wait $M 2>/dev/null; kill $W 2>/dev/null
    ${monitor} monitor; echo "down $?"
    ${monitor} stop; echo "stop $?"
    ${monitor} monitor; echo "stopped $?"`;
}

describe('mariadb-diskwait agent', () => {
  it('fails its monitor while a commit waits for disk space, and only then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-diskwait-'));
    chmodSync(dir, 0o755); // mariadbd runs as mysql and needs to reach its socket and datadir
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const fs = { target: join(dir, 'data'), source: 'tmpfs', fstype: 'tmpfs', size: 0, avail: 0 };
    writeFileSync(join(dir, 'fill.sh'), fillScript(ballastPath(fs)));
    writeFileSync(join(dir, 'empty.sh'), emptyScript(ballastPath(fs)));
    writeFileSync(join(dir, 'story.sh'), story(dir));
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', join(dir, 'story.sh')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const rc = Object.fromEntries([...r.stdout.matchAll(/^(\w+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    // OCF: 0 success, 1 generic error (the monitor's failure), 7 not running
    expect(rc).toEqual({ start: 0, writing: 0, waiting: 1, down: 0, stop: 0, stopped: 7 });
    expect(readFileSync(join(dir, 'reason'), 'utf8')).toMatch(/MariaDB has \d+ thread\(s\) waiting for disk space: it cannot commit/);
  });
});
