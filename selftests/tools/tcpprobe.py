#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""TCP clients and servers that tell a reset from a clean end, for tests.

  tcpprobe.py echo HOST PORT BYTES [hold|trickle]
      Send BYTES pseudo-random bytes to an echo service and read the
      echo.  Without hold: half-close after sending, read to the end
      (trickle: sent 4 KiB at a time, 1 ms apart, so that the frames
      of the tunnel are small).
      With hold: read back what was sent, print "ready", then wait
      (without closing) for the end.  Prints one line:
        "reset got N prefix ok|BAD"   the connection was reset
        "eof got N prefix ok|BAD"     a clean end (FIN) after N bytes
        "timeout got N prefix ..."    neither within 30 s
      prefix: whether the bytes read are the start of those sent.
  tcpprobe.py read HOST PORT BYTES [RATE]
      Read what a blast server sends, at most RATE bytes/s (with a
      64 KiB receive buffer), to its end.  Prints one line:
        "eof|reset|timeout got N intact yes|no in S s"
      intact: the N bytes are those the blast server sends, and N is
      BYTES.
  tcpprobe.py blast PORT BYTES
      Accept connections; send each BYTES pseudo-random bytes (the same
      for every connection), then close it.
  tcpprobe.py rstclient HOST PORT
      Connect, send a line, wait 0.3 s, close with a reset (SO_LINGER 0).
  tcpprobe.py rstserver PORT
      Accept connections; read one line from each, close with a reset.
  tcpprobe.py watchserver PORT FILE
      Accept connections; read each to its end; append "eof" or "reset"
      to FILE.
  tcpprobe.py echoserver PORT
      An echo service for many connections at once (one thread, no
      process per connection): echo what each sends, half-close after
      its FIN.
  tcpprobe.py many HOST PORT N BYTES
      Open N connections to an echo service at once, send BYTES on each
      (each connection its own bytes), half-close, read each echo to its
      end.  Prints "ok N of N in S s" (ok: the echo identical) and
      exits 1 unless all N are.
"""
import selectors
import random
import socket
import struct
import sys
import threading
import time

LINGER0 = struct.pack("ii", 1, 0)


def payload(n):
    return random.Random(12345).randbytes(n)


def read(host, port, n, rate=0):
    data = payload(n)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(60)
    s.connect((host, port))
    got = bytearray()
    how = "timeout"
    t0 = time.time()
    try:
        while True:
            b = s.recv(65536)
            if not b:
                how = "eof"
                break
            got += b
            if rate:
                ahead = len(got) / rate - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        pass
    print("%s got %d intact %s in %.1f s" %
          (how, len(got), "yes" if bytes(got) == data else "no",
           time.time() - t0), flush=True)


def blast(port, n):
    data = payload(n)
    ls = socket.create_server(("127.0.0.1", port))

    def one(c):
        try:
            c.sendall(data)
        except OSError:
            pass
        c.close()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def echo(host, port, n, hold=False, trickle=False):
    data = payload(n)
    s = socket.create_connection((host, port), timeout=30)
    got = bytearray()
    how = "timeout"
    reset_seen = []

    def send():
        try:
            if trickle:
                for off in range(0, n, 4096):
                    s.sendall(data[off:off + 4096])
                    time.sleep(0.001)
            else:
                s.sendall(data)
            if not hold:
                s.shutdown(socket.SHUT_WR)
        except (ConnectionResetError, BrokenPipeError):
            # the reset was taken here: the reader then sees an EOF
            reset_seen.append(True)
        except OSError:
            pass
    t = threading.Thread(target=send, daemon=True)
    t.start()
    ready = not hold
    end = time.time() + 30
    try:
        while time.time() < end:
            b = s.recv(65536)
            if not b:
                how = "eof"
                break
            got += b
            if not ready and len(got) >= n:
                print("ready", flush=True)
                ready = True
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        pass
    if how == "eof" and reset_seen and len(got) < n:
        how = "reset"
    ok = bytes(got) == data[:len(got)]
    print("%s got %d prefix %s" % (how, len(got), "ok" if ok else "BAD"),
          flush=True)


def rstclient(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"hello\n")
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()


def rstserver(port):
    ls = socket.create_server(("127.0.0.1", port))
    while True:
        c, _ = ls.accept()
        c.makefile("rb").readline()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
        c.close()


def watch(c, path):
    how = "eof"
    try:
        while c.recv(65536):
            pass
    except ConnectionResetError:
        how = "reset"
    with open(path, "a") as f:
        f.write(how + "\n")
    c.close()


def watchserver(port, path):
    ls = socket.create_server(("127.0.0.1", port))
    while True:
        c, _ = ls.accept()
        threading.Thread(target=watch, args=(c, path), daemon=True).start()


def echoserver(port):
    ls = socket.create_server(("127.0.0.1", port), backlog=4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    out = {}

    def want(c):
        ev = selectors.EVENT_READ if out[c][1] else 0
        if out[c][0]:
            ev |= selectors.EVENT_WRITE
        if ev:
            sel.modify(c, ev, c)
        elif not out[c][0]:
            sel.unregister(c)
            del out[c]
            c.close()

    while True:
        for key, ev in sel.select():
            if key.data is None:
                try:
                    c, _ = ls.accept()
                except OSError:
                    continue
                c.setblocking(False)
                out[c] = [bytearray(), True]	# to send, still reading
                sel.register(c, selectors.EVENT_READ, c)
                continue
            c = key.data
            try:
                if ev & selectors.EVENT_READ and out[c][1]:
                    b = c.recv(65536)
                    if b:
                        out[c][0] += b
                    else:
                        out[c][1] = False
                if ev & selectors.EVENT_WRITE and out[c][0]:
                    n = c.send(out[c][0])
                    del out[c][0][:n]
                if not out[c][1] and not out[c][0]:
                    c.shutdown(socket.SHUT_WR)
            except OSError:
                out[c] = [bytearray(), False]
            want(c)


def many(host, port, n, nbytes):
    sel = selectors.DefaultSelector()
    t0 = time.time()
    st = {}
    for i in range(n):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex((host, port))
        data = random.Random(i).randbytes(nbytes)
        st[c] = [data, 0, bytearray()]	# sent so far, echo read
        sel.register(c, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    good = 0
    left = n
    deadline = t0 + 120
    while left and time.time() < deadline:
        for key, ev in sel.select(1):
            c = key.data
            data, off, got = st[c]
            try:
                if ev & selectors.EVENT_WRITE:
                    if off < len(data):
                        off += c.send(data[off:off + 65536])
                        st[c][1] = off
                    if off == len(data):
                        c.shutdown(socket.SHUT_WR)
                        sel.modify(c, selectors.EVENT_READ, c)
                if not ev & selectors.EVENT_READ:
                    continue
                b = c.recv(65536)
                if b:
                    got += b
                    continue
                good += bytes(got) == data
            except BlockingIOError:
                continue
            except OSError:
                pass
            sel.unregister(c)
            c.close()
            left -= 1
    print("ok %d of %d in %.1f s" % (good, n, time.time() - t0), flush=True)
    sys.exit(0 if good == n else 1)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) in (4, 5) and a[0] == "echo":
        echo(a[1], int(a[2]), int(a[3]), len(a) == 5 and a[4] == "hold",
             len(a) == 5 and a[4] == "trickle")
    elif len(a) in (4, 5) and a[0] == "read":
        read(a[1], int(a[2]), int(a[3]), int(a[4]) if len(a) == 5 else 0)
    elif len(a) == 3 and a[0] == "blast":
        blast(int(a[1]), int(a[2]))
    elif len(a) == 3 and a[0] == "rstclient":
        rstclient(a[1], int(a[2]))
    elif len(a) == 2 and a[0] == "rstserver":
        rstserver(int(a[1]))
    elif len(a) == 3 and a[0] == "watchserver":
        watchserver(int(a[1]), a[2])
    elif len(a) == 2 and a[0] == "echoserver":
        echoserver(int(a[1]))
    elif len(a) == 5 and a[0] == "many":
        many(a[1], int(a[2]), int(a[3]), int(a[4]))
    else:
        sys.exit(__doc__)
