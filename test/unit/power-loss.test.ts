import { describe, expect, it } from 'vitest';
import { describeKilled, linkCycleScript } from '../../lib/faults/host-crash.js';
import { parsePowerLossListing, powerLossVictims } from '../../lib/targets/power-loss.js';

/** A lab host (tini, its sleep, the stack, sshd) listed by a shell entered with nsenter (its parent is outside: ppid 0). */
const LAB_HOST = `#self 352
      1       0 Ss   tini
     18       1 S    sleep
     20       1 SLsl corosync
     33       1 Ss   sshd
     88       1 Ssl  mariadbd
    122       1 S    pacemakerd
    123     122 S    pacemaker-based
    124     122 S    pacemaker-fence
    125     122 S    pacemaker-execd
    127     122 S    pacemaker-attrd
    128     122 S    pacemaker-sched
    129     122 S    pacemaker-contr
    140     125 S    IPaddr2
    150     122 Z    pacemaker-based
    352       0 S    sh
    353     352 R    ps
`;

/** A VM reached over SSH (sudo, timeout, sshd sessions), with systemd and kernel threads. */
const VM = `#self 9005
      1       0 Ss   systemd
      2       0 S    kthreadd
      3       2 I<   kworker/R-rcu_gp
    300       1 Ss   systemd-journal
    610       1 Ss   sshd
    700       1 SLsl corosync
    800     610 Ss   sshd
    801     800 S    sshd
    802     801 Ss   bash
   9000     802 S    sudo
   9002   9000 S    timeout
   9005   9002 S    sh
   9006   9005 R    ps
   9100     801 Ss   bash
   9101   9100 S    sleep
`;

describe('power loss: which processes of a host are killed', () => {
  it("on a lab host: everything but tini, its sleep, the listing's own shell and zombies", () => {
    const { self, rows } = parsePowerLossListing(LAB_HOST);
    expect(self).toBe(352);
    expect(powerLossVictims(rows, self).map((r) => r.comm)).toEqual([
      'corosync',
      'sshd',
      'mariadbd',
      'pacemakerd',
      'pacemaker-based',
      'pacemaker-fence',
      'pacemaker-execd',
      'pacemaker-attrd',
      'pacemaker-sched',
      'pacemaker-contr',
      'IPaddr2',
    ]);
  });

  it("over SSH: sshd and the harness's own session chain are spared, another session's commands are not, kernel threads never", () => {
    const { self, rows } = parsePowerLossListing(VM);
    expect(powerLossVictims(rows, self, ['sshd']).map((r) => `${r.comm} ${r.pid}`)).toEqual([
      'systemd-journal 300',
      'corosync 700',
      'bash 9100',
      'sleep 9101',
    ]);
  });

  it('a listing without the shell PID is refused rather than guessed', () => {
    expect(() => powerLossVictims(parsePowerLossListing('  1 0 S tini\n').rows, Number.NaN)).toThrow(/#self missing/);
  });

  it('the link cycle runs detached on the host: down, off, the VIP gone, up', () => {
    expect(linkCycleScript('eth1', 20, '10.11.22.100/24')).toBe(
      "setsid sh -c 'sleep 0.5; ip link set eth1 down; sleep 20; ip addr del 10.11.22.100/24 dev eth1 2>/dev/null; ip link set eth1 up' </dev/null >/dev/null 2>&1 & echo $!",
    );
    expect(linkCycleScript('eth1', 20, '10.11.22.100/24', true)).toBe(
      "setsid sh -c 'sleep 20; ip addr del 10.11.22.100/24 dev eth1 2>/dev/null; ip link set eth1 up' </dev/null >/dev/null 2>&1 & echo $!",
    );
    expect(describeKilled([{ pid: 20, comm: 'corosync' }])).toBe('corosync 20 (1 processes)');
  });
});
