import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ResultPromise, execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PowerSwitch, type SwitchEvent } from '../../lib/fencing/power-switch.js';
import { waitFor } from '../../lib/util/wait.js';
import { fakeHosts } from '../support/fake-hosts.js';
import { fileTempDir } from '../support/temp-dir.js';

// The lab's BMCs (lib/fencing/lab-bmc.py) as fence-agents' own fence_ipmilan reaches them: IPMI
// over LAN (ipmitool lanplus) to a BMC per host, each powering its host through the power switch.
// The BMCs listen on 127.0.0.1 of a network namespace of this test's own; the switch is the real
// switch code with hosts that are only plug states (no lab, no cluster).
const NETNS = 'mhc-bmc-test';
const DIR = fileTempDir('mhc-bmc-');
const SWITCH_SOCKET = join(DIR, 'bmc-power.sock');
const SCRIPT = resolve(import.meta.dirname, '../../lib/fencing/lab-bmc.py');
const PASSWORD = 'bmc-test-pass';

let sw: PowerSwitch;
let hosts: ReturnType<typeof fakeHosts>;
let events: SwitchEvent[];
let bmc: ResultPromise;
let bmcOut = '';

/** fence_ipmilan as pacemaker-fenced would run it against db2's BMC (port 6232), inside the namespace. */
const fence = (action: string, extra: string[] = []) =>
  execa(
    'ip',
    ['netns', 'exec', NETNS, 'fence_ipmilan', '-a', '127.0.0.1', '-u', '6232', '-l', 'admin', '--lanplus', '-o', action, ...extra],
    {
      reject: false,
      timeout: 60_000,
      env: { PYTHONWARNINGS: 'ignore' },
    },
  );

beforeAll(async () => {
  hosts = fakeHosts();
  events = [];
  sw = new PowerSwitch({ plugs: ['db1', 'db2'], callbacks: hosts, onEvent: (e) => events.push(e) });
  await sw.listen('bmc', SWITCH_SOCKET);
  await execa('ip', ['netns', 'del', NETNS], { reject: false });
  await execa('ip', ['netns', 'add', NETNS]);
  await execa('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
  const users = join(DIR, 'account.json');
  writeFileSync(users, JSON.stringify({ login: 'admin', password: PASSWORD }), { mode: 0o600 });
  bmc = execa(
    'ip',
    [
      'netns',
      'exec',
      NETNS,
      '/usr/bin/python3',
      '-u',
      SCRIPT,
      '--address',
      '127.0.0.1',
      '--socket',
      SWITCH_SOCKET,
      '--users',
      users,
      'db1:6231',
      'db2:6232',
    ],
    {
      reject: false,
      all: true,
    },
  );
  bmc.all?.on('data', (d: Buffer) => {
    bmcOut += d.toString();
  });
  await waitFor('the BMCs to say ready', () => bmcOut.includes('ready:'), { timeoutMs: 10_000, intervalMs: 50 });
});

afterAll(async () => {
  if (bmc?.pid) process.kill(bmc.pid, 'SIGTERM');
  await bmc?.catch(() => {});
  await sw?.close();
  await execa('ip', ['netns', 'del', NETNS], { reject: false });
});

describe("the lab's BMCs, through fence_ipmilan", () => {
  it('report the power state and reboot only their own host: off, then on, both through the switch', async () => {
    const status = await fence('status', ['-p', PASSWORD]);
    expect(status.stdout, status.stderr).toContain('Status: ON');
    events.length = 0;
    const reboot = await fence('reboot', ['-p', PASSWORD]);
    expect(reboot.exitCode, reboot.stderr).toBe(0);
    expect(reboot.stdout).toContain('Success: Rebooted');
    expect(hosts.calls).toEqual(['off db2', 'on db2']);
    // Every request came in on the BMCs' socket, and only db2's plug was touched.
    expect(new Set(events.map((e) => e.from))).toEqual(new Set(['bmc']));
    expect(new Set(events.map((e) => e.plug))).toEqual(new Set(['db2']));
    expect(bmcOut).not.toContain(PASSWORD);
  });

  it('refuse a wrong password: the agent fails and no plug is touched', async () => {
    hosts.calls.length = 0;
    const r = await fence('off', ['-p', 'wrong-password']);
    expect(r.exitCode).toBe(1);
    expect(hosts.calls).toEqual([]);
  });

  it('with the switch out of reach, the agent fails (no power state to read), as with a BMC whose power path is broken', async () => {
    await sw.close();
    const r = await fence('off', ['-p', PASSWORD, '--power-timeout', '4']);
    expect(r.exitCode).toBe(1);
    expect(hosts.power.get('db2')).toBe('on');
  });
});
