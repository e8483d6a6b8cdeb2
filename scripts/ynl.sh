#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's netlink tools (ynl) for Documentation/netlink/specs/funnel.yaml,
# from Debian's linux-source-6.12 (make deps installs it).
#
#   scripts/ynl.sh unpack   unpack them once into build/ksrc-6.12 (a tree
#                           laid out like the kernel's: MAINTAINERS,
#                           Documentation/netlink/ with the schemas and a
#                           link to our spec, tools/net/ynl/); print its path
#   scripts/ynl.sh gen      regenerate the committed files from the spec
#   scripts/ynl.sh check    regenerate them into a temporary directory and
#                           compare byte for byte; TAP, exit 1 on a difference
#
# gen records the linux-source-6.12 version it used in
# Documentation/netlink/specs/ynl-gen.version.  check on a machine with
# another version (a Debian update of the generator) still validates the
# spec, but a byte difference is then a TAP skip naming both versions
# (run make ynl-gen and look at the diff), not a failure of a tree nobody
# changed.
#
# The generated files, each with its ynl-gen-c.py mode:
#   uapi/linux/funnel_netlink.h   uapi header
#   kmod/netlink-gen.h            kernel header
#   kmod/netlink-gen.c            kernel source
# ynl-gen-c.py validates the spec against the kernel's JSON schema for its
# protocol (Documentation/netlink/genetlink-legacy.yaml) before it writes
# anything, so "check" also fails on a spec the kernel's tools refuse.
#
# Environment: FUNNEL_KSRC_TARBALL (default /usr/src/linux-source-6.12.tar.xz),
# FUNNEL_KSRC (default build/ksrc-6.12 of this tree), FUNNEL_YNL_TREE (the
# tree with the spec and the generated files, default this one; the
# negative tests of selftests/unit/ynl_check_selftest.sh point it and
# FUNNEL_KSRC at copies).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${FUNNEL_KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
ksrc=${FUNNEL_KSRC:-$top/build/ksrc-6.12}
tree=${FUNNEL_YNL_TREE:-$top}
spec=Documentation/netlink/specs/funnel.yaml

# Debian's python3, with python3-yaml and python3-jsonschema (make deps);
# the VM test's guest runs it too
py=/usr/bin/python3

die() { echo "ynl.sh: $*" >&2; exit 1; }

# The tree is complete once its stamp is there, which names the tarball's
# size and time: a new linux-source-6.12 is unpacked again.  It is
# unpacked next to it and renamed into place, so an interrupted or
# concurrent unpack never leaves a half tree behind.
unpack() {
	[ -r "$tarball" ] || die "$tarball not found: install linux-source-6.12 (make deps)"
	stamp=$(stat -c '%s %Y' "$tarball")
	[ "$(cat "$ksrc/.unpacked" 2>/dev/null)" = "$stamp" ] && return 0
	mkdir -p "$(dirname "$ksrc")"
	tmp=$(mktemp -d "$ksrc.tmp.XXXXXX")
	chmod 755 "$tmp"
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	top_dir=linux-source-6.12
	tar -xJf "$tarball" -C "$tmp" --strip-components=1 \
		"$top_dir/MAINTAINERS" "$top_dir/Documentation/netlink" \
		"$top_dir/tools/net/ynl" ||
		die "cannot unpack the ynl tools from $tarball"
	if [ ! -f "$tmp/tools/net/ynl/ynl-gen-c.py" ] || [ ! -f "$tmp/tools/net/ynl/cli.py" ]; then
		die "$tarball has no tools/net/ynl/ynl-gen-c.py and cli.py"
	fi
	# compiled once here: the VM test runs cli.py from a read-only root
	$py -m compileall -q "$tmp/tools/net/ynl" >/dev/null ||
		die "cannot compile $tmp/tools/net/ynl"
	echo "$stamp" >"$tmp/.unpacked"
	rm -rf "$ksrc"
	mv -T "$tmp" "$ksrc" 2>/dev/null || [ -e "$ksrc/.unpacked" ] ||
		die "cannot move the unpacked tree to $ksrc"
	trap - EXIT
	rm -rf "$tmp"
}

# The spec, seen from inside the kernel-like tree: ynl-gen-c.py finds the
# schema two directories up from the spec, and names the spec in the files
# it writes by its path below the directory that holds MAINTAINERS.
link_spec() {
	mkdir -p "$ksrc/Documentation/netlink/specs"
	ln -sfn "$tree/$spec" "$ksrc/$spec"
}

# generate DIR: the three files into DIR/uapi/linux and DIR/kmod
generate() {
	out=$1
	mkdir -p "$out/uapi/linux" "$out/kmod"
	gen="$py $ksrc/tools/net/ynl/ynl-gen-c.py --spec $ksrc/$spec"
	$gen --mode uapi --header -o "$out/uapi/linux/funnel_netlink.h" &&
	$gen --mode kernel --header -o "$out/kmod/netlink-gen.h" &&
	$gen --mode kernel --source -o "$out/kmod/netlink-gen.c"
}

FILES="uapi/linux/funnel_netlink.h kmod/netlink-gen.h kmod/netlink-gen.c"
VERSION_FILE=Documentation/netlink/specs/ynl-gen.version
installed=$(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null)

case ${1:-} in
unpack)
	unpack
	link_spec
	echo "$ksrc"
	;;
gen)
	unpack
	link_spec
	generate "$tree"
	echo "$installed" > "$tree/$VERSION_FILE"
	echo "ynl.sh: regenerated $FILES from $spec (linux-source-6.12 $installed)"
	;;
check)
	unpack
	link_spec
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	if generate "$work" >"$work/gen.log" 2>&1; then
		echo "ok 1 - ynl-gen-c.py accepts $spec (against the 6.12 schema of its protocol)"
	else
		echo "not ok 1 - ynl-gen-c.py accepts $spec (against the 6.12 schema of its protocol)"
		tail -n 20 "$work/gen.log" | sed 's/^/# /'
		echo "1..1"
		exit 1
	fi
	n=1 failed=0
	for f in $FILES; do
		n=$((n + 1))
		recorded=$(cat "$tree/$VERSION_FILE" 2>/dev/null)
		if cmp -s "$work/$f" "$tree/$f"; then
			echo "ok $n - $f is what ynl-gen-c.py generates"
		elif [ -n "$recorded" ] && [ "$recorded" != "$installed" ]; then
			echo "ok $n - $f is what ynl-gen-c.py generates # SKIP generated with linux-source-6.12 $recorded, $installed installed differs: make ynl-gen"
			diff -u "$tree/$f" "$work/$f" 2>&1 | head -n 10 | sed 's/^/# /'
		else
			echo "not ok $n - $f is what ynl-gen-c.py generates (make ynl-gen; linux-source-6.12 $(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null))"
			diff -u "$tree/$f" "$work/$f" 2>&1 | head -n 40 | sed 's/^/# /'
			failed=1
		fi
	done
	echo "1..$n"
	exit $failed
	;;
*)
	echo "usage: $0 unpack|gen|check" >&2
	exit 2
	;;
esac
