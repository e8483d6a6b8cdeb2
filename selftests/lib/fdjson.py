# SPDX-License-Identifier: GPL-2.0
"""The evaluator behind services.sh's fd_json: Python expressions over a
funneld's `show --json`, answered by one long-lived process (python
starts slowly in the TCG test VM, and tests poll the daemons' state
many times).

fdjson.py --serve DIR: read requests on stdin, answer on stdout, until
DIR (the tests' $SVC_DIR) is gone or nothing was asked for 30 minutes.
A request is one line, its fields separated by \x1f:

    ID \x1f EXPR [\x1f EXPR...] \x1f JSON

(a newline inside an EXPR sent as \x01; JSON's newlines, whitespace
there, as spaces).  The answer is the lines fd_json prints, each as
"ID o LINE" (its stdout) or "ID e LINE" (its stderr), then "ID end
STATUS".  ID is the asker's own, so that a reader never takes an earlier
answer for its own; a request cut short (its asker killed) spoils only
itself.

In the expressions j is the object; carrier([PEER]), stream(SERVICE[,
CARRIER]) and map_(PORT) find things, {} if absent.  One EXPR: a list
prints one element a line, None nothing, a bool "true"/"false" and sets
the status.  Several EXPRs: one line each (lists space-separated).
"""
import json
import os
import select
import sys

IDLE_LIMIT = 1800


def evaluate(j, exprs):
    """(lines for stdout, lines for stderr, exit status)"""
    def carrier(peer=None):
        for c in j.get("carriers", []):
            if peer is None or c.get("peer") == peer:
                return c
        return {}

    def stream(service, c=None):
        for c in ([c] if c else j.get("carriers", [])):
            for s in c.get("streams", []):
                if s.get("service") == service:
                    return s
        return {}

    def map_(port):
        for m in j.get("maps", []):
            if str(m.get("addr", "")).endswith(":" + str(port)) or \
               str(m.get("addr")) == str(port):
                return m
        return {}

    names = {"j": j, "json": json, "carrier": carrier, "stream": stream,
             "map_": map_}
    out, err, rc = [], [], 0
    for e in exprs:
        try:
            v = eval("(" + e + "\n)", names)
        except Exception as x:
            err.append("fd_json: %s: %r" % (e, x))
            if len(exprs) == 1:
                return out, err, 1
            v, rc = None, 1
        if isinstance(v, bool):
            out.append("true" if v else "false")
            if len(exprs) == 1 and not v:
                rc = 1
        elif len(exprs) > 1:
            out.append("" if v is None else " ".join(map(str, v))
                       if isinstance(v, (list, tuple)) else str(v))
        elif isinstance(v, (list, tuple)):
            out.extend(str(x) for x in v)
        elif v is not None:
            out.append(str(v))
    return out, err, rc


def answer(rid, exprs, text):
    try:
        j = json.loads(text)
    except ValueError as x:
        out, err, rc = [], ["fd_json: show --json is no JSON: %s" % x], 1
    else:
        out, err, rc = evaluate(j, exprs)
    lines = []
    for kind, got in (("o", out), ("e", err)):
        for ln in got:
            lines.extend("%s %s %s" % (rid, kind, part)
                         for part in str(ln).split("\n"))
    lines.append("%s end %d" % (rid, rc))
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def serve(svc_dir):
    buf = b""
    while True:
        waited = 0
        while b"\n" not in buf:
            if not select.select([0], [], [], 5)[0]:
                waited += 5
                # the tests' directory gone: they are over
                if not os.path.isdir(svc_dir) or waited >= IDLE_LIMIT:
                    return
                continue
            chunk = os.read(0, 1 << 16)
            if not chunk:
                return
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        fields = line.decode(errors="replace").split("\x1f")
        if len(fields) < 3:
            print("fdjson: bad request %r" % line[:200], file=sys.stderr)
            continue
        exprs = [e.replace("\x01", "\n") for e in fields[1:-1]]
        answer(fields[0], exprs, fields[-1])


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--serve":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    serve(sys.argv[2])
