import { removeVipByHand } from '../cluster-ops.js';
import { bootHost, cutPower } from '../host-boot.js';
import type { Target } from '../targets/target.js';
import type { PowerCallbacks } from './power-switch.js';
import type { PlugState } from './switch-protocol.js';
import { sleep } from '../util/wait.js';

/** What the switch's power-on started and how that boot ended (it runs after the switch has answered). */
export type BootReport = (host: string, outcome: { ok: true; did: string } | { ok: false; error: string }) => void;

/**
 * The switch's plugs wired to a target's hosts. Off is a power loss: the link down and every
 * process killed at once (cutPower, which also forgets what the RAM held: /dev/shm, /tmp, /run's
 * files), and the VIP on eth1 gone. On gives power back and starts the boot (bootHost) without
 * waiting for it, as a real switch does not wait for the operating system: the boot's end is
 * reported to onBoot. The boot starts the profile's bootDelaySeconds after power-on (a server's
 * firmware and kernel). The plug's state is the switch's own, as a PDU's outlet is: a host whose
 * processes were ended another way still has power.
 */
export function targetPower(t: Target, onBoot: BootReport): PowerCallbacks {
  const plugs = new Map<string, PlugState>();
  return {
    async powerOff(host) {
      plugs.set(host, 'off');
      await cutPower(t, host);
      await removeVipByHand(t, host);
    },
    async powerOn(host) {
      if (plugs.get(host) !== 'off') return;
      plugs.set(host, 'on');
      // Firmware and kernel first (the profile's bootDelaySeconds), then the init's units.
      sleep(t.profile.bootDelayMs)
        .then(() => (plugs.get(host) === 'on' ? bootHost(t, host, { startSshd: true }) : 'nothing: powered off again before the boot'))
        .then(
          (did) => onBoot(host, { ok: true, did }),
          (e: Error) => onBoot(host, { ok: false, error: e.message }),
        );
    },
    async status(host) {
      return plugs.get(host) ?? 'on';
    },
  };
}
