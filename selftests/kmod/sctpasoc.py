#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What SCTP does to an association under a carrier, for
selftests/kmod/t_90_sctp.sh: one netns, loopback, a plain SCTP peer and
a funnel.ko carrier.  Prints "ok - ..." / "not ok - ..." lines (the test
counts them) and notes starting with "#".

sctpasoc.py pdabort PORT
    (loopback MTU 1500, so that a large message is fragmented.)  The
    carrier's socket subscribes to SCTP's partial delivery and association
    notifications, and the owner cannot turn them off (SCTP_EVENT,
    SCTP_EVENTS: EBUSY).  The peer sends 60 CTRL frames (the carrier's
    frame queue fills, its reader pauses, the window closes), then M1, a
    64008-byte CTRL frame (flow 0xdead) with a 100 ms PR-SCTP lifetime,
    whose head alone is delivered (partial delivery point 1000) before
    the peer abandons it (FORWARD-TSN: SCTP aborts the partial delivery),
    then M2 (flow 0xbeef).  The owner must read the 60, then M2 whole, no
    frame of M1; the given-up head counted as abandoned (rx-abandoned 1),
    not as malformed (rx-drop-malformed 0).  Then
    carrier-del and carrier-new again on the same socket.
sctpasoc.py pdrefuse PORT
    (loopback MTU 1500.)  carrier-new of a socket while SCTP delivers a
    message to it in parts is refused (the reader would take the rest
    for a frame); once the owner has read it whole, it is taken.
sctpasoc.py restart PORT IDFILE
    (The carrier's socket has SO_TIMESTAMPNS, SO_TIMESTAMPING and
    SO_RCVMARK on: their cmsgs must not crowd out SCTP_RCVINFO.)
    The peer, bound to a fixed port, loses its association without the
    carrier hearing (its ABORT dropped by nft), and a new socket on the
    same port connects again: SCTP restarts the carrier's association
    (SCTP_RESTART).  The carrier must end (the owner's recv() fails
    with ECONNRESET; the test checks carrier-down-ntf sock-error with
    the id written to IDFILE).
sctpasoc.py pdrestart PORT IDFILE
    (loopback MTU 1500.)  The same restart while SCTP is in partial
    delivery of M1 to the carrier (its fragments after the first held
    back by nft): SCTP keeps the partial delivery, and the SCTP_RESTART
    notification and the new peer's M2 wait behind it; the carrier must
    end all the same (ECONNRESET; carrier-down-ntf sock-error with the
    id written to IDFILE), reading nothing of M1 or M2.
"""
import errno
import re
import socket
import struct
import subprocess
import sys
import time

import sctppeer

SOL_SCTP = 132
SCTP_RTOINFO = 0
SCTP_NODELAY = 3
SCTP_EVENTS = 11
SCTP_STATUS = 14
SCTP_PARTIAL_DELIVERY_POINT = 19
SCTP_GET_ASSOC_STATS = 112
SCTP_EVENT = 127
SCTP_SNDINFO = 2
SCTP_PRINFO = 5
SCTP_PR_SCTP_TTL = 0x10
SCTP_UNORDERED = 1
SCTP_ASSOC_CHANGE = 0x8001
SCTP_SHUTDOWN_EVENT = 0x8005
SCTP_PARTIAL_DELIVERY_EVENT = 0x8006
CTRL = 1
# the TAP lines and the frame header as sctppeer.py prints and builds them
ok = sctppeer.ok
hdr = sctppeer.hdr


def send(s, data, sid=0, ttl=0, flags=0):
    anc = [(SOL_SCTP, SCTP_SNDINFO,
            struct.pack("@HHIIi", sid, flags, 0, 0, 0))]
    if ttl:
        anc.append((SOL_SCTP, SCTP_PRINFO,
                    struct.pack("@HI", SCTP_PR_SCTP_TTL, ttl)))
    return s.sendmsg([data], anc, socket.MSG_DONTWAIT)


def nl(args, fd):
    p = subprocess.run(["funnel-nl", "raw"] + args, pass_fds=(fd,),
                       capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def carrier_new(fd):
    rc, out = nl(["carrier-new", "sock-fd=s32:%d" % fd], fd)
    m = re.search(r"carrier-id=(\d+)", out)
    return (m.group(1) if rc == 0 and m else None), out


def connect_from(sport, dport):
    """A new SCTP socket on 127.0.0.1:sport connects to dport: the socket
    and 0, or the connect()'s errno."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", sport))
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", dport))
    except OSError as e:
        return s, e.errno or errno.ETIMEDOUT
    return s, 0


def carrier_gone(cid, fd):
    """carrier-get until it fails, for up to 1 s: the owner's recv() is
    woken before the carrier's down work unregisters it."""
    for _ in range(20):
        rc, out = nl(["carrier-get", "carrier-id=u32:" + cid], fd)
        if rc:
            break
        time.sleep(0.05)
    return rc, out


def carrier_stats(cid, fd):
    """The carrier's counters by name, from one carrier-get."""
    _, out = nl(["carrier-get", "carrier-id=u32:" + cid], fd)
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^stats\.([a-z-]+)=(\d+)$", out, re.M)}


def setopt_err(s, opt, val):
    try:
        s.setsockopt(SOL_SCTP, opt, val)
    except OSError as e:
        return e.errno
    return 0


def pair(port, bind=None):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(1)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if bind:
        c.bind(("127.0.0.1", bind))
    return lst, c


def pdabort(port):
    lst, r = pair(port)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    r.connect(("127.0.0.1", port))
    s, _ = lst.accept()
    lst.close()
    s.setsockopt(SOL_SCTP, SCTP_NODELAY, 1)
    s.setsockopt(SOL_SCTP, SCTP_RTOINFO, struct.pack("iIII", 0, 100, 200, 50))
    r.setsockopt(SOL_SCTP, SCTP_PARTIAL_DELIVERY_POINT, struct.pack("I", 1000))
    cid, out = carrier_new(r.fileno())
    ok(cid, "pdabort: carrier-new", out)
    if not cid:
        return

    ev = lambda t, on: struct.pack("iHBx", 0, t, on)
    errs = [setopt_err(r, SCTP_EVENT, ev(SCTP_PARTIAL_DELIVERY_EVENT, 0)),
            setopt_err(r, SCTP_EVENT, ev(SCTP_ASSOC_CHANGE, 0)),
            setopt_err(r, SCTP_EVENTS, bytes(14)),
            setopt_err(r, SCTP_EVENTS, bytes(7)),
            setopt_err(r, SCTP_EVENT, ev(SCTP_PARTIAL_DELIVERY_EVENT, 1)),
            setopt_err(r, SCTP_EVENT, ev(SCTP_SHUTDOWN_EVENT, 0)),
            setopt_err(r, SCTP_EVENTS, bytes([0, 1, 0, 0, 0, 0, 1]))]
    want = [errno.EBUSY] * 4 + [0] * 3
    ok(errs == want,
       "the owner cannot turn the partial delivery and association "
       "notifications off (SCTP_EVENT, SCTP_EVENTS: EBUSY), the rest passes",
       "errnos %s, want %s" % (errs, want))

    for i in range(60):
        send(s, hdr(0, CTRL, flow=1) + bytes([i]) * 992)
    time.sleep(0.5)
    m2 = hdr(0, CTRL, flow=0xbeef) + b"M2" * 10
    send(s, hdr(0, CTRL, flow=0xdead) + b"A" * 64000, ttl=100)
    time.sleep(3)	# T3 at 50-200 ms: M1 abandoned, FORWARD-TSN
    b = s.getsockopt(SOL_SCTP, 14, 184)	# SCTP_STATUS
    unack = struct.unpack_from("iiIHH", b)[3]
    print("# M1 sent; 3 s later the peer has %d unacked" % unack, flush=True)
    send(s, m2)

    r.settimeout(5)
    frames = []
    abandoned = malformed = None
    while True:
        try:
            d = r.recv(1 << 17)
        except socket.timeout:
            break
        if not d:
            break
        frames.append(d)
        if d == m2:
            # before anything else could count
            out = carrier_stats(cid, r.fileno())
            abandoned = out.get("rx-abandoned")
            malformed = out.get("rx-drop-malformed")
            break
    fl = {}
    for d in frames:
        fl.setdefault(struct.unpack_from("!I", d, 4)[0], []).append(len(d))
    for flow, lens in sorted(fl.items()):
        print("# flow %#x: %d frames, lengths %s" % (flow, len(lens),
                                                    sorted(set(lens))),
              flush=True)
    ok(0xdead not in fl and fl.get(1) == [1000] * 60 and frames[-1:] == [m2],
       "pdabort: a message whose partial delivery SCTP aborted (PR-SCTP "
       "FORWARD-TSN) is dropped; the next one on its SCTP stream comes whole",
       "frames by flow %s" % {hex(k): v for k, v in fl.items()})
    ok(abandoned == 1 and malformed == 0,
       "pdabort: the given-up head counted as abandoned, not malformed: "
       "rx-abandoned 1, rx-drop-malformed 0",
       "rx-abandoned %s, rx-drop-malformed %s" % (abandoned, malformed))

    # carrier-del, then the socket is a carrier again, as a TCP one is
    rc, out = nl(["carrier-del", "carrier-id=u32:" + cid], r.fileno())
    cid2, out2 = carrier_new(r.fileno())
    ok(rc == 0 and cid2 and cid2 != cid,
       "carrier-del, then carrier-new of the same SCTP socket registers it "
       "again (id %s, then %s)" % (cid, cid2), out + out2)
    _, out3 = carrier_new(r.fileno())
    ok("already a carrier" in out3, "and refuses it once it is registered", out3)
    send(s, hdr(0, CTRL, flow=2) + b"again")
    try:
        d = r.recv(100)
    except OSError as e:
        d = e
    ok(d == hdr(0, CTRL, flow=2) + b"again",
       "the carrier registered again reads on", repr(d))
    r.close()
    s.close()


def nft(script):
    p = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True,
                       text=True)
    return p.returncode, p.stderr


def restart(port, idfile):
    pport = port + 1
    lst, p = pair(port, bind=pport)
    p.connect(("127.0.0.1", port))
    r, _ = lst.accept()
    lst.close()
    # socket options whose cmsgs sctp_recvmsg() puts ahead of
    # SCTP_RCVINFO (SO_TIMESTAMPNS, SO_TIMESTAMPING with software
    # receive stamps, SO_RCVMARK): the reader has room for them all
    r.setsockopt(socket.SOL_SOCKET, 35, 1)
    r.setsockopt(socket.SOL_SOCKET, 37, 0x18)
    r.setsockopt(socket.SOL_SOCKET, 75, 1)
    cid, out = carrier_new(r.fileno())
    ok(cid, "restart: carrier-new", out)
    if not cid:
        return
    with open(idfile, "w") as f:
        f.write(cid + "\n")
    send(p, hdr(0, CTRL, flow=1) + b"hello")
    r.settimeout(5)
    try:
        d = r.recv(100)
    except OSError as e:
        d = e
    ok(d == hdr(0, CTRL, flow=1) + b"hello",
       "restart: the carrier reads, its owner's timestamp and mark cmsgs "
       "set (SCTP_RCVINFO not crowded out)", repr(d))

    # the peer's association ends without a word to the carrier
    rc, err = nft("table inet funnel_restart {\n"
                  " chain o { type filter hook output priority 0;"
                  " sctp sport %d drop; }\n}\n" % pport)
    ok(rc == 0, "restart: nft drops the peer's packets", err)
    p.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    p.close()
    time.sleep(0.2)
    nft("delete table inet funnel_restart\n")

    # the same port again: a new INIT, which SCTP takes as the peer's
    # restart (RFC 9260 5.2.4.1, action A)
    p2, err = connect_from(pport, port)
    ok(err == 0, "restart: a new socket on the peer's port connects "
       "(the carrier's association restarts)", "errno %s" % err)
    try:
        d = r.recv(100)
    except OSError as e:
        d = e
    ok(isinstance(d, OSError) and d.errno == errno.ECONNRESET,
       "restart: the carrier ends; its owner's recv() fails with ECONNRESET",
       repr(d))
    rc, out = carrier_gone(cid, r.fileno())
    ok(rc != 0 and "no such carrier" in out,
       "restart: the carrier is gone from the table", out)
    p2.close()
    r.close()


def assoc_stats(s):
    """SCTP_GET_ASSOC_STATS: the DATA chunks received in order (iodchunks)."""
    b = s.getsockopt(SOL_SCTP, SCTP_GET_ASSOC_STATS, 256)
    return struct.unpack_from("=Q", b, 136 + 12 * 8)[0]


def nft_counters(table):
    p = subprocess.run(["nft", "list", "table", "inet", table],
                       capture_output=True, text=True)
    return [int(n) for n in re.findall(r"counter packets (\d+)", p.stdout)]


def pdrestart(port, idfile):
    """A restart of the peer while SCTP is in partial delivery to the
    carrier: M1's first fragment delivered in part (partial delivery
    point 1000), the rest held back by nft; the peer's new socket on the
    same port connects (the carrier's socket is not listening: only a
    restart of its association answers), then sends M2.  SCTP keeps the
    partial delivery through the restart (sctp_assoc_update() flushes
    the reassembly queue, not pd_mode), so the SCTP_RESTART notification
    and M2 wait in the socket's lobby; funnel.ko tells the restart from
    the peer's new verification tag: the carrier ends as on the
    notification (ECONNRESET; t_90 checks carrier-down-ntf sock-error
    with the id written to IDFILE), no frame of M1 or M2 read.  (With
    the window closed instead, the new socket's connect() fails: Linux
    refuses an INIT ACK whose a_rwnd is below 1500.)"""
    lst, r = pair(port)
    r.connect(("127.0.0.1", port))
    p, _ = lst.accept()
    lst.close()
    rport = r.getsockname()[1]
    p.setsockopt(SOL_SCTP, SCTP_NODELAY, 1)
    p.setsockopt(SOL_SCTP, SCTP_RTOINFO, struct.pack("iIII", 0, 100, 200, 50))
    r.setsockopt(SOL_SCTP, SCTP_PARTIAL_DELIVERY_POINT, struct.pack("I", 1000))
    cid, out = carrier_new(r.fileno())
    ok(cid, "pdrestart: carrier-new", out)
    if not cid:
        return
    with open(idfile, "w") as f:
        f.write(cid + "\n")
    r.settimeout(3)
    m0 = hdr(0, CTRL, flow=1) + b"hello"
    send(p, m0)
    try:
        d = r.recv(1 << 17)
    except OSError as e:
        d = repr(e)
    ok(d == m0, "pdrestart: the carrier reads a frame", repr(d)[:80])
    rc, err = nft("table inet funnel_pdr {\n"
                  " chain o { type filter hook output priority 0;"
                  " sctp sport %d sctp chunk data flags & 2 == 0 counter drop;"
                  " sctp sport %d sctp chunk abort exists counter drop; }\n}\n"
                  % (port, port))
    ok(rc == 0, "pdrestart: nft holds back the peer's fragments after "
       "the first, and its ABORTs", err)
    err = -1
    try:
        data0 = assoc_stats(r)
        send(p, hdr(0, CTRL, flow=0xdead) + b"A" * 64000)
        data1 = data0
        for _ in range(50):
            time.sleep(0.1)
            data1 = assoc_stats(r)
            if data1 > data0 and nft_counters("funnel_pdr")[0]:
                break
        held = nft_counters("funnel_pdr")[0]
        ok(data1 > data0 and held > 0,
           "pdrestart: M1's first fragment in, the rest held back "
           "(DATA chunks %d -> %d, %d packets held)" % (data0, data1, held))
        # a whole unordered frame after it waits behind the partial
        # delivery (not read below), or shows there is none
        send(p, hdr(0, CTRL, flow=0xf00d) + b"U", flags=SCTP_UNORDERED)
        # the peer's association ends unheard; the same port connects
        p.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        p.close()
        p2, err = connect_from(port, rport)
        ok(err == 0, "pdrestart: a new socket on the peer's port connects "
           "to the carrier's (not listening): its association restarted",
           "connect: %s" % errno.errorcode.get(err, err))
        aborts = nft_counters("funnel_pdr")[1]
        ok(aborts >= 1, "pdrestart: the old peer's ABORT was held back "
           "(%d)" % aborts)
    finally:
        nft("delete table inet funnel_pdr\n")
    if err:
        p2.close()
        r.close()
        return
    m2 = hdr(0, CTRL, flow=0xbeef) + b"M2" * 10
    send(p2, m2)
    frames, end = [], None
    while True:
        try:
            d = r.recv(1 << 17)
        except socket.timeout:
            end = "nothing more"
            break
        except OSError as e:
            end = errno.errorcode.get(e.errno, e.errno)
            break
        if not d:
            end = "eof"
            break
        frames.append(d)
    ok(not frames and end == "ECONNRESET",
       "pdrestart: the carrier ends (its owner's recv() fails with "
       "ECONNRESET), no frame of M1, of the unordered frame behind it, or "
       "of M2 read",
       "frames %r, then %s" % ([(x[4:8].hex(), len(x)) for x in frames],
                                end))
    rc, out = carrier_gone(cid, r.fileno())
    ok(rc != 0 and "no such carrier" in out,
       "pdrestart: the carrier is gone from the table", out)
    p2.close()
    r.close()


def pdrefuse(port):
    """carrier-new while SCTP delivers a message in parts to the socket
    (its fragments after the first held back by nft): refused (EBUSY,
    the extack says why); once the owner read the message whole, taken."""
    lst, r = pair(port)
    r.connect(("127.0.0.1", port))
    p, _ = lst.accept()
    lst.close()
    r.setsockopt(SOL_SCTP, SCTP_PARTIAL_DELIVERY_POINT, struct.pack("I", 1000))
    m1 = hdr(0, CTRL, flow=0xdead) + b"A" * 64000
    rc, err = nft("table inet funnel_pdref {\n"
                  " chain o { type filter hook output priority 0;"
                  " sctp sport %d sctp chunk data flags & 2 == 0 drop; }\n}\n"
                  % port)
    ok(rc == 0, "pdrefuse: nft holds back the peer's fragments after the "
       "first", err)
    try:
        data0 = assoc_stats(r)
        send(p, m1)
        for _ in range(50):
            time.sleep(0.1)
            if assoc_stats(r) > data0:
                break
        cid, out = carrier_new(r.fileno())
        ok(not cid and "delivered in parts: read it whole first" in out,
           "pdrefuse: carrier-new refused while a message is delivered "
           "in parts", out.strip())
    finally:
        nft("delete table inet funnel_pdref\n")
    got, flags = b"", 0
    r.settimeout(5)
    try:
        while not flags & socket.MSG_EOR:
            d, _, flags, _ = r.recvmsg(1 << 17)
            if not d:
                break
            got += d
    except OSError as e:
        got = repr(e).encode()
    ok(got == m1, "pdrefuse: the owner reads the message whole (%d bytes)"
       % len(got))
    cid, out = carrier_new(r.fileno())
    ok(cid, "pdrefuse: then carrier-new takes the socket", out.strip())
    if cid:
        nl(["carrier-del", "carrier-id=u32:" + cid], r.fileno())
    p.close()
    r.close()


def main():
    if sys.argv[1] == "pdabort":
        pdabort(int(sys.argv[2]))
    elif sys.argv[1] == "pdrefuse":
        pdrefuse(int(sys.argv[2]))
    elif sys.argv[1] == "pdrestart":
        pdrestart(int(sys.argv[2]), sys.argv[3])
    else:
        restart(int(sys.argv[2]), sys.argv[3])
    return 1 if sctppeer.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
