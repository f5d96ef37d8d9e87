import type { Target } from '../targets/target.js';
import { parseConstraintsXml, parseCrmMonXml, type CrmMonView, type LocationConstraint } from './crm-mon.js';
import { hasAddress, parseIpJsonAddr } from './ip-addr.js';
import { daemonPids, parsePs, type ClusterDaemon } from './processes.js';

/** Probes read state from a target's hosts; they never change it. */

/** crm_mon's view from `host`, or undefined when Pacemaker there does not answer. */
export async function crmMon(t: Target, host: string): Promise<CrmMonView | undefined> {
  const r = await t.exec(host, ['crm_mon', '--one-shot', '--inactive', '--include=bans', '--output-as=xml'], {
    check: false,
    timeoutMs: 10_000,
  });
  if (r.exitCode !== 0 || !r.stdout.includes('<pacemaker-result')) return undefined;
  const view = parseCrmMonXml(r.stdout);
  // crm_mon answers from the CIB even when the controller is gone; no DC means no working cluster view.
  return view;
}

/** Raw crm_mon XML (for reports). */
export async function crmMonXml(t: Target, host: string): Promise<string> {
  return (
    await t.exec(host, ['crm_mon', '--one-shot', '--inactive', '--include=bans', '--output-as=xml'], { check: false, timeoutMs: 10_000 })
  ).stdout;
}

export async function locationConstraints(t: Target, host: string): Promise<LocationConstraint[] | undefined> {
  const r = await t.exec(host, ['cibadmin', '--query', '--scope', 'constraints'], { check: false, timeoutMs: 10_000 });
  return r.exitCode === 0 ? parseConstraintsXml(r.stdout) : undefined;
}

/** Every db host that has the VIP on its interface — all holders, not the one Pacemaker believes in. */
export async function vipHolders(t: Target): Promise<string[]> {
  const { ip } = t.profile.vip;
  const nic = t.profile.nic;
  const held = await Promise.all(
    t.profile.dbHosts.map(async (h) => {
      const r = await t.exec(h.name, ['ip', '-j', 'addr', 'show'], { check: false, timeoutMs: 5_000 });
      return r.exitCode === 0 && hasAddress(parseIpJsonAddr(r.stdout), ip, nic) ? h.name : undefined;
    }),
  );
  return held.filter((h): h is string => !!h);
}

/** Cluster daemons running on a host, with their PIDs as the host sees them. */
export async function clusterDaemons(t: Target, host: string): Promise<Partial<Record<ClusterDaemon, number>>> {
  const r = await t.exec(host, ['ps', '-e', '-o', 'pid=,ppid=,comm='], { timeoutMs: 5_000 });
  return daemonPids(parsePs(r.stdout));
}

/** Node ids corosync on `host` sees as joined members (from the runtime cmap). */
export async function corosyncMembers(t: Target, host: string): Promise<number[] | undefined> {
  const r = await t.exec(host, ['corosync-cmapctl', '-b', 'runtime.members'], { check: false, timeoutMs: 5_000 });
  if (r.exitCode !== 0) return undefined;
  return [...r.stdout.matchAll(/^runtime\.members\.(\d+)\.status \(str\) = joined$/gm)].map((m) => Number(m[1]));
}
