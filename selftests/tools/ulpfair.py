#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The cap on userspace's frames in funnel.ko's transmit queue (t_73_fair.sh).

ulpfair.py: make connected TCP pairs a <-> b on 127.0.0.1 (b's receive
buffer small, b not reading, a's TCP_NOTSENT_LOWAT 16 KiB so that TCP
takes little), attach the funnel ULP to a, and check what a writer of
user-stream frames sees.  The bytes in funnel.ko's queues are the bytes
a took, less what TCP holds (SIOCOUTQ on a, SIOCINQ on b).

First pair, poll() before each frame:

  - POLLOUT while the largest frame fits in txq_user (192 KiB of
    truesize), so the first poll() without it comes at about 192 - 65
    KiB queued, not as soon as TCP is full;
  - then even a small frame, which would fit, gets EAGAIN (the poller
    marked the queue, as a writer that found it full does).

Second pair:

  - non-blocking DATA frames are taken until txq_user holds about its
    192 KiB, then send() fails with EAGAIN, and poll() reports no
    POLLOUT;
  - a CTRL frame is still taken at once (not held behind the user share);
  - a blocking send() with SO_SNDTIMEO waits its timeout, then EAGAIN;
  - once b has read enough for TCP to take two frames more, txq_user is
    below its cap by two frames but above its resume mark (56 KiB): still
    no POLLOUT, and EAGAIN for a frame that fits;
  - once b reads everything, POLLOUT comes back, and then two of the
    largest frames are taken at once (the resume mark leaves room);
  - b gets every DATA frame, whole and in order.

Prints "ok: ..." or "fail: ..." lines, then "done: N failed" if it ran
to its end; exit 0 iff every check held.
"""
import errno
import fcntl
import select
import socket
import struct
import sys
import termios
import threading
import time

TCP_ULP = 31
TCP_NOTSENT_LOWAT = 25
FRAME_MAX = 65535
HDR = 8
CAP = 192 * 1024                # txq_user, truesize
RESUME = 56 * 1024
# frames of 16 KiB of body: 4 pages, and a head of under 2 KiB
SIZE = HDR + 16384
WIRE = SIZE + 2                 # with the length prefix
TRUE_HI = 16384 + 2048
# the largest frame's truesize: 16 pages and a head
FRAME_TRUE = 65536 + 1280
FAILS = 0


def say(good, what):
    global FAILS
    print(("ok: " if good else "fail: ") + what, flush=True)
    if not good:
        FAILS += 1


def frame(typ, stream, flow, size):
    """A frame without its length prefix: header, then size - HDR bytes
    that repeat the flow id (the frame's number here)."""
    body = bytes([flow & 0xff]) * (size - HDR)
    return struct.pack("!HBBI", stream, typ, 0, flow) + body


def writable(s, ms):
    p = select.poll()
    p.register(s, select.POLLOUT)
    return any(ev & select.POLLOUT for _, ev in p.poll(ms))


def ioctl_int(s, req):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), req, b"\0" * 4))[0]


def pair():
    ls = socket.create_server(("127.0.0.1", 0))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    a = socket.create_connection(ls.getsockname())
    b, _ = ls.accept()
    ls.close()
    a.setsockopt(socket.IPPROTO_TCP, TCP_NOTSENT_LOWAT, 16384)
    a.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b"funnel")
    a.setblocking(False)
    return a, b


def queued(a, b, taken, settle=0.2):
    """Bytes a took that TCP does not hold: funnel.ko's queues."""
    time.sleep(settle)
    return taken - ioctl_int(a, termios.TIOCOUTQ) - ioctl_int(b, termios.FIONREAD)


def try_send(a, buf):
    try:
        return a.send(buf)
    except BlockingIOError:
        return -errno.EAGAIN


def poll_first():
    """poll() says no POLLOUT once the largest frame may not fit."""
    a, b = pair()
    taken, n, first, eagain = 0, 0, None, False
    while n < 100:
        if not writable(a, 0):
            first = queued(a, b, taken)
            break
        if try_send(a, frame(0, 1, n + 1, SIZE)) < 0:
            eagain = True
            break
        taken += WIRE
        n += 1
    lo = CAP - FRAME_TRUE - 2 * TRUE_HI
    hi = CAP - FRAME_MAX + TRUE_HI
    say(first is not None and not eagain and lo <= first <= hi,
        "first pair: the first poll() without POLLOUT at %s bytes queued "
        "(%d frames taken, EAGAIN before it: %s), want %d..%d" %
        (first, n, eagain, lo, hi))
    ret = try_send(a, frame(0, 1, n + 1, 100))
    say(ret == -errno.EAGAIN,
        "first pair: then a 100-byte frame, which fits, is refused: %s" %
        ("EAGAIN" if ret == -errno.EAGAIN else "taken"))
    a.close()
    b.close()


def main():
    poll_first()

    a, b = pair()
    seq, taken = 0, 0
    try:
        while seq < 1000:
            a.send(frame(0, 1, seq + 1, SIZE))
            seq += 1
            taken += WIRE
    except BlockingIOError:
        pass
    say(0 < seq < 100,
        "%d DATA frames of %d bytes taken, then EAGAIN" % (seq, SIZE))
    # the frame TCP took in part counts in txq_user by its whole
    # truesize, but only its unsent bytes show here; TCP may have taken
    # all but a few bytes of it (funnel.ko writes the frames behind it
    # with MSG_MORE, so TCP appends them to a segment it has not sent
    # yet, which TCP_NOTSENT_LOWAT does not stop): a frame of slack
    lo = CAP - 2 * TRUE_HI - WIRE
    q = queued(a, b, taken)
    say(lo <= q <= CAP,
        "at EAGAIN funnel.ko holds %d bytes (want %d..%d: txq_user's cap)"
        % (q, lo, CAP))
    say(not writable(a, 300), "no POLLOUT at the cap (300 ms)")

    # CTRL frames are not held behind userspace's data
    try:
        n = a.send(frame(1, 0, 0, 100))
        say(n == 100, "a CTRL frame is taken at the cap")
        taken += 102
    except OSError as e:
        say(False, "a CTRL frame is taken at the cap (%s)" % e)

    # a blocking writer waits for room, here until its timeout
    a.setblocking(True)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack("ll", 0, 300000))
    t0 = time.monotonic()
    try:
        a.send(frame(0, 1, 0xffff, SIZE))
        say(False, "a blocking send at the cap waits (it was taken)")
    except OSError as e:
        took = time.monotonic() - t0
        say(e.errno == errno.EAGAIN and took >= 0.25,
            "a blocking send at the cap waits %.2f s, then %s" %
            (took, errno.errorcode.get(e.errno, e.errno)))
    a.setblocking(False)

    # b reads 16 KiB at a time until TCP took two frames more from
    # funnel.ko's queues (TCP's unsent bytes and retransmissions come
    # first): txq_user is below its cap by that, but above its resume mark
    b.settimeout(5)
    got = bytearray()
    q2, end = q, time.monotonic() + 10
    while q2 > q - 2 * WIRE and time.monotonic() < end:
        want = len(got) + 16384
        while len(got) < want:
            got.extend(b.recv(want - len(got)))
        q2 = queued(a, b, taken - len(got))
    say(RESUME < q2 <= q - 2 * WIRE,
        "after b read %d bytes funnel.ko holds %d bytes (want %d..%d)"
        % (len(got), q2, RESUME + 1, q - 2 * WIRE))
    say(not writable(a, 300),
        "no POLLOUT above the resume mark though TCP took more (300 ms)")
    ret = try_send(a, frame(0, 1, seq + 1, SIZE))
    say(ret == -errno.EAGAIN,
        "a %d-byte frame above the resume mark, which fits: %s" %
        (SIZE, "EAGAIN" if ret == -errno.EAGAIN else "taken"))
    if ret > 0:
        seq += 1
        taken += WIRE

    # b reads from now on; a's writer waits for POLLOUT
    stop = threading.Event()

    def reader():
        b.settimeout(0.2)
        while not stop.is_set():
            try:
                chunk = b.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                break
            got.extend(chunk)

    th = threading.Thread(target=reader)
    th.start()
    t0 = time.monotonic()
    back = writable(a, 5000)
    say(back, "POLLOUT once b reads (after %.2f s)" % (time.monotonic() - t0))
    more = 0
    try:
        while more < 2:
            a.send(frame(0, 1, seq + 1, FRAME_MAX))
            seq += 1
            more += 1
            taken += FRAME_MAX + 2
    except BlockingIOError:
        pass
    say(more == 2, "after POLLOUT, %d of the largest frames taken at once"
        % more)

    # every frame sent, with its 2-byte prefix: 3 s at most
    end = time.monotonic() + 3
    while len(got) < taken and time.monotonic() < end:
        time.sleep(0.05)
    stop.set()
    th.join()
    # walk the byte stream: DATA frames 1..seq in order, one CTRL
    off, want, ctrl, bad = 0, 1, 0, 0
    while off + 2 <= len(got):
        flen = struct.unpack("!H", got[off:off + 2])[0]
        if off + 2 + flen > len(got):
            break
        stream, typ, _, flow = struct.unpack("!HBBI", got[off + 2:off + 2 + HDR])
        body = got[off + 2 + HDR:off + 2 + flen]
        if typ == 1:
            ctrl += 1
        elif flow != want or body.count(flow & 0xff) != len(body):
            bad += 1
        else:
            want += 1
        off += 2 + flen
    say(want - 1 == seq and ctrl == 1 and bad == 0 and off == len(got),
        "b got %d of %d DATA frames in order, %d CTRL, %d bad, %d bytes left over"
        % (want - 1, seq, ctrl, bad, len(got) - off))
    a.close()
    b.close()


if __name__ == "__main__":
    main()
    print("done: %d failed" % FAILS, flush=True)
    sys.exit(1 if FAILS else 0)
