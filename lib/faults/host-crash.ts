import { bootHost, cutPower } from '../host-boot.js';
import { parseIpJsonAddr } from '../probes/ip-addr.js';
import type { KilledProcess, Target } from '../targets/target.js';
import { sleep, waitFor } from '../util/wait.js';
import type { Fault } from './fault.js';
import { settleReplication } from './mysql-crash.js';
import { requireTools } from './tools.js';

/**
 * The link's side of a power loss as one detached script on the host itself: down (unless the
 * harness already took it down), off for `seconds`, then up again without the VIP (IPaddr2 adds
 * it at run time; a booted host does not have it). The host runs it, not the harness: over the SSH
 * target the harness cannot reach a host whose link is down to bring it up again. There the half
 * second before the link goes down lets the command's own answer (over SSH, through batch1) leave
 * first. Prints the script's PID.
 */
export function linkCycleScript(nic: string, seconds: number, vipCidr: string, linkIsDown = false): string {
  const down = linkIsDown ? '' : `sleep 0.5; ip link set ${nic} down; `;
  const body = `${down}sleep ${seconds}; ip addr del ${vipCidr} dev ${nic} 2>/dev/null; ip link set ${nic} up`;
  return `setsid sh -c '${body}' </dev/null >/dev/null 2>&1 & echo $!`;
}

/** "corosync 812, pacemakerd 830, … (14 processes)" for the history. */
export function describeKilled(killed: KilledProcess[]): string {
  return `${killed.map((k) => `${k.comm} ${k.pid}`).join(', ')} (${killed.length} processes)`;
}

async function linkUp(t: Target, host: string): Promise<boolean> {
  const r = await t.exec(host, ['ip', '-j', 'addr', 'show', 'dev', t.profile.nic], { check: false, timeoutMs: 5_000 });
  return r.exitCode === 0 && parseIpJsonAddr(r.stdout).some((i) => i.ifname === t.profile.nic && i.up);
}

/**
 * A power loss of a db host: every process killed at once (Target.killAll) and its link down for
 * offSeconds, then the host boots (bootHost). Undo boots whatever is still down and puts
 * replication back as the audits want it (a restarted replica comes back writable), so it is safe
 * after an injection that stopped anywhere.
 */
export function hostCrash(host: string, offSeconds = 20): Fault {
  const name = `power loss of ${host} for ${offSeconds}s (every process killed, link down), then boot`;
  let sshdKilled = false;
  return {
    name,
    host,
    destructive: true,
    async inject(t, h) {
      // Where the harness reaches the host without its link, the link goes first (cutPower: a
      // power loss sends nothing); over SSH the host's own script takes it down after the kill.
      const linkFirst = t.kind !== 'ssh';
      await requireTools(t, name, [host], ['ps', 'kill', 'ip', 'setsid', ...(linkFirst ? (['ss'] as const) : [])]);
      const nic = t.profile.nic;
      const killed = linkFirst ? await cutPower(t, host) : await t.killAll(host);
      sshdKilled = killed.some((k) => k.comm === 'sshd');
      const vip = `${t.profile.vip.ip}/${t.profile.vip.cidrNetmask}`;
      const timer = await t.sh(host, linkCycleScript(nic, offSeconds, vip, linkFirst));
      h.step(
        'power loss',
        `${host}: ${linkFirst ? `${nic} down, then ` : ''}SIGKILL to ${describeKilled(killed)}; ${nic} down for ${offSeconds} s (timer PID ${timer.stdout.trim()})`,
      );
      await sleep(offSeconds * 1000);
      await waitFor(`${nic} on ${host} to come up again after the power loss`, () => linkUp(t, host), {
        timeoutMs: 30_000,
        intervalMs: 250,
      });
      h.step('boot', await bootHost(t, host, { startSshd: sshdKilled }));
    },
    async undo(t, h) {
      h.step('boot', await bootHost(t, host, { startSshd: sshdKilled }));
      await settleReplication(t, h);
    },
  };
}
