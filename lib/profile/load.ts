import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve, relative } from 'node:path';
import { HarnessError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';
import { corosyncNodes, corosyncValue } from './corosync-conf.js';
import {
  type CrmPrimitive,
  colocatedWithPromoted,
  crmPrimitives,
  crmProperties,
  crmStonithDevices,
  findPromotableMysql,
  findVipPrimitive,
  isTrue,
  overlayCrm,
  PROFILE_OCF_PROVIDER,
  type PromotableMysql,
  type VipPrimitive,
} from './crm.js';
import { type LabBmcDevice, labBmcDevices } from './lab-bmc.js';
import { profileSchema, type ProfileConfig } from './schema.js';

export const PROFILES_DIR = resolve(import.meta.dirname, '../../profiles');

/** A profile's files, as the operator releases them. */
export interface ProfileFiles {
  corosyncConf: string;
  clusterCrm: string;
  mysqlCommon: string;
  mysqlHost: Record<string, string>;
}

export interface HostSpec {
  name: string;
  address: string;
  role: 'db' | 'management';
  fqdn: string;
}

/** The profiles shipped in profiles/ (a directory each). */
export function profileNames(): string[] {
  return existsSync(PROFILES_DIR)
    ? readdirSync(PROFILES_DIR)
        .filter((n) => existsSync(join(PROFILES_DIR, n, 'profile.json')))
        .sort()
    : [];
}

/**
 * Where a profile lives: a name is a directory of profiles/, anything with a slash (or an existing
 * directory) is a path. Either must exist: the message names what was looked for.
 */
export function profileDir(nameOrPath: string): string {
  const isPath = nameOrPath.includes('/') || nameOrPath.startsWith('.') || existsSync(nameOrPath);
  if (isPath) {
    const dir = resolve(nameOrPath);
    if (!existsSync(dir))
      throw new HarnessError(
        `profile ${nameOrPath}: no such directory (${dir})`,
        'give a profile directory (with profile.json) or a name from profiles/',
      );
    return dir;
  }
  const dir = join(PROFILES_DIR, nameOrPath);
  if (!existsSync(dir))
    throw new HarnessError(
      `no profile named "${nameOrPath}" in profiles/`,
      `profiles are ${profileNames().join(', ') || '(none)'}; or give a directory path`,
    );
  return dir;
}

/**
 * A loaded, validated profile. `withSubnet` gives the same cluster on another /24 (the lab's
 * --subnet): every address keeps its last octet, in profile.json and in the config files alike.
 */
export class Profile {
  private constructor(
    readonly dir: string,
    readonly config: ProfileConfig,
    readonly files: ProfileFiles,
    readonly vip: VipPrimitive,
    /** A variant's base profile (profile.json "base"), whose files it uses where it has none. */
    readonly baseDir?: string,
  ) {}

  /** A file of the profile: the variant's own, else its base's (which may not exist either). */
  path(file: string): string {
    const dirs = this.baseDir ? [this.dir, this.baseDir] : [this.dir];
    return dirs.map((d) => join(d, file)).find((f) => existsSync(f)) ?? join(this.dir, file);
  }

  get name() {
    return this.config.name;
  }
  get subnet() {
    return this.config.network.subnet;
  }
  get prefix() {
    return this.subnet.split('.').slice(0, 3).join('.');
  }
  get nic() {
    return this.config.network.interface;
  }
  /** Whether a db host's init restarts a pacemakerd that died (pacemaker.service's Restart=on-failure). */
  get pacemakerRestart(): 'no' | 'on-failure' {
    return this.config.services.pacemaker.restart;
  }
  /** From power-on to the host's init starting its units (services.bootDelaySeconds), in ms. */
  get bootDelayMs(): number {
    return this.config.services.bootDelaySeconds * 1000;
  }
  /** Whether the cluster fences (stonith-enabled=true in cluster.crm). */
  get fences(): boolean {
    return isTrue(crmProperties(this.files.clusterCrm)['stonith-enabled']);
  }
  /** Whether corosync.conf asks for a quorum device (corosync-qdevice on the db hosts, corosync-qnetd on the management host). */
  get quorumDevice(): boolean {
    return corosyncValue(this.files.corosyncConf, 'device', 'model') === 'net';
  }
  /** The fence devices of cluster.crm that use the lab's power switch (stonith:fence_mhc). */
  get labFenceDevices(): CrmPrimitive[] {
    return crmStonithDevices(this.files.clusterCrm).filter((d) => d.agent === 'stonith:fence_mhc');
  }
  /** The fence devices of cluster.crm that fence through the lab's BMCs (fence_ipmilan at the subnet's .1). */
  get labBmcDevices(): LabBmcDevice[] {
    return labBmcDevices(this.files.clusterCrm, this.subnet);
  }
  /** Whether the lab runs a power switch for this profile (fence_mhc devices, or BMCs in front of it). */
  get labPowerSwitch(): boolean {
    return this.labFenceDevices.length > 0 || this.labBmcDevices.length > 0;
  }
  /** The resource agents the profile ships (profiles/NAME/ocf/TYPE, used as ocf:mhc:TYPE): type → file. */
  get ocfAgents(): Record<string, string> {
    return profileOcfAgents(this.baseDir ? [this.dir, this.baseDir] : [this.dir]);
  }
  /** MariaDB as a promotable clone under Pacemaker (the hardened profile), or undefined when it runs outside Pacemaker (the seed). */
  get promotableMysql(): PromotableMysql | undefined {
    return findPromotableMysql(this.files.clusterCrm);
  }

  get hosts(): HostSpec[] {
    return Object.entries(this.config.hosts).map(([name, h]) => ({
      name,
      address: h.address,
      role: h.role,
      fqdn: `${name}.${this.config.network.domain}`,
    }));
  }
  get dbHosts(): HostSpec[] {
    return this.hosts.filter((h) => h.role === 'db');
  }
  get managementHost(): HostSpec {
    return this.hosts.find((h) => h.role === 'management')!;
  }
  host(name: string): HostSpec {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new HarnessError(`profile ${this.name} has no host "${name}"`, `hosts are ${this.hosts.map((x) => x.name).join(', ')}`);
    return h;
  }

  static load(nameOrPath = 'seed'): Profile {
    const dir = profileDir(nameOrPath);
    const own = readProfileJson(dir, nameOrPath);
    // A variant (profile.json "base"): its profile.json over the base's, its files over the base's.
    const baseDir = typeof own.base === 'string' ? baseProfileDir(dir, own.base) : undefined;
    const dirs = baseDir ? [dir, baseDir] : [dir];
    const file = (p: string) => {
      const found = dirs.map((d) => join(d, p)).find((f) => existsSync(f));
      if (!found)
        throw new HarnessError(
          `profile ${nameOrPath}: missing ${rel(join(dir, p))}`,
          `a profile directory holds profile.json, corosync.conf, cluster.crm and mysql/*.cnf (see profiles/seed)`,
        );
      return readFileSync(found, 'utf8');
    };
    const raw = baseDir ? { ...readProfileJson(baseDir, nameOrPath), ...own } : own;
    delete raw.base;
    const parsed = profileSchema.safeParse(raw);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
      throw new HarnessError(`${rel(join(dir, 'profile.json'))} is not a valid profile:\n${lines.join('\n')}`);
    }
    const config = parsed.data;
    registerSecret(config.mysql.admin.password);
    registerSecret(config.mysql.replication.password);
    const dbNames = Object.entries(config.hosts)
      .filter(([, h]) => h.role === 'db')
      .map(([n]) => n);
    const ownCrm = join(dir, 'cluster.crm');
    const files: ProfileFiles = {
      corosyncConf: file('corosync.conf'),
      clusterCrm:
        baseDir && existsSync(ownCrm)
          ? overlayCrm(readFileSync(join(baseDir, 'cluster.crm'), 'utf8'), readFileSync(ownCrm, 'utf8'))
          : file('cluster.crm'),
      mysqlCommon: file('mysql/common.cnf'),
      mysqlHost: Object.fromEntries(dbNames.map((n) => [n, file(`mysql/${n}.cnf`)])),
    };
    const vip = findVipPrimitive(files.clusterCrm);
    if (!vip)
      throw new HarnessError(
        `${rel(join(dir, 'cluster.crm'))}: no ocf:heartbeat:IPaddr2 primitive with params ip=…`,
        'the harness follows the VIP that this primitive defines',
      );
    checkConsistency(dirs, config, files, vip);
    for (const d of labBmcDevices(files.clusterCrm, config.network.subnet)) registerSecret(d.password);
    return new Profile(dir, config, files, vip, baseDir);
  }

  /** The same profile moved onto another /24, e.g. 10.11.23.0/24 for a second lab. */
  withSubnet(subnet: string): Profile {
    if (!/^\d+\.\d+\.\d+\.0\/24$/.test(subnet)) throw new HarnessError(`subnet "${subnet}" is not a /24 like 10.11.22.0/24`);
    const to = subnet.split('.').slice(0, 3).join('.');
    if (to === this.prefix) return this;
    const re = new RegExp(`\\b${this.prefix.replace(/\./g, '\\.')}\\.(\\d{1,3})\\b`, 'g');
    const move = (s: string) => s.replace(re, `${to}.$1`);
    const config: ProfileConfig = JSON.parse(move(JSON.stringify(this.config)));
    config.network.subnet = subnet;
    const files: ProfileFiles = {
      corosyncConf: move(this.files.corosyncConf),
      clusterCrm: move(this.files.clusterCrm),
      mysqlCommon: move(this.files.mysqlCommon),
      mysqlHost: Object.fromEntries(Object.entries(this.files.mysqlHost).map(([k, v]) => [k, move(v)])),
    };
    return new Profile(this.dir, config, files, { ...this.vip, ip: move(this.vip.ip) }, this.baseDir);
  }
}

function rel(p: string) {
  return relative(process.cwd(), p) || p;
}

function checkConsistency(dirs: string[], config: ProfileConfig, files: ProfileFiles, vip: VipPrimitive) {
  const where = (f: string) => rel(join(dirs[0]!, f));
  const prefix = `${config.network.subnet.split('.').slice(0, 3).join('.')}.`;
  for (const [n, h] of Object.entries(config.hosts)) {
    if (!h.address.startsWith(prefix))
      throw new HarnessError(`${where('profile.json')}: host ${n} address ${h.address} is outside ${config.network.subnet}`);
  }
  if (!vip.ip.startsWith(prefix))
    throw new HarnessError(`${where('cluster.crm')} line ${vip.line}: VIP ${vip.ip} is outside ${config.network.subnet}`);
  if (vip.nic && vip.nic !== config.network.interface)
    throw new HarnessError(
      `${where('cluster.crm')} line ${vip.line}: VIP nic=${vip.nic} but profile.json network.interface is ${config.network.interface}`,
    );
  const dbs = Object.entries(config.hosts).filter(([, h]) => h.role === 'db');
  const nodes = corosyncNodes(files.corosyncConf);
  for (const [n, h] of dbs) {
    const node = nodes.find((x) => x.name === n);
    if (!node)
      throw new HarnessError(
        `${where('corosync.conf')}: nodelist has no node named ${n}`,
        `each db host of profile.json needs a nodelist entry with name: ${n}`,
      );
    if (node.ring0_addr !== h.address)
      throw new HarnessError(
        `${where('corosync.conf')}: node ${n} ring0_addr ${node.ring0_addr} differs from profile.json address ${h.address}`,
      );
  }
  const { primary, replica } = config.mysql.replication;
  for (const r of [primary, replica]) {
    if (config.hosts[r]?.role !== 'db')
      throw new HarnessError(`${where('profile.json')}: mysql.replication names ${r}, which is not a db host`);
  }
  if (primary === replica) throw new HarnessError(`${where('profile.json')}: mysql.replication primary and replica are both ${primary}`);
  checkPromotableMysql(where('cluster.crm'), config, files.clusterCrm, vip);
  checkProfileAgents(dirs, where('cluster.crm'), files.clusterCrm);
}

/** The agents of ocf/ in each directory, a variant's over its base's. */
const profileOcfAgents = (dirs: string[]): Record<string, string> =>
  Object.assign(
    {},
    ...dirs
      .map((d) => join(d, 'ocf'))
      .filter((ocf) => existsSync(ocf))
      .reverse()
      .map((ocf) => Object.fromEntries(readdirSync(ocf).map((f) => [f, join(ocf, f)]))),
  );

/** profile.json of a profile directory, as JSON (validated once merged with its base's). */
function readProfileJson(dir: string, nameOrPath: string): Record<string, unknown> {
  const f = join(dir, 'profile.json');
  if (!existsSync(f))
    throw new HarnessError(`profile ${nameOrPath}: missing ${rel(f)}`, 'a profile directory holds profile.json (see profiles/seed)');
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new HarnessError(`${rel(f)}: not valid JSON: ${(e as Error).message}`);
  }
}

/** A variant's base: a name of profiles/ or a path from the variant's directory; itself no variant. */
function baseProfileDir(dir: string, base: string): string {
  const baseDir = base.includes('/') ? resolve(dir, base) : join(PROFILES_DIR, base);
  const where = rel(join(dir, 'profile.json'));
  if (!existsSync(join(baseDir, 'profile.json')))
    throw new HarnessError(`${where}: base "${base}" is not a profile (no ${rel(join(baseDir, 'profile.json'))})`);
  if ('base' in readProfileJson(baseDir, base))
    throw new HarnessError(`${where}: base "${base}" is itself a variant`, 'a variant names a profile with all its files as its base');
  return baseDir;
}

/** Every ocf:mhc:TYPE of cluster.crm is shipped by the profile (ocf/TYPE), or the lab could not start it. */
function checkProfileAgents(dirs: string[], where: string, crm: string) {
  const shipped = profileOcfAgents(dirs);
  for (const p of crmPrimitives(crm)) {
    const [cls, provider, type] = p.agent.split(':');
    if (cls === 'ocf' && provider === PROFILE_OCF_PROVIDER && !shipped[type!])
      throw new HarnessError(
        `${where} line ${p.line}: ${p.id} uses ${p.agent}, but the profile has no ocf/${type}`,
        `ship the agent as ${rel(join(dirs[0]!, 'ocf', type!))}, or use an installed provider (ocf:heartbeat:...)`,
      );
  }
}

/**
 * When Pacemaker runs MariaDB (a promotable clone), the harness's view must match the agent's:
 * the same nodes, the same replication account, and a VIP that follows the promoted instance
 * (the harness takes the VIP holder to be the primary).
 */
function checkPromotableMysql(where: string, config: ProfileConfig, crm: string, vip: VipPrimitive) {
  const m = findPromotableMysql(crm);
  if (!m) return;
  const at = `${where} line ${m.primitive.line}`;
  const dbs = Object.entries(config.hosts)
    .filter(([, h]) => h.role === 'db')
    .map(([n]) => n);
  if ([...m.nodeList].sort().join(' ') !== [...dbs].sort().join(' '))
    throw new HarnessError(
      `${at}: ${m.primitive.id} node_list="${m.nodeList.join(' ')}" but the db hosts of profile.json are ${dbs.join(' ')}`,
      'the mariadb agent chooses the primary among node_list: name every db host, as Pacemaker knows it',
    );
  const { user, password } = config.mysql.replication;
  if (m.primitive.params.replication_user !== user || m.primitive.params.replication_passwd !== password)
    throw new HarnessError(
      `${at}: ${m.primitive.id} replication_user/replication_passwd differ from profile.json's mysql.replication`,
      'the agent and the harness must replicate with the same account',
    );
  if (!colocatedWithPromoted(crm, vip.id, m.clone.id))
    throw new HarnessError(
      `${where}: the VIP ${vip.id} is not colocated with the promoted ${m.clone.id}`,
      `add: colocation ${vip.id}-with-promoted inf: ${vip.id} ${m.clone.id}:Promoted (and order ${m.clone.id}:promote ${vip.id}:start)`,
    );
}
