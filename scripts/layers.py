#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that ctl/'s includes point one way only.

The parts of ctl/ and what each may include are listed in
Documentation/architecture.md, in the block between the lines
"<!-- layers -->" and "<!-- /layers -->":

    PART: DIR-OR-FILE... -> PART...

A part lists its files or folders (a folder: every file below it that
no longer entry names), then the parts it may include besides itself.
Every .c and .h file under ctl/ must belong to exactly one part, every
include of a file of ctl/ (quoted, or in angle brackets) must name it
by its plain path from ctl/, a file of its own part or of an allowed
one, a priv.h only from its own folder, and the allowed edges must have
no cycle.  Prints TAP; exit 1 on failure.

usage: layers.py [--doc FILE] [--ctl DIR]
"""
import argparse
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A header of this name holds what the files of its folder share only.
PRIVATE = "priv.h"


def parse_doc(path):
    parts, order = {}, []
    inside = False
    with open(path) as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if s == "<!-- layers -->":
                inside = True
                continue
            if s == "<!-- /layers -->":
                inside = False
                continue
            if not inside or not s or s.startswith("```"):
                continue
            m = re.match(r"^([\w-]+):\s*(.*?)\s*->\s*(.*)$", s)
            if not m:
                raise SystemExit("%s:%d: not PART: FILES -> PARTS: %r"
                                 % (path, n, s))
            name, files, deps = m.group(1), m.group(2).split(), m.group(3)
            deps = [] if deps.strip() == "-" else deps.split()
            parts[name] = (files, deps)
            order.append(name)
    if not parts:
        raise SystemExit("%s: no <!-- layers --> block" % path)
    return parts, order


def part_of(rel, parts):
    """The part whose entry is the longest match of rel (ctl/-relative)."""
    best, blen = None, -1
    for name, (files, _) in parts.items():
        for e in files:
            e = e.rstrip("/")
            hit = rel == e or rel.startswith(e + "/") or \
                os.path.splitext(rel)[0] == e
            if hit and len(e) > blen:
                best, blen = name, len(e)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", default=os.path.join(
        TOP, "Documentation", "architecture.md"))
    ap.add_argument("--ctl", default=os.path.join(TOP, "ctl"))
    a = ap.parse_args()
    parts, order = parse_doc(a.doc)
    fails = 0
    n = 0

    def result(ok, what, diag=()):
        nonlocal fails, n
        n += 1
        print("%sok %d - layers: %s" % ("" if ok else "not ", n, what))
        for d in diag:
            print("# " + d)
        if not ok:
            fails += 1

    bad = ["%s -> %s: no such part" % (p, d)
           for p, (_, deps) in parts.items() for d in deps if d not in parts]
    # a cycle: depth-first search over the allowed edges
    state = {}

    def visit(p, path):
        if state.get(p) == 1:
            bad.append("cycle: " + " -> ".join(path + [p]))
            return
        if state.get(p) == 2:
            return
        state[p] = 1
        for d in parts[p][1]:
            if d in parts:
                visit(d, path + [p])
        state[p] = 2
    for p in order:
        visit(p, [])
    result(not bad, "the parts and their edges form no cycle", bad)

    files = []
    for root, _, names in os.walk(a.ctl):
        for nm in names:
            if nm.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(root, nm), a.ctl))
    files.sort()
    lost = [f for f in files if part_of(f, parts) is None]
    result(not lost, "every file of ctl/ belongs to a part",
           ["ctl/%s is in no part" % f for f in lost])

    wrong = []
    for f in files:
        p = part_of(f, parts)
        if p is None:
            continue
        with open(os.path.join(a.ctl, f)) as fh:
            for ln, line in enumerate(fh, 1):
                m = re.match(r'\s*#\s*include\s*(?:"([^"]+)"|<([^>]+)>)',
                             line)
                if not m:
                    continue
                inc = m.group(1) or m.group(2)
                here = os.path.exists(os.path.join(a.ctl, inc))
                if m.group(2) and not here:
                    continue            # a system header
                if os.path.normpath(inc) != inc:
                    wrong.append("ctl/%s:%d: \"%s\" is not a plain path "
                                 "from ctl/" % (f, ln, inc))
                    continue
                if not here:
                    wrong.append("ctl/%s:%d: \"%s\" is not a path from ctl/"
                                 % (f, ln, inc))
                    continue
                q = part_of(inc, parts)
                if q != p and q not in parts[p][1]:
                    wrong.append("ctl/%s:%d: %s includes %s (%s), which "
                                 "architecture.md does not allow"
                                 % (f, ln, p, inc, q))
                elif os.path.basename(inc) == PRIVATE and \
                        not f.startswith(os.path.dirname(inc) + "/"):
                    wrong.append("ctl/%s:%d: %s is private to %s/"
                                 % (f, ln, inc, os.path.dirname(inc)))
    result(not wrong, "every include points the way architecture.md draws",
           wrong)
    print("1..%d" % n)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
