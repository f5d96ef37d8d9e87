import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SwitchProcess } from '../../fencing/switch-process.js';
import type { DetachedProcess } from '../../util/detached-process.js';
import type { LabOverride } from '../target.js';

/** Where labs keep their files; not /tmp or /run, which each lab host mounts privately. */
export const LABS_ROOT = process.env.MHC_LABS_ROOT ?? '/var/lib/mysql-ha-chaos/labs';

export interface HostProcess {
  /** PID (host's view) of the namespace's init, and its start time, to never signal a reused PID. */
  initPid: number;
  initStart: string;
  unsharePid: number;
  netns: string; // inode of ns/net, e.g. "net:[4026532]"
  pidns: string;
}

export interface LabState {
  name: string;
  subnet: string;
  profileDir: string;
  bridgeNetns: string;
  createdAt: string;
  hosts: Record<string, HostProcess>;
  overrides: LabOverride[];
  complete: boolean;
  /** The lab's power switch (profiles with fence_mhc devices): a process of this machine, outside the hosts. */
  powerSwitch?: SwitchProcess;
  /** The lab's BMCs (profiles fencing with fence_ipmilan at the subnet's .1): a process in the bridge's namespace. */
  bmc?: DetachedProcess;
  /** The long-lived process that holds the lab (a test run); absent for labs made by `lab up`. */
  owner?: { pid: number; start: string };
}

/**
 * True while the lab's owner process is alive and is not us: the lab is in use by another run and
 * must not be cleaned. The owner's own process tree may rebuild it (a test suite's workers are
 * children of the process that holds the lease).
 */
export const heldByAnother = (s: LabState | undefined) => ownerAlive(s) && !ancestry().includes(s!.owner!.pid);

/** True while the process that holds the lab's lease lives (a lab whose owner died is stale). */
export const ownerAlive = (s: LabState | undefined) => !!s?.owner && isSameProcess(s.owner.pid, s.owner.start);

/** This process and its ancestors, nearest first. */
export function ancestry(pid = process.pid): number[] {
  const out: number[] = [];
  for (let p: number | undefined = pid; p && p > 1 && out.length < 64; p = parentOf(p)) out.push(p);
  return out;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export const labDir = (name: string) => join(LABS_ROOT, name);
export const stateFile = (name: string) => join(labDir(name), 'state.json');
export const hostDir = (name: string, host: string) => join(labDir(name), 'hosts', host);

export function readState(name: string): LabState | undefined {
  const f = stateFile(name);
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as LabState;
}

export function writeState(s: LabState): void {
  mkdirSync(labDir(s.name), { recursive: true });
  writeFileSync(stateFile(s.name), JSON.stringify(s, null, 2));
}

export function listLabs(): string[] {
  if (!existsSync(LABS_ROOT)) return [];
  return readdirSync(LABS_ROOT).filter((n) => existsSync(stateFile(n)) || existsSync(join(LABS_ROOT, n, 'hosts')));
}

/** The start time of a PID (field 22 of /proc/PID/stat), or undefined if it is gone. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True if PID still is the process recorded (same start time). */
export const isSameProcess = (pid: number, start: string) => procStart(pid) === start;

/** Labs on this machine whose hosts are running (contention for the two cores: shown with each run). */
export function liveLabs(): string[] {
  return listLabs().filter((n) => {
    const s = readState(n);
    return !!s && Object.values(s.hosts).some((p) => isSameProcess(p.initPid, p.initStart));
  });
}
