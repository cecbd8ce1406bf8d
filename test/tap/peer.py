#!/usr/bin/env python3
"""The fake TCP peer behind a tap, for test/tap.test.ts (Node cannot ioctl).

Run inside a network namespace (ip netns exec NS python3 peer.py ...). It opens a tap with
IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a 12-byte virtio-net header (TUNSETVNETHDRSZ), gives it an
address, a static neighbour entry for the fake peer and a large initial receive window, then opens
a kernel TCP socket that connects out through the tap (in this namespace, or with --socket-netns and
--socket-addr in another one, with this namespace routing between them). It plays the peer for the handshake: reads the SYN from the
tap, writes the SYN-ACK (MSS, window scale, timestamps) and waits for the kernel's ACK.

Then it obeys JSON lines on stdin, answering one JSON line on stdout each:
  {"op": "write", "frame": HEX, "vnet": HEX}   wait until the kernel's advertised window covers the
        segment's end (reading its ACKs), then write(vnet + frame) to the tap. Answers
        {"ok": true} or {"ok": false, "errno": N, "error": TEXT} (EINVAL for a header tun refuses).
        "wait": false writes at once.
  {"op": "recv", "bytes": N, "timeout": S}     read the socket until N bytes arrived in all (or the
        timeout); answers {"received": TOTAL, "data": BASE64 of the bytes since the last recv}.
  {"op": "state"}                              {"ack", "window", "tapFrames", "written"}
  {"op": "close"}                              close everything and exit.
The socket is drained and the tap read whenever the helper waits, so the window keeps opening.
"""

import argparse
import base64
import ctypes
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
TUNSETVNETHDRSZ = 0x400454D8
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
CLONE_NEWNET = 0x40000000
VNET = 12

TAP_MAC = bytes.fromhex("020000008801")
PEER_MAC = bytes.fromhex("020000008802")
PEER_PORT = 5201
PEER_ISN = 0x10000000
PEER_TSVAL = 1000
PEER_WSCALE = 7

FAMILY = {
    4: {"local": "10.88.0.1", "peer": "10.88.0.2", "net": "10.88.0.0", "prefix": 24, "af": socket.AF_INET, "ethertype": 0x0800},
    6: {"local": "fd88::1", "peer": "fd88::2", "net": "fd88::", "prefix": 64, "af": socket.AF_INET6, "ethertype": 0x86DD},
}


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def csum(data, initial=0):
    if len(data) % 2:
        data += b"\0"
    s = initial + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


class Peer:
    def __init__(self, family, ifname, socket_netns, socket_addr, initrwnd):
        self.family = family
        self.f = FAMILY[family]
        self.local = socket_addr or self.f["local"]
        self.tap = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(self.tap, TUNSETIFF, struct.pack("16sH", ifname.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
        fcntl.ioctl(self.tap, TUNSETVNETHDRSZ, struct.pack("i", VNET))
        self.ifname = ifname
        self.tap_frames = 0
        self.written = 0
        self.ack = None
        self.window = 0
        self.received = bytearray()
        self.reported = 0
        self.configure(initrwnd)
        own = None
        if socket_netns:
            own = os.open("/proc/self/ns/net", os.O_RDONLY)
            setns("/var/run/netns/" + socket_netns)
        try:
            self.sock = socket.socket(self.f["af"], socket.SOCK_STREAM)
            self.sock.setblocking(False)
            self.sock.connect_ex((self.f["peer"], PEER_PORT))
        finally:
            if own is not None:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(own, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
                os.close(own)

    def configure(self, initrwnd):
        ifname, f = self.ifname, self.f
        sh("ip", "link", "set", ifname, "address", TAP_MAC.hex(":"), "mtu", "1500")
        if self.family == 6:
            for key, value in (("accept_ra", "0"), ("router_solicitations", "0"), ("accept_dad", "0")):
                sh("sysctl", "-qw", "net.ipv6.conf.%s.%s=%s" % (ifname, key, value))
        sh("ip", "link", "set", ifname, "up")
        sh("ip", "addr", "add", "%s/%d" % (f["local"], f["prefix"]), "dev", ifname, *(["nodad"] if self.family == 6 else []))
        sh("ip", "neigh", "replace", f["peer"], "lladdr", PEER_MAC.hex(":"), "dev", ifname, "nud", "permanent")
        if initrwnd:
            sh("ip", "-%d" % self.family, "route", "replace", "%s/%d" % (f["net"], f["prefix"]), "dev", ifname, "initrwnd", str(initrwnd))

    # ── frames ────────────────────────────────────────────────────────────────────────────────

    def parse(self, frame):
        """(ip header offset, tcp offset, tcp header fields) of a TCP frame of our family, or None."""
        if len(frame) < 14 or struct.unpack("!H", frame[12:14])[0] != self.f["ethertype"]:
            return None
        l3 = 14
        if self.family == 4:
            if frame[l3 + 9] != 6:
                return None
            tcp = l3 + (frame[l3] & 15) * 4
            end = l3 + struct.unpack("!H", frame[l3 + 2 : l3 + 4])[0]
        else:
            nxt, tcp = frame[l3 + 6], l3 + 40
            while nxt in (0, 43, 60) and tcp + 2 <= len(frame):  # Hop-by-Hop, Routing, Destination Options
                nxt, tcp = frame[tcp], tcp + (frame[tcp + 1] + 1) * 8
            if nxt != 6:
                return None
            end = l3 + 40 + struct.unpack("!H", frame[l3 + 4 : l3 + 6])[0]
        sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", frame[tcp : tcp + 16])
        hlen = (off >> 4) * 4
        return {"l3": l3, "tcp": tcp, "sport": sport, "dport": dport, "seq": seq, "ack": ack, "flags": flags,
                "window": win, "options": frame[tcp + 20 : tcp + hlen], "payload": end - tcp - hlen}

    def read_tap(self):
        """Handle every frame the kernel wrote to the tap; return the TCP ones (parsed)."""
        out = []
        while True:
            try:
                raw = os.read(self.tap, 70000)
            except BlockingIOError:
                return out
            self.tap_frames += 1
            p = self.parse(raw[VNET:])
            if p is None or p["dport"] != PEER_PORT:
                continue
            out.append(p)
            if p["flags"] & 0x10 and self.ack is not None:
                if ((p["ack"] - self.ack) & 0xFFFFFFFF) < 0x80000000:
                    self.ack = p["ack"]
                self.window = p["window"] << self.kernel_wscale

    def drain_socket(self):
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self.received += chunk

    def pump(self, timeout):
        fds = [self.tap, self.sock.fileno()]
        ready, _, _ = select.select(fds, [], [], timeout)
        if self.tap in ready:
            self.read_tap()
        if self.sock.fileno() in ready:
            self.drain_socket()

    def tcp_frame(self, seq, ack, flags, window, options, payload=b""):
        f = self.f
        src = socket.inet_pton(f["af"], f["peer"])
        dst = socket.inet_pton(f["af"], self.local)
        hlen = 20 + len(options)
        tcp = bytearray(struct.pack("!HHIIBBHHH", PEER_PORT, self.kernel_port, seq, ack, (hlen // 4) << 4, flags, window, 0, 0))
        tcp += options + payload
        n = len(tcp)
        if self.family == 4:
            pseudo = src + dst + struct.pack("!BBH", 0, 6, n)
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + n, 0, 0x4000, 64, 6, 0, src, dst))
            ip[10:12] = struct.pack("!H", 0xFFFF - csum(bytes(ip)))
        else:
            pseudo = src + dst + struct.pack("!IxxxB", n, 6)
            ip = bytearray(struct.pack("!IHBB16s16s", 0x60000000, n, 6, 64, src, dst))
        tcp[16:18] = struct.pack("!H", 0xFFFF - csum(bytes(tcp), csum(pseudo)))
        return TAP_MAC + PEER_MAC + struct.pack("!H", f["ethertype"]) + bytes(ip) + bytes(tcp)

    # ── the handshake ─────────────────────────────────────────────────────────────────────────

    def handshake(self, timeout=10):
        deadline = time.time() + timeout
        syn = None
        while syn is None:
            if time.time() > deadline:
                raise RuntimeError("no SYN from the kernel on the tap")
            select.select([self.tap], [], [], 0.2)
            for p in self.read_tap():
                if p["flags"] & 0x02:
                    syn = p
        self.kernel_port = syn["sport"]
        self.kernel_isn = syn["seq"]
        opts = syn["options"]
        i, self.kernel_wscale, self.kernel_tsval, kernel_mss = 0, 0, 0, 0
        while i < len(opts):
            kind = opts[i]
            if kind == 0:
                break
            if kind == 1:
                i += 1
                continue
            length = opts[i + 1]
            if kind == 2:
                kernel_mss = struct.unpack("!H", opts[i + 2 : i + 4])[0]
            elif kind == 3:
                self.kernel_wscale = opts[i + 2]
            elif kind == 8:
                self.kernel_tsval = struct.unpack("!I", opts[i + 2 : i + 6])[0]
            i += length
        options = (struct.pack("!BBH", 2, 4, 1460) + struct.pack("!BBBB", 1, 3, 3, PEER_WSCALE)
                   + struct.pack("!BBBBII", 1, 1, 8, 10, PEER_TSVAL, self.kernel_tsval))
        synack = self.tcp_frame(PEER_ISN, (self.kernel_isn + 1) & 0xFFFFFFFF, 0x12, 65535, options)
        os.write(self.tap, bytes(VNET) + synack)
        self.ack = (PEER_ISN + 1) & 0xFFFFFFFF
        while True:
            if time.time() > deadline:
                raise RuntimeError("no ACK from the kernel after the SYN-ACK")
            self.pump(0.2)
            try:
                self.sock.getpeername()
                break
            except OSError:
                continue
        self.pump(0.05)
        return {"ready": True, "kernelPort": self.kernel_port, "kernelIsn": self.kernel_isn, "peerIsn": PEER_ISN,
                "kernelTsval": self.kernel_tsval, "kernelMss": kernel_mss, "kernelWscale": self.kernel_wscale,
                "peerWscale": PEER_WSCALE, "window": self.window, "tapMac": TAP_MAC.hex(), "peerMac": PEER_MAC.hex(),
                "local": self.local, "peer": self.f["peer"], "peerPort": PEER_PORT}

    # ── commands ──────────────────────────────────────────────────────────────────────────────

    def write(self, cmd):
        frame = bytes.fromhex(cmd["frame"])
        vnet = bytes.fromhex(cmd["vnet"])
        p = self.parse(frame)
        if cmd.get("wait", True) and p is not None:
            end = (p["seq"] + p["payload"]) & 0xFFFFFFFF
            deadline = time.time() + cmd.get("timeout", 10)
            self.pump(0)
            while ((self.ack + self.window - end) & 0xFFFFFFFF) >= 0x80000000:
                if time.time() > deadline:
                    return {"ok": False, "errno": 0, "error": "the kernel's window (ack %d + %d) never covered seq %d"
                            % (self.ack, self.window, end)}
                self.pump(0.05)
        try:
            n = os.write(self.tap, vnet + frame)
        except OSError as e:
            return {"ok": False, "errno": e.errno, "error": os.strerror(e.errno)}
        self.written += 1
        return {"ok": n == len(vnet) + len(frame), "wrote": n}

    def recv(self, cmd):
        deadline = time.time() + cmd.get("timeout", 10)
        while len(self.received) < cmd["bytes"] and time.time() < deadline:
            self.pump(0.05)
        self.pump(0)
        data = bytes(self.received[self.reported :])
        self.reported = len(self.received)
        return {"received": len(self.received), "data": base64.b64encode(data).decode()}

    def state(self, _cmd):
        self.pump(0)
        return {"ack": self.ack, "window": self.window, "tapFrames": self.tap_frames, "written": self.written}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", type=int, choices=(4, 6), required=True)
    ap.add_argument("--ifname", default="lrotap0")
    ap.add_argument("--socket-netns", default="")
    ap.add_argument("--socket-addr", default="", help="the socket's own address when it is not the tap's (--socket-netns)")
    ap.add_argument("--initrwnd", type=int, default=0)
    args = ap.parse_args()

    def answer(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    try:
        peer = Peer(args.family, args.ifname, args.socket_netns, args.socket_addr, args.initrwnd)
        answer(peer.handshake())
    except Exception as e:  # noqa: BLE001 - the test reads the message
        answer({"error": "%s: %s" % (type(e).__name__, e)})
        return 1
    for line in sys.stdin:
        try:
            cmd = json.loads(line)
            op = cmd["op"]
            if op == "close":
                peer.sock.close()
                os.close(peer.tap)
                answer({"closed": True})
                return 0
            answer({"write": peer.write, "recv": peer.recv, "state": peer.state}[op](cmd))
        except Exception as e:  # noqa: BLE001
            answer({"error": "%s: %s" % (type(e).__name__, e)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
