/** The cluster daemons running on a host, from `ps -e -o pid=,ppid=,comm=`. */
export const PACEMAKER_CHILDREN = [
  'pacemaker-based',
  'pacemaker-fenced',
  'pacemaker-execd',
  'pacemaker-attrd',
  'pacemaker-schedulerd',
  'pacemaker-controld',
] as const;
export type PacemakerChild = (typeof PACEMAKER_CHILDREN)[number];
// corosync-qdevice: the hardened profile's quorum device client (absent on the seed's hosts).
export const CLUSTER_DAEMONS = ['corosync', 'corosync-qdevice', 'pacemakerd', ...PACEMAKER_CHILDREN, 'mariadbd', 'sshd'] as const;
export type ClusterDaemon = (typeof CLUSTER_DAEMONS)[number];

export interface ProcessRow {
  pid: number;
  ppid: number;
  comm: string;
}

export function parsePs(text: string): ProcessRow[] {
  return text
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.+)$/))
    .filter((m): m is RegExpMatchArray => !!m)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), comm: m[3]!.trim() }));
}

/** PID of each cluster daemon present (comm is cut to 15 characters by the kernel). */
export function daemonPids(rows: ProcessRow[]): Partial<Record<ClusterDaemon, number>> {
  const out: Partial<Record<ClusterDaemon, number>> = {};
  for (const d of CLUSTER_DAEMONS) {
    const row = rows.find((r) => r.comm === d.slice(0, 15) && !(d === 'sshd' && rows.some((p) => p.pid === r.ppid && p.comm === 'sshd')));
    if (row) out[d] = row.pid;
  }
  return out;
}
