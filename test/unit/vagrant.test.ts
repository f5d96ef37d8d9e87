import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import hardenedIpmiTarget from '../../targets/vagrant-hardened-ipmi.js';
import vagrantTarget from '../../targets/vagrant.js';
import { Profile } from '../../lib/profile/load.js';
import { provisionPlan, renderForVagrant } from '../../lib/profile/render-vagrant.js';
import { testTempDir } from '../support/temp-dir.js';
import { parseSshTargetConfig, targetConfigFile } from '../../lib/targets/ssh/config.js';
import { checkHostKey, parseKnownHosts } from '../../lib/targets/ssh/known-hosts.js';

const ROOT = resolve(import.meta.dirname, '../..');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Recorded calls of the Vagrantfile, evaluated with a stand-in for Vagrant's configuration DSL.
const STUB = `
require 'json'
class Rec
  def initialize(log, path) @log, @path = log, path end
  def method_missing(n, *a, **k, &b)
    p = @path + [n.to_s]
    @log << { 'call' => p.join('.'), 'args' => a, 'kw' => k.transform_keys(&:to_s) } if a.any? || !k.empty? || n.to_s.end_with?('=')
    b.call(Rec.new(@log, p)) if b
    Rec.new(@log, p)
  end
  def respond_to_missing?(*) true end
end
module Vagrant
  LOG = []
  def self.configure(_v) yield Rec.new(LOG, ['config']) end
end
load ARGV[0]
puts JSON.generate(Vagrant::LOG)
`;

describe('Vagrantfile and provisioning', () => {
  it('ruby and bash are present (scripts/setup.sh installs ruby and jq)', () => {
    expect(has('ruby'), 'ruby is missing: run bash scripts/setup.sh').toBe(true);
    expect(has('jq'), 'jq is missing: run bash scripts/setup.sh').toBe(true);
  });

  it("Vagrantfile is valid Ruby and defines the profile's hosts on eth1 with the insecure key", () => {
    expect(execFileSync('ruby', ['-c', join('Vagrantfile')], { cwd: ROOT, encoding: 'utf8' })).toContain('Syntax OK');
    const calls = vagrantfileCalls({});
    const args = (call: string) => calls.filter((c) => c.call === call).map((c) => c.args);
    expect(args('config.vm.box=')).toEqual([['debian/bookworm64']]);
    expect(args('config.ssh.insert_key=')).toEqual([[false]]);
    const p = Profile.load('seed');
    // db hosts first (primary before replica), then the management host.
    expect(args('config.vm.define').map((a) => a[0])).toEqual(['db1', 'db2', 'batch1']);
    expect(calls.filter((c) => c.call === 'config.vm.define.vm.network').map((c) => [c.args[0], c.kw.ip])).toEqual(
      ['db1', 'db2', 'batch1'].map((h) => ['private_network', p.host(h).address]),
    );
    expect(calls.filter((c) => c.call === 'config.vm.define.vm.provision').map((c) => c.kw)).toEqual(
      ['db1', 'db2', 'batch1'].map((h) =>
        expect.objectContaining({ path: 'vagrant/provision.sh', args: [h, '/vagrant/vagrant/.profile'] }),
      ),
    );
  });

  it('renders a variant for the VMs, the quorum server first; refuses a profile whose fencing needs the lab', () => {
    const calls = vagrantfileCalls({ MHC_PROFILE: 'hardened-ipmi' });
    expect(calls.filter((c) => c.call === 'config.vm.define').map((c) => c.args[0])).toEqual(['batch1', 'db1', 'db2']);
    const plan = JSON.parse(readFileSync(join(ROOT, 'vagrant/.profile/provision.json'), 'utf8'));
    expect(plan).toMatchObject({ profile: 'hardened-ipmi', qnetdHost: 'batch1', mysqlUnderPacemaker: true, stackAtBoot: true });
    const refused = spawnSync('ruby', ['-e', STUB, 'Vagrantfile'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, MHC_PROFILE: 'hardened' },
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("profile hardened fences with fence_mhc, the lab's own agent");
    expect(refused.stderr).toContain('on VMs use profiles/hardened-ipmi');
    vagrantfileCalls({}); // leave the default (seed) rendered
  });

  it("provision.sh is valid bash and its dry run does the profile's steps in order", () => {
    execFileSync('bash', ['-n', 'vagrant/provision.sh'], { cwd: ROOT });
    const seed = rendered('seed');
    const dry = (h: string) => dryRun(h, seed);
    const db1 = dry('db1');
    inOrder(db1, [
      'apt-get install -y -qq corosync pacemaker pacemaker-cli-utils crmsh resource-agents mariadb-server',
      `install -m 0644 ${seed}/mysql/common.cnf /etc/mysql/mariadb.conf.d/60-mhc-profile-common.cnf`,
      `install -m 0644 ${seed}/mysql/db1.cnf /etc/mysql/mariadb.conf.d/61-mhc-profile-host.cnf`,
      'systemctl restart mariadb',
      "CREATE USER IF NOT EXISTS 'rpl_user'@'%' IDENTIFIED BY '***'",
      `install -m 0644 ${seed}/corosync.conf /etc/corosync/corosync.conf`,
      'Restart=no',
      'systemctl disable corosync pacemaker',
      'systemctl start corosync',
      'systemctl start pacemaker',
      `crm configure load update ${seed}/cluster.crm`,
    ]);
    // The seed is the notebook's cluster: nothing of the hardened profiles.
    for (const absent of ['qdevice', 'qnetd', 'ocf:mhc', 'fence-agents', 'disable mariadb', 'SHUTDOWN', 'accounts.sql'])
      expect(db1, absent).not.toContain(absent);
    expect(db1).not.toContain('CHANGE MASTER');
    const db2 = dry('db2');
    inOrder(db2, [
      'mysql/db2.cnf',
      "CHANGE MASTER TO master_host='10.11.22.101', master_port=3306, master_user='rpl_user', master_password='***', master_use_gtid=slave_pos",
      'START SLAVE',
      'systemctl start corosync',
      'crm configure load update',
    ]);
    expect(db2).not.toContain('CREATE USER'); // nothing written on the replica before it replicates
    for (const out of [db1, db2]) expect(out.includes('rpl_pass'), 'the replication password in the dry run').toBe(false);
    const b = dry('batch1');
    expect(b).toContain('apt-get install -y -qq mariadb-client');
    expect(b).not.toContain('corosync');
    const bad = spawnSync('bash', ['vagrant/provision.sh', '--dry-run', 'db9', seed], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`host "db9" is not in ${seed}/profile.json`);
    const unrendered = spawnSync('bash', ['vagrant/provision.sh', '--dry-run', 'db1', 'profiles/seed'], { cwd: ROOT, encoding: 'utf8' });
    expect(unrendered.status).toBe(1);
    expect(unrendered.stderr).toContain('profiles/seed/provision.json is missing: give the profile as rendered by npm run vagrant:profile');
  });

  it('hardened-ipmi: qnetd on batch1, qdevice and the profile agents on the db hosts, MariaDB handed to Pacemaker; no password printed', () => {
    const dir = rendered('hardened-ipmi');
    const dry = (h: string) => dryRun(h, dir);
    inOrder(dry('batch1'), [
      'apt-get install -y -qq mariadb-client socat corosync-qnetd',
      'COROSYNC_QNETD_OPTIONS="-s off"',
      'systemctl restart corosync-qnetd',
      'listen on 5403',
    ]);
    const db1 = dry('db1');
    inOrder(db1, [
      'iptables corosync-qdevice fence-agents ipmitool',
      `install -m 0755 ${dir}/ocf/mariadb /usr/lib/ocf/resource.d/mhc/mariadb`,
      `install -m 0755 ${dir}/ocf/mariadb-diskwait /usr/lib/ocf/resource.d/mhc/mariadb-diskwait`,
      "CREATE USER IF NOT EXISTS 'rpl_user'@'%'",
      `mysql < ${dir}/mysql/accounts.sql`,
      'systemctl disable mariadb',
      'Restart=on-failure',
      'systemctl enable corosync corosync-qdevice pacemaker',
      'systemctl start corosync',
      'systemctl start corosync-qdevice',
      'systemctl start pacemaker',
    ]);
    expect(db1).not.toContain('SHUTDOWN');
    const db2 = dry('db2');
    inOrder(db2, [
      'START SLAVE',
      'systemctl disable mariadb',
      "wait up to 60s for db2 to reach db1's GTID position",
      'mysql -h 10.11.22.101 -P 3306 -uroot -p*** -e SHUTDOWN',
      'systemctl stop mariadb',
      'systemctl start corosync-qdevice',
      'to give its vote (qnetd on batch1)',
      `crm configure load update ${dir}/cluster.crm`,
      'crm_mon -1 -r',
    ]);
    expect(db2).not.toContain('accounts.sql'); // nothing written on the replica before it replicates
    for (const out of [db1, db2]) for (const secret of ['rpl_pass', 'mhc-bmc-pass', '-proot']) expect(out, secret).not.toContain(secret);
  });

  it('the provisioning plan follows the profile: the seed adds nothing; an agent it cannot install is refused', () => {
    expect(provisionPlan(Profile.load('seed'))).toEqual({
      profile: 'seed',
      qnetdHost: null,
      pacemakerRestart: 'no',
      stackAtBoot: false,
      mysqlUnderPacemaker: false,
      ocfAgents: [],
      accountsSql: false,
      dbPackages: [],
      managementPackages: [],
    });
    const dir = testTempDir('mhc-vagrant-variant-');
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ base: 'hardened', name: 'ssh-fenced' }));
    writeFileSync(join(dir, 'cluster.crm'), 'primitive fence-db1 stonith:external/ssh \\\n    params hostlist=db1\n');
    expect(() => provisionPlan(Profile.load(dir))).toThrow(
      /profile ssh-fenced fences with stonith:external\/ssh, which vagrant\/provision.sh does not know how to install/,
    );
  });

  it('targets/vagrant.ts and vagrant-hardened-ipmi.ts are valid ssh target configs: vagrant, sudo, jump via batch1, not disposable', () => {
    const c = parseSshTargetConfig(vagrantTarget, 'targets/vagrant.ts');
    expect(c).toMatchObject({
      kind: 'ssh',
      profile: 'seed',
      user: 'vagrant',
      keyPath: '~/.vagrant.d/insecure_private_key',
      sudo: true,
      jumpHost: 'batch1',
      disposable: false,
      port: 22,
    });
    expect(targetConfigFile('vagrant')).toBe(resolve(ROOT, 'targets/vagrant.ts'));
    // The VMs provisioned from hardened-ipmi: the same login, its profile, and the quorum device's client started by systemd.
    const h = parseSshTargetConfig(hardenedIpmiTarget, 'targets/vagrant-hardened-ipmi.ts');
    expect(h).toMatchObject({ profile: 'hardened-ipmi', user: 'vagrant', jumpHost: 'batch1', disposable: false });
    expect(h.daemons.qdevice?.start).toBe('systemctl start corosync-qdevice && systemctl show -p MainPID --value corosync-qdevice');
    expect(Profile.load(h.profile).quorumDevice).toBe(true);
    expect(() => targetConfigFile('nope')).toThrow(/no target "nope"/);
    expect(() => parseSshTargetConfig({ ...vagrantTarget, jumpHost: 'Batch 1' }, 'targets/x.ts')).toThrow(
      /targets\/x\.ts is not a valid ssh target config:\n {2}jumpHost:/,
    );
  });

  it('known_hosts: plain, hashed and [host]:port entries; mismatch vs unknown', () => {
    const k1 = Buffer.from('key-one').toString('base64');
    const k2 = Buffer.from('key-two').toString('base64');
    // |1|salt|hash of "db2" with salt "salt" (as ssh-keygen -H writes it)
    const salt = Buffer.from('salt').toString('base64');
    const hash = execFileSync('sh', ['-c', `printf db2 | openssl dgst -sha1 -mac HMAC -macopt key:salt -binary | base64`], {
      encoding: 'utf8',
    }).trim();
    const e = parseKnownHosts(
      `# c\ndb1,10.0.0.1 ssh-ed25519 ${k1}\n|1|${salt}|${hash} ssh-ed25519 ${k2}\n[db3]:2222 ssh-ed25519 ${k1}\n@cert-authority * ssh-ed25519 ${k2}\n`,
    );
    expect(checkHostKey(e, ['db1'], Buffer.from('key-one'))).toBe('ok');
    expect(checkHostKey(e, ['x', '10.0.0.1'], Buffer.from('key-two'))).toBe('mismatch');
    expect(checkHostKey(e, ['db2'], Buffer.from('key-two'))).toBe('ok');
    expect(checkHostKey(e, ['[db3]:2222'], Buffer.from('key-one'))).toBe('ok');
    expect(checkHostKey(e, ['db4'], Buffer.from('key-one'))).toBe('unknown');
  });
});

function join(...p: string[]) {
  return p.join('/');
}

/** The Vagrantfile's recorded calls, evaluated with a stand-in for Vagrant (it renders the profile into vagrant/.profile). */
function vagrantfileCalls(env: Record<string, string>): { call: string; args: unknown[]; kw: Record<string, unknown> }[] {
  const r = execFileSync('ruby', ['-e', STUB, join('Vagrantfile')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return JSON.parse(r);
}

/** A profile rendered for provision.sh (npm run vagrant:profile) in a directory of the test's own. */
function rendered(profile: string): string {
  const dir = join(testTempDir('mhc-vagrant-'), profile);
  renderForVagrant(Profile.load(profile), dir);
  return dir;
}

/** provision.sh's dry run of HOST from a rendered profile: every step it would take. */
const dryRun = (host: string, dir: string) =>
  execFileSync('bash', ['vagrant/provision.sh', '--dry-run', host, dir], { cwd: ROOT, encoding: 'utf8' });

/** Each of `parts` is in `text`, in this order. */
function inOrder(text: string, parts: string[]): void {
  const at = parts.map((x) => text.indexOf(x));
  expect(at.filter((i) => i < 0).length, `missing: ${parts.filter((_, i) => at[i]! < 0).join(' | ')}`).toBe(0);
  expect(at).toEqual([...at].sort((a, b) => a - b));
}
