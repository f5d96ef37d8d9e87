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

/**
 * The notebook's order: corosync on both db hosts, then pacemaker, then the crm configuration.
 * With a quorum device, corosync-qnetd first on the management host and corosync-qdevice after
 * corosync. `configureAfter`: what must be done before cluster.crm is applied (MariaDB seeded and
 * stopped, when Pacemaker runs it). Without it, cluster.crm goes into the CIB on disk before
 * Pacemaker starts (crmsh offline, while corosync forms its membership), so the DC's first
 * transition starts the resources: 1–2 s less per lab up than a load into the running cluster.
 */
export async function bootCluster(lab: BootTarget, log: StepLog, configureAfter?: Promise<void>): Promise<void> {
  const dbs = lab.profile.dbHosts.map((h) => h.name);
  const first = dbs[0]!;
  const withLog = async <T>(host: string, file: string, fn: () => Promise<T>) => {
    try {
      return await fn();
    } catch (e) {
      throw new HarnessError(`${(e as Error).message}\nlast lines of ${file} on ${host}:\n${await lab.logTail(host, file)}`);
    }
  };

  // Started now, awaited before Pacemaker starts: off the boot's critical path.
  const offline = configureAfter ? undefined : configureOffline(lab, first, dbs);
  offline?.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled

  const mgmt = lab.profile.managementHost.name;
  if (lab.profile.quorumDevice)
    await log.step(`corosync-qnetd on ${mgmt} (the third quorum vote)`, () =>
      withLog(mgmt, '/var/log/corosync/qnetd.log', () =>
        startAndWait(lab, [mgmt], 'qnetd', `corosync-qnetd on ${mgmt} to listen`, () => qnetdListening(lab, mgmt), 10_000),
      ),
    );

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

  if (lab.profile.quorumDevice)
    await log.step('corosync-qdevice on the db hosts, its vote counted', () =>
      withLog(first, '/var/log/corosync/qdevice.log', () =>
        startAndWait(
          lab,
          dbs,
          'qdevice',
          `corosync on ${first} to count the quorum device's vote`,
          () => qdeviceVoting(lab, first),
          30_000,
        ),
      ),
    );

  if (offline) await log.step("the profile's cluster.crm into the CIB on disk (crmsh, offline)", () => offline);

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

  if (!offline) {
    await configureAfter;
    await log.step("apply the profile's cluster.crm with crmsh", async () => {
      const r = await lab.exec(first, ['crm', 'configure', 'load', 'update', crmFile(lab)], { check: false, timeoutMs: 60_000 });
      throwOnCrmError(lab, r);
    });
  }

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

/** corosync-qnetd listens on its TCP port (5403), read from `ss -H -ltn`. */
async function qnetdListening(lab: Target, host: string): Promise<boolean> {
  const r = await lab.exec(host, ['ss', '-H', '-ltn', 'sport', '=', ':5403'], { check: false, timeoutMs: 5_000 });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

/** votequorum has registered the quorum device: runtime.votequorum.qdevice_can_operate = 1 in corosync's cmap. */
async function qdeviceVoting(lab: Target, host: string): Promise<boolean> {
  const r = await lab.exec(host, ['corosync-cmapctl', '-g', 'runtime.votequorum.qdevice_can_operate'], { check: false, timeoutMs: 5_000 });
  return r.exitCode === 0 && /= 1$/m.test(r.stdout.trim());
}

const crmFile = (lab: BootTarget) => join(lab.dir, 'profile', 'cluster.crm');
const CIB = '/var/lib/pacemaker/cib/cib.xml';

function throwOnCrmError(lab: BootTarget, r: { exitCode: number; stdout: string; stderr: string }): void {
  if (r.exitCode !== 0 || /^ERROR:/m.test(r.stderr + r.stdout)) throw crmErrorToProfile(lab.profile, r.stderr + r.stdout);
}

/**
 * cluster.crm loaded by crmsh into a copy of the CIB on disk (CIB_file: no cluster contacted),
 * on the first db host, then that CIB written on every db host before Pacemaker starts. The copy
 * starts from the lab's seeded CIB (its start-up overrides), or an empty one.
 */
async function configureOffline(lab: BootTarget, first: string, dbs: string[]): Promise<void> {
  const work = '/tmp/mhc-cib.xml';
  const load = `{ [ -s ${CIB} ] && cp ${CIB} ${work} || cibadmin --empty > ${work}; } && CIB_file=${work} crm configure load update ${crmFile(lab)}`;
  throwOnCrmError(lab, await lab.exec(first, ['sh', '-c', load], { check: false, timeoutMs: 60_000 }));
  const xml = (await lab.exec(first, ['cat', work], { timeoutMs: 10_000 })).stdout;
  const install = `cat > ${CIB}.new && chown hacluster:haclient ${CIB}.new && chmod 600 ${CIB}.new && mv ${CIB}.new ${CIB} && rm -f ${CIB}.sig ${work}`;
  await Promise.all(dbs.map((h) => lab.exec(h, ['sh', '-c', install], { input: xml, timeoutMs: 10_000 })));
}
