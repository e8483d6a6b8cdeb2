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

fdsctp_peer.py HOST PORT SERVICE STATE-FILE MODE, MODE one of
(review-sctp.md):
  addstreams  (M2) associate, say nothing, ask for 1000 more streams each
              way (RFC 6525 add-streams); print the association's streams
              after 1 s ("streams IN OUT"): 32 32 when funneld refused,
              as it must before the peer authenticated
  restart     (M1) from a fixed port, HELLO, OPEN and an echo; then the
              association is dropped here without a word to funneld (its
              ABORT dropped by nftables), and a new one made from the
              same port: an SCTP restart of funneld's association; the
              new one must then be ended by funneld
  pdabort     (H1) HELLO, OPEN, an echo; write "ready" and wait for
              "stopped" (the test stops funneld with SIGSTOP); fill its
              receive window to less than two packets, send M1, a 60000-byte
              DATA of the echo stream with a 100 ms PR-SCTP lifetime (its
              head is delivered in part, the rest abandoned, FORWARD-TSN),
              then M2, a small DATA of the same stream; write "sent" (the
              test lets funneld go on) and wait for M2's echo: it must
              come back whole, not appended to M1's head; then write
              "echoed" and wait for "done" (funneld's counters are read)
"""
import socket
import struct
import subprocess
import sys
import time

SOL_SCTP = 132
SCTP_RTOINFO = 0
SCTP_INITMSG = 2
SCTP_NODELAY = 3
SCTP_STATUS = 14
SCTP_RECONFIG_SUPPORTED = 117
SCTP_ENABLE_STREAM_RESET = 118
SCTP_ADD_STREAMS = 121
SCTP_ENABLE_CHANGE_ASSOC_REQ = 0x04
SCTP_SNDINFO = 2
SCTP_PRINFO = 5
SCTP_PR_SCTP_TTL = 0x10
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


def send(s, sid, msg, unordered=False, ttl=0, flags=0):
    info = struct.pack("=HHIIi", sid, SCTP_UNORDERED if unordered else 0,
                       0, 0, 0)
    anc = [(SOL_SCTP, SCTP_SNDINFO, info)]
    if ttl:
        # struct sctp_prinfo: native alignment, 8 bytes
        anc.append((SOL_SCTP, SCTP_PRINFO, struct.pack("@HI", SCTP_PR_SCTP_TTL, ttl)))
    return s.sendmsg([msg], anc, flags)


def status(s):
    """(peer's rwnd, unacked, inbound streams, outbound streams)"""
    b = s.getsockopt(SOL_SCTP, SCTP_STATUS, 184)
    _, _, rwnd, unack, _, ins, outs = struct.unpack_from("=iiIHHHH", b)
    return rwnd, unack, ins, outs


def hello_open(s, service):
    send(s, 0, frame(0, CTRL, 0, 0, ctrl(HELLO, attr(1, struct.pack("!I", FEAT_PLAINTEXT)),
                                        attr(2, b"rawpeer"))))
    send(s, 0, frame(0, CTRL, 0, 0, ctrl(OPEN, attr(3, struct.pack("!H", 1)),
                                        attr(4, service.encode()),
                                        attr(5, b"\x01"), attr(6, b"\x00"))))
    r = recv_frame(s, CTRL)
    while r is not None and not (r[3][1] == OPEN_OK):
        r = recv_frame(s, CTRL)
    return r is not None


def wait_state(state, word, secs=20):
    for _ in range(secs * 10):
        with open(state) as f:
            if word in f.read().split():
                return True
        time.sleep(0.1)
    return False


def note(state, word):
    with open(state, "a") as f:
        f.write(word + "\n")


def mode_addstreams(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.setsockopt(SOL_SCTP, SCTP_INITMSG, struct.pack("HHHH", 32, 32, 0, 0))
    s.setsockopt(SOL_SCTP, SCTP_RECONFIG_SUPPORTED, struct.pack("iI", 0, 1))
    s.setsockopt(SOL_SCTP, SCTP_ENABLE_STREAM_RESET,
                 struct.pack("iI", 0, SCTP_ENABLE_CHANGE_ASSOC_REQ))
    s.connect((host, port))
    time.sleep(0.3)
    print("# before: streams %u in, %u out" % status(s)[2:])
    # one request at a time: outgoing, then incoming
    s.setsockopt(SOL_SCTP, SCTP_ADD_STREAMS, struct.pack("iHH", 0, 0, 1000))
    time.sleep(0.5)
    try:
        s.setsockopt(SOL_SCTP, SCTP_ADD_STREAMS, struct.pack("iHH", 0, 1000, 0))
    except OSError as e:
        print("# add incoming streams: %s" % e)
    time.sleep(1)
    print("streams %u %u" % status(s)[2:])
    return 0


def mode_restart(host, port, service, state):
    lport = 40123

    def assoc():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", lport))
        s.connect((host, port))
        return s

    s = assoc()
    if not hello_open(s, service) or not echo(s, b"before"):
        print("no OPEN_OK or no echo before the restart")
        return 1
    note(state, "up")
    print("# %.3f up, echo done" % time.time())
    # gone without a word: no ABORT leaves this netns, neither SO_LINGER
    # 0's nor the one a heartbeat of the old association would get
    # (out of the blue) until the new association is up
    subprocess.run(["nft", "add table inet fdpeer; add chain inet fdpeer out "
                    "{ type filter hook output priority 0; }; add rule inet fdpeer "
                    "out sctp chunk abort exists drop"], check=True)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("# %.3f closed with SO_LINGER 0 (ABORT dropped)" % time.time())
    time.sleep(0.3)
    try:
        s = assoc()		# INIT from the same port: funneld's association restarts
    finally:
        subprocess.run(["nft", "delete table inet fdpeer"], check=True)
    print("# %.3f associated again from port %d" % (time.time(), lport))
    note(state, "restarted")
    s.settimeout(5)
    try:
        while s.recv(70000):
            pass
    except socket.timeout:
        print("the restarted association was not ended by funneld")
        return 1
    except OSError as e:
        print("# the restarted association ended: %s" % e)
    return 0


def mode_pdabort(host, port, service, state):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.setsockopt(SOL_SCTP, SCTP_NODELAY, 1)
    # T3 at 50-200 ms: M1's rest is given up soon after its lifetime
    s.setsockopt(SOL_SCTP, SCTP_RTOINFO, struct.pack("iIII", 0, 100, 200, 50))
    s.connect((host, port))
    if not hello_open(s, service) or not echo(s, b"before"):
        print("no OPEN_OK or no echo before")
        return 1
    note(state, "ready")
    if not wait_state(state, "stopped"):
        print("funneld was not stopped")
        return 1
    # funneld does not read: fill its window with DATA of a stream it
    # has not opened (dropped, no-stream, later) to between one and two
    # packets: M1's second fragment then finds less window than its
    # length, and SCTP hands the first to funneld's socket as a partial
    # delivery (sctp_eat_data(): SCTP_CMD_PART_DELIVER)
    n = 0
    for _ in range(3000):
        rwnd = status(s)[0]
        if 1600 < rwnd <= 2800:
            time.sleep(0.2)		# SACKs settle: still so?
            if 1600 < status(s)[0] <= 2800:
                break
            continue
        if rwnd <= 1600:
            time.sleep(0.02)
            continue
        size = min(1000, rwnd - 2200)
        send(s, 2, frame(2, DATA, UNORDERED, 9, b"f" * max(size - 8, 1)), True)
        n += 1
        time.sleep(0.01)
    print("# %d fillers, funneld's window %u" % (n, status(s)[0]))
    send(s, 1, frame(1, DATA, UNORDERED, 7, b"A" * 60000), True, ttl=100,
         flags=socket.MSG_DONTWAIT)
    time.sleep(3)
    rwnd, unack = status(s)[:2]
    print("# M1 sent; 3 s later: funneld's window %u, unacked %u" % (rwnd, unack))
    send(s, 1, frame(1, DATA, UNORDERED, 7, b"M2-tag"), True, flags=socket.MSG_DONTWAIT)
    note(state, "sent")
    r = recv_frame(s, DATA, 10)
    if r is None:
        print("no echo of M2")
        return 1
    if r[3] != b"M2-tag":
        print("joined: the echo of M2 is %d bytes, starts %r: M1's head and M2 in one frame"
              % (len(r[3]), r[3][:8]))
        return 1
    if not echo(s, b"after"):
        print("no echo after")
        return 1
    print("# M2 echoed whole")
    # the association stays while the test reads funneld's counters
    note(state, "echoed")
    wait_state(state, "done")
    return 0


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
    mode = sys.argv[5] if len(sys.argv) > 5 else "malformed"
    if mode == "addstreams":
        return mode_addstreams(host, port)
    if mode == "restart":
        return mode_restart(host, port, service, state)
    if mode == "pdabort":
        return mode_pdabort(host, port, service, state)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.connect((host, port))
    if not hello_open(s, service):
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
