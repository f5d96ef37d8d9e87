import type { PowerCallbacks } from '../../lib/fencing/power-switch.js';
import type { PlugState } from '../../lib/fencing/switch-protocol.js';

/** Hosts that are only a map of plug states, for the power switch in tests of what asks it (no lab, no cluster). */
export function fakeHosts(): PowerCallbacks & { power: Map<string, PlugState>; calls: string[] } {
  const power = new Map<string, PlugState>([
    ['db1', 'on'],
    ['db2', 'on'],
  ]);
  const calls: string[] = [];
  return {
    power,
    calls,
    powerOff: async (h) => {
      calls.push(`off ${h}`);
      power.set(h, 'off');
    },
    powerOn: async (h) => {
      calls.push(`on ${h}`);
      power.set(h, 'on');
    },
    status: async (h) => power.get(h) ?? 'off',
  };
}
