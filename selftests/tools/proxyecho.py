#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A TCP echo service that reads the PROXY protocol v2 header, for tests.

  proxyecho.py serve ADDR PORT LOG
      Listen on ADDR:PORT (dual stack for "::"); for each connection,
      look at its first bytes: with the PROXY v2 signature, parse the
      header strictly (haproxy's proxy-protocol.txt section 2.2: version
      2; PROXY with TCP over IPv4 (length 12) or IPv6 (length 36), or
      LOCAL with family 0 and length 0; nothing else) and log one line
        "proxy SRC SPORT DST DPORT" or "local"
      then echo every byte after the header; without the signature log
      "none" and echo every byte from the first; a header that breaks
      a rule: log "bad REASON" and close with a reset.  LOG gets one
      line per connection, flushed at once.
  proxyecho.py client HOST PORT OUT HOLD [NBYTES]
      Connect to HOST:PORT, write "SRC SPORT" (our end, as the map sees
      it) to OUT, send NBYTES (default 20000) and read them back; add
      "echo ok" or "echo bad ..." to OUT; then keep the connection open
      until the file HOLD exists (at most 30 s).  On a reset: "reset".
  proxyecho.py udpecho ADDR PORT
      A UDP echo service.
"""
import os
import socket
import struct
import sys
import threading
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"

lock = threading.Lock()


def log(path, line):
    with lock:
        with open(path, "a", encoding="ascii") as f:
            f.write(line + "\n")


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        got = c.recv(n - len(b))
        if not got:
            return b
        b += got
    return b


def parse(c):
    """(log line, bytes to echo first), or (bad line, None)"""
    first = b""
    while len(first) < len(SIG):
        got = c.recv(len(SIG) - len(first))
        if not got:
            break
        first += got
        if not SIG.startswith(first):
            return "none", first
    if first != SIG:
        return "none", first
    hdr = recv_exact(c, 4)
    if len(hdr) < 4:
        return "bad truncated header", None
    vc, fam, length = struct.unpack(">BBH", hdr)
    if vc >> 4 != 2:
        return "bad version %d" % (vc >> 4), None
    if vc == 0x20:
        if fam != 0 or length != 0:
            return "bad LOCAL with family %#x length %d" % (fam, length), None
        return "local", b""
    if vc != 0x21:
        return "bad command %#x" % vc, None
    if fam == 0x11:
        af, alen = socket.AF_INET, 4
    elif fam == 0x21:
        af, alen = socket.AF_INET6, 16
    else:
        return "bad family/protocol %#x" % fam, None
    if length != 2 * alen + 4:
        return "bad length %d for family %#x" % (length, fam), None
    body = recv_exact(c, length)
    if len(body) < length:
        return "bad truncated addresses", None
    src = socket.inet_ntop(af, body[:alen])
    dst = socket.inet_ntop(af, body[alen:2 * alen])
    sport, dport = struct.unpack(">HH", body[2 * alen:])
    return "proxy %s %d %s %d" % (src, sport, dst, dport), b""


def handle(c, path):
    try:
        line, first = parse(c)
        log(path, line)
        if first is None:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            return
        if first:
            c.sendall(first)
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()


def serve(addr, port, path):
    af = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(af, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if af == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, path), daemon=True).start()


def client(host, port, out, hold, nbytes):
    def put(line):
        with open(out, "a", encoding="ascii") as f:
            f.write(line + "\n")
    try:
        c = socket.create_connection((host, port), timeout=20)
        me = c.getsockname()
        put("%s %d" % (me[0], me[1]))
        data = bytes((i * 7 + 3) & 0xff for i in range(nbytes))
        c.sendall(data)
        got = recv_exact(c, nbytes)
        put("echo ok" if got == data else
            "echo bad (%d of %d bytes)" % (len(got), nbytes))
        end = time.time() + 30
        while not os.path.exists(hold) and time.time() < end:
            time.sleep(0.05)
        c.close()
    except ConnectionResetError:
        put("reset")
    except OSError as e:
        put("error %s" % e)


def udpecho(addr, port):
    af = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(af, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        b, peer = s.recvfrom(65536)
        s.sendto(b, peer)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "serve":
        serve(a[1], int(a[2]), a[3])
    elif len(a) in (5, 6) and a[0] == "client":
        client(a[1], int(a[2]), a[3], a[4], int(a[5]) if len(a) == 6 else 20000)
    elif len(a) == 3 and a[0] == "udpecho":
        udpecho(a[1], int(a[2]))
    else:
        sys.exit(__doc__)
