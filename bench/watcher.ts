/**
 * The event observer's resolution measured directly (issue 15): how long after a change a host's
 * watcher (lib/observe/host-watch.py) stamps it, for the three kinds it reports — an address, a
 * daemon's start (its exec), a daemon's exit — beside what the watcher says of itself ("late": how
 * late it woke after a timer, the figure each run's summary prints) and its CPU.
 * In throwaway namespaces of its own (net, pid, mount; no lab, no address outside them), as the
 * host-watch integration test. --load N adds N busy loops on the machine, ended by PID. The driver
 * making the changes runs at the watcher's priority (nice -10), so that what is measured is the
 * watcher's delay, not the changes queuing behind the busy loops.
 * usage: npm run bench:watcher -- [--rounds 100] [--load 0] [--inotify | --timer-look]
 * Run it alone: a lab beside it changes what is measured.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { quantile } from '../lib/observe/gaps.js';
import { busyLoops } from './busy-loops.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '100' },
    load: { type: 'string', default: '0' },
    'timer-look': { type: 'boolean', default: false },
    inotify: { type: 'boolean', default: false },
  },
});
/** How the watcher looks at /proc, as its first line says. */
const LOOKS: Record<string, string> = {
  'exec-pid': 'woken by execs, told who execs (fanotify)',
  exec: 'woken by any open of a daemon program (inotify)',
};
const WATCH = resolve(import.meta.dirname, '../lib/observe/host-watch.py');
const DRIVER = resolve(import.meta.dirname, 'watcher-driver.py');

interface Line {
  t: number;
  why?: string[];
  beat?: true;
  late?: number;
  cpu?: number;
  look?: string;
}
interface Change {
  t: number;
  kind: 'net' | 'proc' | 'exit';
}

/** Runs the watcher and the driver in the namespaces; the watcher's lines and the driver's changes. */
function measure(dir: string, rounds: number): { lines: Line[]; changes: Change[] } {
  copyFileSync('/bin/sleep', join(dir, 'corosync'));
  const script = `set -e; ip link add v0 type veth peer name v1; ip link set v0 up; ip link set v1 up
    PATH=${dir}:$PATH python3 -u ${WATCH} v0 5 --beat-ms=100 ${values['timer-look'] ? '--timer-look' : ''} ${values.inotify ? '--inotify' : ''} > ${dir}/watch.jsonl &
    W=$!
    for i in $(seq 200); do [ -s ${dir}/watch.jsonl ] && break; sleep 0.05; done
    nice -n -10 python3 -u ${DRIVER} ${rounds} ${dir}/corosync v0 > ${dir}/changes.jsonl
    sleep 0.3; kill $W`;
  writeFileSync(join(dir, 'run.sh'), script);
  const r = spawnSync('unshare', ['--net', '--pid', '--fork', '--mount-proc', 'bash', join(dir, 'run.sh')], {
    encoding: 'utf8',
    timeout: rounds * 2_000 + 30_000,
  });
  if (r.status !== 0) throw new Error(`the bench's namespace script failed (exit ${r.status}): ${r.stderr || r.error}`);
  const read = <T>(f: string) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T);
  return { lines: read<Line>('watch.jsonl'), changes: read<Change>('changes.jsonl') };
}

/** Per change: ms from the change to the first sample after it that names its kind. */
function latencies(lines: Line[], changes: Change[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const c of changes) {
    const s = lines.find((l) => l.t >= c.t && l.why?.some((w) => w.startsWith(c.kind)));
    if (s) out.set(c.kind, [...(out.get(c.kind) ?? []), (s.t - c.t) / 1e6]);
    else out.set(`${c.kind} missed`, [...(out.get(`${c.kind} missed`) ?? []), 0]);
  }
  return out;
}

const f = (ms: number) => `${ms.toFixed(1)} ms`;

const load = busyLoops(Number(values.load));
const dir = mkdtempSync(join(tmpdir(), 'mhc-bench-watch-'));
try {
  const { lines, changes } = measure(dir, Number(values.rounds));
  const wall = (lines.at(-1)!.t - lines[0]!.t) / 1e9;
  const cpu = lines.filter((l) => l.cpu !== undefined);
  console.log(
    `watcher (${LOOKS[lines[0]?.look ?? ''] ?? '/proc on a timer'}), ${values.load} busy loops beside it, ${changes.length} changes over ${wall.toFixed(1)} s:`,
  );
  for (const [kind, ms] of latencies(lines, changes))
    console.log(
      kind.endsWith('missed')
        ? `  ${kind}: ${ms.length}`
        : `  ${kind.padEnd(5)} change → stamp: median ${f(quantile(ms, 0.5))}, p99 ${f(quantile(ms, 0.99))}, worst ${f(quantile(ms, 1))} (${ms.length})`,
    );
  const late = lines.map((l) => (l.late ?? 0) / 1000);
  console.log(
    `  the watcher's own "late": median ${f(quantile(late, 0.5))}, p99 ${f(quantile(late, 0.99))}, worst ${f(quantile(late, 1))} (${late.length} lines)`,
  );
  if (cpu.length > 1)
    console.log(`  its CPU (with its \`ip\` calls): ${(((cpu.at(-1)!.cpu! - cpu[0]!.cpu!) / wall) * 100).toFixed(2)} % of one core`);
} finally {
  load.stop();
  rmSync(dir, { recursive: true, force: true });
}
