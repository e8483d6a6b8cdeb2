#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The cap on userspace's frames in funnel.ko's transmit queue (t_73_fair.sh).

ulpfair.py: make a connected TCP pair a <-> b on 127.0.0.1 (b's receive
buffer small, b not reading), attach the funnel ULP to a, and check what
a writer of user-stream frames sees at the cap:

  - non-blocking DATA frames are taken until the queues are full, then
    send() fails with EAGAIN, and poll() reports no POLLOUT;
  - a CTRL frame is still taken at once (not held behind the user share);
  - a blocking send() with SO_SNDTIMEO waits its timeout, then EAGAIN;
  - once b reads, POLLOUT comes back, and then two of the largest
    frames are taken at once (the resume mark leaves room for them);
  - b gets every DATA frame, whole and in order.

Prints "ok: ..." or "fail: ..." lines; exit 0 iff every check held.
"""
import errno
import select
import socket
import struct
import sys
import threading
import time

TCP_ULP = 31
FRAME_MAX = 65535
HDR = 8
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


def main():
    ls = socket.create_server(("127.0.0.1", 0))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    a = socket.create_connection(ls.getsockname())
    b, _ = ls.accept()
    ls.close()
    a.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b"funnel")
    a.setblocking(False)

    size = 60000
    seq = 0
    try:
        while seq < 1000:
            a.send(frame(0, 1, seq + 1, size))
            seq += 1
    except BlockingIOError:
        pass
    say(0 < seq < 100,
        "%d DATA frames of %d bytes taken, then EAGAIN" % (seq, size))
    say(not writable(a, 300), "no POLLOUT at the cap (300 ms)")

    # CTRL frames are not held behind userspace's data
    try:
        n = a.send(frame(1, 0, 0, 100))
        say(n == 100, "a CTRL frame is taken at the cap")
    except OSError as e:
        say(False, "a CTRL frame is taken at the cap (%s)" % e)

    # a blocking writer waits for room, here until its timeout
    a.setblocking(True)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack("ll", 0, 300000))
    t0 = time.monotonic()
    try:
        a.send(frame(0, 1, 0xffff, size))
        say(False, "a blocking send at the cap waits (it was taken)")
    except OSError as e:
        took = time.monotonic() - t0
        say(e.errno == errno.EAGAIN and took >= 0.25,
            "a blocking send at the cap waits %.2f s, then %s" %
            (took, errno.errorcode.get(e.errno, e.errno)))
    a.setblocking(False)

    # b reads from now on; a's writer waits for POLLOUT
    got = bytearray()
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
    except BlockingIOError:
        pass
    say(more == 2, "after POLLOUT, %d of the largest frames taken at once"
        % more)

    # every frame sent, with its 2-byte prefix: 3 s at most
    total = (seq - more) * (size + 2) + more * (FRAME_MAX + 2) + 102
    end = time.monotonic() + 3
    while len(got) < total and time.monotonic() < end:
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
    sys.exit(1 if FAILS else 0)
