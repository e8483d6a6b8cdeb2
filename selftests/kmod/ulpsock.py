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


CASES = {
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
