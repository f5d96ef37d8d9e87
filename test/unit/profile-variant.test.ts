import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { crmStatements, crmStonithDevices, overlayCrm } from '../../lib/profile/crm.js';
import { loadExpectations } from '../../lib/profile/expectations.js';
import { labBmcDevices } from '../../lib/profile/lab-bmc.js';
import { Profile } from '../../lib/profile/load.js';
import { redact } from '../../lib/util/redact.js';

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mhc-variant-'));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
};

const BASE = `# header

property stonith-enabled=true
# the fence device of db1
primitive fence-db1 stonith:fence_mhc \\
    params pcmk_host_list=db1 socket=/run/mhc/power.sock
primitive vip ocf:heartbeat:IPaddr2 params ip=10.11.22.100
location fence-db1-runs-away fence-db1 -inf: db1
`;

describe("a profile variant's cluster.crm over its base's", () => {
  it('replaces an object of the same kind and id in place, with its comments, and keeps the rest as it was', () => {
    const over = `# through IPMI
primitive fence-db1 stonith:fence_ipmilan \\
    params pcmk_host_list=db1 ip=10.11.22.1 ipport=6231
`;
    const merged = overlayCrm(BASE, over);
    expect(merged).toBe(`# header

property stonith-enabled=true
# through IPMI
primitive fence-db1 stonith:fence_ipmilan \\
    params pcmk_host_list=db1 ip=10.11.22.1 ipport=6231
primitive vip ocf:heartbeat:IPaddr2 params ip=10.11.22.100
location fence-db1-runs-away fence-db1 -inf: db1
`);
    expect(crmStonithDevices(merged).map((d) => d.agent)).toEqual(['stonith:fence_ipmilan']);
  });

  it('adds new objects and settings after the base (a property is never a replacement of the base one)', () => {
    const merged = overlayCrm(BASE, 'property stonith-timeout=90s\nprimitive fence-db2 stonith:fence_ipmilan params pcmk_host_list=db2\n');
    const words = crmStatements(merged).map((s) => s.words.slice(0, 2).join(' '));
    expect(words).toEqual([
      'property stonith-enabled=true',
      'primitive fence-db1',
      'primitive vip',
      'location fence-db1-runs-away',
      'property stonith-timeout=90s',
      'primitive fence-db2',
    ]);
  });
});

describe('profiles/hardened-ipmi: the hardened profile fencing with fence_ipmilan', () => {
  it('is the hardened profile but for its two fence devices, which address the lab BMC at the subnet .1', () => {
    const hardened = Profile.load('hardened');
    const ipmi = Profile.load('hardened-ipmi');
    expect(ipmi.name).toBe('hardened-ipmi');
    expect(ipmi.config.hosts).toEqual(hardened.config.hosts);
    expect(ipmi.files.corosyncConf).toBe(hardened.files.corosyncConf);
    expect(ipmi.ocfAgents).toEqual(hardened.ocfAgents);
    expect(ipmi.labFenceDevices).toEqual([]);
    expect(ipmi.labBmcDevices.map((d) => [d.id, d.plug, d.address, d.port, d.login])).toEqual([
      ['fence-db1', 'db1', '10.11.22.1', 6231, 'admin'],
      ['fence-db2', 'db2', '10.11.22.1', 6232, 'admin'],
    ]);
    // Every statement but the two devices is the base's, in the base's order.
    const others = (p: Profile) =>
      crmStatements(p.files.clusterCrm)
        .filter((s) => !(s.words[0] === 'primitive' && /^fence-db/.test(s.words[1]!)))
        .map((s) => s.words.join(' '));
    expect(others(ipmi)).toEqual(others(hardened));
    expect(Object.keys(loadExpectations(ipmi))).toEqual(Object.keys(loadExpectations(hardened)));
    // On another /24 the BMC moves with the lab.
    expect(ipmi.withSubnet('10.11.70.0/24').labBmcDevices.map((d) => `${d.address}:${d.port}`)).toEqual([
      '10.11.70.1:6231',
      '10.11.70.1:6232',
    ]);
    // The BMC password is a secret: redacted wherever it appears.
    expect(redact(`ipmitool -U admin -P x ${ipmi.labBmcDevices[0]!.password}`)).not.toContain(ipmi.labBmcDevices[0]!.password);
  });

  it("takes the variant's expectations over the base's, act by act", () => {
    const d = tempDir();
    cpSync(Profile.load('hardened-ipmi').dir, d, { recursive: true });
    writeFileSync(join(d, 'profile.json'), JSON.stringify({ base: 'hardened', name: 'v' }));
    // A whole act, restated: here case 6 with another outcome.
    const act6 = { ...loadExpectations(Profile.load('hardened'))['6-kill-corosync'], vipAfter: ['stayed'] };
    writeFileSync(join(d, 'expectations.json'), JSON.stringify({ acts: { '6-kill-corosync': act6 } }));
    const acts = loadExpectations(Profile.load(d));
    expect(acts['6-kill-corosync']!.vipAfter).toEqual(['stayed']);
    expect(acts['1-network-down']).toEqual(loadExpectations(Profile.load('hardened'))['1-network-down']);
  });

  it('refuses a base that is not a profile, or is itself a variant', () => {
    const d = tempDir();
    writeFileSync(join(d, 'profile.json'), JSON.stringify({ base: 'nosuch', name: 'v' }));
    expect(() => Profile.load(d)).toThrow(/base "nosuch" is not a profile/);
    const v2 = join(d, 'v2');
    mkdirSync(v2);
    writeFileSync(join(v2, 'profile.json'), JSON.stringify({ base: 'hardened-ipmi', name: 'v2' }));
    expect(() => Profile.load(v2)).toThrow(/base "hardened-ipmi" is itself a variant/);
  });
});

describe('fence devices that use the lab BMC', () => {
  const crm = (params: string) => `primitive fence-db1 stonith:fence_ipmilan params ${params}\n`;

  it('are the fence_ipmilan devices aimed at the subnet .1 only', () => {
    expect(labBmcDevices(crm('pcmk_host_list=db1 ip=10.11.22.9 username=a password=b'), '10.11.22.0/24')).toEqual([]);
    expect(labBmcDevices(crm('pcmk_host_list=db1 ip=10.11.22.1 username=a password=b'), '10.11.22.0/24')[0]).toMatchObject({
      plug: 'db1',
      port: 623,
    });
  });

  it('must fence one host and name an account', () => {
    expect(() => labBmcDevices(crm('pcmk_host_list="db1 db2" ip=10.11.22.1 username=a password=b'), '10.11.22.0/24')).toThrow(
      /line 1: fence-db1 must fence exactly one host/,
    );
    expect(() => labBmcDevices(crm('pcmk_host_list=db1 ip=10.11.22.1 username=a'), '10.11.22.0/24')).toThrow(
      /has no username= or password=/,
    );
  });
});
