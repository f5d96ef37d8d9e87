# A packet delayer on NFQUEUE, for kernels without sch_netem: run on a host as
#   python3 -u -c "<this file>" --queue N --delay-ms D [--jitter-ms J] [--stdin]
# with an iptables rule `-j NFQUEUE --queue-num N --queue-bypass` sending it the packets to delay
# (lib/faults/queue-delay.ts installs that rule only after this script says it is ready).
#
# Standard library only (the hosts have no libnetfilter_queue bindings): it speaks nfnetlink_queue
# over a raw netlink socket (linux/netfilter/nfnetlink_queue.h). It binds queue N with copy mode
# META (the kernel sends each packet's id and metadata, never its payload: nothing to copy back),
# prints {"ready": true}, then holds each packet and accepts it (NF_ACCEPT verdict) at its arrival +
# D + uniform(-J, +J) ms: a heap by release time, so jitter reorders packets as netem's does.
#
# Output, one JSON line each: {"ready": true} once bound; every second a stats line {"held",
# "released", "flushed", "maxLateMs", "meanDelayMs", "enobufs", "verdictErrors"}: held = packets
# held now; released = verdicts issued on schedule so far; meanDelayMs = their mean achieved delay
# (from the moment the packet was read to its verdict); maxLateMs = the most a verdict came after
# its scheduled time (how well this process keeps time); flushed = packets released early at the
# end; enobufs = times the socket's receive buffer overflowed (the kernel then accepts the packet
# undelayed: fail-open). With --stdin it ends when its standard input closes (how the harness stops
# watchers, the same through nsenter, docker exec and SSH), as on SIGTERM/SIGINT: every held packet
# is released at once, the queue unbound, a last stats line with "final": true printed, exit 0.
import errno
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR = 2
# enum nfqnl_attr_type / nfqnl_attr_config
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_UNBIND = 1, 2
NFQNL_COPY_META = 1
# Fail-open: a packet the queue cannot take (full, or the socket's buffer overflowing) is accepted,
# not dropped; GSO: large segments are queued whole (no payload is copied, so no need to split them).
NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_GSO = 0x1, 0x4
NF_ACCEPT = 1
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
QUEUE_MAXLEN = 65536
RCVBUF = 8 << 20
SO_RCVBUFFORCE = 33
ACK_TIMEOUT_S = 5.0
STATS_EVERY_S = 1.0
SEND_CHUNK = 32 << 10


def option(name, default=None):
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def attr(kind, payload):
    """One netlink attribute: struct nlattr (host byte order) + payload, padded to 4 bytes."""
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * (-n % 4)


def message(msg_type, queue, payload, flags, seq):
    """nlmsghdr (host byte order) + nfgenmsg (family, version 0, res_id = queue in network order) + attributes."""
    body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack("!H", queue) + payload
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg_type
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def messages(buf, size):
    """(type, flags, seq, payload) of each netlink message in buf[:size]."""
    off = 0
    while off + 16 <= size:
        length, kind, flags, seq, _pid = struct.unpack_from("=IHHII", buf, off)
        if length < 16 or off + length > size:
            return
        yield kind, flags, seq, bytes(buf[off + 16:off + length])
        off += (length + 3) & ~3


def attrs(data):
    """{type: payload} of the attributes after an nfgenmsg (its 4 bytes skipped)."""
    out, off = {}, 4
    while off + 4 <= len(data):
        n, kind = struct.unpack_from("=HH", data, off)
        if n < 4 or off + n > len(data):
            break
        out[kind & NLA_TYPE_MASK] = data[off + 4:off + n]
        off += (n + 3) & ~3
    return out


class Failure(Exception):
    """What stops the delayer before it is ready, said in a line for the harness's error."""


class Delayer:
    def __init__(self, queue, delay_s, jitter_s):
        self.queue, self.delay_s, self.jitter_s = queue, delay_s, jitter_s
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        try:  # root may exceed rmem_max; a large buffer keeps ENOBUFS rare under bursts
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.buf = bytearray(1 << 18)
        self.seq = 0
        self.acks = {}  # seq -> errno (0: ok) of the acks read so far
        self.heap = []  # (release at, arrival order, packet id, arrival)
        self.arrivals = 0
        self.pending = []  # verdict messages not yet sent
        self.released = self.flushed = self.enobufs = self.verdict_errors = 0
        self.delay_sum = 0.0
        self.max_late = 0.0

    def request(self, msg_type, payload):
        """Sends one config message asking for an ack; returns the ack's errno (0: done)."""
        self.seq += 1
        seq = self.seq
        self.sock.send(message(msg_type, self.queue, payload, NLM_F_REQUEST | NLM_F_ACK, seq))
        deadline = time.monotonic() + ACK_TIMEOUT_S
        while seq not in self.acks:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise Failure(f"no answer from nfnetlink_queue within {ACK_TIMEOUT_S} s")
            self.read()
        return self.acks.pop(seq)

    def bind(self):
        cmd = struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, 0)
        err = self.request(NFQNL_MSG_CONFIG, attr(NFQA_CFG_CMD, cmd))
        if err:
            why = os.strerror(err)
            if err in (errno.EPERM, errno.EBUSY):  # the kernel's answer to both
                why += " (another process has bound this queue, or this one lacks CAP_NET_ADMIN)"
            raise Failure(f"cannot bind NFQUEUE {self.queue}: {why}")
        params = struct.pack("!IB", 0, NFQNL_COPY_META)  # copy_range, copy_mode (packed: 5 bytes)
        cfg = attr(NFQA_CFG_PARAMS, params) + attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN))
        err = self.request(NFQNL_MSG_CONFIG, cfg)
        if err:
            raise Failure(f"cannot configure NFQUEUE {self.queue}: {os.strerror(err)}")
        flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO
        err = self.request(NFQNL_MSG_CONFIG, attr(NFQA_CFG_MASK, struct.pack("!I", flags)) + attr(NFQA_CFG_FLAGS, struct.pack("!I", flags)))
        if err:  # an old kernel: the queue works, only without these refinements
            print(f"queue-delay: flags not set ({os.strerror(err)}); going on without them", file=sys.stderr)

    def unbind(self):
        try:
            self.request(NFQNL_MSG_CONFIG, attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_UNBIND, 0, 0)))
        except (OSError, Failure) as e:  # closing the socket unbinds too
            print(f"queue-delay: unbind: {e}", file=sys.stderr)

    def read(self):
        """Reads every message waiting on the socket: packets are held, acks and errors noted."""
        while True:
            try:
                size = self.sock.recv_into(self.buf, len(self.buf), socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                self.enobufs += 1  # the kernel accepted what it could not hand us (fail-open)
                continue
            now = time.monotonic()
            for kind, _flags, seq, payload in messages(self.buf, size):
                if kind == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", payload)[0]
                    if seq == 0:  # a verdict's (sent with seq 0): only failures are answered
                        self.verdict_errors += 1 if err else 0
                    else:
                        self.acks[seq] = err
                elif kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    self.hold(payload, now)

    def hold(self, payload, now):
        hdr = attrs(payload).get(NFQA_PACKET_HDR)
        if hdr is None or len(hdr) < 4:
            return
        (packet_id,) = struct.unpack_from("!I", hdr)
        delay = max(0.0, self.delay_s + random.uniform(-self.jitter_s, self.jitter_s))
        self.arrivals += 1
        heapq.heappush(self.heap, (now + delay, self.arrivals, packet_id, now))

    def verdict(self, packet_id):
        payload = attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
        # seq 0: the kernel answers a verdict only when it fails (an error message with seq 0).
        self.pending.append(message(NFQNL_MSG_VERDICT, self.queue, payload, NLM_F_REQUEST, 0))

    def release_due(self, now):
        while self.heap and self.heap[0][0] <= now:
            at, _n, packet_id, arrival = heapq.heappop(self.heap)
            self.verdict(packet_id)
            self.released += 1
            self.delay_sum += now - arrival
            self.max_late = max(self.max_late, now - at)
        self.send()

    def flush_all(self):
        while self.heap:
            self.verdict(heapq.heappop(self.heap)[2])
            self.flushed += 1
        self.send()

    def send(self):
        """Sends the pending verdicts, many messages per datagram (netlink reads them in turn)."""
        chunk = bytearray()
        for m in self.pending + [None]:
            if m is None or len(chunk) + len(m) > SEND_CHUNK:
                if chunk:
                    self.sock.send(chunk)
                chunk = bytearray()
            if m is not None:
                chunk += m
        self.pending = []

    def stats(self, final=False):
        s = {
            "held": len(self.heap),
            "released": self.released,
            "flushed": self.flushed,
            "maxLateMs": round(self.max_late * 1000, 1),
            "meanDelayMs": round(self.delay_sum / self.released * 1000, 1) if self.released else None,
            "enobufs": self.enobufs,
            "verdictErrors": self.verdict_errors,
        }
        if final:
            s["final"] = True
        print(json.dumps(s, separators=(",", ":")), flush=True)


def main():
    queue = int(option("--queue", "0"))
    delay_s = float(option("--delay-ms", "0")) / 1000
    jitter_s = float(option("--jitter-ms", "0")) / 1000
    until_stdin_eof = "--stdin" in sys.argv[1:]
    if not 0 <= queue <= 65535 or delay_s <= 0 or not 0 <= jitter_s <= delay_s:
        print("usage: --queue 0..65535 --delay-ms D (> 0) [--jitter-ms J (0..D)] [--stdin]", file=sys.stderr)
        return 2
    # SIGTERM/SIGINT end it as a closed input does: a byte on a pipe wakes the select.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        d = Delayer(queue, delay_s, jitter_s)
        d.bind()
    except (OSError, Failure) as e:
        print(f"queue-delay: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"ready": True}, separators=(",", ":")), flush=True)
    fds = [d.sock, wake_r] + ([sys.stdin.fileno()] if until_stdin_eof else [])
    next_stats = time.monotonic() + STATS_EVERY_S
    while True:
        now = time.monotonic()
        d.release_due(now)
        if now >= next_stats:
            d.stats()
            next_stats = max(next_stats + STATS_EVERY_S, now)
        wake_at = min(d.heap[0][0], next_stats) if d.heap else next_stats
        ready = select.select(fds, [], [], max(0.0, wake_at - time.monotonic()))[0]
        if wake_r in ready:
            break
        if until_stdin_eof and sys.stdin.fileno() in ready and not os.read(sys.stdin.fileno(), 65536):
            break
        if d.sock in ready:
            d.read()
    d.read()
    d.release_due(time.monotonic())
    d.flush_all()
    d.unbind()
    d.stats(final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
