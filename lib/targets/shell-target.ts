import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { HarnessError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { POWER_LOSS_LISTING, parsePowerLossListing, powerLossVictims } from './power-loss.js';
import type { Profile } from '../profile/load.js';
import type { Daemon, ExecOptions, ExecResult, KilledProcess } from './target.js';

/** How each daemon is started on a host without systemd: the foreground command and its log. */
export const DAEMONS: Record<Daemon, { argv: string; log: string }> = {
  corosync: { argv: 'corosync -f', log: '/var/log/corosync/stdout.log' },
  pacemaker: { argv: 'pacemakerd', log: '/var/log/pacemaker/stdout.log' },
  mariadb: { argv: 'mariadbd', log: '/var/log/mysql/stdout.log' },
  sshd: { argv: '/usr/sbin/sshd -D -f /etc/ssh/sshd_config', log: '/var/log/sshd.log' },
  // The quorum arbiter on the management host; TLS off: the lab has no NSS certificate databases.
  qnetd: { argv: 'corosync-qnetd -f -s off', log: '/var/log/corosync/qnetd.log' },
  qdevice: { argv: 'corosync-qdevice -f', log: '/var/log/corosync/qdevice.log' },
};

/**
 * pacemakerd as pacemaker.service runs it (Debian 12: Restart=on-failure, RestartSec=1s,
 * SuccessExitStatus=100, StartLimitBurst=5 in StartLimitIntervalSec=25s), for hosts without
 * systemd: a kill -9 brings a new pacemakerd a second later, which adopts the running children;
 * `service pacemaker stop` (SIGTERM, exit 0) ends the loop too. Its lines go to pacemaker's log.
 */
export const SUPERVISED_PACEMAKERD = `sh -c 'n=0; t0=$(date +%s); while :; do pacemakerd; rc=$?; case $rc in 0|100) exit $rc;; esac; now=$(date +%s); if [ $((now - t0)) -ge 25 ]; then t0=$now; n=0; fi; n=$((n + 1)); if [ $n -ge 5 ]; then echo "mhc-supervisor: pacemakerd exited $rc, 5 starts within 25 s: giving up"; exit $rc; fi; echo "mhc-supervisor: pacemakerd exited $rc, restarting in 1 s"; sleep 1; done'`;

/** The command that starts `daemon` in the background and prints its PID, as the profile wants it run. */
export function daemonStartScript(daemon: Daemon, profile?: Profile): string {
  const d = DAEMONS[daemon];
  const argv = daemon === 'pacemaker' && profile?.pacemakerRestart === 'on-failure' ? SUPERVISED_PACEMAKERD : d.argv;
  return `setsid ${argv} </dev/null >>${d.log} 2>&1 & echo $!`;
}

/** What every target derives from its exec(): a shell snippet and a signal by PID. */
export abstract class ShellTarget {
  abstract readonly profile: Profile;
  abstract exec(host: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;

  sh(host: string, script: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.exec(host, ['sh', '-c', script], opts);
  }

  async kill(host: string, pid: number, signal: NodeJS.Signals | number): Promise<void> {
    const sig = typeof signal === 'number' ? String(signal) : signal.replace(/^SIG/, '');
    await this.exec(host, ['kill', `-${sig}`, String(pid)]);
  }

  /** Starts a daemon in the background (setsid, its own log) and returns its PID on that host. */
  async startDaemon(host: string, daemon: Daemon): Promise<number> {
    const { stdout } = await this.sh(host, daemonStartScript(daemon, this.profile));
    return Number(stdout.trim());
  }

  async readFile(host: string, path: string): Promise<string> {
    return (await this.exec(host, ['cat', path])).stdout;
  }

  /** Process names a power loss spares on this target besides its init and the harness's session (none: the lab's hosts are reached without them). */
  protected readonly spareOnPowerLoss: readonly string[] = [];

  /**
   * Every process of the host but the spared ones, SIGKILLed by one `kill` (the signals go out
   * within microseconds of each other). Listed again after each round, at most three: a process
   * forked between the listing and the kill (a resource agent run by pacemaker-execd) survives
   * the round that did not know it.
   */
  async killAll(host: string): Promise<KilledProcess[]> {
    const killed: KilledProcess[] = [];
    for (let round = 0; round < 3; round++) {
      const { self, rows } = parsePowerLossListing((await this.sh(host, POWER_LOSS_LISTING, { timeoutMs: 10_000 })).stdout);
      const victims = powerLossVictims(rows, self, this.spareOnPowerLoss);
      if (!victims.length) break;
      await this.exec(host, ['kill', '-KILL', ...victims.map((v) => String(v.pid))], { check: false, timeoutMs: 10_000 });
      killed.push(...victims.map(({ pid, comm }) => ({ pid, comm })));
    }
    return killed;
  }

  /** Last lines of a log file on a host, for error messages. */
  async logTail(host: string, path: string, lines = 15): Promise<string> {
    const r = await this.exec(host, ['tail', '-n', String(lines), path], { check: false });
    return redact(r.stdout.trim());
  }
}

/**
 * A byte stream to address:port through `socat -` run by a command that places it inside the
 * management host (nsenter into its namespace, docker exec into its container). mysql2 treats
 * the result as a socket.
 */
export function streamThroughProcess(
  command: string,
  prefix: string[],
  toAddress: string,
  port: number,
  from: string,
  env?: NodeJS.ProcessEnv,
): Duplex {
  // A process group of its own: the terminal's Ctrl-C goes to the harness, which then still needs
  // its connections for the case's recovery (socat ends by itself when the harness closes its stdin).
  const child = spawn(command, [...prefix, 'socat', '-', `TCP:${toAddress}:${port},connect-timeout=5`], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // The stream ends only once socat has exited and all its stderr is read ('close'): a failed
  // connection then reaches the client as socat's reason (refused, unreachable), not as a bare end
  // of stream or a broken pipe that a client would call "connection lost".
  const duplex = new Duplex({
    read() {
      child.stdout.resume();
    },
    write(chunk, encoding, cb) {
      if (child.stdin.write(chunk, encoding)) cb();
      else child.stdin.once('drain', () => cb());
    },
    final(cb) {
      child.stdin.end();
      cb();
    },
    destroy(err, cb) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      cb(err);
    },
  });
  child.stdout.on('data', (d: Buffer) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdin.on('error', () => {
    /* EPIPE once socat is gone: 'close' below says why */
  });
  child.on('close', (code) => {
    if (duplex.destroyed) return;
    if (code) duplex.destroy(new Error(`stream to ${toAddress}:${port} from ${from}: ${stderr.trim() || `socat exit ${code}`}`));
    else duplex.push(null);
  });
  Object.assign(duplex, { setNoDelay() {}, setKeepAlive() {}, setTimeout() {}, remoteAddress: toAddress, remotePort: port });
  return duplex;
}

/** The error for a command that failed on a host: which host, which command, why, its last output. */
export function commandFailed(host: string, argv: string[], res: ExecResult, timedOutAfterMs?: number): HarnessError {
  const why = timedOutAfterMs !== undefined ? `timed out after ${timedOutAfterMs} ms` : `exit ${res.exitCode}`;
  return new HarnessError(redact(`on ${host}: \`${argv.join(' ')}\` failed (${why}): ${(res.stderr || res.stdout).trim().slice(-800)}`));
}
