#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Carrier life-cycle cases for t_35_carrier.sh, on a TCP pair over lo.

ulpsock.py CASE: make a connected TCP pair a <-> b on 127.0.0.1, attach
the funnel ULP to a, then run CASE; print "ok: ..." or "fail: ..." lines
and exit 0 iff every check held.  funnel-nl (on PATH) registers a: it
inherits a, so its own netlink socket is a separate one.

  rst-before-new  b resets the connection (SO_LINGER 0) before a is
                  registered: carrier-new is refused, no carrier stays
  owner           carrier-new with socket-owner from funnel-nl, which
                  then exits: the carrier goes and b sees a reset while
                  a is still open here
  no-owner        the same without socket-owner: the carrier stays while
                  a is open, and goes when a is closed
  unpriv          (run without CAP_NET_ADMIN) TCP_ULP "funnel" is
                  refused with EPERM
  cut-frame       a sends 64000-byte frames to b, which does not read,
                  until they queue; a is closed: b must never see the
                  byte stream end inside a frame with a FIN (a frame
                  TCP took in part makes close() reset the connection)
"""
import socket
import struct
import subprocess
import sys
import time

TCP_ULP = 31
FAILS = 0


def say(good, what):
    global FAILS
    print(("ok: " if good else "fail: ") + what, flush=True)
    if not good:
        FAILS += 1


def nl(*args, fd=None):
    """funnel-nl raw ARGS (the child inherits fd, under the same number);
    (exit status, output)."""
    cmd = ["funnel-nl", "raw"] + [x.replace("{fd}", str(fd)) for x in args]
    p = subprocess.run(cmd, capture_output=True, text=True,
                       pass_fds=(fd,) if fd is not None else ())
    return p.returncode, p.stdout + p.stderr


def carriers():
    rc, out = nl("--dump", "carrier-get")
    return [ln.split("=", 1)[1] for ln in out.splitlines()
            if ln.startswith("carrier-id=")]


def pair():
    ls = socket.create_server(("127.0.0.1", 0))
    a = socket.create_connection(ls.getsockname())
    b, _ = ls.accept()
    ls.close()
    a.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b"funnel")
    return a, b


def wait_reset(b, secs=3.0):
    """Does b see its connection reset within secs?"""
    b.settimeout(0.1)
    end = time.time() + secs
    while time.time() < end:
        try:
            if b.recv(4096) == b"":
                return "eof"
        except socket.timeout:
            continue
        except ConnectionResetError:
            return "reset"
        except OSError as e:
            return "error %s" % e
    return "nothing"


def case_rst_before_new():
    a, b = pair()
    b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    b.close()
    time.sleep(0.5)
    rc, out = nl("carrier-new", "sock-fd=s32:{fd}", fd=a.fileno())
    say(rc != 0 and "down already" in out,
        "carrier-new after a reset is refused: %s" % out.strip().replace("\n", " | "))
    say(carriers() == [], "no carrier registered (%s)" % carriers())
    a.close()


def case_owner():
    a, b = pair()
    rc, out = nl("carrier-new", "sock-fd=s32:{fd}", "socket-owner=flag", fd=a.fileno())
    say(rc == 0 and "carrier-id=" in out,
        "carrier-new with socket-owner: %s" % out.strip().replace("\n", " | "))
    # funnel-nl has exited: its netlink socket, the owner, is closed
    time.sleep(0.3)
    say(carriers() == [], "the owner's netlink socket closed: no carrier left (%s)" % carriers())
    got = wait_reset(b)
    say(got == "reset", "the peer sees the connection reset: %s" % got)
    a.close()


def case_no_owner():
    a, b = pair()
    rc, out = nl("carrier-new", "sock-fd=s32:{fd}", fd=a.fileno())
    cid = out.split("carrier-id=")[1].split()[0] if "carrier-id=" in out else "?"
    time.sleep(0.3)
    say(rc == 0 and carriers() == [cid],
        "without socket-owner the carrier %s stays after funnel-nl exits (%s)" % (cid, carriers()))
    a.close()
    time.sleep(0.3)
    say(carriers() == [], "closing the socket removes it (%s)" % carriers())
    b.close()


def case_unpriv():
    ls = socket.create_server(("127.0.0.1", 0))
    a = socket.create_connection(ls.getsockname())
    try:
        a.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b"funnel")
        got = "attached"
    except PermissionError:
        got = "EPERM"
    except OSError as e:
        got = "error %s" % e
    say(got == "EPERM", "TCP_ULP funnel without CAP_NET_ADMIN: %s" % got)
    a.close()
    ls.close()


def case_cut_frame():
    ls = socket.create_server(("127.0.0.1", 0))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    a = socket.create_connection(ls.getsockname())
    b, _ = ls.accept()
    ls.close()
    a.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b"funnel")
    body = b"c" * 64000
    hdr = struct.pack("!HBBI", 1, 0, 0, 1)     # stream 1, DATA, flow 1
    sent = 0
    a.setblocking(False)
    try:
        while sent < 200:
            a.send(hdr + body)
            sent += 1
    except BlockingIOError:
        pass
    say(0 < sent < 200, "%d frames queued before a's queues were full" % sent)
    a.close()
    time.sleep(0.3)
    got = b""
    end = "eof"
    b.settimeout(5)
    try:
        while True:
            chunk = b.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    # walk the frames: where does the byte stream end?
    off, frames = 0, 0
    while off + 2 <= len(got):
        flen = struct.unpack("!H", got[off:off + 2])[0]
        if off + 2 + flen > len(got):
            break
        off += 2 + flen
        frames += 1
    whole = off == len(got)
    say(end == "reset" or (end == "eof" and whole),
        "b read %d bytes, %d whole frames, then %s%s" %
        (len(got), frames, end, "" if whole else " inside a frame"))
    b.close()


CASES = {
    "unpriv": case_unpriv,
    "cut-frame": case_cut_frame,
    "rst-before-new": case_rst_before_new,
    "owner": case_owner,
    "no-owner": case_no_owner,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    CASES[sys.argv[1]]()
    sys.exit(1 if FAILS else 0)
