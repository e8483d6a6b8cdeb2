#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw SCTP peers and a funneld-like user of an SCTP carrier, for
selftests/kmod/t_90_sctp.sh.  Prints "ok - ..." / "not ok - ..." lines
(the test counts them) and notes starting with "#".

sctppeer.py server ADDR PORT CASE     one association, then CASE:
    echo      answer CTRL frames "ECHO" with the SCTP stream, flags and
              length they came with; "STALL": stop reading 3 s; "BIG": send
              a 60000-byte CTRL frame; "BYE": close
    malformed wait for READY file $SCTPPEER_READY, send short, wrong-stream,
              CTRL-on-5, unknown-type and reserved-flag messages, then a
              good DATA of stream 1 whose echo must come back; hold the
              association until the file $SCTPPEER_DONE exists
    oversize  wait for $SCTPPEER_READY, send a 70000-byte message
    close     wait for $SCTPPEER_READY, close (SHUTDOWN)
    abort     wait for $SCTPPEER_READY, close with SO_LINGER 0 (ABORT)
    eof       print "eof" when the association ends
sctppeer.py api ADDR PORT              the funneld side: carrier-new refusals,
              send/recv/poll of an attached socket, against "server echo"
sctppeer.py owner ADDR PORT            carrier-new with socket-owner from a
              child that exits: against "server eof"
"""
import errno
import os
import re
import select
import socket
import struct
import subprocess
import sys
import time

SOL_SCTP = 132
SCTP_INITMSG = 2
SCTP_NODELAY = 3
SCTP_RECVRCVINFO = 32
SCTP_SNDINFO = 2     # cmsg types (enum sctp_cmsg_type)
SCTP_RCVINFO = 3
SCTP_UNORDERED = 1
SCTP_RECONFIG_SUPPORTED = 117
SCTP_ENABLE_STREAM_RESET = 118
SCTP_ADD_STREAMS = 121
SCTP_ENABLE_CHANGE_ASSOC_REQ = 0x04
SCTP_FRAGMENT_INTERLEAVE = 18
SCTP_INTERLEAVING_SUPPORTED = 125
DATA, CTRL, FLOW_END = 0, 1, 2
F_UNORDERED, F_SEALED = 0x01, 0x02
FAILS = 0


def ok(cond, name, diag=""):
    global FAILS
    if cond:
        print("ok - sctp: " + name, flush=True)
    else:
        FAILS += 1
        print("not ok - sctp: " + name, flush=True)
        for line in str(diag).splitlines():
            print("#   " + line, flush=True)


def hdr(stream, ftype, flags=0, flow=0):
    return struct.pack("!HBBI", stream, ftype, flags, flow)


def sctp_socket(family=socket.AF_INET, kind=socket.SOCK_STREAM, streams=8):
    s = socket.socket(family, kind, socket.IPPROTO_SCTP)
    s.setsockopt(SOL_SCTP, SCTP_INITMSG, struct.pack("HHHH", streams, streams, 0, 0))
    # RFC 6525 stream reconfiguration, for SCTP_ADD_STREAMS
    s.setsockopt(SOL_SCTP, SCTP_RECONFIG_SUPPORTED, struct.pack("iI", 0, 1))
    return s


def allow_add_streams(s):
    s.setsockopt(SOL_SCTP, SCTP_ENABLE_STREAM_RESET,
                 struct.pack("iI", 0, SCTP_ENABLE_CHANGE_ASSOC_REQ))


def raw_send(s, data, sid, flags=0):
    info = struct.pack("@HHIIi", sid, flags, 0, 0, 0)
    return s.sendmsg([data], [(SOL_SCTP, SCTP_SNDINFO, info)])


def raw_recv(s, size=1 << 17):
    """One whole message: (data, sid, rcv_flags); data b"" at the end."""
    data = b""
    sid = flags = None
    while True:
        chunk, anc, mflags, _ = s.recvmsg(size, 256)
        if not chunk and not data:
            return b"", None, None
        for level, ctype, cdata in anc:
            if level == SOL_SCTP and ctype == SCTP_RCVINFO and sid is None:
                sid, _, flags = struct.unpack_from("@HHH", cdata)
        data += chunk
        if mflags & socket.MSG_EOR:
            return data, sid, flags


def accept_one(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    lst = sctp_socket(fam)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, port))
    lst.listen(1)
    lst.settimeout(20)
    print("# listening", flush=True)
    s, _ = lst.accept()
    s.settimeout(None)
    lst.close()
    s.setsockopt(SOL_SCTP, SCTP_RECVRCVINFO, 1)
    s.setsockopt(SOL_SCTP, SCTP_NODELAY, 1)
    allow_add_streams(s)
    return s


def wait_ready(var="SCTPPEER_READY"):
    path = os.environ.get(var)
    for _ in range(1200):
        if not path or os.path.exists(path):
            return
        time.sleep(0.1)


def server(addr, port, case):
    s = accept_one(addr, port)
    if case == "echo":
        while True:
            data, sid, flags = raw_recv(s)
            if not data:
                return 0
            body = data[8:]
            if body.startswith(b"ECHO"):
                info = struct.pack("!HHI", sid, flags & SCTP_UNORDERED, len(data))
                raw_send(s, hdr(0, CTRL) + b"ECHO" + info, 0)
            elif body.startswith(b"STALL"):
                time.sleep(1.5)
            elif body.startswith(b"BIG"):
                raw_send(s, hdr(0, CTRL) + bytes(60000), 0)
            elif body.startswith(b"BYE"):
                s.close()
                return 0
    wait_ready()
    if case == "malformed":
        raw_send(s, b"\x00\x01\x01\x00", 0)                  # short
        raw_send(s, hdr(1, DATA, 0, 1) + b"x", 2)            # wrong SCTP stream
        raw_send(s, hdr(0, CTRL) + b"x", 5)                  # CTRL on stream 5
        raw_send(s, hdr(1, 9, 0, 1) + b"x", 1)               # unknown type
        raw_send(s, hdr(1, DATA, 0x80, 1) + b"x", 1)         # reserved flag
        raw_send(s, os.urandom(3), 1)                        # garbage, short
        raw_send(s, hdr(1, DATA, 0, 5) + b"still-alive", 1)
        data, sid, _ = raw_recv(s)
        ok(data == hdr(1, DATA, 0, 5) + b"still-alive" and sid == 1,
           "malformed: after 6 bad messages a good one gets its echo on SCTP stream 1",
           "got %r on %r" % (data, sid))
        wait_ready("SCTPPEER_DONE")
        # unread data would make close() an ABORT
        s.settimeout(0.2)
        try:
            while True:
                data, sid, _ = raw_recv(s)
                if not data:
                    break
                print("# unread %r on %r" % (data[:16], sid), flush=True)
        except (socket.timeout, OSError):
            pass
    elif case == "oversize":
        raw_send(s, hdr(0, CTRL) + bytes(70000), 0)
        time.sleep(1.5)
    elif case == "abort":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif case == "eof":
        s.settimeout(10)
        data, _, _ = raw_recv(s)
        print("eof" if not data else "data", flush=True)
    s.close()
    return 0


def nl(args, fd, ns=None):
    cmd = ["funnel-nl", "raw"] + args
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, pass_fds=(fd,), capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def carrier_new(fd, extra=(), ns=None):
    return nl(["carrier-new", "sock-fd=s32:%d" % fd] + list(extra), fd, ns)


def send_err(s, data, flags=0, anc=None):
    try:
        if anc:
            s.sendmsg([data], anc, flags)
        else:
            s.send(data, flags)
    except OSError as e:
        return e.errno
    return 0


def recv_frame(s, timeout=5):
    s.settimeout(timeout)
    data, anc, flags, _ = s.recvmsg(1 << 17, 256)
    return data, anc, flags


def idata_refused(fam):
    """An association with I-DATA (RFC 8260) between two sockets of this
    netns on loopback: carrier-new refuses it, and leaves the socket's
    options as they were."""
    loop = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
    sysctl = "/proc/sys/net/sctp/intl_enable"
    with open(sysctl) as f:
        old = f.read().strip()
    with open(sysctl, "w") as f:
        f.write("1")
    socks = []
    try:
        for _ in range(2):
            x = sctp_socket(fam)
            x.setsockopt(SOL_SCTP, SCTP_FRAGMENT_INTERLEAVE, 2)
            x.setsockopt(SOL_SCTP, SCTP_INTERLEAVING_SUPPORTED,
                         struct.pack("iI", 0, 1))
            socks.append(x)
        lst, c = socks
        lst.bind((loop, 0))
        lst.listen(1)
        c.connect(lst.getsockname()[:2])
        a, _ = lst.accept()
        socks.append(a)
        fi0 = c.getsockopt(SOL_SCTP, SCTP_FRAGMENT_INTERLEAVE)
        rc, out = carrier_new(c.fileno())
        fi = c.getsockopt(SOL_SCTP, SCTP_FRAGMENT_INTERLEAVE)
        ok(rc and "I-DATA" in out and fi == fi0 != 0,
           "carrier-new refuses an association with I-DATA (RFC 8260), "
           "the socket's fragment interleave left as it was",
           "%s; fragment interleave %s, before %s" % (out, fi, fi0))
    finally:
        for x in socks:
            x.close()
        with open(sysctl, "w") as f:
            f.write(old)


def api(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET

    # carrier-new refusals, each with its own text
    sp = sctp_socket(fam, socket.SOCK_SEQPACKET)
    rc, out = carrier_new(sp.fileno())
    ok(rc and "one-to-one socket (SOCK_STREAM)" in out,
       "carrier-new refuses a one-to-many (SOCK_SEQPACKET) socket", out)
    sp.close()
    un = sctp_socket(fam)
    rc, out = carrier_new(un.fileno())
    ok(rc and "association is not established" in out,
       "carrier-new refuses a socket without an association", out)
    un.close()
    idata_refused(fam)

    s = sctp_socket(fam, streams=8)
    s.connect((addr, port))
    s.setsockopt(SOL_SCTP, SCTP_NODELAY, 1)
    allow_add_streams(s)
    rc, out = carrier_new(s.fileno(), ns="fs")
    ok(rc and "another network namespace" in out,
       "carrier-new refuses a socket of another netns", out)
    rc, out = carrier_new(s.fileno())
    m = re.search(r"carrier-id=(\d+)", out)
    ok(rc == 0 and m, "carrier-new takes an established one-to-one socket", out)
    if not m:
        return 1
    cid = m.group(1)
    rc, out = carrier_new(s.fileno())
    ok(rc and "already a carrier" in out, "carrier-new refuses a carrier twice", out)
    rc, out = nl(["carrier-get", "carrier-id=u32:" + cid], s.fileno())
    ok("transport=2" in out, "carrier-get: transport sctp (2)", out)

    # stream-new: within the association's 8 streams each way
    rc, out = nl(["stream-new", "carrier-id=u32:" + cid, "stream-id=u16:8",
                  "stream-kind=u32:2", "local-ipv4=be32:0x7f000001",
                  "local-port=be16:5700"], s.fileno())
    ok(rc and "beyond the association's" in out and "add streams first" in out,
       "stream-new refuses stream 8 of an association with 8 streams", out)
    # what funneld does: add streams to the live association (RFC 6525),
    # then the stream; setsockopt passes through to SCTP
    try:
        s.setsockopt(SOL_SCTP, SCTP_ADD_STREAMS, struct.pack("iHH", 0, 2, 2))
        err = 0
    except OSError as e:
        err = e.errno
    for _ in range(30):
        rc, out = nl(["stream-new", "carrier-id=u32:" + cid, "stream-id=u16:9",
                      "stream-kind=u32:1"], s.fileno())
        if rc == 0:
            break
        time.sleep(0.1)
    ok(err == 0 and rc == 0,
       "after SCTP_ADD_STREAMS (2 each way) stream-new takes stream 9",
       "setsockopt errno %s; %s" % (err, out))
    rc, out = nl(["stream-new", "carrier-id=u32:" + cid, "stream-id=u16:10",
                  "stream-kind=u32:1"], s.fileno())
    ok(rc and "add streams first" in out,
       "and refuses stream 10 of its 10 streams", out)
    rc, out = nl(["stream-new", "carrier-id=u32:" + cid, "stream-id=u16:7",
                  "stream-kind=u32:2", "local-ipv4=be32:0x7f000001",
                  "local-port=be16:5700", "pr-ttl-ms=u32:500"], s.fileno())
    ok(rc == 0, "stream-new: udp-listen stream 7 with pr-ttl-ms 500", out)
    rc, out = nl(["stream-get", "carrier-id=u32:" + cid, "stream-id=u16:7"],
                 s.fileno())
    ok("pr-ttl-ms=500" in out and "tx-abandoned=0" in out,
       "stream-get reports pr-ttl-ms and tx-abandoned", out)
    rc, out = nl(["stream-new", "carrier-id=u32:" + cid, "stream-id=u16:6",
                  "stream-kind=u32:1", "pr-ttl-ms=u32:600001"], s.fileno())
    ok(rc and "out of range" in out and "pr-ttl-ms" in out,
       "stream-new refuses pr-ttl-ms 600001 (above funneld's 10 minutes)", out)
    rc, out = nl(["stream-new", "carrier-id=u32:" + cid, "stream-id=u16:3",
                  "stream-kind=u32:1"], s.fileno())
    ok(rc == 0, "stream-new: user stream 3", out)

    # send refusals: EINVAL as on the TCP ULP
    info = struct.pack("@HHIIi", 0, 0, 0, 0, 0)
    cases = [
        ("a control message", hdr(0, CTRL) + b"ECHO", [(SOL_SCTP, SCTP_SNDINFO, info)], errno.EINVAL),
        ("DATA on stream 0", hdr(0, DATA, 0, 1) + b"x", None, errno.EINVAL),
        ("DATA of kernel stream 7", hdr(7, DATA, 0, 1) + b"x", None, errno.EINVAL),
        ("a sealed CTRL frame off stream 0", hdr(5, CTRL, F_SEALED) + b"x", None, errno.EINVAL),
        ("a reserved flag", hdr(0, CTRL, 0x80) + b"x", None, errno.EINVAL),
        ("4 bytes, below a header", b"\x00\x00\x01\x00", None, errno.EINVAL),
        ("65536 bytes, above a frame", hdr(0, CTRL) + bytes(65528), None, errno.EMSGSIZE),
    ]
    for name, data, anc, want in cases:
        got = send_err(s, data, anc=anc)
        ok(got == want, "send refuses %s (%s)" % (name, errno.errorcode.get(want)),
           "errno %s" % errno.errorcode.get(got, got))

    # what the peer sees, and recv(): one whole frame a call, no cmsg
    sent = [(hdr(5, CTRL) + b"ECHO", 0, 0),                 # CTRL: stream 0
            (hdr(3, DATA, F_UNORDERED, 9) + b"ECHO", 3, 1),  # U: unordered
            (hdr(3, DATA, 0, 9) + b"ECHO" + bytes(3000), 3, 0)]
    for data, _, _ in sent:
        s.send(data)
    for i, (data, sid, unord) in enumerate(sent):
        got, anc, flags = recv_frame(s)
        want = hdr(0, CTRL) + b"ECHO" + struct.pack("!HHI", sid, unord, len(data))
        ok(got == want and not anc and not flags & socket.MSG_TRUNC,
           "frame %d went on SCTP stream %d, %s, whole; its answer is one "
           "recv() without cmsg" % (i, sid, "unordered" if unord else "ordered"),
           "got %r anc %r" % (got, anc))
    s.send(hdr(0, CTRL) + b"BIG")
    got, anc, _ = recv_frame(s)
    ok(len(got) == 60008 and got[:8] == hdr(0, CTRL),
       "a 60008-byte frame is one recv()", "got %d bytes" % len(got))

    # MSG_DONTWAIT: EAGAIN while the peer does not read, EPOLLOUT after
    s.settimeout(None)      # Python retries EAGAIN itself while it has one
    s.send(hdr(0, CTRL) + b"STALL")
    big = hdr(0, CTRL) + bytes(60000)
    n, err = 0, 0
    t0 = time.time()
    while time.time() - t0 < 10:
        err = send_err(s, big, socket.MSG_DONTWAIT)
        if err:
            break
        n += 1
    ok(err == errno.EAGAIN, "MSG_DONTWAIT: EAGAIN once SCTP has no room (after %d frames)" % n,
       "errno %s" % errno.errorcode.get(err, err))
    p = select.poll()
    p.register(s, select.POLLOUT)
    ev = p.poll(10000)
    ok(ev and ev[0][1] & select.POLLOUT, "EPOLLOUT once the peer reads again", ev)
    p = select.poll()
    p.register(s, select.POLLIN)
    ok(not p.poll(0), "no EPOLLIN while no frame is queued for us")

    # the end: recv() 0 after the peer closed
    s.send(hdr(0, CTRL) + b"BYE")
    s.settimeout(10)
    try:
        got = s.recv(100)
    except OSError as e:
        got = e
    ok(got == b"", "recv() returns 0 once the peer closed", repr(got))
    ev = p.poll(1000)
    ok(ev and ev[0][1] & select.POLLIN, "EPOLLIN at the end", ev)
    s.close()
    return 0


def owner(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = sctp_socket(fam)
    s.connect((addr, port))
    rc, out = carrier_new(s.fileno(), ["socket-owner=flag"])
    ok(rc == 0, "carrier-new with socket-owner", out)
    # the child (the owner) has exited: funnel.ko shuts the association
    # down while this socket is still open (SCTP_STATUS leaves
    # ESTABLISHED, or the association is gone)
    state = None
    for _ in range(50):
        try:
            st = s.getsockopt(132, 14, 256)     # SCTP_STATUS
            state = struct.unpack_from("=i", st, 4)[0]
        except OSError:
            state = "gone"
        if state != 4:                          # SCTP_ESTABLISHED
            break
        time.sleep(0.1)
    ok(state != 4, "socket owner gone: funnel.ko shut the association down, the socket still open",
       "state %r" % (state,))
    # once the SHUTDOWN is done SCTP frees the association: the reader
    # must see the end (SCTP's own recvmsg() says EAGAIN for ever then)
    s.settimeout(5)
    try:
        got = s.recv(100)
    except OSError as e:
        got = e
    ok(got == b"", "socket owner gone: recv() returns 0 once the SHUTDOWN is done",
       repr(got))
    s.close()
    return 0


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "server":
        server(addr, port, sys.argv[4])
    elif mode == "api":
        api(addr, port)
    elif mode == "owner":
        owner(addr, port)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
