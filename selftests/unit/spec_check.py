#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check that uapi/linux/funnel.h and Documentation/netlink/funnel.yaml agree.

From the YAML this generates small C programs of _Static_asserts (and a few
runtime string comparisons), compiles them against the header and runs
them: one TAP line per group of checks.  The reverse direction (every
FUNNEL_A_*, FUNNEL_CMD_* and definition enumerator of the header is in the
YAML) is checked by parsing the header.  ctl/common/nlnames.c, the name tables of
funnelctl and funnel-nl, is checked against the YAML the same way.

Naming follows the kernel's ynl-gen-c for a genetlink family F:
  attribute set F          F_A_<ATTR>        (name-prefix overrides)
  attribute set S          F_A_<S>_<ATTR>
  operations               F_CMD_<OP>
  definition D             F_<D>_<ENTRY>     (name-prefix overrides)
  const D                  F_<D>
Attributes and operations are numbered from 1, or from a "value:" on.

Exit status: 0 when everything agrees, 1 when something does not, 2 on
bad usage.
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

# Definitions whose C names do not follow ynl's default prefix and that
# have no name-prefix in the YAML (yet): the header's spelling.
PREFIX_FALLBACK = {
    "stream-kind": "funnel-stream-",
    "down-reason": "funnel-down-",
    "caps": "funnel-cap-",
}

# Attribute checks that the header also states as constants.
CHECK_CONSTANTS = {
    ("funnel", "flow-idle-ms", "min"): "FUNNEL_FLOW_IDLE_MIN_MS",
    ("funnel", "flow-idle-ms", "max"): "FUNNEL_FLOW_IDLE_MAX_MS",
    ("funnel", "flow-max", "max"): "FUNNEL_FLOW_MAX_LIMIT",
    ("keydir", "key", "exact-len"): "FUNNEL_KEY_LEN",
    ("keydir", "salt", "exact-len"): "FUNNEL_SALT_LEN",
}

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
    """The names and numbers the YAML defines."""

    def __init__(self, doc):
        self.doc = doc
        self.family = doc["name"]
        self.notes = []

    def definitions(self):
        """Yield (definition, list of (C name, C value expression))."""
        for d in self.doc.get("definitions", []):
            if d["type"] == "const":
                name = d.get("name-prefix", self.family + "-") + d["name"]
                yield d, [(c_name(name), str(d["value"]))]
                continue
            prefix = d.get("name-prefix")
            if prefix is None:
                prefix = PREFIX_FALLBACK.get(d["name"])
                if prefix is not None:
                    self.notes.append(
                        "definition %s has no name-prefix; assuming the "
                        "header's %s" % (d["name"], c_name(prefix) + "*"))
                else:
                    prefix = "%s-%s-" % (self.family, d["name"])
            value = d.get("value-start", 0)
            items = []
            for e in d["entries"]:
                ename = e if isinstance(e, str) else e["name"]
                if isinstance(e, dict) and "value" in e:
                    value = e["value"]
                if d["type"] == "flags":
                    expr = "(1U << %d)" % value
                else:
                    expr = str(value)
                items.append((c_name(prefix + ename), expr))
                value += 1
            yield d, items

    def enum_tag(self, d):
        """C tag of an enum definition, or None."""
        if d["type"] != "enum":
            return None
        tag = d.get("enum-name", "%s-%s" % (self.family, d["name"]))
        return None if tag is None else tag.replace("-", "_")

    def attr_sets(self):
        """Yield (set, prefix, list of (attr, C name, value))."""
        for s in self.doc.get("attribute-sets", []):
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
                items.append((a, c_name(prefix + a["name"]), value))
                value += 1
            yield s, prefix, items

    def operations(self):
        """(prefix, list of (op, C name, value))."""
        ops = self.doc.get("operations", {})
        prefix = ops.get("name-prefix", self.family + "-cmd-")
        value = 1
        items = []
        for o in ops.get("list", []):
            if "value" in o:
                value = o["value"]
            items.append((o, c_name(prefix + o["name"]), value))
            value += 1
        return prefix, items

    def all_names(self):
        names = set()
        for _, items in self.definitions():
            names.update(n for n, _ in items)
        for _, _, items in self.attr_sets():
            names.update(n for _, n, _ in items)
        names.update(n for _, n, _ in self.operations()[1])
        return names


def parse_header(text):
    """Enums of the header: list of (tag or None, [enumerator names])."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    enums = []
    for m in re.finditer(r"\benum\s+(\w+)?\s*\{(.*?)\}", text, flags=re.S):
        names = []
        for item in m.group(2).split(","):
            item = item.strip()
            if item:
                names.append(re.match(r"(\w+)", item).group(1))
        enums.append((m.group(1), names))
    defines = re.findall(r"^\s*#\s*define\s+(\w+)", text, flags=re.M)
    return enums, defines


def is_private(name):
    return (name.startswith("__") or name.endswith("_MAX") or
            name.endswith("_UNSPEC"))


class Compiler:
    def __init__(self, cc, header, tmp):
        self.cc = cc
        self.tmp = tmp
        inc = os.path.join(tmp, "include", "linux")
        os.makedirs(inc)
        shutil.copy(header, os.path.join(inc, "funnel.h"))
        self.inc = os.path.join(tmp, "include")
        self.count = 0

    def run(self, source, extra_src=(), extra_inc=()):
        """Compile and run source; returns (ok, diagnostic lines)."""
        self.count += 1
        base = os.path.join(self.tmp, "check%d" % self.count)
        with open(base + ".c", "w") as f:
            f.write(source)
        cmd = [self.cc, "-std=gnu11", "-Wall", "-Werror", "-I", self.inc]
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


PROLOGUE = """#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/funnel.h>
"""

RUNTIME = """
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
"""


def static_checks(asserts):
    body = "".join("_Static_assert(%s, %s);\n" % (cond, c_str(msg))
                   for cond, msg in asserts)
    return PROLOGUE + body + "int main(void) { return 0; }\n"


def check_definitions(spec, enums):
    asserts = []
    by_tag = dict((tag, names) for tag, names in enums if tag)
    for d, items in spec.definitions():
        for cname, expr in items:
            asserts.append(("%s == %s" % (cname, expr),
                            "definition %s: %s must be %s"
                            % (d["name"], cname, expr)))
        tag = spec.enum_tag(d)
        if tag:
            asserts.append(("sizeof(enum %s) > 0" % tag,
                            "definition %s: enum %s" % (d["name"], tag)))
            public = [n for n in by_tag.get(tag, []) if not is_private(n)]
            maxes = [n for n in by_tag.get(tag, [])
                     if n.endswith("_MAX") and not n.startswith("__")]
            for m in maxes:
                asserts.append(("%s == %s" % (m, items[-1][0]),
                                "definition %s: %s must be its last entry"
                                % (d["name"], m)))
            if tag in by_tag and public != [n for n, _ in items]:
                asserts.append(("0", "definition %s: enum %s has %s, the "
                                "YAML %s" % (d["name"], tag, " ".join(public),
                                             " ".join(n for n, _ in items))))
    return asserts


def check_attr_set(s, prefix, items):
    asserts = []
    for a, cname, value in items:
        asserts.append(("%s == %d" % (cname, value),
                        "attribute-set %s: %s must be %d"
                        % (s["name"], cname, value)))
    if items:
        last = items[-1][1]
        maxname = c_name(prefix) + "MAX"
        asserts.append(("%s == %s" % (maxname, last),
                        "attribute-set %s: %s must be %s"
                        % (s["name"], maxname, last)))
    return asserts


def check_operations(spec):
    prefix, items = spec.operations()
    asserts = []
    for o, cname, value in items:
        asserts.append(("%s == %d" % (cname, value),
                        "operation %s: %s must be %d"
                        % (o["name"], cname, value)))
    if items:
        maxname = c_name(prefix) + "MAX"
        asserts.append(("%s == %s" % (maxname, items[-1][1]),
                        "operations: %s must be %s" % (maxname, items[-1][1])))
    return asserts


def family_source(spec):
    doc = spec.doc
    lines = [PROLOGUE, RUNTIME, "int main(void)\n{\n"]
    fam = c_name(spec.family)
    lines.append('\tcheck_str("%s_FAMILY_NAME", %s_FAMILY_NAME, %s);\n'
                 % (fam, fam, c_str(spec.family)))
    lines.append('\tcheck_int("%s_FAMILY_VERSION", %s_FAMILY_VERSION, %d);\n'
                 % (fam, fam, doc.get("version", 1)))
    for g in doc.get("mcast-groups", {}).get("list", []):
        macro = "%s_MCGRP_%s" % (fam, c_name(g["name"]))
        lines.append('\tcheck_str("%s", %s, %s);\n'
                     % (macro, macro, c_str(g["name"])))
    lines.append("\treturn failures != 0;\n}\n")
    return "".join(lines)


def check_limits(spec):
    asserts = []
    seen = set()
    diag = []
    for s, _, items in spec.attr_sets():
        for a, cname, _ in items:
            for key, value in (a.get("checks") or {}).items():
                const = CHECK_CONSTANTS.get((s["name"], a["name"], key))
                seen.add((s["name"], a["name"], key))
                if const:
                    asserts.append(("%s == %s" % (const, value),
                                    "%s.%s checks %s: %s must be %s"
                                    % (s["name"], a["name"], key, const,
                                       value)))
                elif key == "exact-len" and a.get("display-hint") == "ipv6":
                    asserts.append(("sizeof(struct in6_addr) == %s" % value,
                                    "%s.%s: an IPv6 address is 16 bytes"
                                    % (s["name"], a["name"])))
    for key, const in sorted(CHECK_CONSTANTS.items()):
        if key not in seen:
            diag.append("the YAML has no %s check on %s.%s (header: %s)"
                        % (key[2], key[0], key[1], const))
    return asserts, diag


def nlnames_source(spec):
    """Runtime checks of the tables in ctl/common/nlnames.c."""
    out = [PROLOGUE, '#include "common/nlnames.h"\n', RUNTIME]
    out.append("""
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
""")
    set_ids = {}
    for s, _, _ in spec.attr_sets():
        set_ids[s["name"]] = "FUNNEL_SET_" + c_name(s["name"])
    for s, _, items in spec.attr_sets():
        out.append("\ts = funnel_attr_set(%s);\n" % set_ids[s["name"]])
        out.append('\tcheck_str("nlnames set name", s->name, %s);\n'
                   % c_str(s["name"]))
        for a, cname, _ in items:
            kind = NLNAMES_KINDS.get(a["type"], "-1")
            hint = "FUNNEL_HINT_NONE"
            if a.get("display-hint") == "ipv4":
                hint = "FUNNEL_HINT_IPV4"
            elif a.get("display-hint") == "ipv6":
                hint = "FUNNEL_HINT_IPV6"
            elif a.get("byte-order") == "big-endian":
                hint = "FUNNEL_HINT_BE"
            nest = set_ids.get(a.get("nested-attributes"), "-1")
            out.append("\tcheck_attr(s, %s, %s, %s, %s, %s);\n"
                       % (cname, c_str(a["name"]), kind, hint, nest))
        out.append("\tcheck_count(s, %d);\n" % len(items))
    _, ops = spec.operations()
    for o, cname, _ in ops:
        out.append('\tcheck_str("nlnames command %s", funnel_cmd_name(%s), %s);\n'
                   % (cname, cname, c_str(o["name"])))
    if ops:
        out.append('\tcheck_int("nlnames funnel_cmd_max()", funnel_cmd_max(), %s);\n'
                   % ops[-1][1])
    for d, items in spec.definitions():
        if d["type"] != "flags":
            continue
        for bit, e in enumerate(d["entries"]):
            ename = e if isinstance(e, str) else e["name"]
            out.append('\tcheck_str("nlnames capability bit %d", '
                       'funnel_cap_name(%d), %s);\n' % (bit, bit, c_str(ename)))
    out.append("\treturn failures != 0;\n}\n")
    return "".join(out)


def reverse_check(spec, enums, defines):
    names = spec.all_names()
    fam = c_name(spec.family)
    tags = set()
    for d, _ in spec.definitions():
        tag = spec.enum_tag(d)
        if tag:
            tags.add(tag)
    flag_prefixes = set()
    for d, items in spec.definitions():
        if d["type"] == "flags" and items:
            first = items[0][0]
            entry = d["entries"][0]
            ename = entry if isinstance(entry, str) else entry["name"]
            flag_prefixes.add(first[:-len(c_name(ename))])
    missing = []
    for tag, enumerators in enums:
        for n in enumerators:
            if is_private(n) or n.endswith("_PAD"):
                continue
            if (n.startswith(fam + "_A_") or n.startswith(fam + "_CMD_") or
                    tag in tags):
                if n not in names:
                    missing.append(n)
    for n in defines:
        if any(n.startswith(p) for p in flag_prefixes) and n not in names:
            missing.append(n)
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--header", default=os.path.join(TOP, "uapi", "linux",
                                                     "funnel.h"))
    ap.add_argument("--spec", default=os.path.join(
        TOP, "Documentation", "netlink", "funnel.yaml"))
    ap.add_argument("--names", default=os.path.join(TOP, "ctl", "common", "nlnames.c"),
                    help="ctl/common/nlnames.c to check ('' to skip)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args()

    tap = Tap()
    try:
        with open(args.spec) as f:
            doc = yaml.safe_load(f)
        with open(args.header) as f:
            header_text = f.read()
        spec = Spec(doc)
        for key in ("name", "attribute-sets", "operations"):
            if key not in doc:
                raise ValueError("no '%s' in the spec" % key)
    except (OSError, yaml.YAMLError, ValueError, TypeError, KeyError) as e:
        tap.result(False, "yaml: spec and header can be read",
                   [str(e)])
        tap.plan()
        return 1
    diag = []
    uapi = doc.get("uapi-header")
    if uapi and not os.path.abspath(args.header).endswith(os.sep + uapi):
        diag.append("note: checking %s, the spec names %s"
                    % (args.header, uapi))
    tap.result(True, "yaml: spec and header can be read", diag)

    enums, defines = parse_header(header_text)
    tmp = tempfile.mkdtemp(prefix="spec_check.")
    try:
        cc = Compiler(args.cc, args.header, tmp)

        asserts = check_definitions(spec, enums)
        ok, out = cc.run(static_checks(asserts))
        tap.result(ok, "yaml: definitions (enums, flags, consts)",
                   out + ["note: " + n for n in spec.notes])

        for s, prefix, items in spec.attr_sets():
            ok, out = cc.run(static_checks(check_attr_set(s, prefix, items)))
            tap.result(ok, "yaml: attribute-set %s" % s["name"], out)

        ok, out = cc.run(static_checks(check_operations(spec)))
        tap.result(ok, "yaml: operations", out)

        ok, out = cc.run(family_source(spec))
        tap.result(ok, "yaml: family name, version and multicast groups", out)

        asserts, diag = check_limits(spec)
        ok, out = cc.run(static_checks(asserts))
        tap.result(ok and not diag, "yaml: attribute checks match header "
                   "constants", out + diag)

        missing = reverse_check(spec, enums, defines)
        tap.result(not missing, "header: every netlink name is in the yaml",
                   ["%s is not in the YAML" % n for n in missing])

        if args.names:
            ok, out = cc.run(nlnames_source(spec), [args.names],
                             # ctl/: includes are named from there
                             [os.path.dirname(os.path.dirname(
                                 os.path.abspath(args.names)))])
            tap.result(ok, "ctl/common/nlnames.c: names and types match the yaml",
                       out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    tap.plan()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
