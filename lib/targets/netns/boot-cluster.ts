import { join } from 'node:path';
import { HarnessError } from '../../util/errors.js';
import type { StepLog } from '../../util/log.js';
import { waitFor } from '../../util/wait.js';
import { corosyncMembers, crmMon, vipHolders } from '../../probes/cluster.js';
import { crmErrorToProfile } from './crm-errors.js';
import type { Daemon, Target } from '../target.js';
import { DAEMONS } from '../shell-target.js';

/** What booting needs of a target: `dir` (cluster.crm is at `${dir}/profile/cluster.crm` on the db hosts) and log tails. The lab and the containers target. */
export type BootTarget = Target & { readonly dir: string; logTail(host: string, path: string, lines?: number): Promise<string> };

/** Ends a boot wait early: polling on would only wait out the limit. */
class DaemonExitedError extends HarnessError {}

/**
 * Starts `daemon` on each host, then waits (bounded) until `ready`; it ends at once, naming the
 * daemon, if one of them exits meanwhile. Whether they still run is checked at most once a second,
 * so the wait's own polling stays cheap.
 */
export async function startAndWait(
  lab: Target,
  hosts: string[],
  daemon: Daemon,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const started = await Promise.all(hosts.map(async (host) => ({ host, pid: await lab.startDaemon(host, daemon) })));
  let nextCheck = 0;
  await waitFor(
    what,
    async () => {
      if (await ready()) return true;
      if (Date.now() >= nextCheck) {
        nextCheck = Date.now() + 1000;
        for (const d of started) {
          const r = await lab.exec(d.host, ['kill', '-0', String(d.pid)], { check: false, timeoutMs: 5_000 });
          if (r.exitCode !== 0)
            throw new DaemonExitedError(`${DAEMONS[daemon].argv.split(' ')[0]} on ${d.host} (PID ${d.pid}) exited during start-up`);
        }
      }
      return false;
    },
    { timeoutMs, intervalMs: 100, fatal: DaemonExitedError },
  );
}

/** The notebook's order: corosync on both db hosts, then pacemaker, then the crm configuration. */
export async function bootCluster(lab: BootTarget, log: StepLog): Promise<void> {
  const dbs = lab.profile.dbHosts.map((h) => h.name);
  const first = dbs[0]!;
  const withLog = async <T>(host: string, file: string, fn: () => Promise<T>) => {
    try {
      return await fn();
    } catch (e) {
      throw new HarnessError(`${(e as Error).message}\nlast lines of ${file} on ${host}:\n${await lab.logTail(host, file)}`);
    }
  };

  await log.step('corosync on the db hosts, membership of all', async () => {
    await withLog(first, '/var/log/corosync/corosync.log', () =>
      startAndWait(
        lab,
        dbs,
        'corosync',
        `corosync on ${first} to see ${dbs.length} joined members`,
        async () => ((await corosyncMembers(lab, first))?.length ?? 0) >= dbs.length,
        30_000,
      ),
    );
  });

  const deadtime = lab.overrides.find((o) => o.setting === 'pacemaker dc-deadtime')?.value;
  await log.step(`pacemaker on the db hosts, a DC elected${deadtime ? ` (lab dc-deadtime ${deadtime})` : ''}`, async () => {
    await withLog(first, '/var/log/pacemaker/pacemaker.log', () =>
      startAndWait(
        lab,
        dbs,
        'pacemaker',
        `Pacemaker to elect a DC with ${dbs.join(' and ')} online`,
        async () => {
          const v = await crmMon(lab, first);
          return !!v?.dc && dbs.every((d) => v.nodes.some((n) => n.name === d && n.online));
        },
        60_000,
      ),
    );
  });

  await log.step("apply the profile's cluster.crm with crmsh", async () => {
    const file = join(lab.dir, 'profile', 'cluster.crm');
    const r = await lab.exec(first, ['crm', 'configure', 'load', 'update', file], { check: false, timeoutMs: 60_000 });
    if (r.exitCode !== 0 || /^ERROR:/m.test(r.stderr + r.stdout)) {
      throw crmErrorToProfile(lab.profile, r.stderr + r.stdout);
    }
  });

  const vip = lab.profile.vip;
  await log.step(`VIP ${vip.ip} started on one node`, () =>
    waitFor(
      `the VIP resource "${vip.id}" to run on exactly one node with ${vip.ip} on ${lab.profile.nic}`,
      async () => {
        const v = await crmMon(lab, first);
        const r = v?.resources.find((x) => x.id === vip.id);
        const holders = await vipHolders(lab);
        return r?.active && r.runningOn.length === 1 && holders.length === 1 && holders[0] === r.runningOn[0];
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    ),
  );
}
