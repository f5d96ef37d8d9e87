import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

// The per-host watcher (lib/observe/host-watch.py) in throwaway namespaces of its own (net, pid,
// mount: no lab, no address outside them): it must report an address added and removed, a cluster
// daemon started through fork + exec (as pacemakerd's children and `setsid corosync` are) and its
// exit, each as its own sample, in order: woken by the exec (inotify on the daemon's program,
// found in PATH), and with the timer's /proc looks of a host without inotify.
const WATCH = resolve(import.meta.dirname, '../../lib/observe/host-watch.py');

interface Sample {
  t: number;
  why: string[];
  ip: { addr_info?: { local: string }[] }[];
  ps: [number, number, string][];
}

/** Runs `script` in throwaway namespaces (net, pid, mount) and reads the samples it left in DIR/out.jsonl. */
function samplesOf(dir: string, script: string): Sample[] {
  writeFileSync(join(dir, 'run.sh'), script);
  const r = spawnSync('unshare', ['--net', '--pid', '--fork', '--mount-proc', 'bash', join(dir, 'run.sh')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(join(dir, 'out.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Sample);
}

/** A script's start: a veth in the namespace, the watcher on it (as $W) writing DIR/out.jsonl, its first sample awaited. */
const watcherUp = (dir: string) => `ip link add v0 type veth peer name v1
      python3 -u -c "$(cat ${WATCH})" v0 5 > ${dir}/out.jsonl &
      W=$!
      for i in $(seq 200); do [ -s ${dir}/out.jsonl ] && break; sleep 0.05; done`;

describe('host watcher', () => {
  it.each([
    ['woken by the exec, told who execs (fanotify)', ''],
    ['woken by any open of the program (inotify)', '--inotify'],
    ['looking at /proc on a timer', '--timer-look'],
  ])('reports address and daemon changes as they happen, by the host clock (%s)', (_how, flag) => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-watch-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync('/bin/sleep', join(dir, 'corosync'));
    // Each act waits (bounded: 20 s) for the watcher's sample of the one before, so that a slow
    // machine delays the story but never merges two acts into one sample.
    const script = `
      seen() { for i in $(seq 200); do [ "$(wc -l < ${dir}/out.jsonl)" -ge "$1" ] && return 0; sleep 0.1; done; echo "no sample $1" >&2; exit 1; }
      ip link add v0 type veth peer name v1
      : > ${dir}/out.jsonl
      PATH=${dir}:$PATH python3 -u -c "$(cat ${WATCH})" v0 5 ${flag} >> ${dir}/out.jsonl &
      W=$!
      seen 1
      ip addr add 10.99.0.100/24 dev v0; seen 2
      sh -c 'setsid ${dir}/corosync 30 & echo $! > ${dir}/c.pid'; seen 3
      kill -9 $(cat ${dir}/c.pid); seen 4
      ip addr del 10.99.0.100/24 dev v0; seen 5
      kill $W`;
    const samples = samplesOf(dir, script);
    const vip = (s: Sample) => s.ip.some((i) => i.addr_info?.some((a) => a.local === '10.99.0.100'));
    const coro = (s: Sample) => s.ps.some((p) => p[2] === 'corosync');
    const story = samples.map((s) => `${s.why[0]!.replace(/\d+/, 'PID')} vip=${vip(s)} corosync=${coro(s)}`);
    expect(story).toEqual([
      'start vip=false corosync=false',
      'net vip=true corosync=false',
      'proc vip=true corosync=true',
      'exit PID vip=true corosync=false',
      'net vip=false corosync=false',
    ]);
    expect((samples[0] as Sample & { look?: string }).look).toBe({ '': 'exec-pid', '--inotify': 'exec', '--timer-look': 'timer' }[flag]);
    const pid = Number(readFileSync(join(dir, 'c.pid'), 'utf8'));
    expect(samples[3]!.why).toEqual([`exit ${pid}`]);
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.t).toBeGreaterThan(samples[i - 1]!.t);
  });
});

describe('host watcher woken by execs', () => {
  it.each([
    ['fanotify', ''],
    ['inotify', '--inotify'],
  ])(
    'sees a daemon whose process it found before its exec (a sibling was exec-ed first, as pacemakerd forks its children): %s',
    (_how, flag) => {
      const dir = mkdtempSync(join(tmpdir(), 'mhc-watch-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      copyFileSync('/bin/sleep', join(dir, 'corosync'));
      copyFileSync('/bin/true', join(dir, 'pacemakerd'));
      // A shell that execs "corosync" after 0.4 s; meanwhile "pacemakerd" (a stand-in that exits at
      // once) is exec'd, so the watcher lists /proc and finds the shell under its own name first.
      const script = `
      ip link add v0 type veth peer name v1
      PATH=${dir}:$PATH python3 -u -c "$(cat ${WATCH})" v0 5 ${flag} > ${dir}/out.jsonl &
      W=$!
      for i in $(seq 200); do [ -s ${dir}/out.jsonl ] && break; sleep 0.05; done
      sh -c 'sleep 0.4; exec ${dir}/corosync 30' &
      sleep 0.05; ${dir}/pacemakerd
      for i in $(seq 40); do grep -q '"corosync"' ${dir}/out.jsonl && break; sleep 0.05; done
      kill $W`;
      const samples = samplesOf(dir, script);
      const first = samples.find((x) => x.ps.some((p) => p[2] === 'corosync'));
      // Seen at its exec ("proc"), within the 2 s the script waits: not left to the 5 s tick.
      expect(first?.why).toEqual(['proc']);
    },
  );
});

describe('host watcher tick', () => {
  it('comes every 5 s even while other changes keep coming (agents exec pacemakerd -$ every few seconds)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-watch-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    // An address change every 0.7 s for 11 s: before the fix each sample put the tick off, and none came.
    const samples = samplesOf(
      dir,
      `${watcherUp(dir)}
      for i in $(seq 8); do ip addr add 10.99.0.$i/24 dev v0; sleep 0.7; ip addr del 10.99.0.$i/24 dev v0; sleep 0.7; done
      kill $W`,
    );
    expect(samples.filter((x) => x.why.includes('tick')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('host watcher beside other hosts sharing its programs (the netns lab shares /usr)', () => {
  // Resource agents run \`pacemakerd -$\` at every call: on the lab each such exec on one host woke
  // every host's watcher, which then read all its processes 100 times. With fanotify an exec from
  // outside the watcher's PID namespace has no PID there and is not looked into; with inotify
  // (the fallback) it is. "reads" counts the watcher's reads of a process's stat.
  it.each([
    ['fanotify: not looked into', '', false],
    ['inotify: each one looked into', '--inotify', true],
  ])('30 execs of a daemon program by processes of another PID namespace: %s', (_how, flag, costly) => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-watch-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync('/bin/true', join(dir, 'corosync'));
    writeFileSync(
      join(dir, 'inner.sh'),
      `seen() { for i in $(seq 200); do [ "$(wc -l < ${dir}/out.jsonl)" -ge "$1" ] && return 0; sleep 0.05; done; echo "no sample $1" >&2; exit 1; }
      ip link add v0 type veth peer name v1
      : > ${dir}/out.jsonl
      PATH=${dir}:$PATH python3 -u -c "$(cat ${WATCH})" v0 5 ${flag} >> ${dir}/out.jsonl &
      W=$!
      # 0.3 s: past the start's own look at every process (each read for its first 0.1 s).
      seen 1; sleep 0.3; ip addr add 10.99.0.1/24 dev v0; seen 2
      touch ${dir}/go
      for i in $(seq 200); do [ -e ${dir}/done ] && break; sleep 0.05; done
      ip addr add 10.99.0.2/24 dev v0; seen 3
      kill $W`,
    );
    // The outer script is the other host: its execs happen in this machine's PID namespace.
    writeFileSync(
      join(dir, 'outer.sh'),
      `unshare --net --pid --fork --mount-proc bash ${dir}/inner.sh & U=$!
      for i in $(seq 200); do [ -e ${dir}/go ] && break; sleep 0.05; done
      for i in $(seq 30); do ${dir}/corosync; sleep 0.01; done
      touch ${dir}/done
      wait $U`,
    );
    const r = spawnSync('bash', [join(dir, 'outer.sh')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const samples = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Sample & { reads: number });
    expect(samples.map((x) => x.why[0])).toEqual(['start', 'net', 'net']);
    const processes = samples[0]!.reads; // the first listing read each process of the namespace once
    const grew = samples[2]!.reads - samples[1]!.reads;
    // A 5 s tick in between reads each process once more; one exec looked into reads them ~100 times.
    if (costly) expect(grew).toBeGreaterThan(30 * processes);
    else expect(grew).toBeLessThanOrEqual(2 * processes);
  });
});

describe('host watcher as the event observer runs it (a HostStream, --stdin, --beat-ms)', () => {
  it('beats while nothing changes, reports a change at once, and ends when its input closes', async () => {
    const { processHostStream } = await import('../../lib/targets/host-stream.js');
    const { nodeOfSample } = await import('../../lib/observe/event-observer.js');
    const dir = mkdtempSync(join(tmpdir(), 'mhc-watch-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    // A namespace of its own with one veth; a helper adds the VIP 1 s after the watcher's first
    // sample (the test creates the file "go" then: a slow start must not race the helper).
    const script = `ip link add v0 type veth peer name v1; ip link set v0 up; ip link set v1 up
      (for i in $(seq 400); do [ -e ${dir}/go ] && break; sleep 0.05; done; sleep 1; ip addr add 10.99.0.100/24 dev v0) &
      exec python3 -u -c "$(cat ${WATCH})" v0 5 --stdin --beat-ms=100`;
    writeFileSync(join(dir, 'run.sh'), script);
    const lines: {
      t: number;
      beat?: true;
      why?: string[];
      ip?: unknown[];
      ps?: [number, number, string][];
      cpu?: number;
      late?: number;
    }[] = [];
    const s = processHostStream('unshare', ['--net', '--pid', '--fork', '--mount-proc', 'bash', join(dir, 'run.sh')], undefined, (l) => {
      lines.push(JSON.parse(l));
      if (lines.length === 1) writeFileSync(join(dir, 'go'), '');
    });
    const deadline = Date.now() + 20_000;
    while (!lines.some((l) => l.why?.[0] === 'net') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    await s.stop();
    const e = await s.ended;
    // Exit 0: it ended by its input closing (the kill after STREAM_STOP_MS would leave no exit code).
    expect(e.exitCode, e.stderr).toBe(0);
    const samples = lines.filter((l) => l.why);
    // Its last sample, as its input closed, is a look at everything (a change missed since the look before would show).
    expect(samples.map((l) => l.why![0])).toEqual(['start', 'net', 'tick']);
    expect(samples.at(-1)!.why).toEqual(['tick']);
    const vip = samples.map((l) => nodeOfSample(l as Parameters<typeof nodeOfSample>[0], '10.99.0.100', 'v0'));
    expect(vip.map((n) => [n.vip, n.linkUp])).toEqual([
      [false, true],
      [true, true],
      [true, true],
    ]);
    // Beats fill the quiet second between the two samples.
    const start = lines.findIndex((l) => l.why?.[0] === 'start');
    const net = lines.findIndex((l) => l.why?.[0] === 'net');
    expect(lines.slice(start + 1, net).every((l) => l.beat)).toBe(true);
    expect(net - start - 1).toBeGreaterThanOrEqual(3);
    // Every line says how late its watcher woke (µs): the observer's resolution.
    expect(lines.every((l) => Number.isInteger(l.late) && l.late! >= 0)).toBe(true);
  });
});

describe('host watcher, the check against missed events', () => {
  it('a daemon that took its name without an exec is found by the periodic look alone, and said to be a missed change', async () => {
    const { nodeOfSample } = await import('../../lib/observe/event-observer.js');
    const { MissedChanges } = await import('../../lib/observe/missed.js');
    const dir = mkdtempSync(join(tmpdir(), 'mhc-watch-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    // prctl(PR_SET_NAME): a process named "corosync" with no exec of a daemon's program, so no
    // event wakes the watcher; only its 5 s look at everything can find it (bounded: 8 s).
    const samples = samplesOf(
      dir,
      `${watcherUp(dir)}
      python3 -c "import ctypes, time; ctypes.CDLL(None).prctl(15, b'corosync', 0, 0, 0); time.sleep(30)" &
      P=$!
      for i in $(seq 160); do grep -q '"corosync"' ${dir}/out.jsonl && break; sleep 0.05; done
      kill $P $W`,
    );
    const found = samples.find((s) => s.ps.some((p) => p[2] === 'corosync'));
    expect(found?.why).toEqual(['tick', 'tick:proc']);
    const check = new MissedChanges();
    let before: ReturnType<typeof nodeOfSample> | undefined;
    const missed = samples.flatMap((s) => {
      const node = nodeOfSample(s as Parameters<typeof nodeOfSample>[0], '10.99.0.100', 'v0');
      const m = check.sample('db1', s.why, before, node, s.t / 1e6);
      before = node;
      return m ? [m] : [];
    });
    expect(missed).toEqual([{ host: 'db1', t: found!.t / 1e6, sinceMs: expect.any(Number), what: 'corosync started' }]);
    expect(missed[0]!.sinceMs).toBeGreaterThan(0);
    expect(missed[0]!.sinceMs).toBeLessThanOrEqual(5_100);
  });
});
