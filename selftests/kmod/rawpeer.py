#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A raw TCP peer of a funnel carrier, for the malformed-input tests.

rawpeer.py HOST PORT CASE [READY-FILE]: connect, send the preamble
(except for bad-preamble), wait until READY-FILE exists (the carrier and
its streams are set up), then send what CASE says; exit 0 if what came
back is right.
"""
import os
import socket
import struct
import sys
import time

PREAMBLE = b"FUNNEL\x02\x00"
DATA, CTRL, FLOW_END = 0, 1, 2
SEALED = 0x02
RESET = 0x08


def frame(stream, ftype, flags, flow, body=b""):
    hdr = struct.pack("!HBBI", stream, ftype, flags, flow)
    return struct.pack("!H", len(hdr) + len(body)) + hdr + body


def main():
    host, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if case == "bad-preamble":
        s.sendall(b"HTTP/1.1")
        time.sleep(1)
        return 0
    s.sendall(PREAMBLE)
    if len(sys.argv) > 4:
        for _ in range(100):
            if os.path.exists(sys.argv[4]):
                break
            time.sleep(0.1)
    if case == "drops":
        # each of these is dropped and counted; the carrier goes on
        s.sendall(frame(1, 9, 0, 1, b"x"))            # unknown type
        s.sendall(frame(1, DATA, 0x80, 1, b"x"))      # reserved flag
        s.sendall(frame(0, DATA, 0, 1, b"x"))         # DATA on stream 0
        s.sendall(frame(1, FLOW_END, 0, 1, b"x"))     # FLOW_END with a body
        s.sendall(frame(1, DATA, RESET, 1, b"x"))     # R on DATA
        s.sendall(frame(1, FLOW_END, SEALED, 1, b"x" * 24))  # sealed, udp stream
        s.sendall(frame(77, DATA, 0, 1, b"x"))        # unknown stream
        s.sendall(frame(1, DATA, 0, 0, b"x"))         # flow 0, udp stream
        s.sendall(frame(1, FLOW_END, 0, 4242))        # FLOW_END, no flow
        s.sendall(frame(1, DATA, SEALED, 1, b"x" * 30))  # sealed, no key
        # then a good datagram: the echo behind stream 1 returns it
        s.sendall(frame(1, DATA, 0, 5, b"still-alive"))
        want = frame(1, DATA, 0, 5, b"still-alive")
        got = b""
        while len(got) < len(want):
            chunk = s.recv(len(want) - len(got))
            if not chunk:
                break
            got += chunk
        print("reply", got.hex(), flush=True)
        # hold the carrier up until the test has read its counters
        if len(sys.argv) > 4:
            for _ in range(100):
                if os.path.exists(sys.argv[4] + ".done"):
                    break
                time.sleep(0.1)
        return 0 if got == want else 1
    if case == "vector":
        # the sealed example of wire-format.md section 14 (key 00..1f,
        # salt a0a1a2a3, key id 1, counter 1): the echo behind stream 5
        # returns "hello", sealed with counter 1 by the server's encrypt
        # key 20..3f and salt b0b1b2b3; then the frame again: a replay.
        # Before it, the same frame with one ciphertext bit flipped: it
        # fails its tag and, as it never verified, does not use up
        # counter 1
        vec = bytes.fromhex(
            "00250005000700000001000000000000"
            "0001d8cad4e203cd036656fe8ba1245d"
            "c8abd6d13fccbf")
        want = bytes.fromhex(
            "00250005000700000001000000000000"
            "0001a8f225acdd41c663d9fe88330cd5"
            "bd86c222176eac")
        flipped = bytearray(vec)
        flipped[2 + 16] ^= 0x01
        s.sendall(bytes(flipped))
        s.sendall(vec)
        got = b""
        while len(got) < len(want):
            chunk = s.recv(len(want) - len(got))
            if not chunk:
                break
            got += chunk
        print("reply", got.hex(), flush=True)
        s.sendall(vec)
        if len(sys.argv) > 4:
            for _ in range(100):
                if os.path.exists(sys.argv[4] + ".done"):
                    break
                time.sleep(0.1)
        return 0 if got == want else 1
    if case == "end-connecting":
        # 2000 new flow ids on the udp-connect stream 1, each ended by
        # FLOW_END right behind its first DATA, in one burst: the flows
        # whose socket was not made yet must leave the connecting list
        # with their datagram dropped (rx-drop-queue), not get a socket
        # each after they were ended
        burst = b"".join(frame(1, DATA, 0, i, b"z" * 32) +
                         frame(1, FLOW_END, 0, i)
                         for i in range(1, 2001))
        s.sendall(burst)
        s.sendall(frame(1, DATA, 0, 9999, b"still-alive"))
        want = frame(1, DATA, 0, 9999, b"still-alive")
        got = b""
        s.settimeout(20)
        try:
            while not got.endswith(want):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            pass
        print("reply", "ok" if got.endswith(want) else "none", flush=True)
        if len(sys.argv) > 4:
            for _ in range(100):
                if os.path.exists(sys.argv[4] + ".done"):
                    break
                time.sleep(0.1)
        return 0 if got.endswith(want) else 1
    if case == "bad-length":
        s.sendall(struct.pack("!H", 3) + b"abc")
    elif case == "truncated":
        s.sendall(frame(1, DATA, 0, 1, b"y" * 100)[:50])
    elif case == "random":
        s.sendall(os.urandom(70000))
    else:
        print("rawpeer: unknown case", case, file=sys.stderr)
        return 2
    time.sleep(0.5)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
