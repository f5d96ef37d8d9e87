import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PowerSwitch, type SwitchEvent } from '../../lib/fencing/power-switch.js';
import { fakeHosts } from '../support/fake-hosts.js';

// The fence agent as pacemaker-fenced runs it, against the real switch code listening on a unix
// socket in a temp dir, with hosts that are only a map of plug states (no lab, no cluster).
// The machine's /usr/bin/python3, as on the lab hosts (not a pyenv shim on PATH).
const PYTHON = '/usr/bin/python3';
const AGENT = resolve(import.meta.dirname, '../../lib/fencing/fence_mhc');

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

async function agent(args: string[], stdin = ''): Promise<Run> {
  const t0 = performance.now();
  const r = await execa(PYTHON, ['-B', AGENT, ...args], { input: stdin, reject: false, timeout: 20_000 });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** Options on stdin, one name=value per line, as pacemaker-fenced writes them. */
const stdin = (o: Record<string, string>) =>
  `${Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

let dir: string;
let sock: string;
let hosts: ReturnType<typeof fakeHosts>;
let events: SwitchEvent[];
let sw: PowerSwitch;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mhc-fence-'));
  sock = join(dir, 'power.sock');
  hosts = fakeHosts();
  events = [];
  sw = new PowerSwitch({ plugs: ['db1', 'db2'], callbacks: hosts, onEvent: (e) => events.push(e) });
  // The socket db1's fencer would use (bind-mounted at /run/mhc/power.sock inside db1).
  await sw.listen('db1', sock);
});

afterAll(async () => {
  await sw.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fence_mhc metadata', () => {
  const parse = (xml: string) =>
    new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['parameter', 'action'].includes(n) }).parse(xml);

  it('is well-formed XML in fence-agents metadata form, from stdin (as Pacemaker asks) and from -o', async () => {
    const fromStdin = await agent([], 'action=metadata\n');
    const fromFlag = await agent(['-o', 'metadata']);
    expect(fromStdin.exitCode).toBe(0);
    expect(fromFlag.stdout).toBe(fromStdin.stdout);
    expect(XMLValidator.validate(fromStdin.stdout)).toBe(true);
    const ra = parse(fromStdin.stdout)['resource-agent'];
    expect(ra).toMatchObject({ name: 'fence_mhc', shortdesc: expect.any(String), longdesc: expect.any(String) });
    expect(ra['vendor-url']).toBeTruthy();
    // lib/metadata.rng of fence-agents: every parameter has getopt@mixed, content@type, shortdesc@lang.
    for (const p of ra.parameters.parameter) {
      expect(p, p.name).toMatchObject({ unique: '0', required: expect.stringMatching(/^[01]$/) });
      expect(p.getopt.mixed, p.name).toMatch(/--/);
      expect(['boolean', 'string', 'second', 'integer', 'select'], p.name).toContain(p.content.type);
      expect(p.shortdesc.lang, p.name).toBe('en');
    }
    const params = ra.parameters.parameter.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['action', 'plug', 'port', 'socket', 'power_timeout']));
    const actions = ra.actions.action.map((a: { name: string }) => a.name);
    expect(actions).toEqual(expect.arrayContaining(['on', 'off', 'reboot', 'status', 'list', 'monitor', 'metadata']));
    // No unfencing: Pacemaker would call "on" for every node joining.
    expect(ra.actions.action.find((a: { name: string }) => a.name === 'on').automatic).toBe('0');
  });
});

describe('fence_mhc against the switch', () => {
  it('status, off, status, on: a round trip by flags, exit 0 / 2 as fence-agents use them', async () => {
    const base = ['-n', 'db2', `--socket=${sock}`];
    expect(await agent(['-o', 'status', ...base])).toMatchObject({ exitCode: 0, stdout: 'Status: ON' });
    expect(await agent(['-o', 'off', ...base])).toMatchObject({ exitCode: 0, stdout: 'Success: Powered OFF' });
    expect(hosts.power.get('db2')).toBe('off');
    expect(await agent(['-o', 'status', ...base])).toMatchObject({ exitCode: 2, stdout: 'Status: OFF' });
    expect(await agent(['-o', 'off', ...base])).toMatchObject({ exitCode: 0, stdout: 'Success: Already OFF' });
    expect(await agent(['-o', 'on', ...base])).toMatchObject({ exitCode: 0, stdout: 'Success: Powered ON' });
    expect(hosts.power.get('db2')).toBe('on');
  });

  it('reboot from stdin as pacemaker-fenced passes it: port= wins over nodename=, unknown options ignored', async () => {
    hosts.calls.length = 0;
    events.length = 0;
    const r = await agent([], stdin({ action: 'reboot', nodename: 'db1', port: 'db2', nodeid: '2', socket: sock, power_timeout: '5' }));
    expect(r).toMatchObject({ exitCode: 0, stdout: 'Success: Rebooted' });
    expect(hosts.calls).toEqual(['off db2', 'on db2']);
    // Who fenced whom: the switch knows the caller by its socket.
    expect(events.filter((e) => e.action === 'off')).toMatchObject([{ from: 'db1', plug: 'db2', ok: true }]);
  });

  it('list and monitor ask the switch for its plugs', async () => {
    expect(await agent(['-o', 'list', `--socket=${sock}`])).toMatchObject({ exitCode: 0, stdout: 'db1,db1\ndb2,db2' });
    expect(await agent(['-o', 'list-status', `--socket=${sock}`])).toMatchObject({ exitCode: 0, stdout: 'db1,db1,ON\ndb2,db2,ON' });
    expect(await agent([], stdin({ action: 'monitor', socket: sock }))).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('fails with exit 1 and the reason: unknown plug, no plug, bad options', async () => {
    const unknown = await agent(['-o', 'off', '-n', 'db3', `--socket=${sock}`]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/refused status: no plug db3 on this switch .*\(unknown-plug\)/);
    expect((await agent(['-o', 'off', `--socket=${sock}`])).stderr).toMatch(/action off needs a plug/);
    expect((await agent(['-o', 'off', '-n', 'db2', '--power-timeout=soon'])).exitCode).toBe(1);
    expect((await agent(['-o', 'explode'])).stderr).toMatch(/unknown action 'explode'/);
    expect(hosts.power.get('db2')).toBe('on');
  });
});

describe('fence_mhc when the fence path itself fails', () => {
  it('a switch that is not there: exit 1 at once, naming the socket', async () => {
    const gone = join(dir, 'gone.sock');
    const r = await agent(['-o', 'off', '-n', 'db2', `--socket=${gone}`, '--power-timeout=3']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`cannot reach the power switch at ${gone}`);
    expect(r.ms).toBeLessThan(3_000);
  });

  it('a switch that accepts and never answers: exit 1 once power_timeout has passed, not later', async () => {
    const silent = join(dir, 'silent.sock');
    const server: Server = createServer(() => {}); // holds every connection open, says nothing
    await new Promise<void>((r) => server.listen(silent, r));
    try {
      const r = await agent([], stdin({ action: 'off', port: 'db2', socket: silent, power_timeout: '1' }));
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/did not answer in time/);
      expect(r.ms).toBeGreaterThanOrEqual(1_000);
      expect(r.ms).toBeLessThan(4_000);
    } finally {
      server.close();
    }
  });

  it('a host whose power-off hangs: the switch answers "timeout" within its bound, the agent exits 1', async () => {
    const slowSock = join(dir, 'slow.sock');
    const slow = new PowerSwitch({
      plugs: ['db2'],
      actionTimeoutMs: 300,
      callbacks: { ...fakeHosts(), powerOff: () => new Promise<void>(() => {}) },
    });
    await slow.listen('db1', slowSock);
    try {
      const r = await agent(['-o', 'off', '-n', 'db2', `--socket=${slowSock}`, '--power-timeout=5']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/refused off: off db2 timed out after 300 ms \(timeout\)/);
    } finally {
      await slow.close();
    }
    expect(existsSync(slowSock)).toBe(false);
  });
});
