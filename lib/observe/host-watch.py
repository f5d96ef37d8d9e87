# One db host's cluster state as it changes, by that host's own clock: run inside the host (python3
# is there wherever crmsh is) as `python3 -u -c "<this file>" NIC`. It prints one JSON line per
# sample: {"t": ns since the epoch, "why": [...], "ip": <`ip -j addr show dev NIC`>, "ps": [[pid, ppid,
# comm], ...], "cpu": seconds of CPU this watcher and its `ip` calls used so far}.
#
# What wakes it, instead of a poll of everything every 100 ms:
# - rtnetlink (link and IPv4 address groups): an address or link change, as the kernel reports it;
# - a pidfd per cluster daemon: its exit, the moment it happens;
# - the process IDs in /proc: a cluster daemon that started (other processes, such as this watcher's
#   own `ip`, are not its business). /proc is listed only when its link count (the number of
#   processes on the machine, one stat call) changed since the last look, every PROC_POLL_MS (argv 2,
#   default 5; the harness asks 10: a start is seen within that, at half the wake-ups of 5).
# A full sample every TICK_S whatever happened ("tick"): the harness checks it against the last
# event's state, so a missed event shows.
#
# Options after those two: --stdin (exit when standard input ends: the harness stops a watcher by
# closing its input, which works the same through nsenter, docker exec and an SSH channel), and
# --beat-ms=N (a line {"t": ns, "beat": true} whenever nothing was printed for N ms: proof that the
# watcher is alive and the state unchanged, which is what an event-driven observer's resolution is).
import json
import os
import select
import socket
import subprocess
import sys
import time

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
FLAGS = [a for a in sys.argv[1:] if a.startswith("--")]
NIC = ARGS[0]
PROC_POLL_S = (float(ARGS[1]) if len(ARGS) > 1 else 5.0) / 1000
UNTIL_STDIN_EOF = "--stdin" in FLAGS
BEAT_S = next((float(f.split("=", 1)[1]) / 1000 for f in FLAGS if f.startswith("--beat-ms=")), None)
# comm as the kernel keeps it: 15 characters at most.
DAEMONS = {d[:15] for d in ("corosync", "corosync-qdevice", "pacemakerd", "pacemaker-based", "pacemaker-fenced", "pacemaker-execd",
                            "pacemaker-attrd", "pacemaker-schedulerd", "pacemaker-controld", "mariadbd", "sshd")}
RTMGRP_LINK, RTMGRP_IPV4_IFADDR = 0x1, 0x10
TICK_S = 5.0


def stat_of(pid):
    """[pid, ppid, comm] of a live process; None if it ended (a zombie has ended: only its parent's
    wait is left)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return None
    # comm is between the first "(" and the last ")"; then the state and the ppid.
    state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
    if state in ("Z", "X"):
        return None
    return [pid, int(ppid), stat[stat.index("(") + 1:stat.rindex(")")]]


class Processes:
    """The host's cluster daemons: new processes from /proc listings (only new PIDs are read), their
    exits from a pidfd each (the kernel wakes us as the process ends). A process is forked under its
    parent's name and becomes a daemon by exec (pacemakerd's children, `setsid corosync`), so a
    young process is read again on every look for its first YOUNG_S."""

    YOUNG_S = 0.5

    def __init__(self):
        self.known = {}  # pid -> [pid, ppid, comm] of every process seen (daemon or not)
        self.young = {}  # pid -> when first seen, for the processes that may still exec
        self.pidfds = {}  # pidfd -> pid, for the daemons

    def update(self, listing):
        """True when a cluster daemon appeared since the last update. `listing`: list /proc again."""
        now = time.monotonic()
        if listing:
            pids = {int(n) for n in os.listdir("/proc") if n.isdigit()}
            for pid in self.known.keys() - pids:
                del self.known[pid]
                self.young.pop(pid, None)
            for pid in pids - self.known.keys():
                self.young[pid] = now
        started = False
        for pid, seen in list(self.young.items()):
            if now - seen > self.YOUNG_S:
                del self.young[pid]
            row = stat_of(pid)
            if not row:
                self.known.pop(pid, None)
                self.young.pop(pid, None)
                continue
            was = self.known.get(pid)
            self.known[pid] = row
            if row[2] in DAEMONS and (not was or was[2] != row[2]):
                started = True
                self.watch_exit(pid)
        return started

    def watch_exit(self, pid):
        try:
            self.pidfds[os.pidfd_open(pid)] = pid
        except OSError:
            pass  # ended already: the next listing drops it

    def exited(self, fd):
        os.close(fd)
        self.known.pop(self.pidfds.pop(fd), None)

    def daemons(self):
        return sorted(r for r in self.known.values() if r[2] in DAEMONS)


def addresses():
    r = subprocess.run(["ip", "-j", "addr", "show", "dev", NIC], capture_output=True, text=True)
    try:
        return json.loads(r.stdout or "[]")
    except ValueError:
        return []


def main():
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nl.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR))
    nl.setblocking(False)
    procs = Processes()
    procs.update(True)
    last_nlink = os.stat("/proc").st_nlink
    last_tick = last_print = time.monotonic()
    why = ["start"]
    stdin = [sys.stdin.buffer] if UNTIL_STDIN_EOF else []
    while True:
        if not why and time.monotonic() - last_tick >= TICK_S:
            why = ["tick"]
        if why:
            last_tick = last_print = time.monotonic()
            sample = {"t": time.time_ns(), "why": why, "ip": addresses(), "ps": procs.daemons(), "cpu": round(sum(os.times()[:4]), 3)}
            print(json.dumps(sample, separators=(",", ":")), flush=True)
            why = []
        elif BEAT_S is not None and time.monotonic() - last_print >= BEAT_S:
            last_print = time.monotonic()
            print(json.dumps({"t": time.time_ns(), "beat": True}), flush=True)
        # Wake for the next /proc look, or sooner for the next beat: a late beat is a gap.
        wait = PROC_POLL_S if BEAT_S is None else max(0.0, min(PROC_POLL_S, BEAT_S - (time.monotonic() - last_print)))
        ready, _, _ = select.select([nl, *procs.pidfds, *stdin], [], [], wait)
        for fd in ready:
            if stdin and fd is stdin[0]:
                if not os.read(fd.fileno(), 4096):
                    return
            elif fd is nl:
                try:
                    while nl.recv(65536):
                        pass
                except BlockingIOError:
                    pass
                why.append("net")
            else:
                why.append(f"exit {procs.pidfds[fd]}")
                procs.exited(fd)
        nlink = os.stat("/proc").st_nlink
        if (nlink != last_nlink or procs.young) and procs.update(nlink != last_nlink):
            why.append("proc")
        last_nlink = nlink


try:
    main()
except (BrokenPipeError, KeyboardInterrupt):
    pass
