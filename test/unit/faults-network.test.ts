import { describe, expect, it } from 'vitest';
import { chainInstallCommands, chainRemoveCommands, removeChain } from '../../lib/faults/iptables.js';
import {
  NETEM_MISSING,
  degradationProblems,
  describeDegradation,
  lossProbability,
  lossRules,
  netemDelayArgv,
  netemProbeVerdict,
} from '../../lib/faults/netem.js';
import { PARTITION_CHAIN, describeGrudge, partitionRules } from '../../lib/faults/partition.js';
import { corosyncLinks, corosyncNodes } from '../../lib/profile/corosync-conf.js';
import { Profile } from '../../lib/profile/load.js';
import type { ExecResult, Target } from '../../lib/targets/target.js';

const seed = Profile.load('seed');

/** Two knet links, the second with a port of its own. */
const TWO_LINKS = `totem {
    version: 2
    interface {
        linknumber: 1
        mcastport: 5420
    }
    transport: knet
}
nodelist {
    node {
        name: db1
        nodeid: 1
        ring0_addr: 10.11.22.101
        ring1_addr: 192.168.50.101
    }
    node {
        name: db2
        nodeid: 2
        ring0_addr: 10.11.22.102
        ring1_addr: 192.168.50.102
    }
}`;

describe('corosync.conf: the links and ports a partition cuts', () => {
  it("the seed's one knet link: each node's ring0 address, UDP 5405", () => {
    expect(corosyncLinks(seed.files.corosyncConf)).toEqual([
      { link: 0, ports: [5405], addrs: { db1: '10.11.22.101', db2: '10.11.22.102' } },
    ]);
  });

  it('knet links by number: an interface mcastport wins, else 5405 + link number; nodes keep ring0_addr', () => {
    expect(corosyncLinks(TWO_LINKS).map((l) => [l.link, l.ports, l.addrs.db2])).toEqual([
      [0, [5405], '10.11.22.102'],
      [1, [5420], '192.168.50.102'],
    ]);
    expect(corosyncNodes(TWO_LINKS)[0]).toEqual({
      name: 'db1',
      nodeid: 1,
      ring0_addr: '10.11.22.101',
      rings: { 0: '10.11.22.101', 1: '192.168.50.101' },
    });
  });

  it('udpu: mcastport and mcastport − 1 (corosync sends from it)', () => {
    const udpu = TWO_LINKS.replace('transport: knet', 'transport: udpu').replace('linknumber: 1', 'ringnumber: 0');
    expect(corosyncLinks(udpu)[0]!.ports).toEqual([5420, 5419]);
  });

  it('follows a profile moved onto another subnet', () => {
    expect(corosyncLinks(seed.withSubnet('10.11.40.0/24').files.corosyncConf)[0]!.addrs.db2).toBe('10.11.40.102');
  });
});

describe('partition rules (Jepsen grudge → INPUT drops)', () => {
  const links = corosyncLinks(TWO_LINKS);

  it("corosync scope: the peer's corosync ports on every link, nothing else (replication and clients still flow)", () => {
    expect(partitionRules('db1', { db1: ['db2'], db2: ['db1'] }, links, 'corosync')).toEqual([
      ['-s', '10.11.22.102', '-p', 'udp', '--dport', '5405', '-j', 'DROP'],
      ['-s', '192.168.50.102', '-p', 'udp', '--dport', '5420', '-j', 'DROP'],
    ]);
  });

  it('all scope: every packet from the peer, as Pacemaker CTS cuts it', () => {
    expect(partitionRules('db2', { db2: ['db1'] }, links, 'all')).toEqual([
      ['-s', '10.11.22.101', '-j', 'DROP'],
      ['-s', '192.168.50.101', '-j', 'DROP'],
    ]);
  });

  it('one way: only the dropper gets rules', () => {
    const g = { db1: ['db2'] };
    expect(partitionRules('db1', g, links, 'corosync')).toHaveLength(2);
    expect(partitionRules('db2', g, links, 'corosync')).toEqual([]);
    expect(describeGrudge(g)).toBe('db1 drops db2');
    expect(describeGrudge({ db1: ['db2'], db2: ['db1'] })).toBe('db1 ⇹ db2');
  });

  it('a peer missing from the nodelist is an error naming it, before any rule', () => {
    expect(() => partitionRules('db1', { db1: ['batch1'] }, links, 'corosync')).toThrow(/batch1 has no address in corosync.conf/);
  });
});

describe("iptables: the harness's own chain", () => {
  it('fills the chain first and jumps to it last (the rules take effect at once)', () => {
    const cmds = chainInstallCommands(PARTITION_CHAIN, [['-s', '10.0.0.2', '-j', 'DROP']]);
    expect(cmds.map((c) => c.join(' '))).toEqual([
      'iptables -w -N MHC-PARTITION',
      'iptables -w -F MHC-PARTITION',
      'iptables -w -A MHC-PARTITION -s 10.0.0.2 -j DROP',
      'iptables -w -I INPUT 1 -j MHC-PARTITION',
    ]);
  });

  it('removal deletes every jump to it, then the chain: nothing of the host firewall', () => {
    const cmds = chainRemoveCommands(PARTITION_CHAIN).map((c) => c.join(' '));
    expect(cmds.filter((c) => c === 'iptables -w -D INPUT -j MHC-PARTITION').length).toBeGreaterThanOrEqual(2);
    expect(cmds.slice(-2)).toEqual(['iptables -w -F MHC-PARTITION', 'iptables -w -X MHC-PARTITION']);
    expect(cmds.every((c) => c.includes('MHC-PARTITION'))).toBe(true);
  });

  /** A target whose iptables fails every command except `-S` (as told). */
  const fake = (listed: ExecResult) =>
    ({
      async exec(_h: string, argv: string[]) {
        return argv.includes('-S') ? listed : { stdout: '', stderr: 'iptables: No chain/target/match by that name.', exitCode: 1 };
      },
    }) as unknown as Target;

  it('removing a chain that was never installed is fine (an undo after a failed injection)', async () => {
    await expect(removeChain(fake({ stdout: '', stderr: 'No chain', exitCode: 1 }), 'db1', PARTITION_CHAIN)).resolves.toBeUndefined();
  });

  it('a chain still listed after its removal is an error that says how to remove it by hand', async () => {
    await expect(removeChain(fake({ stdout: '-N MHC-PARTITION\n', stderr: '', exitCode: 0 }), 'db1', PARTITION_CHAIN)).rejects.toThrow(
      /MHC-PARTITION is still there.*\n.*iptables -D INPUT -j MHC-PARTITION/s,
    );
  });
});

describe('degraded network: levels, loss rules, netem', () => {
  it('validates levels before anything is injected', () => {
    expect(degradationProblems({ lossPercent: 5 })).toEqual([]);
    expect(degradationProblems({ delayMs: 100, jitterMs: 20 })).toEqual([]);
    expect(degradationProblems({})).toEqual(['a degradation needs lossPercent or delayMs']);
    expect(degradationProblems({ lossPercent: 0 })[0]).toMatch(/lossPercent must be between 0.001 and 100, got 0/);
    expect(degradationProblems({ lossPercent: 150 })[0]).toMatch(/got 150/);
    expect(degradationProblems({ lossPercent: Number.NaN })[0]).toMatch(/lossPercent/);
    expect(degradationProblems({ delayMs: -1 })[0]).toMatch(/delayMs must be above 0/);
    expect(degradationProblems({ delayMs: 100, jitterMs: 200 })[0]).toMatch(/jitterMs must be between 0 and delayMs \(100\)/);
    expect(degradationProblems({ lossPercent: 5, jitterMs: 10 })).toEqual(['jitterMs needs delayMs']);
  });

  it('loss: a probability with at most five decimals, sshd spared, on the profile interface only', () => {
    expect(lossProbability(5)).toBe('0.05');
    expect(lossProbability(60)).toBe('0.6');
    expect(lossProbability(100)).toBe('1');
    expect(lossProbability(33.3333333)).toBe('0.33333');
    expect(lossRules('eth1', 10)).toEqual([
      ['-i', 'eth1', '-p', 'tcp', '--dport', '22', '-j', 'RETURN'],
      ['-i', 'eth1', '-m', 'statistic', '--mode', 'random', '--probability', '0.1', '-j', 'DROP'],
    ]);
  });

  it('delay: tc netem on the root qdisc, jitter only when asked', () => {
    expect(netemDelayArgv('eth1', 100, 20).join(' ')).toBe('tc qdisc replace dev eth1 root netem delay 100ms 20ms');
    expect(netemDelayArgv('eth1', 2000).join(' ')).toBe('tc qdisc replace dev eth1 root netem delay 2000ms');
    expect(describeDegradation({ lossPercent: 5, delayMs: 100, jitterMs: 20 })).toBe('loss 5% in, delay 100 ms ± 20 ms out');
  });

  it('tells a kernel without sch_netem from other tc failures', () => {
    expect(netemProbeVerdict(0, '')).toBe('ok');
    // This machine's kernel (CONFIG_NET_SCH_NETEM not set), iproute2 6.1:
    expect(netemProbeVerdict(2, 'Error: Specified qdisc kind is unknown.\n')).toBe('missing');
    expect(netemProbeVerdict(2, 'RTNETLINK answers: No such file or directory\n')).toBe('missing');
    expect(netemProbeVerdict(2, 'RTNETLINK answers: Operation not permitted\n')).toEqual({
      error: 'RTNETLINK answers: Operation not permitted',
    });
    expect(NETEM_MISSING).toBe('kernel lacks sch_netem (CONFIG_NET_SCH_NETEM): delay faults need it; loss faults still work');
  });
});
