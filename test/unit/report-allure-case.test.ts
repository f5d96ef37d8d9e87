import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Judgement } from '../../lib/checks/verdict.js';
import { Profile } from '../../lib/profile/load.js';
import { AllureCase } from '../../lib/report/allure-case.js';
import { LOG_FILES, collectEvidence, logTail } from '../../lib/report/evidence.js';
import type { Target } from '../../lib/targets/target.js';
import { registerSecret } from '../../lib/util/redact.js';

const FIX = resolve(import.meta.dirname, '../../fixtures/lab');

/** A target that answers from the captured lab outputs and never touches a machine. */
function fakeTarget(): Target & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    kind: 'netns',
    label: 'fake',
    profile: Profile.load('seed'),
    disposable: true,
    overrides: [],
    calls,
    async exec(host, argv) {
      calls.push([host, ...argv]);
      if (argv[0] === 'crm_mon' && argv.includes('--output-as=xml'))
        return { stdout: readFileSync(`${FIX}/crm_mon.healthy.xml`, 'utf8'), stderr: '', exitCode: 0 };
      if (argv[0] === 'crm_mon') return { stdout: 'Cluster Summary:\n  * Stack: corosync\n', stderr: '', exitCode: 0 };
      if (argv[0] === 'ip') return { stdout: `2: eth1: <BROADCAST> mtu 1500\n    inet 10.11.22.101/24\n`, stderr: '', exitCode: 0 };
      if (argv[0] === 'tail')
        return {
          stdout: `Nov 25 pacemaker-controld: notice: State transition S_IDLE -> S_POLICY_ENGINE\nmysql -uroot -pSuperSecret99 -e x\n`,
          stderr: '',
          exitCode: 0,
        };
      return { stdout: '', stderr: 'unexpected', exitCode: 1 };
    },
    async sh() {
      return { stdout: '', stderr: '', exitCode: 0 };
    },
    async kill() {},
    openStream() {
      const d = new Duplex({
        read() {},
        write(_c, _e, cb) {
          cb();
        },
      });
      setImmediate(() => d.destroy(new Error('no lab in unit tests')));
      return d;
    },
    async startDaemon() {
      return 0;
    },
    async readFile() {
      return '';
    },
    async killAll() {
      return [];
    },
    watch() {
      return { ended: Promise.resolve({ exitCode: 1, stderr: 'no lab in unit tests' }), async stop() {} };
    },
  };
}

describe('Allure hooks for a case (no lab)', () => {
  it('collects crm_mon, ip addr, replication and log evidence per db host, redacted', async () => {
    registerSecret('SuperSecret99');
    const t = fakeTarget();
    const ev = await collectEvidence(t, 'after 5-corosync-stop', { logLines: 50, timeoutMs: 2_000 });
    const names = ev.map((e) => e.name);
    for (const h of ['db1', 'db2']) {
      expect(names).toContain(`after 5-corosync-stop: crm_mon on ${h} (XML)`);
      expect(names).toContain(`after 5-corosync-stop: crm_mon on ${h}`);
      expect(names).toContain(`after 5-corosync-stop: ip addr on ${h}`);
      expect(names).toContain(`after 5-corosync-stop: /var/log/pacemaker/pacemaker.log on ${h} (last 50 notice-or-worse lines)`);
      expect(names).toContain(`after 5-corosync-stop: /var/log/corosync/corosync.log on ${h} (last 50 lines)`);
    }
    expect(names).toContain('after 5-corosync-stop: replication status');
    expect(
      ev
        .map((e) => e.content)
        .join('\n')
        .includes('SuperSecret99'),
      'the password in the evidence',
    ).toBe(false);
    expect(t.calls.some((c) => c[1] === 'tail' && c.includes('/var/log/corosync/corosync.log'))).toBe(true);
  });

  it('wraps phases as steps: values pass through, a fail, hazard or inconclusive judgement does not throw', async () => {
    const t = fakeTarget();
    const c = new AllureCase({ id: '5', title: 'corosync stop on the VIP holder', acts: () => [] }, t, 'unit-test-run');
    await c.begin();
    await c.onEvidence('before');
    expect(await c.step('inject: corosync stop on db1', async () => 42, '5-corosync-stop')).toBe(42);
    const j: Judgement = { verdict: 'fail', mismatches: ['expected no dual VIP'], seen: 'VIP both' };
    expect(await c.step('judge', async () => j, '5-corosync-stop')).toBe(j);
    // Hazard and inconclusive judge steps end broken (an error inside the step), the value still passes through.
    for (const verdict of ['hazard', 'inconclusive'] as const) {
      const h: Judgement = { verdict, mismatches: [], seen: 'VIP both', hazard: 'dual VIP', inconclusive: 'no observation' };
      expect(await c.step('judge', async () => h, '5-corosync-stop')).toBe(h);
    }
    await c.onEvidence('after 5-corosync-stop');
    await c.step('recover: undo corosync stop on db1', async () => undefined);
    await expect(
      c.step('audit', async () => {
        throw new Error('real error');
      }),
    ).rejects.toThrow('real error');
    await c.onEvidence('after');
    await c.finish([]);
  });
});

describe("the logs' evidence", () => {
  // 150 raw lines of a hardened db2's pacemaker.log (a failover): 29 of them notice or worse.
  const log = join(import.meta.dirname, '../../fixtures/logs/pacemaker.hardened-db2.150-lines.txt');

  it("keeps Pacemaker's notice-or-worse lines only, the newest last", () => {
    const argv = logTail({ ...LOG_FILES[0]!, path: log }, 400);
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(29);
    expect(lines.every((l) => /\t(notice|warning|error|crit): /.test(l))).toBe(true);
    const tail = spawnSync(argv[0]!, [...argv.slice(1, -1), argv.at(-1)!.replace('tail -n 400', 'tail -n 5')], { encoding: 'utf8' });
    expect(tail.stdout.split('\n').filter(Boolean)).toEqual(lines.slice(-5));
  });
});
