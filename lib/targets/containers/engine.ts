import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../util/errors.js';
import { StepLog } from '../../util/log.js';
import { waitFor } from '../../util/wait.js';
import { isSameProcess, procStart } from '../netns/state.js';
import { type SwitchProcess, stopSwitchProcess } from '../../fencing/switch-process.js';

/** Docker 20.10 (Debian 12's docker.io) speaks API 1.41; older engines are refused. */
export const MIN_API = '1.41';
const RUN_ROOT = process.env.MHC_DOCKER_RUN_ROOT ?? '/run/mysql-ha-chaos';
const DATA_ROOT = process.env.MHC_DOCKER_DATA_ROOT ?? '/var/lib/mysql-ha-chaos';
const CLEAN_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };
const INSTALL_HINT = 'apt-get install docker.io (or npm run setup, which installs it)';

interface EngineState {
  pid: number;
  start: string;
  netnsInode: string;
  owner: { pid: number; start: string };
}

/** dockerd and the docker CLI of the docker.io package (never another docker on PATH, e.g. /usr/local/bin). */
export function dockerBinaries(): { dockerd: string; docker: string } {
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!dockerd) throw new HarnessError('no Docker engine: dockerd is not installed', INSTALL_HINT);
  const docker = ['/usr/bin/docker', '/usr/sbin/docker'].find((p) => existsSync(p));
  if (!docker) throw new HarnessError('the docker CLI (/usr/bin/docker) is not installed', INSTALL_HINT);
  return { dockerd, docker };
}

const apiAtLeast = (v: string, min: string) => {
  const [a, b] = v.split('.').map(Number);
  const [c, d] = min.split('.').map(Number);
  return a! > c! || (a === c && b! >= d!);
};

/**
 * A Docker engine of the harness's own: dockerd runs inside a network namespace made for it
 * (`mhc-docker-NAME`, only lo up), with its own data root, exec root, pidfile and socket, no
 * iptables and no default bridge. Containers get their network from a user-defined bridge that
 * exists only inside that namespace; nothing of it reaches this machine's own network namespace.
 * Stopped by PID.
 */
export class DockerEngine {
  readonly bin = dockerBinaries();
  constructor(readonly name: string) {
    if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(name)) throw new HarnessError(`engine name "${name}": use 1-16 of a-z, 0-9, -`);
  }

  get netns() {
    return `mhc-docker-${this.name}`;
  }
  get runDir() {
    return join(RUN_ROOT, `docker-${this.name}`);
  }
  get dataRoot() {
    return join(DATA_ROOT, `docker-${this.name}`);
  }
  get execRoot() {
    return join(this.runDir, 'exec');
  }
  get socket() {
    return join(this.runDir, 'docker.sock');
  }
  get host() {
    return `unix://${this.socket}`;
  }
  get pidfile() {
    return join(this.runDir, 'docker.pid');
  }
  get logFile() {
    return join(this.runDir, 'dockerd.log');
  }
  private get stateFile() {
    return join(this.runDir, 'engine.json');
  }

  private readState(): EngineState | undefined {
    return this.recorded<EngineState>('engine.json');
  }

  /** A JSON file of this engine's run directory, if it is there and whole. */
  private recorded<T>(file: string): T | undefined {
    try {
      return JSON.parse(readFileSync(join(this.runDir, file), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** The running dockerd's PID, if this engine is up. */
  get pid(): number | undefined {
    const s = this.readState();
    return s && isSameProcess(s.pid, s.start) ? s.pid : undefined;
  }

  /** Runs the docker CLI against this engine. */
  docker(args: string[], o: { timeoutMs?: number; input?: string | Buffer; check?: boolean; inputFile?: string } = {}) {
    return execa(this.bin.docker, ['-H', this.host, ...args], {
      reject: o.check ?? true,
      timeout: o.timeoutMs ?? 60_000,
      env: CLEAN_ENV,
      extendEnv: false,
      ...(o.inputFile ? { inputFile: o.inputFile } : o.input !== undefined ? { input: o.input } : {}),
    });
  }

  /** The names of this harness's engines on this machine (those with a run directory). */
  static all(): string[] {
    if (!existsSync(RUN_ROOT)) return [];
    return readdirSync(RUN_ROOT)
      .filter((d) => d.startsWith('docker-'))
      .map((d) => d.slice('docker-'.length));
  }

  /** Attaches to an engine another process of this run started (the suite's global setup). */
  static attach(name: string): DockerEngine {
    const e = new DockerEngine(name);
    if (!e.pid)
      throw new HarnessError(
        `Docker engine "${name}" is not running (no dockerd for ${e.socket})`,
        `start the containers target: npm run chaos -- --target containers`,
      );
    return e;
  }

  async start(log = new StepLog(() => {})): Promise<void> {
    if (process.getuid?.() !== 0) throw new HarnessError('the containers target runs dockerd in a network namespace: run as root');
    const s = this.readState();
    if (s && isSameProcess(s.owner.pid, s.owner.start) && s.owner.pid !== process.pid) {
      throw new HarnessError(`Docker engine "${this.name}" is in use by PID ${s.owner.pid}`, 'wait for it, or use another name');
    }
    if (s || existsSync(this.runDir) || existsSync(`/run/netns/${this.netns}`))
      await log.step(`clean up a stale engine "${this.name}"`, () => this.stop());

    await log.step(`dockerd in netns ${this.netns} (socket ${this.socket})`, async () => {
      mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
      mkdirSync(this.dataRoot, { recursive: true, mode: 0o700 });
      writeFileSync(join(this.runDir, 'daemon.json'), '{}\n'); // not /etc/docker/daemon.json: nothing of the machine's docker set-up applies
      await execa('ip', ['netns', 'add', this.netns]);
      await execa('ip', ['-n', this.netns, 'link', 'set', 'lo', 'up']);
      const fd = openSync(this.logFile, 'a');
      // nsenter --net only (not `ip netns exec`, which remounts /sys and hides the cgroup mounts).
      const child = spawn(
        'nsenter',
        [
          `--net=/run/netns/${this.netns}`,
          '--',
          this.bin.dockerd,
          '--config-file',
          join(this.runDir, 'daemon.json'),
          '--data-root',
          this.dataRoot,
          '--exec-root',
          this.execRoot,
          '--pidfile',
          this.pidfile,
          '-H',
          this.host,
          '--iptables=false',
          '--ip6tables=false',
          '--ip-masq=false',
          '--bridge=none',
          '--userland-proxy=false',
          '--exec-opt',
          'native.cgroupdriver=cgroupfs',
          '--containerd-namespace',
          `mhc-${this.name}`,
          '--containerd-plugins-namespace',
          `mhc-${this.name}-plugins`,
          '--log-level',
          'warn',
        ],
        { detached: true, stdio: ['ignore', fd, fd], env: CLEAN_ENV },
      );
      closeSync(fd);
      child.unref();
      const pid = child.pid!;
      const start = procStart(pid)!;
      const ns = netnsInode(this.netns);
      if (!ns || ns === hostNetns()) throw new HarnessError(`netns ${this.netns} is not a namespace of its own (${ns})`);
      writeFileSync(
        this.stateFile,
        JSON.stringify({
          pid,
          start,
          netnsInode: ns,
          owner: { pid: process.pid, start: procStart(process.pid)! },
        } satisfies EngineState),
      );
      try {
        await waitFor(
          `dockerd (PID ${pid}) to run inside netns ${this.netns}`,
          () => {
            if (!isSameProcess(pid, start)) throw new HarnessError(`dockerd exited at start:\n${this.logTail()}`);
            return readlinkSync(`/proc/${pid}/ns/net`) === ns;
          },
          { timeoutMs: 10_000, intervalMs: 20 },
        );
        await waitFor(
          `dockerd (PID ${pid}) to answer on ${this.socket}`,
          async () => {
            if (!isSameProcess(pid, start)) throw new HarnessError(`dockerd exited at start:\n${this.logTail()}`);
            return (
              (await this.docker(['version', '--format', '{{.Server.APIVersion}}'], { check: false, timeoutMs: 5_000 })).exitCode === 0
            );
          },
          { timeoutMs: 60_000, intervalMs: 250 },
        );
        const api = (await this.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Version}}'])).stdout.trim();
        if (!apiAtLeast(api.split(' ')[0]!, MIN_API)) {
          throw new HarnessError(
            `Docker engine too old: ${api.split(' ')[1]} speaks API ${api.split(' ')[0]}, the harness needs ${MIN_API} (Docker 20.10) or newer`,
            `${INSTALL_HINT}; Debian 12's docker.io is 20.10`,
          );
        }
      } catch (e) {
        await this.stop().catch(() => undefined);
        throw e;
      }
    });
  }

  /** dockerd's last log lines, for error messages. */
  logTail(n = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-n).join('\n');
    } catch {
      return '(no dockerd log)';
    }
  }

  /**
   * Stops dockerd by its PID (SIGTERM, then SIGKILL after 30 s), ends what is left in its network
   * namespace (its containerd, by PID), deletes the namespace, unmounts what is left under its
   * roots and removes its run directory. The data root stays: it is the image cache.
   */
  async stop(): Promise<void> {
    const s = this.readState();
    if (s && isSameProcess(s.pid, s.start)) {
      process.kill(s.pid, 'SIGTERM');
      const gone = await waitFor(`dockerd (PID ${s.pid}) to exit after SIGTERM`, () => !isSameProcess(s.pid, s.start), {
        timeoutMs: 30_000,
        intervalMs: 100,
      }).catch(() => false);
      if (!gone && isSameProcess(s.pid, s.start)) process.kill(s.pid, 'SIGKILL');
    }
    const ns = netnsInode(this.netns);
    if (ns && ns !== hostNetns()) {
      for (const pid of pidsInNetns(ns))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      await waitFor(`processes in netns ${this.netns} to exit`, () => pidsInNetns(ns).length === 0, { timeoutMs: 10_000, intervalMs: 100 });
    }
    // A container cluster's power switch (cluster.ts) is a process of this machine, not of the engine's netns.
    await stopSwitchProcess(this.recorded<{ powerSwitch?: SwitchProcess }>('cluster.json')?.powerSwitch);
    for (const m of this.mounts().reverse()) await execa('umount', ['-l', m], { reject: false });
    if (existsSync(`/run/netns/${this.netns}`)) await execa('ip', ['netns', 'del', this.netns]);
    rmSync(this.runDir, { recursive: true, force: true });
    const left = this.leftovers(s);
    if (left.length) throw new HarnessError(`Docker engine "${this.name}" was not fully stopped: ${left.join('; ')}`);
  }

  private mounts(): string[] {
    const roots = [`${this.runDir}/`, `${this.dataRoot}/`];
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((p) => roots.some((r) => p.startsWith(r) || `${p}/` === r));
  }

  /** What of this engine still exists (dockerd, processes in its namespace, the namespace, mounts, run dir). */
  leftovers(s = this.readState()): string[] {
    const out: string[] = [];
    if (s && isSameProcess(s.pid, s.start)) out.push(`dockerd PID ${s.pid}`);
    const ns = netnsInode(this.netns);
    if (ns && ns !== hostNetns()) {
      const pids = pidsInNetns(ns);
      if (pids.length) out.push(`processes in netns ${this.netns}: ${pids.join(',')}`);
    }
    if (existsSync(`/run/netns/${this.netns}`)) out.push(`network namespace ${this.netns}`);
    const m = this.mounts();
    if (m.length) out.push(`mounts ${m.join(', ')}`);
    if (existsSync(this.runDir)) out.push(`directory ${this.runDir}`);
    return out;
  }
}

/** A named namespace's identity as /proc/PID/ns/net shows it (the nsfs file's inode). */
function netnsInode(name: string): string | undefined {
  try {
    return `net:[${statSync(`/run/netns/${name}`).ino}]`;
  } catch {
    return undefined;
  }
}

/** The network namespace this harness runs in (the machine's own): never one of the engine's. */
const hostNetns = () => readlinkSync('/proc/self/ns/net');

/** PIDs in the engine's namespace; refuses the machine's own namespace (it would name every process). */
function pidsInNetns(ns: string): number[] {
  if (ns === hostNetns())
    throw new HarnessError(`refusing to list processes of ${ns}: it is this machine's own network namespace, not the engine's`);
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/net`) === ns) out.push(Number(d));
    } catch {
      /* raced with exit */
    }
  }
  return out;
}
