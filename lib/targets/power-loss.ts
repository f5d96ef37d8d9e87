/**
 * Which processes of a host a power loss ends, from one listing taken on the host by a shell
 * that prints its own PID first. What the harness cannot end without losing the host is spared:
 * PID 1 (netns lab and containers: tini, whose namespace dies with it; a VM: systemd), the init's
 * own `sleep` (tini exits with it, see lib/targets/netns/lab.ts), kernel threads, the listing
 * shell with its ancestors and children (the harness's session: nsenter/docker exec/sshd, sudo,
 * timeout), and every process whose name a target spares (the SSH target: sshd, its only way in).
 */

export interface HostProcess {
  pid: number;
  ppid: number;
  /** ps's STAT: Z = a zombie, already dead. */
  stat: string;
  comm: string;
}

/** Run with `sh -c`: the shell's PID, then every process of the host. */
export const POWER_LOSS_LISTING = 'echo "#self $$"; ps -e -o pid=,ppid=,stat=,comm=';

export function parsePowerLossListing(stdout: string): { self: number; rows: HostProcess[] } {
  const self = Number(stdout.match(/^#self (\d+)$/m)?.[1] ?? Number.NaN);
  const rows = stdout
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(\S+)\s+(.+)$/))
    .filter((m): m is RegExpMatchArray => !!m)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), stat: m[3]!, comm: m[4]!.trim() }));
  return { self, rows };
}

/** The listing shell, its ancestors up to the host's init, and its own descendants (ps itself). */
function ownSession(rows: HostProcess[], self: number): Set<number> {
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  const ancestors = new Set<number>();
  for (let p: number | undefined = self; p && p > 1 && !ancestors.has(p); p = byPid.get(p)?.ppid) ancestors.add(p);
  const descendants = new Set<number>([self]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows)
      if (!descendants.has(r.pid) && descendants.has(r.ppid)) {
        descendants.add(r.pid);
        grew = true;
      }
  }
  return new Set([...ancestors, ...descendants]);
}

/** The processes to SIGKILL, in the listing's order. */
export function powerLossVictims(rows: HostProcess[], self: number, spare: readonly string[] = []): HostProcess[] {
  if (!Number.isInteger(self)) throw new Error('the process listing did not say which shell took it (#self missing)');
  const kthreadd = rows.find((r) => r.comm === 'kthreadd')?.pid;
  const session = ownSession(rows, self);
  return rows.filter(
    (r) =>
      r.pid !== 1 &&
      !r.stat.startsWith('Z') &&
      !(r.ppid === 1 && r.comm === 'sleep') &&
      r.pid !== kthreadd &&
      r.ppid !== kthreadd &&
      !session.has(r.pid) &&
      !spare.includes(r.comm),
  );
}
