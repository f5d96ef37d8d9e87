import { execa } from 'execa';
import { HarnessError } from '../../util/errors.js';
import { listLabs, ownerAlive, readState } from './state.js';
import { destroyLab } from './lab.js';

/** Binaries the lab needs, and the Debian package that ships each. */
export const REQUIRED_BINARIES: Record<string, string> = {
  corosync: 'corosync',
  pacemakerd: 'pacemaker',
  crm_mon: 'pacemaker-cli-utils',
  cibadmin: 'pacemaker-cli-utils',
  crm: 'crmsh',
  mariadbd: 'mariadb-server',
  'mariadb-install-db': 'mariadb-server',
  mariadb: 'mariadb-client',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  socat: 'socat',
  tini: 'tini',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  ip: 'iproute2',
  ps: 'procps',
};
export const IPADDR2_AGENT = '/usr/lib/ocf/resource.d/heartbeat/IPaddr2';

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export async function missingPackages(): Promise<string[]> {
  const { existsSync, readFileSync } = await import('node:fs');
  const missing = new Set<string>();
  for (const [bin, pkg] of Object.entries(REQUIRED_BINARIES)) {
    if (!SEARCH_PATH.some((d) => existsSync(`${d}/${bin}`))) missing.add(pkg);
  }
  // Ubuntu splits Debian's resource-agents: IPaddr2 is in resource-agents-base.
  const ubuntu = existsSync('/etc/os-release') && /^ID=ubuntu$/m.test(readFileSync('/etc/os-release', 'utf8'));
  if (!existsSync(IPADDR2_AGENT)) missing.add(ubuntu ? 'resource-agents-base' : 'resource-agents');
  return [...missing];
}

export async function preflight(name: string, subnet: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new HarnessError(
      'the netns lab needs root (it creates namespaces, bridges and mounts)',
      'run as root, e.g. sudo npm run lab -- up',
    );
  }
  const missing = await missingPackages();
  if (missing.length) {
    throw new HarnessError(
      `packages missing for the lab: ${missing.join(' ')}`,
      `run: npm run setup   (or: apt-get install -y ${missing.join(' ')})`,
    );
  }
  const probe = await execa('unshare', ['--net', '--mount', '--pid', '--uts', '--ipc', '--fork', 'true'], { reject: false });
  if (probe.exitCode !== 0) {
    throw new HarnessError(
      `namespaces are not permitted here: unshare said: ${probe.stderr.trim() || `exit ${probe.exitCode}`}`,
      'the lab needs CAP_SYS_ADMIN and unprivileged-free namespaces (root on a VM or a privileged container)',
    );
  }
  if (!/^[a-z][a-z0-9-]{0,11}$/.test(name)) {
    throw new HarnessError(`lab name "${name}" is not valid`, 'use 1-12 lowercase letters, digits or - (it names network namespaces)');
  }
  for (const other of listLabs()) {
    if (other === name) continue;
    const s = readState(other);
    if (s?.subnet !== subnet) continue;
    // A test run's lab whose run died (kill -9, crash) is stale: clean it rather than refuse.
    if (s.owner && !ownerAlive(s)) {
      await destroyLab(other);
      continue;
    }
    throw new HarnessError(
      `subnet ${subnet} is already used by lab "${other}"${s.owner ? ` (in use by PID ${s.owner.pid})` : ''}`,
      `pick another --subnet, or: npm run lab -- down --name ${other}`,
    );
  }
  // The subnet must not exist in the host's own namespace either (the lab never shows up there).
  const addrs = await execa('ip', ['-j', 'addr'], { reject: false });
  const prefix = `${subnet.split('.').slice(0, 3).join('.')}.`;
  if (addrs.stdout.includes(`"${prefix}`)) {
    throw new HarnessError(
      `subnet ${subnet} is configured on this machine's own interfaces`,
      'pick another --subnet: lab addresses must never exist in the host namespace',
    );
  }
}
