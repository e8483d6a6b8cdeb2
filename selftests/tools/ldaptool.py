#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""LDAP bytes for the tests of funneld's LDAP plugin
(Documentation/plugins.md).

  ldaptool.py send HOST PORT HEX [SLOW_MS] [shut|done|K]
      Connect, send the bytes HEX (one byte every SLOW_MS ms if given
      and not 0; a "/" in HEX: a pause of 0.3 s there; @FILE: the hex
      in FILE), with "shut" then shut the connection down for writing;
      read what comes back until the end, a reset or 5 s of silence (with
      "done": or a SearchResultDone; with a number K: or K whole
      messages), and print one line: "reset N", "eof N", "silent N",
      "done N" or "whole N" (N bytes read),
      then the LDAPMessages read, one per line: "msg ID OPTAG LEN".
  ldaptool.py badservice PORT MODE
      An LDAP service on 127.0.0.1:PORT that answers each connection's
      first request with MODE: "request" (a SearchRequest: a request
      from the service), "indefinite" (30 80 ...), "good" (a
      SearchResultDone of the request's messageID), "credit" (an entry
      of 10000 bytes, then one of 60000 in two halves 0.3 s apart, then
      the done: the second completes while the flow's credit is under
      its length), "tail" (an entry of 200000 bytes whose first 4
      bytes come alone, then all but its last 3, then those 3) or
      "bighead" (the first 6 bytes of a SearchRequest of 100000 bytes,
      messageID 9, then the rest: a request from the service, long
      enough to go in pieces), each write 0.3 s after the one before;
      then it waits for the client to close (so that no FIN wakes
      funneld's reader).
  ldaptool.py hold HOST PORT N SECONDS
      Open N connections; on each write the first 49000 bytes of a
      SearchRequest of 49106 bytes, 50 bytes a write (TCP_NODELAY, so
      that the receiver's buffer is under pressure and funneld is woken
      for the partial message); then hold them SECONDS and close.
  ldaptool.py frames LOG STREAM [plugin]
      Check the frames that selftests/tools/mitm.py logged
      (MITM_FRAMELOG) for stream STREAM: in each direction of each flow,
      after the initiator's opening frame, each DATA frame holds whole
      LDAPMessages of one operation (plugins.md 5.3: one key, a barrier
      alone, nothing after an operation's last message), or a message
      longer than a frame comes in frames that hold its bytes alone, in
      a row.  Prints "frames F messages M pieces P" (P: frames of
      messages sent in pieces), with plugin " barriers B after A", then
      " packed K most N" (K: frames of several messages, N: the most
      messages in one) and exits 1, naming the first frame that breaks
      the rule, if one does.
"""
import socket
import sys
import time

FRAME_MAX = 65503	# FUNNEL_MAX_SEALED_PAYLOAD


def ber_len(b, i):
    """The length at b[i:] and the index after it, or None."""
    if i >= len(b):
        return None
    if b[i] < 0x80:
        return b[i], i + 1
    k = b[i] & 0x7f
    if k == 0 or k > 4 or i + 1 + k > len(b):
        return None
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k


def messages(b):
    """Whole messages at the start of b: (id, op tag, length) each."""
    out, off = [], 0
    while off < len(b) and b[off] == 0x30:
        r = ber_len(b, off + 1)
        if not r or r[1] + r[0] > len(b):
            break
        end = r[1] + r[0]
        mid = ber_len(b, r[1] + 1)
        if not mid:
            break
        v = int.from_bytes(b[mid[1]:mid[1] + mid[0]], "big")
        out.append((v, b[mid[1] + mid[0]], end - off))
        off = end
    return out


REQUESTS = (0, 2, 3, 6, 8, 10, 12, 14, 16, 23)


def msg_order(b):
    """A whole message's (key, barrier, last) by plugins.md 6.3; an
    ExtendedRequest counts as a barrier (StartTLS or not)."""
    r = ber_len(b, 1)
    mid = ber_len(b, r[1] + 1)
    key = int.from_bytes(b[mid[1]:mid[1] + mid[0]], "big")
    i = mid[1] + mid[0]
    tag, op = b[i], b[i] & 0x1f
    olen = ber_len(b, i + 1)
    if op == 16:		# AbandonRequest: the operation it abandons
        return int.from_bytes(b[olen[1]:olen[1] + olen[0]], "big"), False, False
    if key == 0 or op in (0, 1, 2, 23):
        return key, True, False
    if op == 24 and tag == 0x78 and b[olen[1]:olen[1] + 3] == b"\x0a\x01\x00":
        return key, True, False		# ExtendedResponse success
    return key, False, op not in REQUESTS and op not in (4, 19, 25)


def ber_tlv(tag, body):
    """A BER TLV with a definite length, as short as it goes."""
    n = len(body)
    if n < 128:
        return bytes([tag, n]) + body
    k = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | k]) + n.to_bytes(k, "big") + body


def entry(mid, size):
    """A SearchResultEntry of exactly size bytes (size > 200)."""
    octets = lambda b: ber_tlv(4, b)
    for pad in range(size, 0, -1):
        m = ber_tlv(0x30, ber_tlv(2, bytes([mid])) + ber_tlv(
            0x64, octets(b"uid=x") + ber_tlv(0x30, ber_tlv(
                0x30, octets(b"d") + ber_tlv(0x31, octets(b"a" * pad))))))
        if len(m) == size:
            return m
    raise ValueError("no entry of %d bytes" % size)


def done(mid):
    return bytes([0x30, 0x0c, 0x02, 0x01, mid, 0x65, 0x07,
                  0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])


def send(host, port, hexdata, slow_ms=0, shut=False, until_done=False,
         until_msgs=0):
    if hexdata.startswith("@"):		# the hex in a file
        hexdata = open(hexdata[1:]).read().strip()
    parts = [bytes.fromhex(h) for h in hexdata.split("/")]
    data = b"".join(parts)
    s = socket.create_connection((host, int(port)), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if len(parts) > 1:
        for k, part in enumerate(parts):
            if k:
                time.sleep(0.3)
            s.sendall(part)
    elif slow_ms:
        for k in range(len(data)):
            s.sendall(data[k:k + 1])
            time.sleep(slow_ms / 1000.0)
    else:
        s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    got, end = b"", "eof"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
            if until_done and any(m[1] == 0x65 for m in messages(got)):
                end = "done"
                break
            if until_msgs and len(messages(got)) >= until_msgs:
                end = "whole"
                break
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "silent"
    print("%s %d" % (end, len(got)), flush=True)
    for mid, tag, ln in messages(got):
        print("msg %d %02x %d" % (mid, tag, ln))
    return 0


def badservice(port, mode):
    ls = socket.create_server(("127.0.0.1", int(port)))
    while True:
        c, _ = ls.accept()
        c.settimeout(5)
        try:
            req = c.recv(65536)
            m = messages(req)
            mid = m[0][0] if m else 1
            if mode in ("credit", "tail", "bighead"):
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if mode == "credit":
                    a, b = entry(mid, 10000), entry(mid, 60000)
                    parts = [a, b[:30000], b[30000:], done(mid)]
                elif mode == "bighead":
                    b = ber_tlv(0x30, bytes([2, 1, 9]) +
                                ber_tlv(0x63, b"\x04" * 99980))
                    parts = [b[:6], b[6:]]
                else:
                    b = entry(mid, 200000)
                    parts = [b[:4], b[4:-3], b[-3:]]
                for k, part in enumerate(parts):
                    if k:
                        time.sleep(0.3)
                    c.sendall(part)
                c.recv(65536)
            if mode == "request":
                c.sendall(bytes([0x30, 0x05, 0x02, 0x01, mid, 0x63, 0x00]))
            elif mode == "indefinite":
                c.sendall(bytes([0x30, 0x80, 0x02, 0x01, mid]))
            else:
                c.sendall(done(mid))
            c.recv(65536)
        except OSError:
            pass
        c.close()


def hold(host, port, n, seconds):
    hdr = (bytes([0x30, 0x84]) + (49100).to_bytes(4, "big") +
           bytes([2, 1, 1, 0x63, 0x84]) + (49089).to_bytes(4, "big"))
    data = hdr + b"\x04" * (49000 - len(hdr))
    socks = []
    for _ in range(int(n)):
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for k in range(0, len(data), 50):
            s.sendall(data[k:k + 50])
        socks.append(s)
    print("holding %d" % len(socks), flush=True)
    time.sleep(float(seconds))
    return 0


def frames(log, stream, plugin=False):
    stream = int(stream)
    seen = set()		# (dir, flow) whose opening frame went by
    left = {}		# (dir, flow) -> bytes of a message in pieces
    nseq = {}		# plugin: (dir, flow) -> the next Sequence
    nframes = nmsgs = pieces = barriers = deps = packed = most = 0
    for n, line in enumerate(open(log), 1):
        d, st, ftype, _, flow, ln, head = line.split()
        if int(st) != stream or ftype != "0":
            continue
        key, ln = (d, flow), int(ln)
        body = b"" if head == "-" else bytes.fromhex(head)
        if plugin:
            # the sub-header: Sequence 0, 1, 2... on an ordered stream;
            # M on each piece of a message but its last, After 1 there
            if len(body) < 8:
                print("line %d: no sub-header: %s" % (n, line.strip()))
                return 1
            seq, fl, after = (int.from_bytes(body[:4], "big"), body[4],
                              int.from_bytes(body[5:8], "big"))
            want = nseq.get(key, 0 if d == "i" else 1)
            if seq != want or fl & 0x3f or (fl & 0x80 and after):
                print("line %d: sub-header Sequence %d (want %d) flags "
                      "0x%02x After %d" % (n, seq, want, fl, after))
                return 1
            more = bool(fl & 0x40)
            if left.get(key) and after != 1:
                print("line %d: a piece with After %d" % (n, after))
                return 1
            nseq[key] = seq + 1
            barriers += bool(fl & 0x80)
            deps += after > 0
            body, ln = body[8:], ln - 8
        if d == "i" and key not in seen:
            seen.add(key)		# the opening frame (its origin)
            continue
        nframes += 1
        if plugin and more != (left.get(key, 0) > ln or
                               (not left.get(key) and body[:1] == b"\x30"
                                and ber_len(body, 1) and
                                sum(ber_len(body, 1)) > ln)):
            print("line %d: M is %s" % (n, more))
            return 1
        if left.get(key):
            if ln > left[key]:
                print("line %d: a frame of %d bytes holds the end of a "
                      "message (%d bytes) and more" % (n, ln, left[key]))
                return 1
            left[key] -= ln
            pieces += 1
            continue
        r = ber_len(body, 1) if body[:1] == b"\x30" else None
        if not r:
            print("line %d: a frame that does not start an LDAPMessage: %s"
                  % (n, line.strip()))
            return 1
        total = r[1] + r[0]
        if total < ln:
            # several whole messages of one operation (plugins.md 5.3)
            if len(body) < ln:
                print("line %d: a frame logged in part" % n)
                return 1
            msgs = messages(body)
            if sum(m[2] for m in msgs) == ln:
                off, keys, end = 0, set(), False
                for m in msgs:
                    k, bar, last = msg_order(body[off:off + m[2]])
                    off += m[2]
                    if bar or end:
                        print("line %d: a frame of %d messages holds a "
                              "barrier, or a message after its "
                              "operation's last" % (n, len(msgs)))
                        return 1
                    keys.add(k)
                    end = last
                if len(keys) > 1:
                    print("line %d: a frame holds messages of operations "
                          "%s" % (n, sorted(keys)))
                    return 1
                nmsgs += len(msgs)
                packed += 1
                most = max(most, len(msgs))
                continue
        nmsgs += 1
        most = max(most, 1)
        if total == ln:
            continue
        if total < ln:
            print("line %d: a frame of %d bytes holds a message of %d and "
                  "more" % (n, ln, total))
            return 1
        if total <= 49152:
            print("line %d: a message of %d bytes sent in pieces (the "
                  "first %d)" % (n, total, ln))
            return 1
        left[key] = total - ln
        pieces += 1
    print("frames %d messages %d pieces %d" % (nframes, nmsgs, pieces) +
          (" barriers %d after %d" % (barriers, deps) if plugin else "") +
          " packed %d most %d" % (packed, most))
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) in (4, 5, 6) and a[0] == "send":
        sys.exit(send(a[1], a[2], a[3], int(a[4]) if len(a) > 4 else 0,
                      len(a) > 5 and a[5] == "shut",
                      len(a) > 5 and a[5] == "done",
                      int(a[5]) if len(a) > 5 and a[5].isdigit() else 0))
    if len(a) == 3 and a[0] == "badservice":
        sys.exit(badservice(a[1], a[2]))
    if len(a) == 5 and a[0] == "hold":
        sys.exit(hold(a[1], a[2], a[3], a[4]))
    if len(a) in (3, 4) and a[0] == "frames":
        sys.exit(frames(a[1], a[2], len(a) == 4 and a[3] == "plugin"))
    sys.exit(__doc__)
