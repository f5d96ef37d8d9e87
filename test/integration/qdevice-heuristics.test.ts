import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Profile } from '../../lib/profile/load.js';

// The hardened profile's corosync-qdevice heuristics (corosync.conf, quorum.device.heuristics):
// each exec_ command must pass on the VIP holder and fail on the other node, or ffsplit's score
// cannot give a split's vote to the primary's half. Run in a throwaway network namespace (no lab,
// no address outside it) with the profile's NIC, the command split as a shell would (as qdevice
// splits it), before and after the VIP is added — also on a lab's other subnet.
const heuristics = (p: Profile) => [...p.files.corosyncConf.matchAll(/^\s*exec_\w+:\s*(.+)$/gm)].map((m) => m[1]!);

function exitCodes(p: Profile, command: string): number[] {
  const script = `ip link add ${p.nic} type veth peer name peer0 && ip link set ${p.nic} up || exit 99
    ${command}; echo "without $?"
    ip addr add ${p.vip.ip}/24 dev ${p.nic}
    ${command}; echo "with $?"`;
  const r = spawnSync('unshare', ['--net', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return [...r.stdout.matchAll(/^(without|with) (\d+)$/gm)].map((m) => Number(m[2]));
}

describe('hardened qdevice heuristics', () => {
  it.each(['10.11.22.0/24', '10.11.70.0/24'])('pass only where the VIP is (subnet %s)', (subnet) => {
    const p = Profile.load('hardened').withSubnet(subnet);
    const commands = heuristics(p);
    expect(commands.length).toBeGreaterThan(0);
    for (const c of commands) {
      expect(c).toContain(p.vip.ip);
      const [without, withVip] = exitCodes(p, c);
      expect(without).not.toBe(0);
      expect(withVip).toBe(0);
    }
  });
});
