import { describe, expect, it } from 'vitest';
import { DELAY_MECHANISM_LABEL, degradedNetwork, pickDelayMechanism } from '../../lib/faults/degraded-network.js';
import { NETEM_MISSING } from '../../lib/faults/netem.js';
import {
  DELAY_CHAIN,
  QueueDelay,
  delayRules,
  delayerArgv,
  describeDelayStats,
  noDelayMechanismError,
  parseDelayerLine,
} from '../../lib/faults/queue-delay.js';
import { TOOL_PACKAGES } from '../../lib/faults/tools.js';
import { History } from '../../lib/history.js';
import { Profile } from '../../lib/profile/load.js';
import type { HostStream } from '../../lib/targets/host-stream.js';
import type { ExecResult, Target } from '../../lib/targets/target.js';

const STATS = { held: 3, released: 1834, flushed: 0, maxLateMs: 1.2, meanDelayMs: 100.4, enobufs: 0, verdictErrors: 0 };
const FINAL = JSON.stringify({ ...STATS, held: 0, flushed: 3, final: true });

/** How the fake host's delayer behaves: binds and reports, cannot bind, never answers, or dies while holding. */
type DelayerPlay = 'ok' | 'cannot-bind' | 'silent' | 'dies';

/**
 * A host that answers the commands of the delay fault as a real one would: tc's netem probe, the
 * tool probe, iptables chains (kept, so that `-S CHAIN` tells whether one is left), and the
 * delayer's stream. Every command and the stream's start and stop are recorded in order.
 */
function fakeHost(o: { netem?: 'ok' | 'missing'; tools?: string[]; delayer?: DelayerPlay } = {}) {
  const tools = new Set(o.tools ?? Object.keys(TOOL_PACKAGES));
  const calls: string[] = [];
  const chains = new Set<string>();
  const jumps: string[] = [];
  const res = (exitCode: number, stdout = '', stderr = ''): ExecResult => ({ exitCode, stdout, stderr });
  const iptables = (args: string[]): ExecResult => {
    const [op, chain] = args;
    if (op === '-N') chains.add(chain!);
    if (op === '-X') chains.delete(chain!);
    if (op === '-S') return chains.has(chain!) ? res(0, `-N ${chain}\n`) : res(1, '', 'No chain/target/match by that name.');
    if (op === '-I') jumps.push(args.at(-1)!);
    if (op === '-D') {
      const i = jumps.indexOf(args.at(-1)!);
      if (i < 0) return res(1, '', 'Bad rule');
      jumps.splice(i, 1);
    }
    return res(0);
  };
  const t = {
    kind: 'netns',
    profile: Profile.load('seed'),
    async sh(_host: string, script: string) {
      const asked = /^for b in ([^;]+);/.exec(script)![1]!.split(' ');
      calls.push(`probe ${asked.join(' ')}`);
      return res(0, asked.map((b) => `${tools.has(b) ? 'ok' : 'missing'} ${b}\n`).join(''));
    },
    async exec(_host: string, argv: string[]) {
      calls.push(argv.join(' '));
      if (argv[0] === 'iptables') return iptables(argv.slice(2));
      if (argv.join(' ').includes('netem delay 0ms'))
        return o.netem === 'ok' ? res(0) : res(2, '', 'Error: Specified qdisc kind is unknown.\n');
      if (argv[2] === 'show') return res(0, 'qdisc noqueue 0: root refcnt 2 \n');
      return res(0);
    },
    watch(_host: string, argv: string[], onLine: (line: string) => void): HostStream {
      calls.push(`watch ${argv.slice(0, 2).join(' ')} ${argv.slice(4).join(' ')}`);
      return fakeDelayer(o.delayer ?? 'ok', onLine, () => calls.push('stop delayer'));
    },
  } as unknown as Target;
  return { t, calls, chains, jumps };
}

function fakeDelayer(play: DelayerPlay, onLine: (line: string) => void, onStop: () => void): HostStream {
  let end!: (e: { exitCode: number | null; stderr: string }) => void;
  const ended = new Promise<{ exitCode: number | null; stderr: string }>((r) => {
    end = r;
  });
  setTimeout(() => {
    if (play === 'cannot-bind') end({ exitCode: 1, stderr: 'queue-delay: cannot bind NFQUEUE 7731: Operation not permitted' });
    if (play === 'ok' || play === 'dies') onLine('{"ready":true}');
    if (play === 'dies') setTimeout(() => end({ exitCode: 1, stderr: 'Traceback …\nMemoryError' }), 5);
  }, 1);
  return {
    ended,
    async stop() {
      onStop();
      if (play === 'ok') onLine(FINAL);
      end({ exitCode: play === 'silent' ? null : 0, stderr: '' });
      await ended;
    },
  };
}

const steps = (h: History) => h.events.flatMap((e) => (e.type === 'step' ? [`${e.step} | ${e.detail}`] : []));

describe('NFQUEUE delay: rules, delayer command, stats lines', () => {
  it('queues what leaves the interface, sshd spared first, and passes packets while no delayer holds the queue', () => {
    expect(DELAY_CHAIN).toEqual({ name: 'MHC-DELAY', hook: 'OUTPUT' });
    expect(delayRules('eth1')).toEqual([
      ['-o', 'eth1', '-p', 'tcp', '--sport', '22', '-j', 'RETURN'],
      ['-o', 'eth1', '-j', 'NFQUEUE', '--queue-num', '7731', '--queue-bypass'],
    ]);
    expect(delayRules('v0', 12, 2222)[1]).toEqual(['-o', 'v0', '-j', 'NFQUEUE', '--queue-num', '12', '--queue-bypass']);
  });

  it('runs the script inline, unbuffered, stopped by its input closing; jitter only when asked', () => {
    const argv = delayerArgv(100, 20);
    expect(argv.slice(0, 3)).toEqual(['python3', '-u', '-c']);
    expect(argv[3]).toMatch(/NFQNL_MSG_VERDICT/);
    expect(argv.slice(4)).toEqual(['--queue', '7731', '--delay-ms', '100', '--jitter-ms', '20', '--stdin']);
    expect(delayerArgv(2000).slice(4)).toEqual(['--queue', '7731', '--delay-ms', '2000', '--stdin']);
  });

  it('reads ready, stats and final lines; anything else is not a line of the delayer', () => {
    expect(parseDelayerLine('{"ready":true}')).toEqual({ ready: true });
    expect(parseDelayerLine(JSON.stringify(STATS))).toEqual(STATS);
    expect(parseDelayerLine(FINAL)).toMatchObject({ final: true, released: 1834 });
    expect(parseDelayerLine(JSON.stringify({ ...STATS, released: 0, meanDelayMs: null }))).toMatchObject({ meanDelayMs: null });
    for (const bad of ['', 'Welcome to db1', '{"held":1', '{"ready":false}', '[1,2]', 'null', JSON.stringify({ ...STATS, released: -1 })])
      expect(parseDelayerLine(bad), bad).toBeUndefined();
  });

  it('says what the delay achieved, and what did not go as asked', () => {
    expect(describeDelayStats(STATS)).toBe('1834 packets delayed, mean 100.4 ms');
    expect(describeDelayStats({ ...STATS, released: 0, meanDelayMs: null })).toBe('0 packets delayed');
    expect(
      describeDelayStats({
        ...STATS,
        endedWith: "the delayer ended with db2's power (db2 fenced (reboot) by db1): the delay held until then",
      }),
    ).toBe(
      "1834 packets delayed, mean 100.4 ms, the delayer ended with db2's power (db2 fenced (reboot) by db1): the delay held until then",
    );
    expect(describeDelayStats({ ...STATS, flushed: 3, maxLateMs: 25, enobufs: 2, verdictErrors: 1 })).toBe(
      '1834 packets delayed, mean 100.4 ms, 3 released early when the delay ended, a release up to 25 ms late, ' +
        '2 receive-buffer overflows (those packets passed undelayed), 1 verdicts refused by the kernel',
    );
  });
});

describe('degraded network: the delay mechanism', () => {
  it('netem where the kernel has it, else NFQUEUE when the host has python3 and iptables, else neither', () => {
    expect(pickDelayMechanism('ok', [])).toBe('netem');
    expect(pickDelayMechanism('ok', ['python3'])).toBe('netem');
    expect(pickDelayMechanism('missing', [])).toBe('nfqueue');
    expect(pickDelayMechanism('missing', ['python3', 'iptables'])).toEqual({ lacking: ['python3', 'iptables'] });
    expect(noDelayMechanismError('f', 'db1', 'ssh', ['python3']).message).toBe(
      `cannot inject "f": on db1: ${NETEM_MISSING}; the NFQUEUE delayer that stands in for netem needs python3 (package python3); nothing was injected\n` +
        '  → on db1: apt-get install -y python3, or run the delay faults on a kernel with sch_netem',
    );
  });

  it('a kernel with netem: tc netem, no delayer', async () => {
    const { t, calls } = fakeHost({ netem: 'ok' });
    const h = new History();
    await degradedNetwork('db1', { delayMs: 100, jitterMs: 20 }, 0).inject(t, h);
    expect(calls.some((c) => c.startsWith('watch'))).toBe(false);
    expect(calls).toContain('tc qdisc replace dev eth1 root netem delay 100ms 20ms');
    expect(steps(h)[0]).toBe(
      `degraded network | db1: ${DELAY_MECHANISM_LABEL.netem}: tc qdisc replace dev eth1 root netem delay 100ms 20ms`,
    );
  });

  it('no netem: the delayer is bound before the rules go in, the rules go before the delayer stops, and its stats are the evidence', async () => {
    const { t, calls, chains, jumps } = fakeHost({ netem: 'missing' });
    const h = new History();
    await degradedNetwork('db1', { delayMs: 100, jitterMs: 20 }, 0).inject(t, h);
    const at = (c: string) => calls.indexOf(c);
    expect(calls.slice(0, 3)).toEqual(['probe tc', 'tc qdisc replace dev eth1 root netem delay 0ms', 'probe iptables python3']);
    expect(at('watch python3 -u --queue 7731 --delay-ms 100 --jitter-ms 20 --stdin')).toBeGreaterThan(0);
    expect(at('watch python3 -u --queue 7731 --delay-ms 100 --jitter-ms 20 --stdin')).toBeLessThan(
      at('iptables -w -I OUTPUT 1 -j MHC-DELAY'),
    );
    expect(calls).toContain('iptables -w -A MHC-DELAY -o eth1 -j NFQUEUE --queue-num 7731 --queue-bypass');
    expect(calls.lastIndexOf('iptables -w -D OUTPUT -j MHC-DELAY')).toBeLessThan(at('stop delayer'));
    expect(steps(h)).toEqual([
      'degraded network | db1: delay by NFQUEUE (kernel has no sch_netem): python3 queue-delay.py --queue 7731 --delay-ms 100 --jitter-ms 20 --stdin; ' +
        'iptables -A MHC-DELAY -o eth1 -p tcp --sport 22 -j RETURN; iptables -A MHC-DELAY -o eth1 -j NFQUEUE --queue-num 7731 --queue-bypass',
      'network restored | db1: delay by NFQUEUE (kernel has no sch_netem): 1834 packets delayed, mean 100.4 ms, 3 released early when the delay ended',
    ]);
    expect([...chains, ...jumps]).toEqual([]);
  });

  it('neither mechanism: the one error, before anything changes', async () => {
    const { t, calls } = fakeHost({ netem: 'missing', tools: ['tc', 'iptables'] });
    const f = degradedNetwork('db1', { delayMs: 100 }, 0);
    await expect(f.inject(t, new History())).rejects.toThrow(
      new RegExp(
        `on db1: ${NETEM_MISSING.replace(/[()]/g, '\\$&')}; the NFQUEUE delayer .* needs python3 \\(package python3\\); nothing was injected`,
      ),
    );
    expect(calls).toEqual(['probe tc', 'tc qdisc replace dev eth1 root netem delay 0ms', 'probe iptables python3']);
  });

  it('a delayer that cannot bind its queue: its error, no rule left, and undo then has nothing to do but check', async () => {
    const { t, calls, chains, jumps } = fakeHost({ netem: 'missing', delayer: 'cannot-bind' });
    const f = degradedNetwork('db1', { delayMs: 100 }, 0);
    await expect(f.inject(t, new History())).rejects.toThrow(
      /NFQUEUE delayer could not start \(exit 1\): queue-delay: cannot bind NFQUEUE 7731/,
    );
    expect(calls).not.toContain('iptables -w -I OUTPUT 1 -j MHC-DELAY');
    const h = new History();
    await expect(f.undo(t, h)).resolves.toBeUndefined();
    expect([...chains, ...jumps, ...steps(h)]).toEqual([]);
  });

  it('a delayer that dies while the delay holds: restored, and the fault says the delay did not hold', async () => {
    const { t, chains, jumps } = fakeHost({ netem: 'missing', delayer: 'dies' });
    await expect(degradedNetwork('db1', { delayMs: 100 }, 0.05).inject(t, new History())).rejects.toThrow(
      /the NFQUEUE delayer ended while the delay held \(exit 1: MemoryError\); packets passed undelayed/,
    );
    expect([...chains, ...jumps]).toEqual([]);
  });

  it('an undo while the delay holds (an interrupted case) stops the delayer once and records its stats', async () => {
    const { t, calls, chains, jumps } = fakeHost({ netem: 'missing' });
    const f = degradedNetwork('db1', { delayMs: 100 }, 0.3);
    const h = new History();
    const injected = f.inject(t, h);
    await new Promise((r) => setTimeout(r, 100));
    await f.undo(t, h);
    await injected;
    expect(calls.filter((c) => c === 'stop delayer')).toHaveLength(1);
    expect(steps(h).filter((s) => s.includes('1834 packets delayed'))).toHaveLength(1);
    expect([...chains, ...jumps]).toEqual([]);
  });

  it('undo when nothing was installed: every part removed where it is absent, no error, no step', async () => {
    const { t, calls } = fakeHost({ netem: 'missing' });
    const h = new History();
    await degradedNetwork('db1', { delayMs: 100 }, 0).undo(t, h);
    expect(calls).toContain('iptables -w -S MHC-DELAY');
    expect(calls).toContain('tc qdisc show dev eth1 root');
    expect(steps(h)).toEqual([]);
  });

  it('a delayer that never says it is ready: a bounded wait, an error that says what was awaited, the stream stopped', async () => {
    const { t, calls } = fakeHost({ delayer: 'silent' });
    await expect(new QueueDelay(t, 'db1', 100, undefined, 50).start()).rejects.toThrow(
      'on db1: the NFQUEUE delayer did not report queue 7731 bound within 50 ms',
    );
    expect(calls.slice(0, 2)).toEqual(['watch python3 -u --queue 7731 --delay-ms 100 --stdin', 'stop delayer']);
  });
});
