# One db host's cluster state as it changes, by that host's own clock: run inside the host (python3
# is there wherever crmsh is) as `python3 -u -c "<this file>" NIC`. It prints one JSON line per
# sample: {"t": ns since the epoch, "why": [...], "ip": <`ip -j addr show dev NIC`>, "ps": [[pid, ppid,
# comm], ...], "cpu": seconds of CPU this watcher and its `ip` calls used so far, "late": µs}; the
# first sample also says how /proc is looked at: "look": "exec-pid" (fanotify), "exec" (inotify)
# or "timer". "reads": how many times a process's stat was read so far (the watcher's main cost).
#
# What wakes it, instead of a poll of everything every 100 ms:
# - rtnetlink (link and IPv4 address groups): an address or link change, as the kernel reports it;
# - a pidfd per cluster daemon: its exit, the moment it happens;
# - fanotify on the daemons' programs (found in PATH, the system directories and Pacemaker's
#   libexec), for their execs only (FAN_OPEN_EXEC): each event names the process that execs, as
#   this host's PID namespace sees it, and the program, so only that process is read again, every
#   YOUNG_POLL_S (1 ms) until it has that program's name (a process takes its new name later in
#   its exec; a child pacemakerd forks is named pacemakerd until then), at most EXEC_WITHIN_S
#   (2 s). An exec on another host sharing these files (the netns
#   lab's hosts share /usr) has no PID here and costs nothing but the read of its event. Resource
#   agents run `pacemakerd -$` at every call (ocf_local_nodename), so before this, every agent
#   call on either host made each watcher read all of its processes 100 times.
# - Where fanotify is not to be had (no CAP_SYS_ADMIN, a kernel before 5.0), inotify on the same
#   files (IN_OPEN: any open, by any process of the machine, with no PID): every process is read
#   again every YOUNG_POLL_S for YOUNG_AFTER_EXEC_S. Where inotify is not to be had either, /proc
#   is looked at every PROC_POLL_MS (argv 2, default 5) instead (one stat call; listed when the
#   machine's process count changed): what this watcher did first, at about four times the CPU.
# It runs at nice -10 (WATCHER_NICE): a change is stamped when the watcher runs, so on a busy host
# its wake-ups must not queue behind the cluster's daemons. It uses about 1 % of a core.
# A full sample every TICK_S whatever happened ("tick"), /proc listed and `ip` run again for it:
# the harness checks it against the state the events left (lib/observe/missed.ts), so a missed
# event shows, and an act it falls in is not judged finer than it was seen.
#
# "late": how long after its timer was due the watcher last woke (µs; the largest since the line
# before). A change wakes the watcher as a timer does, so this is how late a change can be stamped:
# the observer's resolution, measured where it is paid, on a machine as busy as it is.
#
# Options after those two: --stdin (exit when standard input ends: the harness stops a watcher by
# closing its input, which works the same through nsenter, docker exec and an SSH channel),
# --timer-look (the timer's /proc looks even where inotify works), --inotify (inotify even where
# fanotify works), and --beat-ms=N (a line
# {"t": ns, "beat": true, "late": µs} whenever nothing was printed for N ms: proof that the
# watcher is alive and the state unchanged).
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
FLAGS = [a for a in sys.argv[1:] if a.startswith("--")]
NIC = ARGS[0]
PROC_POLL_S = (float(ARGS[1]) if len(ARGS) > 1 else 5.0) / 1000
UNTIL_STDIN_EOF = "--stdin" in FLAGS
# --timer-look: look at /proc on the timer even where inotify works (as on a host without it).
TIMER_LOOK = "--timer-look" in FLAGS
# --inotify: inotify's opens even where fanotify's execs are to be had (as on a host without them).
INOTIFY = "--inotify" in FLAGS
BEAT_S = next((float(f.split("=", 1)[1]) / 1000 for f in FLAGS if f.startswith("--beat-ms=")), None)
PROGRAMS = ("corosync", "corosync-qdevice", "pacemakerd", "pacemaker-based", "pacemaker-fenced", "pacemaker-execd",
            "pacemaker-attrd", "pacemaker-schedulerd", "pacemaker-controld", "mariadbd", "sshd")
# comm as the kernel keeps it: 15 characters at most.
DAEMONS = {d[:15] for d in PROGRAMS}
# Where the programs are: PATH (the host's; a test puts its stand-ins first), the usual system
# directories (an SSH session's PATH may lack sbin), Pacemaker's daemons (Debian, then RHEL).
PROGRAM_DIRS = os.environ.get("PATH", "").split(":") + ["/usr/local/sbin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
                                                        "/usr/lib/pacemaker", "/usr/libexec/pacemaker"]
RTMGRP_LINK, RTMGRP_IPV4_IFADDR = 0x1, 0x10
IN_OPEN = 0x20
FAN_CLOEXEC, FAN_NONBLOCK, FAN_MARK_ADD, FAN_OPEN_EXEC, AT_FDCWD = 0x1, 0x2, 0x1, 0x1000, -100
# struct fanotify_event_metadata: event_len, vers, reserved, metadata_len, mask, fd, pid.
FAN_EVENT = "=IBBHQii"
TICK_S = 5.0
# A new process is read again until it is this old: it may exec later (timer looks), or still be
# taking its new name (a look woken by its exec, which inotify reports as it begins).
YOUNG_S, YOUNG_AFTER_EXEC_S = 0.5, 0.1
YOUNG_POLL_S = 0.001
# A process whose exec of a daemon's program fanotify reported is read until it has that program's
# name, at most this long: on a busy machine the exec can take longer than YOUNG_AFTER_EXEC_S.
EXEC_WITHIN_S = 2.0
WATCHER_NICE = -10


READS = [0]


def stat_of(pid):
    """[pid, ppid, comm] of a live process; None if it ended (a zombie has ended: only its parent's
    wait is left)."""
    READS[0] += 1
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
    """The host's cluster daemons: processes from /proc listings (new PIDs, and the young ones again),
    their exits from a pidfd each (the kernel wakes us as the process ends). A process is forked under its
    parent's name and becomes a daemon by exec (pacemakerd's children, `setsid corosync`), so a
    young process is read again on every look for its first young_s."""

    def __init__(self, young_s):
        self.young_s = young_s
        self.known = {}  # pid -> [pid, ppid, comm] of every process seen (daemon or not)
        self.young = {}  # pid -> when first seen, for the processes that may still exec
        self.execs = {}  # pid -> (the name its exec gives it or None, when reported): execs in progress
        self.pidfds = {}  # pidfd -> pid, for the daemons

    def update(self, listing, renew=False, recheck=False, execing=None):
        """True when a cluster daemon appeared since the last update. `listing`: list /proc again.
        `renew` (an exec was seen, by whom unknown): every process is young again, for the one
        taking a daemon's name may have been found before its exec (pacemakerd forks its children
        in turn: a child found at its sibling's exec was missed when its own came later; seen on the
        lab). `execing`: {pid: the name its exec gives it} for the processes fanotify saw exec a
        daemon's program: read until they have that name. A forked child of pacemakerd is named
        pacemakerd until its exec is through, so a daemon's name alone does not end the watch (on a
        busy machine the watcher read it before that, and missed the child it became). `recheck`
        (the tick): every process read once, whatever a missed event left."""
        now = time.monotonic()
        for pid, name in (execing or {}).items():
            self.execs[pid] = (name, now)
        if listing:
            pids = {int(n) for n in os.listdir("/proc") if n.isdigit()}
            for pid in self.known.keys() - pids:
                self.forget(pid)
            for pid in pids - self.known.keys():
                self.young[pid] = now
        if renew:
            self.young.update({pid: now for pid in self.known})
        started = False
        for pid in {*self.young, *self.execs, *(self.known if recheck else ())}:
            if now - self.young.get(pid, now) > self.young_s:
                del self.young[pid]
            row = stat_of(pid)
            if not row:
                self.forget(pid)
                continue
            self.read_exec(pid, row[2], now)
            was = self.known.get(pid)
            self.known[pid] = row
            if row[2] in DAEMONS and (not was or was[2] != row[2]):
                started = True
                self.watch_exit(pid)
        return started

    def read_exec(self, pid, comm, now):
        """An exec in progress ends with its program's name, or unseen after EXEC_WITHIN_S (the tick
        then finds what it became, and says so)."""
        name, at = self.execs.get(pid, (None, None))
        if at is not None and (comm == name or now - at > EXEC_WITHIN_S):
            del self.execs[pid]

    def forget(self, pid):
        self.known.pop(pid, None)
        self.young.pop(pid, None)
        self.execs.pop(pid, None)

    def watch_exit(self, pid):
        if pid in self.pidfds.values():
            return  # watched already (read once under its parent's name, then under its own)
        try:
            self.pidfds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            # Ended already (an agent's `pacemakerd -$` may be gone this soon): no exit will wake us
            # for it, and kept until the next listing it would show a daemon that is not there.
            self.forget(pid)
        except OSError:
            pass  # no pidfd to be had: its end shows at the next listing

    def exited(self, fd):
        os.close(fd)
        self.known.pop(self.pidfds.pop(fd), None)

    def daemons(self):
        return sorted(r for r in self.known.values() if r[2] in DAEMONS)


class ExecEvents:
    """Opens of the daemons' programs (an exec opens its program), from inotify: one watch per
    program file found, so that only they wake the watcher. Opens come from every process on the
    machine, the lab's other hosts included: a wake-up to list this host's /proc, never a start by
    itself. A program replaced on disk (a package upgrade) is missed until the next tick's listing."""

    look = "exec"

    def __init__(self):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if not [f for f in program_files() if libc.inotify_add_watch(self.fd, f.encode(), IN_OPEN) >= 0]:
            os.close(self.fd)
            raise OSError("none of the daemons' programs could be watched")

    def fileno(self):
        return self.fd

    def drain(self):
        """Reads the events waiting (each one an open of a daemon's program, or lost events): who
        opened is not known (None)."""
        try:
            while os.read(self.fd, 65536):
                pass
        except BlockingIOError:
            pass
        return None


class ExecPids:
    """Execs of the daemons' programs, from fanotify (FAN_OPEN_EXEC on each program file), with the
    PID of the process that execs as this PID namespace sees it: 0 for a process of another
    namespace (another lab host, the machine itself), which is none of this host's business."""

    look = "exec-pid"

    def __init__(self):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
        self.fd = libc.fanotify_init(FAN_CLOEXEC | FAN_NONBLOCK, os.O_RDONLY | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "fanotify_init")
        if not [f for f in program_files() if libc.fanotify_mark(self.fd, FAN_MARK_ADD, FAN_OPEN_EXEC, AT_FDCWD, f.encode()) == 0]:
            os.close(self.fd)
            raise OSError("none of the daemons' programs could be marked for exec events")

    def fileno(self):
        return self.fd

    def drain(self):
        """{pid: the name its exec gives it} for the processes (of this namespace) that exec-ed a
        daemon's program since the last drain; the name from the event's file (None if unreadable)."""
        pids = {}
        try:
            while True:
                buf = os.read(self.fd, 4096)
                if not buf:
                    break
                at = 0
                while at + struct.calcsize(FAN_EVENT) <= len(buf):
                    size, _, _, _, _, fd, pid = struct.unpack_from(FAN_EVENT, buf, at)
                    name = None
                    if fd >= 0:
                        if pid > 0:
                            try:
                                name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))[:15]
                            except OSError:
                                pass
                        os.close(fd)
                    if pid > 0:
                        pids[pid] = name
                    at += size
        except BlockingIOError:
            pass
        return pids


def program_files():
    return {os.path.realpath(os.path.join(d, p)) for p in PROGRAMS for d in PROGRAM_DIRS if d and os.path.isfile(os.path.join(d, p))}


def exec_events():
    """ExecPids, else ExecEvents, or None where neither is to be had (then /proc is looked at on a timer)."""
    for kind in (ExecEvents,) if INOTIFY else (ExecPids, ExecEvents):
        try:
            return kind()
        except (OSError, AttributeError):
            pass
    return None


def addresses():
    r = subprocess.run(["ip", "-j", "addr", "show", "dev", NIC], capture_output=True, text=True)
    try:
        return json.loads(r.stdout or "[]")
    except ValueError:
        return []


def next_wake(now, last_tick, last_print, poll_s):
    """When the watcher must wake even if nothing happens: the tick, the next beat, the next /proc look."""
    due = [last_tick + TICK_S]
    if BEAT_S is not None:
        due.append(last_print + BEAT_S)
    if poll_s is not None:
        due.append(now + poll_s)
    return min(due)


def look_every(execs, procs):
    """How soon to look at /proc again: on the timer without inotify; after an exec, every
    YOUNG_POLL_S while its process may still be taking its new name; else not until an event."""
    if execs is None:
        return PROC_POLL_S
    return YOUNG_POLL_S if procs.young or procs.execs else None


def line(t, fields, late_us):
    print(json.dumps({"t": t, **fields, "late": late_us}, separators=(",", ":")), flush=True)


def netlink_socket():
    """Link and IPv4 address changes, as the kernel announces them."""
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nl.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR))
    nl.setblocking(False)
    return nl


def drain(sock):
    try:
        while sock.recv(65536):
            pass
    except BlockingIOError:
        pass


def run_ahead():
    """Ahead of the cluster's daemons for the CPU (it uses about 1 % of a core): on a busy host a
    change is stamped when the watcher runs, so its wake-ups must not queue behind them."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, WATCHER_NICE)
    except OSError:
        pass


def wakers(ready, nl, execs, procs, stdin):
    """What woke the watcher: the reasons for a sample, whether to list /proc (an exec by an unknown
    process), the processes known to exec a daemon's program, whether stdin ended."""
    why, look, execing = [], False, {}
    for fd in ready:
        if stdin and fd is stdin[0]:
            if not os.read(fd.fileno(), 4096):
                return why, look, execing, True
        elif fd is nl:
            drain(nl)
            why.append("net")
        elif fd is execs:
            pids = execs.drain()
            if pids is None:
                look = True
            else:
                execing.update(pids)
        else:
            why.append(f"exit {procs.pidfds[fd]}")
            procs.exited(fd)
    return why, look, execing, False


def events_now(nl, execs, procs):
    """The events already waiting, taken in without waiting: their reasons, "exec" for an exec of a
    daemon's program (a start or not)."""
    ready, _, _ = select.select([nl, *([execs] if execs else []), *procs.pidfds], [], [], 0)
    why, look, execing, _ = wakers(ready, nl, execs, procs, [])
    if look or execing:
        why.append("exec")
        if procs.update(look, renew=look and execs is not None, execing=execing):
            why.append("proc")
    return why


def full_look(nl, execs, procs):
    """The periodic look at everything (/proc listed, every process read, `ip` run): the check
    against missed events. Events already waiting are taken in before and after it, into the same
    sample: a change they announce is theirs, so a sample whose reasons are the look's alone
    ("tick", "tick:proc": it found a daemon start) shows only what no event announced."""
    why = events_now(nl, execs, procs)
    why += ["tick", "tick:proc"] if procs.update(True, recheck=True) else ["tick"]
    ip = addresses()
    return why + events_now(nl, execs, procs), ip


def sample_line(t, why, ip, procs, execs, late_us):
    sample = {"why": why, "ip": ip, "ps": procs.daemons(), "cpu": round(sum(os.times()[:4]), 3), "reads": READS[0]}
    if why == ["start"]:
        sample["look"] = "timer" if execs is None else execs.look
    line(t, sample, late_us)


def main():
    nl = netlink_socket()
    run_ahead()
    execs = None if TIMER_LOOK else exec_events()
    procs = Processes(YOUNG_S if execs is None else YOUNG_AFTER_EXEC_S)
    procs.update(True)
    last_nlink = os.stat("/proc").st_nlink
    last_tick = last_print = time.monotonic()
    why, late_us = ["start"], 0
    stdin = [sys.stdin.buffer] if UNTIL_STDIN_EOF else []
    ip = None
    while True:
        now = time.monotonic()
        # The tick keeps its own clock: other samples must not put it off. Agents' `pacemakerd -$`
        # made a sample every few seconds, and a daemon whose exec went unseen stayed unseen (found
        # on the containers: a fenced node reported with 5 of 6 children for 90 s).
        looked = now - last_tick >= TICK_S
        if looked:
            last_tick = now
            look_why, ip = full_look(nl, execs, procs)
            why += look_why
        if why:
            last_print = now
            t = time.time_ns()  # the moment of the change: before `ip` runs
            # Addresses change only with a netlink message: `ip` runs for those, the first sample and the look.
            if not looked and (ip is None or "net" in why):
                ip = addresses()
            sample_line(t, why, ip, procs, execs, late_us)
            why, late_us = [], 0
        elif BEAT_S is not None and now - last_print >= BEAT_S:
            last_print = now
            line(time.time_ns(), {"beat": True}, late_us)
            late_us = 0
        deadline = next_wake(time.monotonic(), last_tick, last_print, look_every(execs, procs))
        ready, _, _ = select.select([nl, *([execs] if execs else []), *procs.pidfds, *stdin], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            late_us = max(late_us, int((time.monotonic() - deadline) * 1e6))
        woke, look, execing, ended = wakers(ready, nl, execs, procs, stdin)
        if ended:
            # A last look before going: a change missed since the look before still shows.
            look_why, ip = full_look(nl, execs, procs)
            sample_line(time.time_ns(), why + woke + look_why, ip, procs, execs, late_us)
            return
        why += woke
        if execs is None:
            nlink = os.stat("/proc").st_nlink
            look, last_nlink = nlink != last_nlink, nlink
        if (look or execing or procs.young or procs.execs) and procs.update(look, renew=look and execs is not None, execing=execing):
            why.append("proc")


# Run as a program (`python3 -c "<this file>"` too); imported, it only defines (its tests drive Processes).
if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
