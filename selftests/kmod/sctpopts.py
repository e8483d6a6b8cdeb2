#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The SCTP timers of another process's SCTP sockets, for
selftests/kmod/t_74_funneld_sctp.sh: what funneld set on its carriers.

sctpopts.py PID: for each SCTP socket PID holds, one line
    fd N rto-initial MS rto-min MS rto-max MS sack-delay MS sack-freq N
(the association's values when the socket has one, else the socket's
defaults for the associations to come).
sctpopts.py PID strreset: instead, one line for each
    fd N listener|association strreset V
V: SCTP_ENABLE_STREAM_RESET (4: add-streams taken, RFC 6525).  The socket is borrowed with
pidfd_getfd(2) (Linux 5.6 or later; root).  Exit 1 when there is none.
"""
import ctypes
import os
import socket
import struct
import sys

SOL_SCTP = 132
SCTP_RTOINFO = 0
SCTP_DELAYED_SACK = 16
SCTP_ENABLE_STREAM_RESET = 118
SYS_PIDFD_GETFD = 438   # x86_64


def borrow(pidfd, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    n = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    if n < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return n


def main():
    pid = int(sys.argv[1])
    pidfd = os.pidfd_open(pid)
    found = 0
    for name in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        try:
            if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                continue
            s = socket.socket(fileno=borrow(pidfd, int(name)))
        except OSError:
            continue
        try:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) != SOL_SCTP:
                continue
            if len(sys.argv) > 2 and sys.argv[2] == "strreset":
                lst = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                _, v = struct.unpack("=iI", s.getsockopt(
                    SOL_SCTP, SCTP_ENABLE_STREAM_RESET, 8))
                found += 1
                print(f"fd {name} {'listener' if lst else 'association'} strreset {v}")
                continue
            # a one-to-one socket: the association id is not looked at
            _, initial, rmax, rmin = struct.unpack(
                "=iIII", s.getsockopt(SOL_SCTP, SCTP_RTOINFO, 16))
            _, delay, freq = struct.unpack(
                "=iII", s.getsockopt(SOL_SCTP, SCTP_DELAYED_SACK, 12))
        except OSError:
            continue
        finally:
            s.close()
        found += 1
        print(f"fd {name} rto-initial {initial} rto-min {rmin} "
              f"rto-max {rmax} sack-delay {delay} sack-freq {freq}")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
