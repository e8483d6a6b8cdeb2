#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A man in the middle of a Funnel TCP carrier, for tests.

  mitm.py proxy LISTEN_PORT HOST PORT CTRL_PORT
      Accept carriers on 127.0.0.1:LISTEN_PORT and relay each to
      HOST:PORT, frame by frame (wire-format.md sections 3-5): the
      initiator's preamble, then length-prefixed frames both ways.
      Commands on 127.0.0.1:CTRL_PORT, one line "ACTION STREAM [NTH]",
      act on the NTH (1 unless given) next sealed DATA frame with a
      payload of that stream (stream 0: sealed CTRL frame, a control
      message) from the initiator (the client side) to the acceptor;
      the answers: "armed" at once, then once done
      "done ACTION STREAM flow F counter C":
        drop     the frame is not relayed
        reorder  it is relayed after the next frame of its stream
        forge    one bit of its ciphertext is flipped
        replay   it is relayed twice
        inject   relayed, then an unsealed DATA frame of its flow
        end      an unsealed FLOW_END of its flow goes first (a
                 truncation), then the frame
        endreset an unsealed FLOW_END with R of its flow goes first (a
                 forged reset), then the frame
        keep     relayed, and kept for resend
        resend   the frame kept on that stream goes again, then this
                 one (a replay of an old frame, much later)
      and two that act at the next change of key (the K flag) on that
      stream, on the last frame of the old key (NTH is ignored):
        dropkey     the frame is not relayed
        reorderkey  it is relayed after the first frame of the new key
      For those two, each DATA frame of the stream is held until the
      next one comes, or until 50 ms pass without a frame from the
      initiator (its sender may be waiting for credit); but not from
      the initiator's GSS-API token on that stream (a rekey; the token
      goes on at once) until the first frame of the new key, 5 s at
      most: the initiator sends nothing while it takes the acceptor's
      answer (a GSS-API step, often more than 50 ms under valgrind and
      load), often nothing between its token and that answer either,
      and the frame then held is the last of the old key.
      "cut 0" ends every carrier at once with a TCP reset both ways.
      With MITM_FRAMELOG=FILE in the environment, each frame relayed is
      logged there as a line "DIR STREAM TYPE FLAGS FLOW LEN BODY": DIR
      i (from the initiator) or a, BODY the whole body in hex ("-" if
      empty).
      On a plaintext carrier, one more acts on the next unsealed DATA
      frame of that stream whose body is 16 or 40 bytes (a TCP flow's
      opening frame with its origin, wire-format.md 6.1):
        badorigin   the origin's family byte becomes 5
      and on the NTH next unsealed DATA frame of a plugin stream
      (plugins.md 5.2; the opening frame and an empty last frame
      count), from the initiator:
        subreserved  a reserved bit of its sub-header is set
        subahead     its Sequence goes 1000000 further
        subreplay    it is relayed twice
        subdrop      it is not relayed
        subhold      it is relayed after the next frame of its stream
        subhold2     it is relayed after the next two (a FLOW_END too)
  mitm.py ctl CTRL_PORT ACTION STREAM [NTH]
      Send one command, print the answers as they come (exit 1 without
      "done" within 20 s).
"""
import os
import select
import socket
import struct
import sys
import threading
import time

HDR = struct.Struct(">HBBI")	# stream, type, flags, flow
T_DATA, T_CTRL, T_FLOW_END = 0, 1, 2
F_SEALED, F_KEY_PHASE, F_RESET = 0x02, 0x04, 0x08
PREAMBLE_LEN = 8
SEAL_OVERHEAD = 24
REKEY_HOLD = 5.0	# s: dropkey, reorderkey: a frame held for a new key

lock = threading.Lock()
framelog = None		# MITM_FRAMELOG: a line per frame relayed
actions = {}		# stream -> [action, reply socket, frames to let by]
held = {}		# stream -> a frame held back (reorder)
kept = {}		# stream -> a frame kept for resend
held_n = {}		# stream -> [frame, frames to let by first] (subhold2)
last = {}		# stream -> the last frame, held (dropkey, reorderkey)
rekeying = {}		# stream -> until when its frame held waits for the new key
conns = []		# every socket of every carrier


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        got = s.recv(n - len(b))
        if not got:
            return None
        b += got
    return b


def frame_bytes(frame):
    return struct.pack(">H", len(frame)) + frame


def reset(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()
    except OSError:
        pass


def at_key_change(stream, frame, flags, a):
    """dropkey, reorderkey: hold each frame of the stream until the next
    one; the held one is the last of its key when the K flag changes.
    Returns the frames to send and the frame acted on (or None)."""
    h = last.pop(stream, None)
    if h is None:
        last[stream] = frame
        return [], None
    if (h[3] ^ flags) & F_KEY_PHASE == 0:
        last[stream] = frame
        return [h], None
    del actions[stream]
    rekeying.pop(stream, None)
    return ([frame] if a[0] == "dropkey" else [frame, h]), h


def held_to_release():
    """After a silence from the initiator: the frames held that go on,
    all but those waiting for a new key (lock held)."""
    now = time.monotonic()
    out = []
    for stream in list(last):
        if rekeying.get(stream, 0) > now:
            continue
        rekeying.pop(stream, None)
        out.append(last.pop(stream))
    return out


def tamper(frame):
    """What to send for a frame from the initiator: a list of frames."""
    stream, ftype, flags, flow = HDR.unpack_from(frame)
    with lock:
        h = held.pop(stream, None)
        if h is not None:
            return [frame, h]
        hn = held_n.get(stream)
        if hn is not None:
            hn[1] -= 1
            if hn[1] > 0:
                return [frame]
            del held_n[stream]
            return [frame, hn[0]]
        a = actions.get(stream)
        if (a and a[0] == "badorigin" and ftype == T_DATA and
                not flags & F_SEALED and
                len(frame) - HDR.size in (16, 40)):
            del actions[stream]
            b = bytearray(frame)
            b[HDR.size] = 5
            try:
                a[1].sendall(b"done badorigin %d flow %d counter 0\n" %
                             (stream, flow))
                a[1].close()
            except OSError:
                pass
            return [bytes(b)]
        if (a and a[0].startswith("sub") and ftype == T_DATA and
                not flags & F_SEALED and len(frame) >= HDR.size + 8):
            if a[2] > 1:
                a[2] -= 1
                return [frame]
            del actions[stream]
            b = bytearray(frame)
            out = [bytes(b)]
            if a[0] == "subreserved":
                b[HDR.size + 4] |= 0x01
                out = [bytes(b)]
            elif a[0] == "subahead":
                seq = struct.unpack_from(">I", b, HDR.size)[0]
                struct.pack_into(">I", b, HDR.size, (seq + 1000000) & 0xffffffff)
                out = [bytes(b)]
            elif a[0] == "subreplay":
                out = [frame, frame]
            elif a[0] == "subdrop":
                out = []
            elif a[0] == "subhold":
                held[stream] = frame
                out = []
            elif a[0] == "subhold2":
                held_n[stream] = [frame, 2]
                out = []
            try:
                a[1].sendall(b"done %s %d flow %d counter 0\n" %
                             (a[0].encode(), stream, flow))
                a[1].close()
            except OSError:
                pass
            return out
        want = T_CTRL if stream == 0 else T_DATA
        if (a and a[0] in ("dropkey", "reorderkey") and stream != 0 and
                ftype == T_CTRL):
            # the initiator's token: its rekey starts; the frame held
            # waits for the first of the new key, and goes after this
            rekeying[stream] = time.monotonic() + REKEY_HOLD
            return [frame]
        if (not a or ftype != want or not flags & F_SEALED or
                len(frame) <= HDR.size + SEAL_OVERHEAD):
            h = last.pop(stream, None)	# any other frame: in order
            return [frame] if h is None else [h, frame]
        if a[0] in ("dropkey", "reorderkey"):
            out, h = at_key_change(stream, frame, flags, a)
            if h is None:
                return out
            frame = h
            flow = HDR.unpack_from(h)[3]
            out_keep = out
        else:
            out_keep = None
            if a[2] > 1:
                a[2] -= 1
                return [frame]
            del actions[stream]
    action, reply, _ = a
    counter = struct.unpack_from(">Q", frame, HDR.size)[0]
    plain = flags & ~(F_SEALED | F_KEY_PHASE)
    out = [frame]
    if out_keep is not None:
        out = out_keep
    elif action == "drop":
        out = []
    elif action == "reorder":
        with lock:
            held[stream] = frame
        out = []
    elif action == "forge":
        b = bytearray(frame)
        b[-17] ^= 0x01		# the last byte of the ciphertext
        out = [bytes(b)]
    elif action == "replay":
        out = [frame, frame]
    elif action == "inject":
        out = [frame, HDR.pack(stream, T_DATA, plain, flow) + b"injected"]
    elif action == "end":
        out = [HDR.pack(stream, T_FLOW_END, plain, flow), frame]
    elif action == "endreset":
        out = [HDR.pack(stream, T_FLOW_END, plain | F_RESET, flow), frame]
    elif action == "keep":
        with lock:
            kept[stream] = frame
    elif action == "resend":
        with lock:
            k = kept.pop(stream, None)
        out = [frame] if k is None else [k, frame]
    try:
        reply.sendall(b"done %s %d flow %d counter %d\n" %
                      (action.encode(), stream, flow, counter))
        reply.close()
    except OSError:
        pass
    return out


def log_frame(frame, from_initiator):
    if len(frame) < HDR.size:
        return
    stream, ftype, flags, flow = HDR.unpack_from(frame)
    body = frame[HDR.size:]
    with lock:
        framelog.write("%s %d %d %d %d %d %s\n" % (
            "i" if from_initiator else "a", stream, ftype, flags, flow,
            len(body), body.hex() or "-"))
        framelog.flush()


def pump(src, dst, from_initiator):
    try:
        if from_initiator:
            pre = recv_exact(src, PREAMBLE_LEN)
            if pre is None:
                return
            dst.sendall(pre)
        while True:
            # a frame held to see whether its key is the last one goes
            # on when nothing follows soon (its sender may be waiting
            # for credit), unless a rekey of its stream is under way
            if from_initiator and last and \
                    not select.select([src], [], [], 0.05)[0]:
                with lock:
                    out = held_to_release()
                if out:
                    dst.sendall(b"".join(frame_bytes(f) for f in out))
                continue
            p = recv_exact(src, 2)
            if p is None:
                return
            frame = recv_exact(src, struct.unpack(">H", p)[0])
            if frame is None:
                return
            if framelog:
                log_frame(frame, from_initiator)
            out = tamper(frame) if from_initiator else [frame]
            dst.sendall(b"".join(frame_bytes(f) for f in out))
    except OSError:
        pass
    finally:
        with lock:
            for s in (src, dst):
                if s in conns:
                    conns.remove(s)
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def control(ls):
    while True:
        c, _ = ls.accept()
        line = c.makefile("r").readline().split()
        if len(line) not in (2, 3):
            c.close()
            continue
        if line[0] == "cut":
            with lock:
                dead = list(conns)
                conns.clear()
            for s in dead:
                reset(s)
            c.sendall(b"done cut %d carriers\n" % (len(dead) // 2))
            c.close()
            continue
        with lock:
            actions[int(line[1])] = [line[0], c,
                                     int(line[2]) if len(line) > 2 else 1]
        try:
            c.sendall(b"armed\n")
        except OSError:
            pass


def proxy(lport, host, port, cport):
    cs = socket.create_server(("127.0.0.1", cport))
    threading.Thread(target=control, args=(cs,), daemon=True).start()
    ls = socket.create_server(("127.0.0.1", lport))
    print("listening", flush=True)
    while True:
        a, _ = ls.accept()
        try:
            b = socket.create_connection((host, port))
        except OSError:
            a.close()
            continue
        with lock:
            conns.extend((a, b))
        threading.Thread(target=pump, args=(a, b, True), daemon=True).start()
        threading.Thread(target=pump, args=(b, a, False), daemon=True).start()


def ctl(cport, action, stream, nth="1"):
    s = socket.create_connection(("127.0.0.1", cport))
    s.settimeout(20.0)
    s.sendall(b"%s %s %s\n" % (action.encode(), stream.encode(),
                               nth.encode()))
    ans = ""
    try:
        for line in s.makefile("r"):
            ans = line.strip()
            print(ans, flush=True)
            if not ans.startswith("armed"):
                break
    except OSError:
        pass
    if not ans.startswith("done"):
        print("no answer", flush=True)
    return 0 if ans.startswith("done") else 1


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "proxy":
        if os.environ.get("MITM_FRAMELOG"):
            framelog = open(os.environ["MITM_FRAMELOG"], "a")
        proxy(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
              int(sys.argv[5]))
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "ctl":
        sys.exit(ctl(int(sys.argv[2]), *sys.argv[3:]))
    else:
        sys.exit(__doc__)
