import type { History } from '../history.js';
import { query, withMysql } from '../mysql/connect.js';
import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { sleep, waitFor, withTimeout } from '../util/wait.js';
import type { Fault } from './fault.js';
import type { MysqlRole } from './mysql-crash.js';
import { requireTools } from './tools.js';

/** The filesystem a directory lives on, from `findmnt -J -b -T DIR` (bytes). */
export interface DatadirFs {
  target: string;
  source: string;
  fstype: string;
  size: number;
  avail: number;
}

const FINDMNT = (dir: string) => ['findmnt', '-J', '-b', '-o', 'TARGET,SOURCE,FSTYPE,SIZE,AVAIL', '-T', dir];

export function parseFindmnt(json: string): DatadirFs {
  const fs = (JSON.parse(json) as { filesystems?: DatadirFs[] }).filesystems?.[0];
  if (!fs || typeof fs.size !== 'number' || typeof fs.avail !== 'number')
    throw new Error(`findmnt gave no filesystem: ${json.slice(0, 200)}`);
  return fs;
}

const withoutSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/**
 * Why filling `fs` is refused (undefined: it may be filled). Only a filesystem that is the datadir
 * itself: one that holds more (/, /var) is shared with the system — journald, Pacemaker's CIB,
 * corosync — and filling it would be a different fault, and one nobody could undo from a dead host.
 */
export function fillRefusal(host: string, datadir: string, fs: DatadirFs): string | undefined {
  if (withoutSlash(fs.target) !== withoutSlash(datadir))
    return `the datadir ${datadir} of ${host} is on ${fs.target} (${fs.source}), a filesystem it shares with the rest of the system: filling it would fill more than the database's disk`;
  return undefined;
}

/** The ballast that fills the filesystem: in its root, named so that nobody takes it for data. */
export const ballastPath = (fs: DatadirFs) => `${fs.target.replace(/\/$/, '')}/.mhc-disk-full-ballast`;

/**
 * Fills the filesystem in up to 8 rounds, each taking what df then calls available: fallocate for
 * all but 4 MiB of it (a server writing meanwhile would make an exact fallocate fail whole with
 * ENOSPC), dd for the last few MiB. Each round a ballast file of its own (BALLAST.0, .1, …). On
 * ext4 the blocks reserved for root stay free: MariaDB, not root, cannot use them either.
 */
export const fillScript = (ballast: string) =>
  `f='${ballast}'; d=$(dirname "$f"); i=0; while [ $i -lt 8 ]; do ` +
  `a=$(df -B1 --output=avail "$d" | tail -1); [ "$a" -le 0 ] && break; ` +
  `if [ "$a" -gt 8388608 ]; then fallocate -l $((a - 4194304)) "$f.$i" || true; ` +
  `else dd if=/dev/zero of="$f.$i" bs=4096 count=$((a / 4096 + 1)) 2>/dev/null || true; fi; i=$((i + 1)); done`;

/** Removes every ballast file of fillScript (a glob: argv alone cannot). */
export const emptyScript = (ballast: string) => `rm -f '${ballast}'.*`;

/** How long MariaDB can take to write again once space is back: it retries a full disk every 60 s. */
const RESUME_MS = 90_000;
/** One question to a server that may be stalled. */
const PROBE_MS = 5_000;

/**
 * The datadir's filesystem on `host` full for holdSeconds, then freed (inject returns once MariaDB
 * writes again). MariaDB does not fail on a full disk: a thread that cannot write the binlog waits
 * and retries every 60 s ("Waiting for someone to free space"), every commit queues behind it,
 * reads go on. Nothing in the seed's cluster watches for that, so the VIP stays on a server that
 * answers but cannot commit. The fault needs the datadir on a filesystem of its own (the netns
 * lab and the containers give it a tmpfs, lib/targets/netns/host-files.ts DATADIR_MIB).
 */
export function diskFull(host: string, role: MysqlRole, holdSeconds = 20): Fault {
  const name = `datadir of ${host} (the ${role}) full for ${holdSeconds}s`;
  /** Set just before the fill: what undo has to free (nothing when the fill never started). */
  let filled: DatadirFs | undefined;
  return {
    name,
    host,
    destructive: true,
    async inject(t, h) {
      const fs = await datadirFs(t, name, host);
      filled = fs;
      await t.exec(host, ['sh', '-c', fillScript(ballastPath(fs))], { timeoutMs: 30_000 });
      const full = await readFs(t, host, fs.target);
      h.step('disk full', `${host}: ${fs.target} (${fs.fstype}, ${mib(full.size)}) has ${full.avail} bytes free`);
      if (full.avail > 0) throw new HarnessError(`on ${host}: ${fs.target} still has ${full.avail} bytes free after filling it`);
      await sleep(holdSeconds * 1000);
      await freeAndResume(t, h, host, fs);
      filled = undefined;
    },
    async undo(t, h) {
      if (filled) await freeAndResume(t, h, host, filled);
      filled = undefined;
    },
  };
}

/** The datadir's filesystem, after the checks that can fail before anything is filled. */
async function datadirFs(t: Target, fault: string, host: string): Promise<DatadirFs> {
  await requireTools(t, fault, [host], ['findmnt', 'fallocate', 'dd']);
  const datadir = await withTimeout(
    withMysql(t, host, async (c) => String((await query(c, 'SELECT @@datadir AS d'))[0]?.d ?? '')),
    PROBE_MS,
    `asking MariaDB on ${host} where its datadir is`,
  );
  if (!datadir) throw new HarnessError(`cannot inject "${fault}": MariaDB on ${host} did not say where its datadir is`);
  const fs = await readFs(t, host, datadir);
  const refusal = fillRefusal(host, datadir, fs);
  if (refusal)
    throw new HarnessError(`cannot inject "${fault}": ${refusal}; nothing was injected`, 'give the datadir a filesystem of its own');
  return fs;
}

async function readFs(t: Target, host: string, dir: string): Promise<DatadirFs> {
  return parseFindmnt((await t.exec(host, FINDMNT(dir), { timeoutMs: 10_000 })).stdout);
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

/**
 * Removes the ballast by its path (nothing of MariaDB's is needed for that), then waits for MariaDB
 * to write again, both in the history. A server that does not answer at all is left to the audits
 * and the heal ladder: the space it needs is back.
 */
async function freeAndResume(t: Target, h: History, host: string, fs: DatadirFs): Promise<void> {
  const ballast = ballastPath(fs);
  await t.exec(host, ['sh', '-c', emptyScript(ballast)], { timeoutMs: 10_000 });
  const freedAt = performance.now();
  h.step('disk space freed', `${host}: ${fs.target} has ${mib((await readFs(t, host, fs.target)).avail)} free`);
  await waitFor(
    `MariaDB on ${host} to write again after its disk was freed (no thread "Waiting for someone to free space")`,
    async () => (await diskWaiters(t, host)) === 0,
    { timeoutMs: RESUME_MS, intervalMs: 250 },
  );
  h.step('MariaDB writing again', `${host}: ${((performance.now() - freedAt) / 1000).toFixed(1)} s after the space was freed`);
}

/** Threads of the server waiting for disk space (MariaDB's processlist state while a write hits ENOSPC); each question bounded. */
async function diskWaiters(t: Target, host: string): Promise<number> {
  const ask = withMysql(t, host, async (c) => {
    const rows = await query(
      c,
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE = 'Waiting for someone to free space'",
    );
    return Number(rows[0]?.n ?? 0);
  });
  return withTimeout(ask, PROBE_MS, `asking MariaDB on ${host} for threads waiting for disk space`);
}
