import { describe, expect, it } from 'vitest';
import { PowerSwitch, type SwitchEvent } from '../../lib/fencing/power-switch.js';
import type { PlugState } from '../../lib/fencing/switch-protocol.js';

const line = (x: object) => JSON.stringify({ v: 1, ...x });

describe('power switch (no socket: requests handed in directly)', () => {
  it('runs the requests for one plug one after the other, so an off and an on never interleave', async () => {
    const log: string[] = [];
    const power = new Map<string, PlugState>([['db1', 'on']]);
    const step = (what: string, s: PlugState) => async (h: string) => {
      log.push(`${what} ${h} begins`);
      await new Promise((r) => setTimeout(r, 30));
      power.set(h, s);
      log.push(`${what} ${h} ends`);
    };
    const sw = new PowerSwitch({
      plugs: ['db1'],
      callbacks: { powerOff: step('off', 'off'), powerOn: step('on', 'on'), status: async (h) => power.get(h)! },
    });
    const [off, on] = await Promise.all([
      sw.handle('db2', line({ id: 'a', action: 'off', plug: 'db1' })),
      sw.handle('db2', line({ id: 'b', action: 'on', plug: 'db1' })),
    ]);
    expect(log).toEqual(['off db1 begins', 'off db1 ends', 'on db1 begins', 'on db1 ends']);
    expect(off).toMatchObject({ ok: true, action: 'off', state: 'off' });
    expect(on).toMatchObject({ ok: true, action: 'on', state: 'on' });
  });

  it('records every answer, an unreadable request and a failed power-off included', async () => {
    const events: SwitchEvent[] = [];
    const sw = new PowerSwitch({
      plugs: ['db1', 'db2'],
      onEvent: (e) => events.push(e),
      callbacks: {
        powerOff: async () => {
          throw new Error('namespace of db1 is gone');
        },
        powerOn: async () => {},
        status: async () => 'on',
      },
    });
    expect(await sw.handle('db2', 'hello')).toMatchObject({ ok: false, code: 'bad-request', id: null });
    expect(await sw.handle('db2', line({ id: 'x', action: 'off', plug: 'db1' }))).toMatchObject({
      ok: false,
      code: 'failed',
      error: 'namespace of db1 is gone',
    });
    expect(events.map((e) => [e.from, e.action, e.plug, e.ok])).toEqual([
      ['db2', 'invalid', undefined, false],
      ['db2', 'off', 'db1', false],
    ]);
  });

  it('refuses a socket path longer than a unix socket can have', async () => {
    const sw = new PowerSwitch({ plugs: [], callbacks: { powerOff: async () => {}, powerOn: async () => {}, status: async () => 'on' } });
    await expect(sw.listen('db1', `/tmp/${'x'.repeat(120)}/power.sock`)).rejects.toThrow(/longer than 107 bytes/);
  });
});
