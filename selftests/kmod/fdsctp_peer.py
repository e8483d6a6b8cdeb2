#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A raw SCTP peer of funneld (plaintext, userspace path), for the
malformed-input checks of t_74_funneld_sctp.sh.

fdsctp_peer.py HOST PORT SERVICE STATE-FILE: associate, say HELLO, open
stream 1 for SERVICE (a UDP echo), check that a datagram comes back,
then send what the wire format calls malformed (a message shorter than
a header, DATA on another SCTP stream than its header's, a CTRL frame
off stream 0, reserved flags), check that the carrier still echoes,
write "malformed-sent" to STATE-FILE, wait for "go" in it (the test
reads funneld's counters meanwhile), then send one message over 65535
bytes, which must end the association.  Exit 0 iff all of that held.
"""
import socket
import struct
import sys
import time

SOL_SCTP = 132
SCTP_SNDINFO = 2
SCTP_UNORDERED = 1
DATA, CTRL = 0, 1
UNORDERED = 0x01
HELLO, OPEN, OPEN_OK = 1, 2, 3
FEAT_PLAINTEXT = 2


def attr(atype, value):
    return struct.pack("!HH", atype, len(value)) + value


def ctrl(mtype, *attrs):
    return struct.pack("!BBH", 1, mtype, 0) + b"".join(attrs)


def frame(stream, ftype, flags, flow, body=b""):
    return struct.pack("!HBBI", stream, ftype, flags, flow) + body


def send(s, sid, msg, unordered=False):
    info = struct.pack("=HHIIi", sid, SCTP_UNORDERED if unordered else 0,
                       0, 0, 0)
    s.sendmsg([msg], [(SOL_SCTP, SCTP_SNDINFO, info)])


def recv_frame(s, want_type, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        s.settimeout(max(0.1, end - time.time()))
        try:
            m = s.recv(70000)
        except socket.timeout:
            break
        if not m:
            return None
        stream, ftype, flags, flow = struct.unpack("!HBBI", m[:8])
        if ftype == want_type:
            return stream, flags, flow, m[8:]
    return None


def echo(s, tag):
    send(s, 1, frame(1, DATA, UNORDERED, 7, tag), unordered=True)
    r = recv_frame(s, DATA)
    return r is not None and r[3] == tag


def main():
    host, port, service, state = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.connect((host, port))
    send(s, 0, frame(0, CTRL, 0, 0, ctrl(HELLO, attr(1, struct.pack("!I", FEAT_PLAINTEXT)),
                                        attr(2, b"rawpeer"))))
    send(s, 0, frame(0, CTRL, 0, 0, ctrl(OPEN, attr(3, struct.pack("!H", 1)),
                                        attr(4, service.encode()),
                                        attr(5, b"\x01"), attr(6, b"\x00"))))
    r = recv_frame(s, CTRL)
    while r is not None and not (r[3][1] == OPEN_OK):
        r = recv_frame(s, CTRL)
    if r is None:
        print("no OPEN_OK")
        return 1
    if not echo(s, b"before"):
        print("no echo before the malformed messages")
        return 1
    send(s, 1, b"\x00\x01\x00", unordered=True)                     # short
    send(s, 2, frame(1, DATA, UNORDERED, 7, b"wrongsid"), True)     # wrong SCTP stream
    send(s, 5, frame(5, CTRL, 0, 0, b"x"))                          # CTRL off stream 0
    send(s, 1, frame(1, DATA, 0x80 | UNORDERED, 7, b"reserved"), True)  # reserved flag
    if not echo(s, b"after"):
        print("no echo after the malformed messages")
        return 1
    with open(state, "w") as f:
        f.write("malformed-sent\n")
    for _ in range(100):
        with open(state) as f:
            if "go" in f.read():
                break
        time.sleep(0.1)
    send(s, 1, frame(1, DATA, UNORDERED, 7, b"z" * 70000), True)    # oversize
    s.settimeout(5)
    try:
        while s.recv(70000):
            pass
    except (socket.timeout, ConnectionError, OSError) as e:
        if isinstance(e, socket.timeout):
            print("the association was not ended after the oversize message")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
