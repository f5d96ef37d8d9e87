import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Profile } from '../../profile/load.js';
import { hostDir, labDir } from './state.js';

/** Directories each lab host gets of its own (bind-mounted over the system paths by host-init.sh). */
const HOST_DIRS = [
  'etc/corosync',
  'etc/mysql',
  'etc/ssh/authorized_keys',
  'var/lib/pacemaker/cib',
  'var/lib/pacemaker/pengine',
  'var/lib/pacemaker/blackbox',
  'var/lib/pacemaker/cores',
  'var/lib/corosync',
  'var/log/pacemaker',
  'var/log/corosync',
  'var/log/mysql',
  'var/log/crmsh',
  'root',
];

function ids(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`system user ${user} does not exist (is its package installed?)`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * The size of a db host's datadir filesystem (a tmpfs of its own on the netns lab and containers):
 * room for a long run's binlogs (a whole suite writes a few tens of MiB), small enough that the
 * disk-full fault fills it in an instant.
 */
export const DATADIR_MIB = 512;

/** The MariaDB server file of a lab host: lab plumbing first, then the profile's settings, which win. */
export function labMyCnf(): string {
  return `# Written by the lab. Paths and sizing are the lab's; the profile's settings follow and win.
[client-server]
socket = /run/mysqld/mysqld.sock

[mysqld]
user = mysql
datadir = /var/lib/mysql
pid-file = /run/mysqld/mysqld.pid
log_error = /var/log/mysql/error.log
# lab sizing: two servers share a small machine
innodb_buffer_pool_size = 64M
innodb_log_file_size = 16M

!include /etc/mysql/profile-common.cnf
!include /etc/mysql/profile-host.cnf
`;
}

export const SSHD_CONFIG = `# Written by the lab (and the containers target): key-only root and vagrant logins for the SSH target.
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
UseDNS no
LogLevel INFO
`;

export function hostsFile(profile: Profile): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const h of profile.hosts) lines.push(`${h.address} ${h.fqdn} ${h.name}`);
  return `${lines.join('\n')}\n`;
}

/**
 * root's home as on a fresh Debian install, not this machine's /root: bash sources ~/.bashrc for
 * every command sshd runs, and this machine's (pyenv init, ~0.6 s under a lock) made concurrent
 * SSH commands queue behind each other until they timed out.
 */
function writeRootHome(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const f of ['.bashrc', '.profile']) {
    const skel = `/etc/skel/${f}`;
    if (existsSync(skel)) copyFileSync(skel, join(dir, f));
  }
}

/** An empty CIB of this Pacemaker's own schema, carrying the lab's start-up overrides. */
export async function seededCib(props: Record<string, string>): Promise<string> {
  const { stdout } = await execa('cibadmin', ['--empty']);
  const nv = Object.entries(props)
    .map(([k, v]) => `<nvpair id="lab-options-${k}" name="${k}" value="${v}"/>`)
    .join('');
  return stdout.replace('<crm_config/>', `<crm_config><cluster_property_set id="lab-options">${nv}</cluster_property_set></crm_config>`);
}

/**
 * A new ed25519 key pair at `file`. A key left there (a lab written twice) is removed first:
 * ssh-keygen would otherwise ask on stdin whether to overwrite it and wait for ever.
 */
async function newSshKey(file: string, comment: string): Promise<void> {
  for (const f of [file, `${file}.pub`]) rmSync(f, { force: true });
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdin: 'ignore', timeout: 30_000 });
}

export async function writeHostFiles(labName: string, profile: Profile, cibProps: Record<string, string>): Promise<void> {
  const hacluster = ids('hacluster');
  const mysql = ids('mysql');
  const cib = Object.keys(cibProps).length ? await seededCib(cibProps) : undefined;
  mkdirSync(join(labDir(labName), 'profile'), { recursive: true });
  writeFileSync(join(labDir(labName), 'profile', 'cluster.crm'), profile.files.clusterCrm);

  // One client key for the lab's SSH path (through batch1), authorised on every db host.
  const sshDir = join(labDir(labName), 'ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  await newSshKey(join(sshDir, 'id_ed25519'), `mysql-ha-chaos lab ${labName}`);
  const clientPub = join(sshDir, 'id_ed25519.pub');

  await Promise.all(
    profile.hosts.map(async (h) => {
      const d = hostDir(labName, h.name);
      for (const sub of HOST_DIRS) mkdirSync(join(d, sub), { recursive: true });
      // The short name, as the Vagrant cluster's hosts have it (the FQDN resolves through /etc/hosts):
      // on Debian 12 resource-agents' ocf_local_nodename falls back to `uname -n` (it cannot read
      // pacemakerd -$'s version), so an agent must find the cluster's node name there.
      writeFileSync(join(d, 'etc/hostname'), `${h.name}\n`);
      writeFileSync(join(d, 'etc/hosts'), hostsFile(profile));
      writeRootHome(join(d, 'root'));
      if (h.role !== 'db') return;
      if (profile.labFenceDevices.length) mkdirSync(join(d, 'power'), { mode: 0o700 });
      writeFileSync(join(d, 'etc/corosync/corosync.conf'), profile.files.corosyncConf);
      writeFileSync(join(d, 'etc/mysql/my.cnf'), labMyCnf());
      writeFileSync(join(d, 'etc/mysql/profile-common.cnf'), profile.files.mysqlCommon);
      writeFileSync(join(d, 'etc/mysql/profile-host.cnf'), profile.files.mysqlHost[h.name] ?? '');
      writeFileSync(join(d, 'etc/ssh/sshd_config'), SSHD_CONFIG);
      await newSshKey(join(d, 'etc/ssh/ssh_host_ed25519_key'), h.fqdn);
      copyFileSync(clientPub, join(d, 'etc/ssh/authorized_keys/root'));
      copyFileSync(clientPub, join(d, 'etc/ssh/authorized_keys/vagrant'));
      for (const f of ['root', 'vagrant']) chmodSync(join(d, 'etc/ssh/authorized_keys', f), 0o644);
      if (cib) {
        const f = join(d, 'var/lib/pacemaker/cib/cib.xml');
        writeFileSync(f, cib, { mode: 0o600 });
      }
      for (const sub of [
        'var/lib/pacemaker',
        'var/lib/pacemaker/cib',
        'var/lib/pacemaker/pengine',
        'var/lib/pacemaker/blackbox',
        'var/lib/pacemaker/cores',
        'var/log/pacemaker',
      ]) {
        chownSync(join(d, sub), hacluster.uid, hacluster.gid);
      }
      if (cib) chownSync(join(d, 'var/lib/pacemaker/cib/cib.xml'), hacluster.uid, hacluster.gid);
      chownSync(join(d, 'var/log/mysql'), mysql.uid, mysql.gid);
    }),
  );
}
