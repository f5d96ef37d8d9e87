import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Profile } from '../../lib/profile/load.js';
import { colocatedWithPromoted, crmPrimitives, crmProperties, findPromotableMysql, findVipPrimitive } from '../../lib/profile/crm.js';
import { offendingLine } from '../../lib/targets/netns/crm-errors.js';
import { redact } from '../../lib/util/redact.js';

const copySeed = () => {
  const d = mkdtempSync(join(tmpdir(), 'mhc-profile-'));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  cpSync(Profile.load('seed').dir, d, { recursive: true });
  return d;
};

describe('the seed profile', () => {
  it("is the notebook's cluster: db1, db2, batch1 and the VIP on eth1", () => {
    const p = Profile.load('seed');
    expect(p.hosts.map((h) => [h.name, h.address, h.role])).toEqual([
      ['db1', '10.11.22.101', 'db'],
      ['db2', '10.11.22.102', 'db'],
      ['batch1', '10.11.22.111', 'management'],
    ]);
    expect(p.vip).toMatchObject({ id: 'vip', ip: '10.11.22.100', cidrNetmask: 24, nic: 'eth1' });
    expect(crmProperties(p.files.clusterCrm)).toEqual({ 'no-quorum-policy': 'ignore', 'stonith-enabled': 'false' });
    expect(p.files.clusterCrm).toMatch(/^rsc_defaults resource-stickiness=INFINITY$/m);
  });

  it('moves onto another /24 keeping last octets, in every file', () => {
    const p = Profile.load('seed').withSubnet('10.11.99.0/24');
    expect(p.host('db2').address).toBe('10.11.99.102');
    expect(p.vip.ip).toBe('10.11.99.100');
    expect(p.files.corosyncConf).toContain('ring0_addr: 10.11.99.101');
    expect(p.files.corosyncConf).not.toContain('10.11.22.');
    expect(p.files.clusterCrm).toContain('ip=10.11.99.100');
  });
});

describe('bad profiles are clear errors', () => {
  it('names the field of profile.json that is wrong', () => {
    const d = copySeed();
    const j = JSON.parse(readFileSync(join(d, 'profile.json'), 'utf8'));
    j.hosts.db1.address = 'db1.example';
    writeFileSync(join(d, 'profile.json'), JSON.stringify(j));
    expect(() => Profile.load(d)).toThrow(/profile\.json is not a valid profile:\n\s+hosts\.db1\.address: an IPv4 address/);
  });

  it('names corosync.conf when its nodelist disagrees with the hosts', () => {
    const d = copySeed();
    const f = join(d, 'corosync.conf');
    writeFileSync(f, readFileSync(f, 'utf8').replace('ring0_addr: 10.11.22.102', 'ring0_addr: 10.11.22.103'));
    expect(() => Profile.load(d)).toThrow(
      /corosync\.conf: node db2 ring0_addr 10\.11\.22\.103 differs from profile\.json address 10\.11\.22\.102/,
    );
  });

  it('requires a VIP primitive in cluster.crm', () => {
    const d = copySeed();
    writeFileSync(join(d, 'cluster.crm'), 'property stonith-enabled=false\n');
    expect(() => Profile.load(d)).toThrow(/cluster\.crm: no ocf:heartbeat:IPaddr2 primitive/);
  });

  it('names an agent of its own provider (ocf:mhc:TYPE) that the profile does not ship', () => {
    const d = mkdtempSync(join(tmpdir(), 'mhc-profile-'));
    onTestFinished(() => rmSync(d, { recursive: true, force: true }));
    cpSync(Profile.load('hardened').dir, d, { recursive: true });
    expect(Profile.load(d).ocfAgents).toEqual({
      mariadb: join(d, 'ocf', 'mariadb'),
      'mariadb-diskwait': join(d, 'ocf', 'mariadb-diskwait'),
    });
    rmSync(join(d, 'ocf'), { recursive: true });
    expect(() => Profile.load(d)).toThrow(/cluster\.crm line \d+: p_mariadb uses ocf:mhc:mariadb, but the profile has no ocf\/mariadb/);
  });

  it('names a missing profile as the user gave it: a name from profiles/, or a path', () => {
    expect(() => Profile.load('nosuch')).toThrow(/^no profile named "nosuch" in profiles\/\n\s+→ profiles are .*seed/);
    expect(() => Profile.load('/nonexistent/prof')).toThrow(/^profile \/nonexistent\/prof: no such directory \(\/nonexistent\/prof\)/);
    expect(() => Profile.load('./nosuch-dir')).toThrow(/^profile \.\/nosuch-dir: no such directory/);
  });
});

describe('crm shell text', () => {
  it('joins continued lines and keeps the first line number', () => {
    const v = findVipPrimitive('# x\nprimitive vip \\\n  ocf:heartbeat:IPaddr2 \\\n  params ip="10.0.0.5" cidr_netmask="24" nic="eth1"\n');
    expect(v).toEqual({ id: 'vip', ip: '10.0.0.5', cidrNetmask: 24, nic: 'eth1', line: 2 });
  });

  it("splits a primitive into params, meta and ops (an op's interval is not a param)", () => {
    const [p] = crmPrimitives(
      'primitive d ocf:heartbeat:Dummy fake=1 \\\n  params state=/x \\\n  op monitor interval=3s role=Promoted \\\n  meta m=1\n',
    );
    expect(p).toEqual({
      id: 'd',
      agent: 'ocf:heartbeat:Dummy',
      params: { fake: '1', state: '/x' },
      meta: { m: '1' },
      ops: [{ name: 'monitor', attrs: { interval: '3s', role: 'Promoted' } }],
      line: 1,
    });
  });

  it('finds MariaDB in a promotable clone (or the older ms), and the VIP colocated with its promoted role', () => {
    const text =
      'primitive db ocf:heartbeat:mariadb params node_list="a b"\nms msdb db meta notify=true\ncolocation c inf: ip msdb:Master\n';
    expect(findPromotableMysql(text)).toMatchObject({ clone: { id: 'msdb', promotable: true }, nodeList: ['a', 'b'] });
    expect(colocatedWithPromoted(text, 'ip', 'msdb')).toBe(true);
    expect(colocatedWithPromoted(text.replace('inf:', '100:'), 'ip', 'msdb')).toBe(false);
    expect(findPromotableMysql(text.replace('ms msdb db meta', 'clone msdb db meta'))).toBeUndefined();
    expect(findPromotableMysql(Profile.load('seed').files.clusterCrm)).toBeUndefined();
  });

  // Messages below are crmsh 4.4's own, captured from the lab.
  const crm = '# c1\n# c2\nproperty no-quorum-policy=ignore\n\nprimitiv vip2 ocf:heartbeat:IPaddr2 params ip=10.11.22.100\n';
  it('finds the line of a syntax error from the statement crmsh quotes', () => {
    expect(
      offendingLine(
        crm,
        "ERROR: 4: syntax: Unknown command near <primitiv> parsing 'primitiv vip2 ocf:heartbeat:IPaddr2 params ip=10.11.22.100'",
      ),
    ).toBe(5);
  });
  it('finds the line of a property Pacemaker rejects', () => {
    const text = '# notebook\nproperty default-resource-stickiness=INFINITY\n';
    expect(
      offendingLine(
        text,
        "WARNING: cib-bootstrap-options: unknown attribute 'default-resource-stickiness'\nERROR: crm_verify: Errors found during check: config not valid",
      ),
    ).toBe(2);
  });
});

describe('redaction', () => {
  it('masks passwords in context, and long registered secrets anywhere', () => {
    Profile.load('seed'); // registers root / rpl_pass
    expect(redact("CREATE USER 'rpl_user'@'%' IDENTIFIED BY 'x y'")).toBe("CREATE USER 'rpl_user'@'%' IDENTIFIED BY ***");
    expect(redact('master_password=abc, user=root')).toBe('master_password=***, user=root');
    expect(redact('mysql://root:root@db1:3306')).toBe('mysql://root:***@db1:3306');
    expect(redact('the replication password is rpl_pass')).toBe('the replication password is ***');
    expect(redact('run as root')).toBe('run as root');
  });
});
