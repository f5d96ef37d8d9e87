import type { Duplex } from 'node:stream';
import type { Profile } from '../profile/load.js';
import type { HostStream } from './host-stream.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Fail (throw) on non-zero exit. Default true. */
  check?: boolean;
  timeoutMs?: number;
  input?: string;
}

/**
 * Where the cluster runs. A target knows how to run a command on one of its hosts, signal a
 * process there, and open a stream to a host's port starting from the management host (as the
 * operator's connections started from batch1). Scenarios only ever see this interface.
 */
export interface Target {
  readonly kind: 'netns' | 'containers' | 'ssh';
  /** A human label, e.g. "netns lab 'lab' on 10.11.22.0/24". */
  readonly label: string;
  readonly profile: Profile;
  /** Destructive faults are refused unless the target says it may be broken. */
  readonly disposable: boolean;
  /** Lab-only settings that are not in the profile (shown in status and reports). */
  readonly overrides: LabOverride[];

  /** Runs argv on `host` as root. */
  exec(host: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a shell snippet on `host` as root (`sh -c`). */
  sh(host: string, script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Signals a process by its PID as seen on that host. */
  kill(host: string, pid: number, signal: NodeJS.Signals | number): Promise<void>;
  /** A byte stream to host:port, opened from inside the management host. Synchronous, as mysql2 wants it; a target that connects asynchronously wires the stream up when ready. */
  openStream(toAddress: string, port: number): Duplex;
  /** Starts a daemon of the profile on a host in the background (the target knows how). */
  startDaemon(host: string, daemon: Daemon): Promise<number>;
  /** Reads a file on a host. */
  readFile(host: string, path: string): Promise<string>;
  /**
   * Starts argv on `host` as root and hands each line of its standard output to onLine until it
   * ends or is stopped (by closing its input: the command must end then). For watchers that run
   * as long as a case; a one-off command is exec's.
   */
  watch(host: string, argv: string[], onLine: (line: string) => void): HostStream;
  /**
   * SIGKILL to every process of the host at once, as a power loss ends them, except what the
   * target cannot lose and still reach the host (lib/targets/power-loss.ts): its init, the
   * harness's own session, and on the SSH target sshd. Returns what was signalled.
   */
  killAll(host: string): Promise<KilledProcess[]>;
  /** Brings the whole cluster back to its freshly-started state (last-resort recovery). */
  restore?(): Promise<void>;
}

export interface KilledProcess {
  pid: number;
  comm: string;
}

/** qnetd runs on the management host, qdevice on the db hosts: the hardened profile's third quorum vote. */
export type Daemon = 'corosync' | 'pacemaker' | 'mariadb' | 'sshd' | 'qnetd' | 'qdevice';

export interface LabOverride {
  setting: string;
  value: string;
  profileValue: string;
  why: string;
}

/** One line for a lab override, the same in `lab status`, the run summary and the reports. */
export const describeOverride = (o: LabOverride, withWhy = false) =>
  `lab override: ${o.setting} = ${o.value} (profile: ${o.profileValue})${withWhy ? ` — ${o.why}` : ''}`;
