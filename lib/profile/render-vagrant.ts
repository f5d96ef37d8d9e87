import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../util/errors.js';
import { crmStonithDevices } from './crm.js';
import type { Profile } from './load.js';

/**
 * What vagrant/provision.sh needs to know of a profile beyond its files, decided here (typed,
 * unit-tested) rather than in bash: which packages, daemons and hand-overs the profile asks for.
 */
export interface ProvisionPlan {
  profile: string;
  /** corosync-qnetd on this management host, corosync-qdevice on the db hosts. */
  qnetdHost: string | null;
  /** pacemaker.service's Restart= (the profile's services.pacemaker.restart). */
  pacemakerRestart: 'no' | 'on-failure';
  /**
   * corosync, corosync-qdevice and pacemaker enabled at boot: a profile that fences needs a
   * fenced node to rejoin by itself, as the lab's power-on boots it. The seed keeps the notebook's
   * stack started by hand.
   */
  stackAtBoot: boolean;
  /** MariaDB as a promotable clone: its systemd unit disabled, and both servers stopped before cluster.crm. */
  mysqlUnderPacemaker: boolean;
  /** The profile's own resource agents, installed as ocf:mhc:TYPE (ocf/TYPE in the rendered profile). */
  ocfAgents: string[];
  /** Whether mysql/accounts.sql is there, to be run on the primary after the accounts. */
  accountsSql: boolean;
  dbPackages: string[];
  managementPackages: string[];
}

/** Debian 12 packages for the fence agents cluster.crm names (stonith:TYPE). */
function fencePackages(profile: Profile): string[] {
  const agents = [...new Set(crmStonithDevices(profile.files.clusterCrm).map((d) => d.agent.slice('stonith:'.length)))];
  return agents.flatMap((agent) => {
    if (agent === 'fence_mhc')
      throw new HarnessError(
        `profile ${profile.name} fences with fence_mhc, the lab's own agent: its power switch exists only on the netns lab and the containers`,
        'on VMs use profiles/hardened-ipmi (fence_ipmilan through VirtualBMC; README: the hardened profile on VMs)',
      );
    if (agent === 'fence_ipmilan') return ['fence-agents', 'ipmitool'];
    if (agent.startsWith('fence_')) return ['fence-agents'];
    throw new HarnessError(
      `profile ${profile.name} fences with stonith:${agent}, which vagrant/provision.sh does not know how to install`,
      'use a fence-agents agent (stonith:fence_*), or add its Debian package in lib/profile/render-vagrant.ts',
    );
  });
}

export function provisionPlan(profile: Profile): ProvisionPlan {
  const qdevice = profile.quorumDevice;
  const fence = [...new Set(fencePackages(profile))];
  return {
    profile: profile.name,
    qnetdHost: qdevice ? profile.managementHost.name : null,
    pacemakerRestart: profile.pacemakerRestart,
    stackAtBoot: profile.fences,
    mysqlUnderPacemaker: profile.promotableMysql !== undefined,
    ocfAgents: Object.keys(profile.ocfAgents).sort(),
    accountsSql: existsSync(profile.path('mysql/accounts.sql')),
    dbPackages: [...(qdevice ? ['corosync-qdevice'] : []), ...fence],
    managementPackages: qdevice ? ['corosync-qnetd'] : [],
  };
}

/**
 * The profile as one directory for vagrant/provision.sh, which reads files and not variants: its
 * merged profile.json (no "base"), corosync.conf, the merged cluster.crm, mysql/, ocf/, and
 * provision.json (provisionPlan). `out` is replaced.
 */
export function renderForVagrant(profile: Profile, out: string): ProvisionPlan {
  const plan = provisionPlan(profile);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'mysql'), { recursive: true });
  const { base: _base, ...config } = profile.config as typeof profile.config & { base?: string };
  writeFileSync(join(out, 'profile.json'), `${JSON.stringify({ ...config, name: profile.name }, null, 2)}\n`);
  writeFileSync(join(out, 'corosync.conf'), profile.files.corosyncConf);
  writeFileSync(join(out, 'cluster.crm'), profile.files.clusterCrm);
  writeFileSync(join(out, 'mysql/common.cnf'), profile.files.mysqlCommon);
  for (const [host, cnf] of Object.entries(profile.files.mysqlHost)) writeFileSync(join(out, `mysql/${host}.cnf`), cnf);
  if (plan.accountsSql) writeFileSync(join(out, 'mysql/accounts.sql'), readFileSync(profile.path('mysql/accounts.sql')));
  if (plan.ocfAgents.length) mkdirSync(join(out, 'ocf'));
  for (const [type, source] of Object.entries(profile.ocfAgents))
    writeFileSync(join(out, 'ocf', type), readFileSync(source), { mode: 0o755 });
  writeFileSync(join(out, 'provision.json'), `${JSON.stringify(plan, null, 2)}\n`);
  return plan;
}
