import { dirname } from 'node:path';
import { bootHost } from '../host-boot.js';
import type { History } from '../history.js';
import { ipmiFenceDevices } from '../profile/lab-bmc.js';
import type { Profile } from '../profile/load.js';
import { clusterDaemons } from '../probes/cluster.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { waitFor } from '../util/wait.js';
import type { Fault } from './fault.js';
import { installChain, type OwnChain, removeChain } from './iptables.js';
import { requireTools } from './tools.js';

/**
 * Faults of the fence path itself (issue 13), after Pacemaker CTS's fencing tests and the crmsh
 * crash_test's fence checks: the fence device broken first, then a node lost, so that Pacemaker
 * must fence through a broken path. What a configuration should do then is refuse to act on the
 * lost node's resources (Pacemaker blocks them until a fencing succeeds) and say so; the harness
 * must show the failed fencing in the history and the verdict, not a failover that never came.
 */
export interface FencePathBreak {
  /** What is broken, e.g. "the power switch out of reach of db1 and db2". */
  readonly name: string;
  break(t: Target, h: History): Promise<void>;
  /** Puts the path back, whatever state it finds (safe after a break that stopped anywhere). */
  repair(t: Target, h: History): Promise<void>;
}

/** For a case's notFor: why a profile has no fence path the harness knows how to break. */
export const withoutFencePath = (p: Profile) =>
  p.labFenceDevices.length || ipmiDevices(p).length
    ? undefined
    : "the profile has no fence device whose path the harness can break (stonith:fence_mhc on the lab's switch, or stonith:fence_ipmilan)";

/** The profile's fence_ipmilan devices: a BMC each, reached over UDP at ip:ipport. */
const ipmiDevices = (p: Profile) => ipmiFenceDevices(p.files.clusterCrm);

/** The directory of the switch's socket inside the db hosts, from the profile's fence devices. */
function switchDir(t: Target): string {
  const socket = t.profile.labFenceDevices[0]?.params.socket;
  if (!socket) throw new HarnessError(`profile ${t.profile.name}: no fence_mhc device with a socket= parameter`);
  return dirname(socket);
}

const dbHostNames = (t: Target) => t.profile.dbHosts.map((h) => h.name);

/** Unmounts every tmpfs a break stacked over the switch's directory on `host`, down to the lab's bind mount. */
async function unhide(t: Target, host: string, dir: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    // findmnt lists the mounts stacked on the directory bottom first: the last is the one in use.
    const fs = await t.exec(host, ['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', dir], { check: false, timeoutMs: 5_000 });
    if (fs.stdout.trim().split('\n').at(-1) !== 'tmpfs') return;
    await t.exec(host, ['umount', dir], { timeoutMs: 5_000 });
  }
  throw new HarnessError(
    `${dir} on ${host} still has a tmpfs over it after 5 unmounts`,
    `look: npm run lab -- exec ${host} -- findmnt ${dir}`,
  );
}

/**
 * The power switch (fence_mhc) or the BMCs (fence_ipmilan) out of every db host's reach, as a
 * fence device whose network is down: the agent is refused at once.
 */
export const switchUnreachable = (p: Profile) => (p.labFenceDevices.length ? hiddenSwitch(false) : bmcCut(false));

/**
 * The switch or the BMCs hung: the request goes out and no answer comes, so the agent waits out
 * its power_timeout on every try.
 */
export const switchHung = (p: Profile) => (p.labFenceDevices.length ? hiddenSwitch(true) : bmcCut(true));

/** The chain of the BMC cut: what leaves for a BMC (unreachable) or what comes back from it (hung). */
const bmcChain = (hung: boolean): OwnChain => ({ name: 'MHC-FENCE-PATH', hook: hung ? 'INPUT' : 'OUTPUT' });

/** The iptables rules that cut each BMC's UDP traffic one way: to it (a send refused with EPERM) or from it (answers lost). */
export function bmcCutRules(devices: { ip: string; port: number }[], hung: boolean): string[][] {
  const seen = new Set<string>();
  return devices.flatMap(({ ip, port }) => {
    if (seen.has(`${ip}:${port}`)) return [];
    seen.add(`${ip}:${port}`);
    return [
      hung ? ['-s', ip, '-p', 'udp', '--sport', `${port}`, '-j', 'DROP'] : ['-d', ip, '-p', 'udp', '--dport', `${port}`, '-j', 'DROP'],
    ];
  });
}

/** fence_ipmilan's BMCs cut off in every db host (iptables): refused at once, or silent when hung. */
function bmcCut(hung: boolean): FencePathBreak {
  const name = hung ? 'the BMCs hung (requests reach them, no answer comes back)' : 'the BMCs out of reach of the db hosts';
  return {
    name,
    async break(t, h) {
      await requireTools(t, name, dbHostNames(t), ['iptables']);
      const rules = bmcCutRules(ipmiDevices(t.profile), hung);
      for (const host of dbHostNames(t)) await installChain(t, host, bmcChain(hung), rules);
      h.step(
        'fence path broken',
        `${dbHostNames(t).join(', ')}: ${rules.map((r) => `iptables -A ${bmcChain(hung).name} ${r.join(' ')}`).join('; ')}`,
      );
    },
    async repair(t, h) {
      for (const host of dbHostNames(t)) await removeChain(t, host, bmcChain(hung));
      // The path is back only when each BMC answers again (a status from a host it does not fence).
      for (const d of ipmiDevices(t.profile)) {
        const from = dbHostNames(t).find((x) => !d.hosts.includes(x)) ?? dbHostNames(t)[0]!;
        const input = `${Object.entries({ ...d.params, action: 'status' })
          .filter(([k]) => !k.startsWith('pcmk_'))
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`;
        const r = await t.exec(from, ['fence_ipmilan'], { input, check: false, timeoutMs: 60_000 });
        if (r.exitCode !== 0 && r.exitCode !== 2)
          throw new HarnessError(
            `${d.id}'s BMC does not answer ${from} after the repair (fence_ipmilan status exit ${r.exitCode})`,
            'look: crm_mon -1 on a db host',
          );
      }
      h.step('fence path repaired', `${dbHostNames(t).join(', ')}: ${bmcChain(hung).name} removed (fence_ipmilan status answers)`);
    },
  };
}

/**
 * An empty tmpfs over the directory of the switch's socket in every db host; with `silent`, a
 * process there that accepts and never answers.
 */
function hiddenSwitch(silent: boolean): FencePathBreak {
  const listeners = new Map<string, string>();
  const name = silent ? 'the power switch hung (takes connections, never answers)' : 'the power switch out of reach of the db hosts';
  return {
    name,
    async break(t, h) {
      const dir = switchDir(t);
      await requireTools(t, name, dbHostNames(t), ['mount', 'umount', 'findmnt', ...(silent ? (['setsid', 'python3'] as const) : [])]);
      for (const host of dbHostNames(t)) {
        await t.exec(host, ['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=700', 'tmpfs', dir], { timeoutMs: 5_000 });
        if (silent) listeners.set(host, (await t.sh(host, silentListener(`${dir}/power.sock`), { timeoutMs: 5_000 })).stdout.trim());
      }
      h.step(
        'fence path broken',
        `${dbHostNames(t).join(', ')}: ${dir} hidden${silent ? `; a listener that never answers on ${dir}/power.sock (PIDs ${[...listeners.values()].join(', ')})` : ''}`,
      );
    },
    async repair(t, h) {
      const dir = switchDir(t);
      for (const host of dbHostNames(t)) {
        const pid = listeners.get(host);
        if (pid) await t.exec(host, ['kill', '-9', pid], { check: false, timeoutMs: 5_000 });
        await unhide(t, host, dir);
        // The path is back only when the agent reaches the switch again (its monitor: a list).
        await t.exec(host, ['fence_mhc', '-o', 'monitor', `--socket=${dir}/power.sock`], { timeoutMs: 30_000 });
      }
      listeners.clear();
      h.step('fence path repaired', `${dbHostNames(t).join(', ')}: ${dir} is the switch's again (fence_mhc -o monitor answers)`);
    },
  };
}

/** A detached process that listens on `path`, accepts and never answers; prints its PID. */
function silentListener(path: string): string {
  const py = `import os,socket
s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)
s.bind("${path}")
os.chmod("${path}",0o600)
s.listen(64)
held=[]
while True:
  c,_=s.accept()
  held.append(c)`;
  return `setsid python3 -c '${py}' </dev/null >/dev/null 2>&1 & echo $!`;
}

/**
 * A host that does not come back after it is fenced: its corosync.conf moved aside, so that once
 * the switch has powered it on, its boot cannot start corosync (as a host whose disk or
 * configuration broke does not rejoin). Repair puts the file back and boots the host.
 */
export function bootBroken(host: string): FencePathBreak {
  const conf = '/etc/corosync/corosync.conf';
  const held = `${conf}.mhc-held`;
  return {
    name: `${host} unable to boot into the cluster (its ${conf} moved aside)`,
    async break(t, h) {
      await t.exec(host, ['mv', conf, held], { timeoutMs: 5_000 });
      h.step('fence path broken', `${host}: ${conf} moved to ${held}; a boot cannot start corosync`);
    },
    async repair(t, h) {
      const r = await t.exec(host, ['test', '-e', held], { check: false, timeoutMs: 5_000 });
      if (r.exitCode === 0) await t.exec(host, ['mv', held, conf], { timeoutMs: 5_000 });
      h.step('fence path repaired', `${host}: ${conf} back`);
      if (!(await clusterDaemons(t, host)).corosync) h.step('boot', await bootHost(t, host, { startSshd: false }));
    },
  };
}

/** How long a repaired path may take to fence and boot the lost host back into the cluster. */
const FENCED_BACK_BOUND_MS = 120_000;

/**
 * The fence path broken, then `lost` (a fault that makes Pacemaker fence its host). Undo repairs
 * the path first, then has Pacemaker try again (a cleanup: the controller gives up after
 * stonith-max-attempts failures) and waits for the lost host to be fenced and back, as an
 * operator who fixed the switch would; the lost fault's own undo comes last.
 */
export function fencePathBroken(broken: FencePathBreak, lost: Fault): Fault {
  const host = lost.host;
  if (!host) throw new HarnessError(`fencePathBroken: "${lost.name}" names no host to lose`);
  return {
    name: `${broken.name}; then ${lost.name}`,
    host,
    destructive: true,
    async inject(t, h) {
      await broken.break(t, h);
      await lost.inject(t, h);
    },
    async undo(t, h) {
      await broken.repair(t, h);
      const peer = dbHostNames(t).find((x) => x !== host)!;
      await t.exec(peer, ['crm_resource', '--cleanup'], { check: false, timeoutMs: 30_000 });
      await waitFor(
        `${host} to be fenced and back in the cluster (corosync and pacemakerd running) once the fence path was repaired`,
        async () => {
          const d = await clusterDaemons(t, host);
          return !!d.corosync && !!d.pacemakerd;
        },
        { timeoutMs: t.profile.bootDelayMs + FENCED_BACK_BOUND_MS, intervalMs: 500 },
      ).catch((e: Error) => h.step('fenced host not back', `${e.message}: left to ${lost.name}'s undo`));
      await lost.undo(t, h);
    },
  };
}
