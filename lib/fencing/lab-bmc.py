#!/usr/bin/python3
# The lab's BMCs: one IPMI-over-LAN endpoint per db host, as a server's baseboard management
# controller (or VirtualBMC / pyghmi's virshbmc in front of a libvirt VM) is, so that a profile can
# fence with a real agent (fence-agents' fence_ipmilan, through ipmitool) and the same fence device
# configuration serves VMs. Built on pyghmi's Bmc (Debian's python3-pyghmi), the library virshbmc
# and VirtualBMC use.
#
# Each BMC powers its host through the lab's power switch (lib/fencing/power-switch.ts), over the
# switch's own socket for the BMCs, with fence_mhc's protocol code. A chassis control is
# acknowledged at once and carried out in the background, as a BMC does: the agent then polls the
# power state until it changes (fence_ipmilan's power_wait / power_timeout). A switch that does
# not answer therefore shows as a state that never changes, and the agent fails, as with a real
# BMC whose power path is broken.
#
# Runs in the lab's bridge namespace on the address the profile's devices name (the subnet's .1,
# a hypervisor's on a VM network). Usage:
#   lab-bmc.py --address A --socket PATH --users FILE PLUG:PORT...
# FILE: {"login": ..., "password": ...} (read once; never printed). Prints "ready" when listening.
import argparse
import importlib.machinery
import importlib.util
import json
import os
import sys
import threading

import pyghmi.ipmi.bmc as bmc

IPMI_NOT_VALID_IN_STATE = 0xD5


def load_fence_mhc():
    """fence_mhc's protocol code (exchange, FenceError), from the agent beside this file."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fence_mhc")
    loader = importlib.machinery.SourceFileLoader("fence_mhc", path)
    spec = importlib.util.spec_from_loader("fence_mhc", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


mhc = load_fence_mhc()


class LabBmc(bmc.Bmc):
    """One host's BMC: chassis power through the lab's switch."""

    def __init__(self, users, address, port, plug, switch):
        super().__init__(users, port=port, address=address)
        self.plug = plug
        self.switch = switch  # fence_mhc options: socket, power_timeout, login_timeout
        self.busy = threading.Lock()
        self.last_state = "on"

    def ask(self, action):
        answer = mhc.exchange(self.switch, action, self.plug)
        self.last_state = answer["state"]
        return answer["state"]

    def in_background(self, actions):
        """Runs the switch actions after the answer, one chassis control at a time per host."""
        if not self.busy.acquire(blocking=False):
            return IPMI_NOT_VALID_IN_STATE

        def run():
            try:
                for a in actions:
                    self.ask(a)
            except mhc.FenceError as e:
                sys.stderr.write("lab-bmc %s: %s failed: %s\n" % (self.plug, "/".join(actions), e))
            finally:
                self.busy.release()

        threading.Thread(target=run, daemon=True).start()
        return 0

    def get_power_state(self):
        # While a control runs the switch is busy with this plug: its state is the last known one.
        if self.busy.locked():
            return self.last_state
        return self.ask("status")

    def power_off(self):
        return self.in_background(["off"])

    def power_on(self):
        return self.in_background(["on"])

    def power_cycle(self):
        return self.in_background(["off", "on"])

    def power_reset(self):
        # A hard reset loses the RAM as a power cycle does; the lab models both as off, then on.
        return self.in_background(["off", "on"])


def main():
    p = argparse.ArgumentParser(prog="lab-bmc.py")
    p.add_argument("--address", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--users", required=True)
    p.add_argument("--power-timeout", type=float, default=20)
    p.add_argument("plugs", nargs="+", help="PLUG:PORT")
    args = p.parse_args()
    with open(args.users) as f:
        u = json.load(f)
    users = {u["login"]: u["password"]}
    switch = {"socket": args.socket, "power_timeout": args.power_timeout, "login_timeout": 5, "verbose": False}
    bmcs = []
    for spec in args.plugs:
        plug, port = spec.rsplit(":", 1)
        bmcs.append(LabBmc(users, args.address, int(port), plug, switch))
    print("ready: %s" % ", ".join("%s on %s:%d" % (b.plug, args.address, b.port) for b in bmcs), flush=True)
    bmc.Bmc.listen()


if __name__ == "__main__":
    sys.exit(main())
