import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DELAY_CHAIN, DELAY_QUEUE, QueueDelay, delayRules, parseDelayerLine, type DelayerStats } from '../../lib/faults/queue-delay.js';
import { processHostStream, type HostStream } from '../../lib/targets/host-stream.js';
import type { ExecOptions, ExecResult, Target } from '../../lib/targets/target.js';

// The NFQUEUE delayer (lib/faults/queue-delay.py) for real, in two throwaway network namespaces of
// its own joined by a veth pair (10.231.77.0/30; nothing in this machine's own namespace): A runs
// the delayer through QueueDelay as the fault does (its rules in A's iptables), B echoes. The round
// trip of UDP probes from A must grow by the delay asked for, with its jitter, while TCP from port
// 22 is spared; after the stop, the queue must be unbound and the round trip back to what it was.
const TAG = `${process.pid % 100_000}`;
const A = `mhc-qd-${TAG}-a`;
const B = `mhc-qd-${TAG}-b`;
const NIC_A = 'mhcqd0';
const ADDR_A = '10.231.77.1';
const ADDR_B = '10.231.77.2';
const UDP_PORT = 7777;
const DELAYER = readFileSync(join(import.meta.dirname, '../../lib/faults/queue-delay.py'), 'utf8');

/** An echo server (UDP or TCP) on ADDR PORT that ends when its input closes. */
const ECHO = `
import os, select, socket, sys
proto, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
else:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
if proto == "tcp":
    s.listen(8)
conns = []
print("ready", flush=True)
while True:
    r = select.select([s, sys.stdin] + conns, [], [])[0]
    if sys.stdin in r and not os.read(0, 4096):
        break
    for c in r:
        if c is s and proto == "udp":
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)
        elif c is s:
            conns.append(s.accept()[0])
        elif c in conns:
            data = c.recv(2048)
            if data:
                c.sendall(data)
            else:
                conns.remove(c)
                c.close()
`;

/**
 * COUNT probes to ADDR PORT, one every INTERVAL ms: UDP datagrams (answers read while sending) or
 * request/answer on one TCP connection. Prints {"rtts": [ms per answered probe], "lost": n}.
 */
const PROBE = `
import json, select, socket, sys, time
proto, addr, port, count, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) / 1000
rtts = {}
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    sent = {}
    start = time.monotonic()
    deadline = start + count * interval + 3
    while time.monotonic() < deadline and len(rtts) < count:
        now = time.monotonic()
        if len(sent) < count and now >= start + len(sent) * interval:
            sent[len(sent)] = now
            s.send(str(len(sent) - 1).encode())
            continue
        wait = (start + len(sent) * interval if len(sent) < count else deadline) - now
        if select.select([s], [], [], max(0, wait))[0]:
            seq = int(s.recv(64))
            rtts[seq] = (time.monotonic() - sent[seq]) * 1000
else:
    s = socket.create_connection((addr, port), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(count):
        t0 = time.monotonic()
        s.sendall(b"%08d" % i)
        got = b""
        while len(got) < 8:
            got += s.recv(8 - len(got))
        rtts[i] = (time.monotonic() - t0) * 1000
        time.sleep(interval)
print(json.dumps({"rtts": [round(rtts[k], 2) for k in sorted(rtts)], "lost": count - len(rtts)}))
`;

const inNs = (ns: string, argv: string[], timeout = 15_000) => execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, timeout });

async function sh(argv: string[]): Promise<void> {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: 15_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/** The target QueueDelay sees: one host, namespace A, whose profile interface is A's end of the veth. */
function nsTarget(ns: string): Target {
  const exec = async (_host: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> => {
    const r = await execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, timeout: opts.timeoutMs ?? 10_000, input: opts.input });
    const res = { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? 124 };
    if ((opts.check ?? true) && res.exitCode !== 0) throw new Error(`${argv.join(' ')}: exit ${res.exitCode}: ${res.stderr}`);
    return res;
  };
  return {
    kind: 'netns',
    profile: { nic: NIC_A },
    exec,
    sh: (host: string, script: string, opts?: ExecOptions) => exec(host, ['sh', '-c', script], opts),
    watch: (_host: string, argv: string[], onLine: (l: string) => void) =>
      processHostStream('ip', ['netns', 'exec', ns, ...argv], undefined, onLine),
  } as unknown as Target;
}

/** Starts an echo server in `ns` (a HostStream: stopped by closing its input) and waits for it to listen. */
async function echoServer(ns: string, proto: 'udp' | 'tcp', addr: string, port: number): Promise<HostStream> {
  let ready!: () => void;
  const listening = new Promise<void>((r) => {
    ready = r;
  });
  const s = processHostStream('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', ECHO, proto, addr, String(port)], undefined, (l) => {
    if (l === 'ready') ready();
  });
  const outcome = await Promise.race([listening.then(() => 'ok'), s.ended, new Promise((r) => setTimeout(() => r('late'), 10_000))]);
  if (outcome !== 'ok') throw new Error(`${proto} echo server in ${ns} did not start: ${JSON.stringify(outcome)}`);
  return s;
}

interface Rtts {
  rtts: number[];
  lost: number;
}

async function probe(ns: string, proto: 'udp' | 'tcp', addr: string, port: number, count: number, intervalMs: number): Promise<Rtts> {
  const r = await inNs(ns, ['python3', '-c', PROBE, proto, addr, String(port), String(count), String(intervalMs)], 30_000);
  if (r.exitCode !== 0) throw new Error(`probe ${proto} from ${ns}: exit ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Rtts;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (r: Rtts) =>
  `n=${r.rtts.length} lost=${r.lost} min=${Math.min(...r.rtts).toFixed(2)} median=${median(r.rtts).toFixed(2)} mean=${mean(r.rtts).toFixed(2)} max=${Math.max(...r.rtts).toFixed(2)} ms`;

/**
 * Undelayed: a median of a few tenths of a millisecond, every probe far below the 80 ms of the
 * shortest delayed one (two shared cores can hold a process back ten milliseconds now and then).
 */
const expectUndelayed = (r: Rtts) => {
  expect(r.lost).toBe(0);
  expect(median(r.rtts)).toBeLessThan(5);
  expect(Math.max(...r.rtts)).toBeLessThan(40);
};

/** The queues bound in `ns` (/proc/net/netfilter/nfnetlink_queue: number, portid, held, copy mode, …). */
async function boundQueues(ns: string): Promise<{ queue: number; copyMode: number }[]> {
  const r = await inNs(ns, ['cat', '/proc/net/netfilter/nfnetlink_queue']);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/).map(Number))
    .map((f) => ({ queue: f[0]!, copyMode: f[3]! }));
}

const deleteNamespaces = async () => {
  for (const ns of [A, B]) await execa('ip', ['netns', 'del', ns], { reject: false, timeout: 15_000 });
};

describe('NFQUEUE packet delayer (queue-delay.py) in namespaces of its own', () => {
  const servers: HostStream[] = [];

  beforeAll(async () => {
    await deleteNamespaces(); // a run killed before its afterAll
    await sh(['ip', 'netns', 'add', A]);
    await sh(['ip', 'netns', 'add', B]);
    // Each end is made in its namespace: nothing of the pair ever appears in this machine's own.
    await sh(['ip', 'link', 'add', NIC_A, 'netns', A, 'type', 'veth', 'peer', 'name', 'mhcqd1', 'netns', B]);
    await sh(['ip', '-n', A, 'addr', 'add', `${ADDR_A}/30`, 'dev', NIC_A]);
    await sh(['ip', '-n', B, 'addr', 'add', `${ADDR_B}/30`, 'dev', 'mhcqd1']);
    for (const [ns, nic] of [
      [A, NIC_A],
      [B, 'mhcqd1'],
    ] as const) {
      await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await sh(['ip', '-n', ns, 'link', 'set', nic, 'up']);
    }
    servers.push(await echoServer(B, 'udp', ADDR_B, UDP_PORT));
    // sshd's port on A: its answers leave A by the spared rule.
    servers.push(await echoServer(A, 'tcp', ADDR_A, 22));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await deleteNamespaces();
  });

  it('delays what A sends by 100 ± 20 ms, spares TCP from port 22, and leaves nothing when stopped', async () => {
    const before = await probe(A, 'udp', ADDR_B, UDP_PORT, 20, 20);
    console.log(`UDP round trip, no delay: ${summary(before)}`);
    expectUndelayed(before);

    const q = new QueueDelay(nsTarget(A), A, 100, 20);
    onTestFinished(() =>
      q.stop().then(
        () => undefined,
        () => undefined,
      ),
    );
    await q.start();
    // Bound with copy mode META (1) before the rules were in; the rules are delayRules' own.
    expect(await boundQueues(A)).toEqual([{ queue: DELAY_QUEUE, copyMode: 1 }]);
    // As iptables lists them (it names the tcp match that -p tcp loads).
    expect((await inNs(A, ['iptables', '-S', DELAY_CHAIN.name])).stdout.trim().split('\n')).toEqual([
      `-N ${DELAY_CHAIN.name}`,
      `-A ${DELAY_CHAIN.name} ${delayRules(NIC_A)[0]!.join(' ').replace('-p tcp', '-p tcp -m tcp')}`,
      `-A ${DELAY_CHAIN.name} ${delayRules(NIC_A)[1]!.join(' ')}`,
    ]);
    expect((await inNs(A, ['iptables', '-S', 'OUTPUT'])).stdout).toContain(`-A OUTPUT -j ${DELAY_CHAIN.name}`);

    const PROBES = 40;
    const [delayed, spared] = await Promise.all([probe(A, 'udp', ADDR_B, UDP_PORT, PROBES, 50), probe(B, 'tcp', ADDR_A, 22, 20, 50)]);
    console.log(`UDP round trip, delay 100 ± 20 ms: ${summary(delayed)}`);
    console.log(`TCP round trip to port 22 (spared) meanwhile: ${summary(spared)}`);
    expect(delayed.lost).toBe(0);
    expect(Math.min(...delayed.rtts)).toBeGreaterThanOrEqual(79);
    expect(Math.max(...delayed.rtts)).toBeLessThan(150);
    expect(mean(delayed.rtts)).toBeGreaterThan(90);
    expect(mean(delayed.rtts)).toBeLessThan(115);
    // Jitter: uniform over ±20 ms, 40 draws spread well beyond 15 ms.
    expect(Math.max(...delayed.rtts) - Math.min(...delayed.rtts)).toBeGreaterThan(15);
    expectUndelayed(spared);

    const stats = (await q.stop())!;
    console.log(`delayer's final stats: ${JSON.stringify(stats)}`);
    // Only the probes left A through the queue (the TCP answers were spared; ARP is not IPv4 iptables).
    expect(stats).toMatchObject({ final: true, held: 0, released: PROBES, flushed: 0, enobufs: 0, verdictErrors: 0 });
    expect(stats.meanDelayMs!).toBeGreaterThan(92);
    expect(stats.meanDelayMs!).toBeLessThan(110);
    // The achieved delay is what the probes saw, less the undelayed round trip.
    expect(Math.abs(mean(delayed.rtts) - mean(before.rtts) - stats.meanDelayMs!)).toBeLessThan(5);
    expect(stats.maxLateMs).toBeLessThan(20);

    // Unbound, the chain gone, and the round trip as before.
    expect(await boundQueues(A)).toEqual([]);
    expect((await inNs(A, ['iptables', '-S', DELAY_CHAIN.name])).exitCode).not.toBe(0);
    expect((await inNs(A, ['iptables', '-S', 'OUTPUT'])).stdout).not.toContain(DELAY_CHAIN.name);
    const after = await probe(A, 'udp', ADDR_B, UDP_PORT, 20, 20);
    console.log(`UDP round trip after the stop: ${summary(after)}`);
    expectUndelayed(after);
  });

  it('a delayer killed (SIGKILL) while its rule is in leaves the network undelayed, not cut (--queue-bypass)', async () => {
    const rule = ['-o', NIC_A, '-j', 'NFQUEUE', '--queue-num', String(DELAY_QUEUE), '--queue-bypass'];
    onTestFinished(async () => {
      await inNs(A, ['iptables', '-D', 'OUTPUT', ...rule]);
    });
    const lines: DelayerStats[] = [];
    let ready = false;
    const child: ChildProcess = spawn(
      'ip',
      ['netns', 'exec', A, 'python3', '-u', '-c', DELAYER, '--queue', String(DELAY_QUEUE), '--delay-ms', '2000', '--stdin'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    onTestFinished(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      for (const l of d.split('\n').filter(Boolean)) {
        const line = parseDelayerLine(l);
        if (line && 'ready' in line) ready = true;
        else if (line) lines.push(line);
      }
    });
    for (let i = 0; i < 100 && !ready; i++) await new Promise((r) => setTimeout(r, 50));
    expect(ready, 'the delayer said it was bound').toBe(true);
    expect((await inNs(A, ['iptables', '-I', 'OUTPUT', '1', ...rule])).exitCode).toBe(0);

    // Held: a 2 s delay shows in a probe's round trip (and in the delayer's count) …
    const held = await probe(A, 'udp', ADDR_B, UDP_PORT, 3, 100);
    console.log(`UDP round trip, delay 2000 ms: ${summary(held)}`);
    expect(held.lost).toBe(0);
    expect(Math.min(...held.rtts)).toBeGreaterThanOrEqual(1950);
    expect(
      lines.some((l) => l.held > 0),
      'a stats line counted held packets',
    ).toBe(true);
    // … killed: the queue goes with its socket, and with the rule still in, packets pass at once.
    child.kill('SIGKILL');
    await exited;
    expect(await boundQueues(A)).toEqual([]);
    const bypassed = await probe(A, 'udp', ADDR_B, UDP_PORT, 20, 20);
    console.log(`UDP round trip, rule in, delayer killed: ${summary(bypassed)}`);
    expectUndelayed(bypassed);
  });
});
