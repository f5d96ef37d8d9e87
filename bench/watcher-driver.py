# Changes at known moments, for bench/watcher.ts, inside the namespaces the watcher watches. Each
# round: an address added or removed through one long-lived `ip -batch -` (no exec per change), a
# "daemon" (a copy of sleep named corosync) started, then killed. One JSON line per change:
# {"t": ns just before it, "kind": "net" | "proc" | "exit"}.
import json
import os
import subprocess
import sys
import time

ROUNDS, DAEMON, NIC = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def changed(kind, t):
    print(json.dumps({"t": t, "kind": kind}), flush=True)


ip = subprocess.Popen(["ip", "-force", "-batch", "-"], stdin=subprocess.PIPE, text=True)
for i in range(ROUNDS):
    t = time.time_ns()
    ip.stdin.write(f"addr {'add' if i % 2 == 0 else 'del'} 10.99.0.100/24 dev {NIC}\n")
    ip.stdin.flush()
    changed("net", t)
    time.sleep(0.15)
    t = time.time_ns()
    daemon = subprocess.Popen([DAEMON, "100"])
    changed("proc", t)
    time.sleep(0.3)
    t = time.time_ns()
    os.kill(daemon.pid, 9)
    changed("exit", t)
    daemon.wait()
    time.sleep(0.15)
ip.stdin.close()
ip.wait()
