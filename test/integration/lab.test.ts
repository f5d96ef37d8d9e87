import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { Profile } from '../../lib/profile/load.js';
import { clusterStatus } from '../../lib/probes/status.js';
import { NetnsLab, destroyLab, leftovers, type StartedNetnsLab } from '../../lib/targets/netns/lab.js';
import { readState } from '../../lib/targets/netns/state.js';
import { silentLog } from '../../lib/util/log.js';

// Its own name and subnet, so it can run beside the suite's lab.
const NAME = 'itest';
const SUBNET = '10.11.98.0/24';
const ROOT = join(import.meta.dirname, '../..');

describe('netns lab', () => {
  afterAll(async () => {
    for (const n of [NAME, 'itest2']) await destroyLab(n).catch(() => undefined);
  });

  it("comes up as the notebook's cluster (over a stale one left by a kill -9 of the harness) and goes down leaving nothing", async () => {
    // The harness is killed (-9) in the middle of `lab up`, once corosync runs: its lab is stale.
    const cli = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/lab.ts', 'up', '--name', NAME, '--subnet', SUBNET], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`lab up did not reach corosync within 60 s:\n${out}`)), 60_000);
      const see = (d: Buffer) => {
        out += d;
        if (/corosync on the db hosts/.test(out)) {
          clearTimeout(timer);
          ok();
        }
      };
      cli.stdout.on('data', see);
      cli.stderr.on('data', see);
    });
    cli.kill('SIGKILL');
    await new Promise((ok) => cli.once('exit', ok));
    const stale = readState(NAME)!;
    expect(stale.complete, 'the killed up left a half-made lab').toBe(false);
    const stalePids = Object.values(stale.hosts).map((p) => p.initPid);
    expect(
      stalePids.every((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      }),
      'its hosts outlived the harness',
    ).toBe(true);

    const lab: StartedNetnsLab = await new NetnsLab(Profile.load('seed')).withName(NAME).withSubnet(SUBNET).withLog(silentLog()).start();
    const state = readState(NAME)!;
    // The stale lab's hosts were ended before the new one was made.
    for (const pid of stalePids) expect(() => process.kill(pid, 0)).toThrow();
    try {
      const s = await clusterStatus(lab);
      expect(s.nodes).toEqual([
        { name: 'db1', online: true },
        { name: 'db2', online: true },
      ]);
      expect(s.dc).toMatch(/^db[12]$/);
      expect(s.vip.holders).toHaveLength(1);
      expect(s.vip.holders).toEqual(s.vip.pacemakerSays);
      expect(s.failedActions).toEqual([]);
      const [db1, db2] = s.replication;
      expect(db1).toMatchObject({ host: 'db1', reachable: true, readOnly: false, replica: undefined });
      expect(db2).toMatchObject({ host: 'db2', reachable: true, readOnly: true });
      expect(db2!.replica).toMatchObject({ sourceHost: '10.11.98.101', ioRunning: 'Yes', sqlRunning: 'Yes', usingGtid: true });

      // Each host is a host of its own: name, eth1, private /var/lib/mysql.
      expect((await lab.exec('db2', ['hostname'])).stdout.trim()).toBe('db2');
      // The short name, as the Vagrant hosts have it; the FQDN resolves through /etc/hosts.
      expect((await lab.exec('db2', ['hostname', '-f'])).stdout.trim()).toBe('db2.localnet');
      expect((await lab.exec('db1', ['ip', '-br', 'addr', 'show', 'eth1'])).stdout).toContain('10.11.98.101/24');
      expect((await lab.exec('db1', ['cat', '/etc/hostname'])).stdout.trim()).toBe('db1');
      // Nothing of the lab subnet in this machine's own network namespace.
      expect(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' })).not.toContain('10.11.98.');

      // A second lab on this subnet is refused, naming the lab that has it, and leaves nothing.
      await expect(new NetnsLab(Profile.load('seed')).withName('itest2').withSubnet(SUBNET).withLog(silentLog()).start()).rejects.toThrow(
        `subnet ${SUBNET} is already used by lab "${NAME}"`,
      );
      expect(leftovers('itest2')).toEqual([]);
      // Side by side: the same profile under another name and subnet comes up next to it.
      const second = await new NetnsLab(Profile.load('seed')).withName('itest2').withSubnet('10.11.96.0/24').withLog(silentLog()).start();
      try {
        expect((await clusterStatus(second)).vip.holders).toHaveLength(1);
        expect((await clusterStatus(lab)).vip.holders).toHaveLength(1);
      } finally {
        await second.stop();
      }
      expect(leftovers('itest2')).toEqual([]);
    } finally {
      await lab.stop();
    }
    expect(leftovers(NAME, state)).toEqual([]);
    for (const p of Object.values(state.hosts)) expect(() => process.kill(p.initPid, 0)).toThrow();
  });

  it('a profile Pacemaker rejects is an error naming the file and line, and leaves nothing', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mhc-bad-'));
    onTestFinished(() => rmSync(d, { recursive: true, force: true }));
    cpSync(Profile.load('seed').dir, d, { recursive: true });
    const crm = join(d, 'cluster.crm');
    // The notebook's own property, which Pacemaker 2 no longer accepts.
    writeFileSync(
      crm,
      readFileSync(crm, 'utf8').replace('stonith-enabled=false', 'stonith-enabled=false default-resource-stickiness=INFINITY'),
    );
    const line =
      readFileSync(crm, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('default-resource-stickiness=INFINITY')) + 1;
    await expect(new NetnsLab(Profile.load(d)).withName(NAME).withSubnet(SUBNET).withLog(silentLog()).start()).rejects.toThrow(
      new RegExp(`rejected .*cluster\\.crm line ${line}:[\\s\\S]*default-resource-stickiness`),
    );
    expect(leftovers(NAME)).toEqual([]);
  });

  it('MariaDB settings it rejects are named at once with the lines that say why, and leave nothing', async () => {
    const badProfile = (edit: (cnf: string) => string) => {
      const d = mkdtempSync(join(tmpdir(), 'mhc-bad-'));
      onTestFinished(() => rmSync(d, { recursive: true, force: true }));
      cpSync(Profile.load('seed').dir, d, { recursive: true });
      const cnf = join(d, 'mysql/common.cnf');
      writeFileSync(cnf, edit(readFileSync(cnf, 'utf8')));
      return Profile.load(d);
    };
    const up = (p: Profile) =>
      new NetnsLab(p)
        .withName(NAME)
        .withSubnet(SUBNET)
        .withLog(silentLog())
        .start()
        .then(
          () => {
            throw new Error('up succeeded');
          },
          (x: Error) => x,
        );
    // A setting mariadbd does not know: mariadb-install-db already refuses it.
    let e = await up(badProfile((c) => `${c}no_such_setting = 1\n`));
    expect(e.message).toMatch(/mariadb-install-db on db[12] failed[\s\S]*unknown variable 'no_such_setting=1'/);
    expect(leftovers(NAME)).toEqual([]);
    // A binlog in a directory that does not exist: install-db passes, the server aborts at start.
    const t0 = Date.now();
    e = await up(badProfile((c) => c.replace('log_bin = mysql-bin', 'log_bin = /nonexistent/mysql-bin')));
    expect(e.message).toMatch(/mariadbd on db[12] \(PID \d+\) exited during start-up/);
    expect(e.message).toMatch(/last lines of \/var\/log\/mysql\/error\.log on db[12]:[\s\S]*\/nonexistent\/mysql-bin\.index' not found/);
    // Failing when the daemon exits, not at the wait's 30 s limit (a hang guard, not a timing assertion).
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(leftovers(NAME)).toEqual([]);
    // An address not on the host (TEST-NET-1): mariadbd runs without a TCP listener; the first
    // connection from batch1 names the host and what to check.
    e = await up(badProfile((c) => c.replace('bind_address = 0.0.0.0', 'bind_address = 192.0.2.1')));
    expect(e.message).toMatch(/db1 \([\d.]+:3306\): nothing accepts MySQL connections there \(connection refused, from batch1\)/);
    expect(leftovers(NAME)).toEqual([]);
  });

  it('refuses to run unless root, with the fix in the message', () => {
    // The CLI as an unprivileged user: a clear error before anything is made.
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--',
        process.execPath,
        '--import',
        'tsx',
        'lib/cli/lab.ts',
        'up',
        '--name',
        'itest3',
        '--subnet',
        '10.11.95.0/24',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: '/tmp' },
        timeout: 60_000,
      },
    );
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toContain('the netns lab needs root');
    expect(leftovers('itest3')).toEqual([]);
  });
});
