#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check what the kernel's ynl-gen-c.py does not: the spec's documentation
and the texts and tables that repeat it.

The uAPI header and the kernel's policies and operation table are
generated from Documentation/netlink/specs/funnel.yaml and compared byte
for byte with the committed ones (scripts/ynl.sh check); this script
checks the rest, one TAP line per group:

  - the spec documents every operation;
  - ctl/common/nlnames.c, the name tables of funnelctl and funnel-nl, has the
    spec's attribute names, types and numbers, commands and capability
    bits (C programs compiled against the generated uAPI header);
  - the counters of the "stats" attribute set are those of the counter
    tables of Documentation/architecture.md (section 10) and
    operations.md and of the COUNTERS section of funnelctl(8);
  - the operation table of architecture.md (section 11) has every
    request operation with its modes (do, dump) and privilege, and its
    notification paragraph every event and the multicast group.

Exit status: 0 when everything agrees, 1 when something does not.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))

NLNAMES_KINDS = {
    "u8": "FUNNEL_NLA_U8", "u16": "FUNNEL_NLA_U16", "u32": "FUNNEL_NLA_U32",
    "u64": "FUNNEL_NLA_U64", "s32": "FUNNEL_NLA_S32",
    "string": "FUNNEL_NLA_STRING", "flag": "FUNNEL_NLA_FLAG",
    "binary": "FUNNEL_NLA_BINARY", "nest": "FUNNEL_NLA_NEST",
    "pad": "FUNNEL_NLA_PAD",
}


def c_name(s):
    return s.upper().replace("-", "_")


def c_str(s):
    """A C string literal for a plain ASCII string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, diag=()):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%sok %d - %s" % ("" if ok else "not ", self.n, name))
        for line in diag:
            print("# " + line)
        sys.stdout.flush()

    def plan(self):
        print("1..%d" % self.n)


class Spec:
    """What the YAML defines, named as ynl-gen-c.py names it in C."""

    def __init__(self, doc):
        self.doc = doc
        self.family = doc["name"]

    def attr_sets(self):
        """Yield (set, list of (attr, C name, value)), unused ones left out."""
        for s in self.doc["attribute-sets"]:
            prefix = s.get("name-prefix")
            if prefix is None:
                if s["name"] == self.family:
                    prefix = self.family + "-a-"
                else:
                    prefix = "%s-a-%s-" % (self.family, s["name"])
            value = 1
            items = []
            for a in s["attributes"]:
                if "value" in a:
                    value = a["value"]
                if a.get("type") != "unused":
                    items.append((a, c_name(prefix + a["name"]), value))
                value += 1
            yield s, items

    def operations(self):
        """List of (op, C name, modes): modes of "do", "dump", "event"."""
        ops = self.doc["operations"]
        prefix = ops.get("name-prefix", self.family + "-cmd-")
        items = []
        for o in ops["list"]:
            modes = [m for m in ("do", "dump", "event") if m in o]
            if modes:
                items.append((o, c_name(prefix + o["name"]), modes))
        return items

    def counters(self):
        """Names of the counters of the stats set, in order."""
        for s, items in self.attr_sets():
            if s["name"] == "stats":
                return [a["name"] for a, _, _ in items if a["type"] != "pad"]
        return []


class Compiler:
    def __init__(self, cc, uapi, tmp):
        self.cc = cc
        self.uapi = uapi
        self.tmp = tmp
        self.count = 0

    def run(self, source, extra_src=(), extra_inc=()):
        """Compile and run source; returns (ok, diagnostic lines)."""
        self.count += 1
        base = os.path.join(self.tmp, "check%d" % self.count)
        with open(base + ".c", "w") as f:
            f.write(source)
        cmd = [self.cc, "-std=gnu11", "-Wall", "-Werror", "-I", self.uapi]
        for d in extra_inc:
            cmd += ["-I", d]
        cmd += ["-o", base, base + ".c"] + list(extra_src)
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        if p.returncode:
            lines = [l for l in p.stdout.splitlines()
                     if "error" in l or "undeclared" in l]
            return False, (lines or p.stdout.splitlines())[:30]
        p = subprocess.run([base], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        return p.returncode == 0, p.stdout.splitlines()[:30]


NLNAMES_PROLOGUE = """#include <stdio.h>
#include <string.h>
#include <linux/funnel.h>
#include "common/nlnames.h"

static int failures;

static void check_str(const char *what, const char *got, const char *want)
{
	if (!got || strcmp(got, want)) {
		printf("%s is \\"%s\\", the YAML says \\"%s\\"\\n", what,
		       got ? got : "(null)", want);
		failures++;
	}
}

static void check_int(const char *what, long long got, long long want)
{
	if (got != want) {
		printf("%s is %lld, the YAML says %lld\\n", what, got, want);
		failures++;
	}
}

static void check_attr(const struct funnel_attr_set *s, unsigned int type,
		       const char *name, int kind, int hint, int nest)
{
	const struct funnel_attr_desc *d = funnel_attr_desc(s, type);
	char what[128];

	snprintf(what, sizeof(what), "nlnames %s attribute %u", s->name, type);
	if (!d) {
		printf("%s (%s) is missing\\n", what, name);
		failures++;
		return;
	}
	check_str(what, d->name, name);
	snprintf(what, sizeof(what), "nlnames %s.%s kind", s->name, name);
	check_int(what, d->kind, kind);
	snprintf(what, sizeof(what), "nlnames %s.%s hint", s->name, name);
	check_int(what, d->hint, hint);
	if (kind == FUNNEL_NLA_NEST) {
		snprintf(what, sizeof(what), "nlnames %s.%s nest", s->name, name);
		check_int(what, d->nest, nest);
	}
}

static void check_count(const struct funnel_attr_set *s, unsigned int want)
{
	unsigned int n = 0;

	for (unsigned int t = 0; t <= s->max; t++)
		n += funnel_attr_desc(s, t) != NULL;
	check_int("nlnames attributes in set", n, want);
}

int main(void)
{
	const struct funnel_attr_set *s;
"""


def nlnames_source(spec):
    """Runtime checks of the tables in ctl/common/nlnames.c."""
    out = [NLNAMES_PROLOGUE]
    set_ids = {}
    for s, _ in spec.attr_sets():
        set_ids[s["name"]] = "FUNNEL_SET_" + c_name(s["name"])
    for s, items in spec.attr_sets():
        out.append("\ts = funnel_attr_set(%s);\n" % set_ids[s["name"]])
        out.append('\tcheck_str("nlnames set name", s->name, %s);\n'
                   % c_str(s["name"]))
        for a, cname, value in items:
            kind = NLNAMES_KINDS.get(a["type"], "-1")
            hint = "FUNNEL_HINT_NONE"
            if a.get("display-hint") == "ipv4":
                hint = "FUNNEL_HINT_IPV4"
            elif a.get("display-hint") == "ipv6":
                hint = "FUNNEL_HINT_IPV6"
            elif a.get("byte-order") == "big-endian":
                hint = "FUNNEL_HINT_BE"
            nest = set_ids.get(a.get("nested-attributes"), "-1")
            # the YAML's number, and the generated header's C name for it
            out.append("\t_Static_assert(%s == %d, %s);\n"
                       % (cname, value, c_str("%s is %d" % (cname, value))))
            out.append("\tcheck_attr(s, %s, %s, %s, %s, %s);\n"
                       % (cname, c_str(a["name"]), kind, hint, nest))
        out.append("\tcheck_count(s, %d);\n" % len(items))
    ops = spec.operations()
    for o, cname, _ in ops:
        out.append('\tcheck_str("nlnames command %s", funnel_cmd_name(%s), %s);\n'
                   % (cname, cname, c_str(o["name"])))
    if ops:
        out.append('\tcheck_int("nlnames funnel_cmd_max()", funnel_cmd_max(), %s);\n'
                   % ops[-1][1])
    for d in spec.doc.get("definitions", []):
        if d["type"] != "flags":
            continue
        for bit, e in enumerate(d["entries"]):
            ename = e if isinstance(e, str) else e["name"]
            out.append('\tcheck_str("nlnames capability bit %d", '
                       'funnel_cap_name(%d), %s);\n' % (bit, bit, c_str(ename)))
    out.append("\treturn failures != 0;\n}\n")
    return "".join(out)


def md_table(text, header):
    """Rows (lists of cells) of the markdown table whose header row starts
    with header; None when there is none."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip("|").split("|")])
            return rows
    return None


def names_in(cell):
    return re.findall(r"`([a-z0-9-]+)`", cell)


def compare(what, listed, want, where):
    """Diagnostics for a list of names that should be the set want."""
    diag = []
    for n in sorted(set(want) - set(listed)):
        diag.append("%s: %s is missing from %s" % (what, n, where))
    for n in sorted(set(listed) - set(want)):
        diag.append("%s: %s names %s, which the spec does not have"
                    % (what, where, n))
    for n in sorted(set(x for x in listed if listed.count(x) > 1)):
        diag.append("%s: %s lists %s twice" % (what, where, n))
    return diag


def check_counter_table(spec, path, header):
    try:
        with open(path) as f:
            rows = md_table(f.read(), header)
    except OSError as e:
        return [str(e)]
    if rows is None:
        return ["%s has no table starting %r" % (path, header)]
    listed = [n for r in rows for n in names_in(r[0])]
    return compare("counters", listed, spec.counters(), path)


def check_man_counters(spec, path):
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        return [str(e)]
    try:
        start = lines.index(".SH COUNTERS")
    except ValueError:
        return ["%s has no COUNTERS section" % path]
    listed = []
    for i in range(start + 1, len(lines) - 1):
        if lines[i].startswith(".SH"):
            break
        # the tag line of each .TP entry names its counters
        if lines[i] == ".TP":
            tag = lines[i + 1].replace("\\-", "-")
            listed += re.findall(r"\b[a-z]+(?:-[a-z0-9]+)+\b", tag)
    return compare("counters", listed, spec.counters(),
                   path + " (COUNTERS)")


def check_operations_table(spec, path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        return [str(e)]
    diag = []
    rows = md_table(text, "| operation | privilege |")
    if rows is None:
        return ["%s has no table starting '| operation | privilege |'" % path]
    ops = dict((o["name"], (o, modes)) for o, _, modes in spec.operations())
    requests = [n for n, (o, m) in ops.items() if "event" not in m]
    listed = []
    for r in rows:
        m = re.search(r"\(([a-z, ]+)\)", r[0])
        modes = [x.strip() for x in m.group(1).split(",")] if m else ["do"]
        admin = r[1].startswith("CAP_NET_ADMIN")
        for name in names_in(r[0]):
            listed.append(name)
            if name not in ops:
                continue
            o, spec_modes = ops[name]
            if sorted(modes) != sorted(spec_modes):
                diag.append("operation %s: %s says %s, the spec has %s"
                            % (name, path, ", ".join(modes),
                               ", ".join(spec_modes)))
            if admin != ("uns-admin-perm" in o.get("flags", [])):
                diag.append("operation %s: %s says privilege %r, the spec's "
                            "flags are %s" % (name, path, r[1],
                                              o.get("flags", [])))
    diag += compare("operations", listed, requests, path)

    m = re.search(r'^Notifications on "([a-z-]+)":(.*?)\n\n', text,
                  flags=re.S | re.M)
    if not m:
        return diag + ["%s has no 'Notifications on \"GROUP\":' paragraph"
                       % path]
    groups = [g["name"] for g in spec.doc.get("mcast-groups", {})["list"]]
    if [m.group(1)] != groups:
        diag.append("%s names the group %r, the spec has %s"
                    % (path, m.group(1), groups))
    events = [n for n, (o, modes) in ops.items() if "event" in modes]
    listed = [n for n in names_in(m.group(2)) if n.endswith("-ntf")]
    diag += compare("notifications", listed, events, path)
    for n in events:
        if ops[n][0].get("mcgrp") not in groups:
            diag.append("notification %s: its mcgrp is not a group of the "
                        "spec" % n)
    return diag


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=os.path.join(
        TOP, "Documentation", "netlink", "specs", "funnel.yaml"))
    ap.add_argument("--uapi", default=os.path.join(TOP, "uapi"),
                    help="directory with linux/funnel.h and linux/funnel_netlink.h")
    ap.add_argument("--names", default=os.path.join(TOP, "ctl", "common", "nlnames.c"),
                    help="ctl/common/nlnames.c to check ('' to skip)")
    ap.add_argument("--architecture", default=os.path.join(
        TOP, "Documentation", "architecture.md"))
    ap.add_argument("--operations", default=os.path.join(
        TOP, "Documentation", "operations.md"))
    ap.add_argument("--man", default=os.path.join(
        TOP, "Documentation", "man", "funnelctl.8"))
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args()

    tap = Tap()
    try:
        with open(args.spec) as f:
            doc = yaml.safe_load(f)
        spec = Spec(doc)
        spec.operations()
        list(spec.attr_sets())
    except (OSError, yaml.YAMLError, TypeError, KeyError) as e:
        tap.result(False, "the spec can be read", ["%s: %s" % (args.spec, e)])
        tap.plan()
        return 1
    tap.result(True, "the spec can be read")

    undocumented = [o["name"] for o, _, _ in spec.operations()
                    if not o.get("doc", "").strip()]
    tap.result(not undocumented, "every operation of the spec has a doc",
               ["operation %s has no doc" % n for n in undocumented])

    if args.names:
        tmp = tempfile.mkdtemp(prefix="spec_check.")
        try:
            cc = Compiler(args.cc, args.uapi, tmp)
            ok, out = cc.run(nlnames_source(spec), [args.names],
                             # ctl/: includes are named from there
                             [os.path.join(TOP, "ctl")])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        tap.result(ok, "ctl/common/nlnames.c: names, types and numbers match the spec",
                   out)

    diag = check_counter_table(spec, args.architecture,
                               "| counter | carrier | stream | flow |")
    tap.result(not diag, "architecture.md: the counter table has the stats "
               "set's counters", diag)
    diag = check_counter_table(spec, args.operations,
                               "| counter | look here when |")
    tap.result(not diag, "operations.md: the counter table has the stats "
               "set's counters", diag)
    diag = check_man_counters(spec, args.man)
    tap.result(not diag, "funnelctl.8: COUNTERS has the stats set's counters",
               diag)
    diag = check_operations_table(spec, args.architecture)
    tap.result(not diag, "architecture.md: the operation table and the "
               "notifications match the spec", diag)
    tap.plan()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
