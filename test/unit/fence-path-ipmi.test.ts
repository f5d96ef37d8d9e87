import { describe, expect, it } from 'vitest';
import { bmcCutRules, switchHung, switchUnreachable, withoutFencePath } from '../../lib/faults/fence-path.js';
import { Profile } from '../../lib/profile/load.js';

// Case 15's fence-path faults on a profile that fences through BMCs (profiles/hardened-ipmi).
describe("the fence path's faults where the fence devices are BMCs (fence_ipmilan)", () => {
  const devices = [
    { ip: '10.11.22.1', port: 6231 },
    { ip: '10.11.22.1', port: 6232 },
  ];

  it('unreachable: what leaves for each BMC is dropped (OUTPUT: the send is refused at once)', () => {
    expect(bmcCutRules(devices, false)).toEqual([
      ['-d', '10.11.22.1', '-p', 'udp', '--dport', '6231', '-j', 'DROP'],
      ['-d', '10.11.22.1', '-p', 'udp', '--dport', '6232', '-j', 'DROP'],
    ]);
  });

  it("hung: each BMC's answers are dropped (INPUT), so no IPMI session opens and no power command is sent", () => {
    expect(bmcCutRules([...devices, devices[0]!], true)).toEqual([
      ['-s', '10.11.22.1', '-p', 'udp', '--sport', '6231', '-j', 'DROP'],
      ['-s', '10.11.22.1', '-p', 'udp', '--sport', '6232', '-j', 'DROP'],
    ]);
  });

  it('are chosen by the profile: the BMC cut for hardened-ipmi, the hidden switch socket for hardened; none for the seed', () => {
    const ipmi = Profile.load('hardened-ipmi');
    const hardened = Profile.load('hardened');
    expect(switchUnreachable(ipmi).name).toMatch(/BMCs out of reach/);
    expect(switchHung(ipmi).name).toMatch(/BMCs hung/);
    expect(switchUnreachable(hardened).name).toMatch(/power switch out of reach/);
    expect(withoutFencePath(ipmi)).toBeUndefined();
    expect(withoutFencePath(hardened)).toBeUndefined();
    expect(withoutFencePath(Profile.load('seed'))).toMatch(/no fence device whose path the harness can break/);
  });
});
