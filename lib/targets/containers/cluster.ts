import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { execa } from 'execa';
import type { StartedTestContainer } from 'testcontainers';
import { Profile } from '../../profile/load.js';
import { HarnessError } from '../../util/errors.js';
import { StepLog } from '../../util/log.js';
import { isSameProcess, procStart } from '../netns/state.js';
import { DATADIR_MIB, SSHD_CONFIG, hostsFile, labMyCnf } from '../netns/host-files.js';
import { labOverrides } from '../netns/lab.js';
import { bootDaemons } from '../netns/boot-daemons.js';
import { processHostStream, type HostStream } from '../host-stream.js';
import { type SwitchProcess, startSwitchProcess, stopSwitchProcess } from '../../fencing/switch-process.js';
import { profileAgentPath } from '../netns/install-agents.js';
import { AGENT_PATH, FENCE_AGENT_SOURCE } from '../netns/power.js';
import { ShellTarget, commandFailed, streamThroughProcess } from '../shell-target.js';
import type { ExecOptions, ExecResult, LabOverride, Target } from '../target.js';
import { DockerEngine } from './engine.js';
import { ensureImage, type ImageResult } from './image.js';

/** Where the harness's own files are inside a node (cluster.crm for crmsh). */
const NODE_DIR = '/etc/mysql-ha-chaos';
const READY = 'mhc-node ready';
const LABEL = 'org.mysql-ha-chaos.cluster';

interface ClusterState {
  name: string;
  engine: string;
  subnet: string;
  profileDir: string;
  network: string;
  image: string;
  containers: Record<string, string>;
  overrides: LabOverride[];
  faithful: boolean;
  complete: boolean;
  owner: { pid: number; start: string };
  /** The cluster's power switch (profiles with fence_mhc devices): a process of this machine, outside the containers. */
  powerSwitch?: SwitchProcess;
}

const stateFile = (engine: DockerEngine) => join(engine.runDir, 'cluster.json');
/** Where the fence agent finds the power switch inside a db node, as on the lab (host-init.sh): a bind mount of powerDir. */
const POWER_MOUNT = '/run/mhc';
/** A db node's switch socket directory on this machine, bind-mounted at POWER_MOUNT. */
const powerDir = (engine: DockerEngine, host: string) => join(engine.runDir, 'power', host);
const powerSocket = (engine: DockerEngine, host: string) => join(powerDir(engine, host), 'power.sock');

/** The power switch's side of a container cluster (lib/fencing/switch-daemon.ts): the cluster, a socket per db node, its events file. */
export function containersSwitchWiring(name: string) {
  const engine = DockerEngine.attach(name);
  const s = JSON.parse(readFileSync(stateFile(engine), 'utf8')) as ClusterState;
  const cluster = new StartedContainersCluster(s, Profile.load(s.profileDir).withSubnet(s.subnet), engine, false);
  const plugs = cluster.profile.dbHosts.map((h) => h.name);
  const sockets = Object.fromEntries(plugs.map((h) => [h, powerSocket(engine, h)]));
  return { target: cluster as Target, plugs, sockets, eventsFile: join(engine.runDir, 'power-events.jsonl') };
}

/** This machine's capability bounding set lacks some capability (e.g. a sandbox without CAP_SYS_RESOURCE): --privileged cannot work there. */
export function fullCapabilities(): boolean {
  try {
    const bnd = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    return bnd === (1n << BigInt(last + 1)) - 1n;
  } catch {
    return false;
  }
}

/** The profile's network on one node: eth0 becomes the profile's interface (eth1), the lab's /run directories, then ready. */
const nodeInit = (nic: string) => `set -e
ip link set eth0 down
ip link set eth0 name ${nic}
ip link set ${nic} up
mkdir -p /run/lock /run/mysqld /run/sshd /run/crm /run/corosync /run/resource-agents /run/corosync-qdevice /run/corosync-qnetd
chown mysql:mysql /run/mysqld 2>/dev/null || true
echo ${READY}
exec sleep infinity`;

/**
 * The profile's cluster as Docker containers (db1, db2, batch1 from one locally built image) in
 * a Docker engine of the harness's own (see engine.ts). Built like the lab:
 * `new ContainersCluster(profile).withName(n).start()` gives a started cluster, always stopped
 * (`stop()`), also after a failed start.
 */
export class ContainersCluster {
  private name = 'ctr';
  private subnet?: string;
  private log = new StepLog();
  private faithful = false;
  private build = process.env.MHC_CONTAINERS_BUILD !== '0';

  constructor(private readonly baseProfile: Profile) {}

  /** Names the cluster and its engine (netns mhc-docker-NAME, socket /run/mysql-ha-chaos/docker-NAME/docker.sock). */
  withName(name: string): this {
    this.name = name;
    return this;
  }
  withSubnet(subnet: string): this {
    this.subnet = subnet;
    return this;
  }
  withLog(log: StepLog): this {
    this.log = log;
    return this;
  }
  withFaithfulTimings(on = true): this {
    this.faithful = on;
    return this;
  }
  /** false: a missing image is an error instead of being built. */
  withBuild(on = true): this {
    this.build = on;
    return this;
  }

  async start(): Promise<StartedContainersCluster> {
    const profile = this.baseProfile.withSubnet(this.subnet ?? this.baseProfile.subnet);
    const { name, log } = this;
    log.info(`containers "${name}" up: profile ${profile.name} (${profile.dir}), subnet ${profile.subnet}`);
    if (profile.labBmcDevices.length)
      throw new HarnessError(
        `profile ${profile.name} fences through BMCs at ${profile.labBmcDevices[0]!.address} (fence_ipmilan): the containers target has none`,
        'run it on the netns lab (--target netns), which plays the BMCs, or use a profile that fences with fence_mhc',
      );
    const engine = new DockerEngine(name);
    await engine.start(log);
    let cluster: StartedContainersCluster | undefined;
    try {
      const image = await ensureImage(engine, log, { build: this.build });
      const state: ClusterState = {
        name,
        engine: engine.name,
        subnet: profile.subnet,
        profileDir: profile.dir,
        network: `${name}-net`,
        image: image.ref,
        containers: Object.fromEntries(profile.hosts.map((h) => [h.name, `${name}-${h.name}`])),
        overrides: labOverrides(profile, this.faithful),
        faithful: this.faithful,
        complete: false,
        owner: { pid: process.pid, start: procStart(process.pid)! },
      };
      writeFileSync(stateFile(engine), JSON.stringify(state, null, 2));
      cluster = new StartedContainersCluster(state, profile, engine, true);
      cluster.image = image;
      await cluster.bootNodes(log);
      state.complete = true;
      writeFileSync(stateFile(engine), JSON.stringify(state, null, 2));
      log.info(`containers "${name}" are up in ${(log.totalMs / 1000).toFixed(1)} s`);
      return cluster;
    } catch (e) {
      log.info(`containers "${name}" failed to come up; tearing down what was made`);
      await (cluster ? cluster.stop() : engine.stop()).catch((e2) =>
        log.info(`  teardown after failure also failed: ${(e2 as Error).message}`),
      );
      throw e;
    }
  }
}

/** A running container cluster: the Target that scenarios use. */
export class StartedContainersCluster extends ShellTarget implements Target {
  readonly kind = 'containers' as const;
  readonly disposable = true;
  /** Where cluster.crm is, inside the db nodes (boot-cluster.ts reads `${dir}/profile/cluster.crm`). */
  readonly dir = NODE_DIR;
  image?: ImageResult;
  private handles: StartedTestContainer[] = [];

  constructor(
    private state: ClusterState,
    readonly profile: Profile,
    readonly engine: DockerEngine,
    private readonly ownsEngine: boolean,
  ) {
    super();
  }

  get name() {
    return this.state.name;
  }
  get label() {
    return `containers '${this.state.name}' on ${this.state.subnet} (dockerd in netns ${this.engine.netns})`;
  }
  get overrides() {
    return this.state.overrides;
  }
  /** The power switch's PID (profiles with fence_mhc devices), while it runs. */
  get powerSwitchPid(): number | undefined {
    const p = this.state.powerSwitch;
    return p && isSameProcess(p.pid, p.start) ? p.pid : undefined;
  }

  /** Attaches to a cluster another process of this run brought up (the suite's global setup). */
  static attach(name: string, profile?: Profile): StartedContainersCluster {
    const engine = DockerEngine.attach(name);
    const f = stateFile(engine);
    if (!existsSync(f))
      throw new HarnessError(
        `no container cluster "${name}" in engine ${engine.socket}`,
        'npm run chaos -- --target containers brings one up',
      );
    const s = JSON.parse(readFileSync(f, 'utf8')) as ClusterState;
    if (!s.complete) throw new HarnessError(`container cluster "${name}" is incomplete (still starting, or a crashed start)`);
    return new StartedContainersCluster(s, (profile ?? Profile.load(s.profileDir)).withSubnet(s.subnet), engine, false);
  }

  private container(host: string): string {
    const c = this.state.containers[host];
    if (!c) throw new HarnessError(`container cluster "${this.name}" has no host ${host}`);
    return c;
  }

  /** Starts the three containers (testcontainers, fixed addresses), writes the profile's files, boots the cluster. */
  async bootNodes(log: StepLog): Promise<void> {
    const { profile, state, engine } = this;
    // testcontainers talks to this engine only (its client is created once per process, on first use).
    process.env.DOCKER_HOST = engine.host;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    // No port is ever reached from here; this also keeps testcontainers from probing for a gateway when
    // the machine itself is a container (/.dockerenv), which would run a helper image.
    process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost';
    const { GenericContainer, Wait } = await import('testcontainers');
    /** GenericContainer with a fixed address on a user-defined network (the builder has no such option). */
    class NodeContainer extends GenericContainer {
      constructor(
        image: string,
        private readonly net: string,
        private readonly ip: string,
        private readonly unmasked: boolean,
      ) {
        super(image);
      }
      protected override async beforeContainerCreated(): Promise<void> {
        this.createOpts.NetworkingConfig = { EndpointsConfig: { [this.net]: { IPAMConfig: { IPv4Address: this.ip } } } };
        // `--security-opt systempaths=unconfined`: /proc and /sys as a privileged container sees them.
        if (this.unmasked) Object.assign(this.hostConfig, { MaskedPaths: [], ReadonlyPaths: [] });
      }
    }

    await log.step(`network ${state.network} ${profile.subnet} (inside netns ${engine.netns}, internal)`, () =>
      engine.docker([
        'network',
        'create',
        '--driver',
        'bridge',
        '--internal',
        '--subnet',
        profile.subnet,
        '--gateway',
        `${profile.prefix}.254`,
        '--label',
        `${LABEL}=${this.name}`,
        state.network,
      ]),
    );

    const privileged = fullCapabilities();
    const fenced = profile.labFenceDevices.length > 0;
    if (fenced) for (const h of profile.dbHosts) mkdirSync(powerDir(engine, h.name), { recursive: true, mode: 0o700 });
    await log.step(
      `containers ${Object.values(state.containers).join(', ')} (${privileged ? 'privileged' : 'all capabilities this machine has, unconfined'})`,
      async () => {
        const started = await Promise.allSettled(
          profile.hosts.map(async (h) => {
            let c = new NodeContainer(state.image, state.network, h.address, !privileged)
              .withName(state.containers[h.name]!)
              // The short name, as on the lab and the Vagrant VMs: the mariadb agent publishes `uname -n` as the
              // primary's address and node names elsewhere; with the FQDN the promoted node replicated from itself.
              .withHostname(h.name)
              .withNetworkMode(state.network)
              .withLabels({ [LABEL]: this.name })
              .withSharedMemorySize(256 * 1024 * 1024)
              .withTmpFs({ '/tmp': 'rw,mode=1777,size=64m', '/var/lib/mysql': `rw,mode=750,size=${DATADIR_MIB}m` })
              .withCommand(['sh', '-c', nodeInit(profile.nic)])
              .withWaitStrategy(Wait.forLogMessage(READY))
              .withStartupTimeout(60_000);
            // The power switch's socket directory, as the lab binds it (a mount of its own: a power loss's FORGET_MEMORY keeps it).
            if (fenced && h.role === 'db') c = c.withBindMounts([{ source: powerDir(engine, h.name), target: POWER_MOUNT, mode: 'rw' }]);
            c = privileged
              ? c.withPrivilegedMode()
              : c
                  .withAddedCapabilities('ALL')
                  .withDroppedCapabilities('SYS_RESOURCE')
                  .withSecurityOpt('seccomp=unconfined', 'apparmor=unconfined');
            const handle = await c.start();
            this.handles.push(handle);
            return handle;
          }),
        );
        const failed = started.find((r) => r.status === 'rejected');
        if (failed) throw new HarnessError(`a container did not start: ${(failed.reason as Error).message}`);
      },
    );

    await log.step("write the profile's files on each node (hosts, corosync, MariaDB, sshd, agents, seeded CIB)", () =>
      this.writeNodeFiles(),
    );
    if (fenced) await this.ensurePowerSwitch(log);
    await bootDaemons(this, log);
  }

  /** The power switch outside the containers, started once per cluster (a restore keeps it: same nodes, same sockets). */
  private async ensurePowerSwitch(log: StepLog): Promise<void> {
    const { state, engine } = this;
    if (state.powerSwitch && isSameProcess(state.powerSwitch.pid, state.powerSwitch.start)) return;
    const hosts = this.profile.dbHosts.map((h) => h.name);
    await log.step(`power switch for ${hosts.join(', ')} (fence agent ${AGENT_PATH}, socket ${POWER_MOUNT}/power.sock)`, async () => {
      state.powerSwitch = await startSwitchProcess({
        kind: 'containers',
        name: state.name,
        logFile: join(engine.runDir, 'power-switch.log'),
        sockets: hosts.map((h) => powerSocket(engine, h)),
      });
      writeFileSync(stateFile(engine), JSON.stringify(state, null, 2));
    });
  }

  /** fence_mhc and the profile's own resource agents (ocf:mhc:TYPE) where a package would put them. */
  private async installAgents(host: string): Promise<void> {
    const { profile } = this;
    if (profile.labFenceDevices.length) await this.put(host, AGENT_PATH, readFileSync(FENCE_AGENT_SOURCE, 'utf8'), '755');
    for (const [type, source] of Object.entries(profile.ocfAgents))
      await this.put(host, profileAgentPath(type), readFileSync(source, 'utf8'), '755');
  }

  private async put(host: string, path: string, content: string, mode = '644', owner = 'root:root'): Promise<void> {
    await this.exec(
      host,
      [
        'sh',
        '-c',
        `mkdir -p "$(dirname "$1")" && { [ ! -L "$1" ] || rm -f "$1"; } && cat >"$1" && chmod ${mode} "$1" && chown ${owner} "$1"`,
        'put',
        path,
      ],
      { input: content },
    );
  }

  private async writeNodeFiles(): Promise<void> {
    const { profile } = this;
    const mgmt = profile.managementHost.name;
    await this.exec(mgmt, [
      'sh',
      '-c',
      'mkdir -p /root/.ssh && ssh-keygen -q -t ed25519 -N "" -C "mysql-ha-chaos containers" -f /root/.ssh/id_ed25519',
    ]);
    const clientPub = await this.readFile(mgmt, '/root/.ssh/id_ed25519.pub');
    const cibProps = Object.fromEntries(
      this.overrides.filter((o) => o.setting.startsWith('pacemaker ')).map((o) => [o.setting.slice(10), o.value]),
    );
    await Promise.all(
      profile.hosts.map(async (h) => {
        await this.put(h.name, '/etc/hosts', hostsFile(profile));
        if (h.role !== 'db') return;
        // As the lab's bind mounts: the harness's files only in these directories, none of the packages' defaults.
        await this.exec(h.name, [
          'sh',
          '-c',
          `set -e
rm -rf /etc/corosync/* /etc/mysql/* /var/lib/mysql/*
mkdir -p /etc/ssh/authorized_keys /var/lib/pacemaker/cib /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores \\
  /var/lib/corosync /var/lib/mysql /var/log/pacemaker /var/log/corosync /var/log/mysql /var/log/crmsh
chown hacluster:haclient /var/lib/pacemaker /var/lib/pacemaker/cib /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores /var/log/pacemaker
chown -R mysql:mysql /var/lib/mysql /var/log/mysql`,
        ]);
        await this.put(h.name, '/etc/corosync/corosync.conf', profile.files.corosyncConf);
        await this.put(h.name, '/etc/mysql/my.cnf', labMyCnf());
        await this.put(h.name, '/etc/mysql/profile-common.cnf', profile.files.mysqlCommon);
        await this.put(h.name, '/etc/mysql/profile-host.cnf', profile.files.mysqlHost[h.name] ?? '');
        await this.put(h.name, '/etc/ssh/sshd_config', SSHD_CONFIG);
        await this.exec(h.name, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', h.fqdn, '-f', '/etc/ssh/ssh_host_ed25519_key']);
        for (const u of ['root', 'vagrant']) await this.put(h.name, `/etc/ssh/authorized_keys/${u}`, clientPub);
        await this.put(h.name, `${NODE_DIR}/profile/cluster.crm`, profile.files.clusterCrm);
        await this.installAgents(h.name);
        if (Object.keys(cibProps).length) {
          // An empty CIB of the node's own Pacemaker schema, carrying the lab's start-up overrides.
          const empty = (await this.exec(h.name, ['cibadmin', '--empty'])).stdout;
          const nv = Object.entries(cibProps)
            .map(([k, v]) => `<nvpair id="lab-options-${k}" name="${k}" value="${v}"/>`)
            .join('');
          const cib = empty.replace(
            '<crm_config/>',
            `<crm_config><cluster_property_set id="lab-options">${nv}</cluster_property_set></crm_config>`,
          );
          await this.put(h.name, '/var/lib/pacemaker/cib/cib.xml', cib, '600', 'hacluster:haclient');
        }
      }),
    );
  }

  /** `docker exec` of argv in a host's container, as root, with the environment every command gets. */
  private dockerExec(host: string, argv: string[], stdin: boolean): string[] {
    const env = ['-e', 'HOME=/root', '-e', 'LANG=C.UTF-8', '-e', 'TERM=dumb'];
    return ['-H', this.engine.host, 'exec', ...(stdin ? ['-i'] : []), '-w', '/', ...env, this.container(host), ...argv];
  }

  watch(host: string, argv: string[], onLine: (line: string) => void): HostStream {
    return processHostStream(
      this.engine.bin.docker,
      this.dockerExec(host, argv, true),
      { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      onLine,
    );
  }

  async exec(host: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const r = await execa(this.engine.bin.docker, this.dockerExec(host, argv, opts.input !== undefined), {
      reject: false,
      timeout: timeoutMs,
      input: opts.input,
      stripFinalNewline: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    const res = { stdout: r.stdout as string, stderr: r.stderr as string, exitCode: r.exitCode ?? (r.timedOut ? 124 : 1) };
    if ((opts.check ?? true) && res.exitCode !== 0) throw commandFailed(host, argv, res, r.timedOut ? timeoutMs : undefined);
    return res;
  }

  /** socat inside the management host's container (`docker exec -i batch1 socat - TCP:…`): the lab's ProxyJump. */
  openStream(toAddress: string, port: number): Duplex {
    const mgmt = this.profile.managementHost.name;
    return streamThroughProcess(
      this.engine.bin.docker,
      ['-H', this.engine.host, 'exec', '-i', this.container(mgmt)],
      toAddress,
      port,
      mgmt,
    );
  }

  async startSshd(log: StepLog): Promise<void> {
    await log.step('sshd on the db hosts', () => Promise.all(this.profile.dbHosts.map((h) => this.startDaemon(h.name, 'sshd'))));
  }

  /** Last resort: the containers are removed and started again from the image (same engine, network and timings). */
  async restore(): Promise<void> {
    await this.removeContainers();
    await this.engine.docker(['network', 'rm', this.state.network], { check: false });
    this.state.complete = false;
    await this.bootNodes(new StepLog(() => {}));
    this.state.complete = true;
    if (existsSync(stateFile(this.engine))) writeFileSync(stateFile(this.engine), JSON.stringify(this.state, null, 2));
  }

  private async removeContainers(): Promise<void> {
    // The started handles first (testcontainers stops and removes them), then anything of this cluster's label left.
    const handles = this.handles.splice(0);
    await Promise.all(handles.map((h) => h.stop({ timeout: 5_000, remove: true }).catch(() => undefined)));
    const ids = (await this.engine.docker(['ps', '-aq', '--filter', `label=${LABEL}=${this.name}`], { check: false })).stdout
      .trim()
      .split('\n')
      .filter(Boolean);
    if (ids.length) await this.engine.docker(['rm', '-f', ...ids], { timeoutMs: 60_000 });
  }

  /** What of the cluster is left in its engine (containers, network); empty when gone. */
  async leftovers(): Promise<string[]> {
    if (!this.engine.pid) return [];
    const out: string[] = [];
    const c = (await this.engine.docker(['ps', '-aq', '--filter', `label=${LABEL}=${this.name}`], { check: false })).stdout.trim();
    if (c) out.push(`containers ${c.split('\n').join(',')}`);
    const n = (
      await this.engine.docker(['network', 'ls', '-q', '--filter', `label=${LABEL}=${this.name}`], { check: false })
    ).stdout.trim();
    if (n) out.push(`network ${n}`);
    return out;
  }

  /** Removes the containers and the network, then stops the engine (by PID) if this cluster started it. */
  async stop(): Promise<void> {
    if (this.engine.pid) {
      await this.removeContainers();
      await this.engine.docker(['network', 'rm', this.state.network], { check: false });
      const left = await this.leftovers();
      if (left.length) throw new HarnessError(`container cluster "${this.name}" was not fully removed: ${left.join('; ')}`);
    }
    await stopSwitchProcess(this.state.powerSwitch);
    rmSync(stateFile(this.engine), { force: true });
    if (this.ownsEngine || !isSameProcess(this.state.owner.pid, this.state.owner.start)) await this.engine.stop();
  }
}
