#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Negative tests of "scripts/ynl.sh check": in a copy of the tree's spec
# and generated files (and of build/ksrc-6.12), an unchanged copy must
# pass, and a spec the kernel's schema refuses, a spec changed without
# regenerating, and a generated file changed by hand must each fail.
# Prints TAP; exits non-zero if any case goes wrong.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ynl=$top/scripts/ynl.sh
spec=Documentation/netlink/specs/funnel.yaml
files="$spec uapi/linux/funnel_netlink.h kmod/netlink-gen.h kmod/netlink-gen.c Documentation/netlink/specs/ynl-gen.version"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=selftests/unit/tap.sh
. "$here/tap.sh"

# The tools, unpacked once for the tree, copied: the copy's spec link is
# this test's to point elsewhere.
ksrc=$("$ynl" unpack) || { tap 1 "the ynl tools are unpacked"; tap_end; }
cp -a "$ksrc" "$tmp/ksrc"

fresh_tree() {
	rm -rf "$tmp/tree"
	for g in $files; do
		mkdir -p "$tmp/tree/$(dirname "$g")"
		cp "$top/$g" "$tmp/tree/$g"
	done
}

run_check() { # ynl.sh check on the copies; output in $tmp/out
	FUNNEL_KSRC=$tmp/ksrc FUNNEL_YNL_TREE=$tmp/tree sh "$ynl" check \
		>"$tmp/out" 2>&1
}

# must_fail NAME FILE SED-EXPRESSION [PATTERN]: the check fails (with a
# "not ok" line matching PATTERN) once FILE of the copy is changed
must_fail() {
	name=$1 f=$2 expr=$3 pat=${4:-^not ok}
	fresh_tree
	sed -i "$expr" "$tmp/tree/$f"
	if cmp -s "$top/$f" "$tmp/tree/$f"; then
		tap 1 "ynl check fails on $name (the sed expression changed nothing)"
		return
	fi
	run_check
	status=$?
	if [ $status -ne 0 ] && grep -q "$pat" "$tmp/out"; then
		tap 0 "ynl check fails on $name"
	else
		tap 1 "ynl check fails on $name (exit status $status)"
		sed 's/^/# /' "$tmp/out"
	fi
}

fresh_tree
if run_check; then
	tap 0 "ynl check passes on an unchanged copy"
else
	tap 1 "ynl check passes on an unchanged copy"
	sed 's/^/# /' "$tmp/out"
fi

# uns-admin-perm is not in the plain genetlink schema
must_fail "a spec with protocol genetlink (schema refuses uns-admin-perm)" \
	"$spec" 's/^protocol: genetlink-legacy$/protocol: genetlink/' \
	'^not ok 1 - ynl-gen-c.py accepts'
must_fail "a spec with a new attribute, not regenerated" \
	"$spec" 's/^        name: netns-flow-max$/        name: netns-flow-max\n        type: u32\n      -\n        name: extra/' \
	'not ok .* uapi/linux/funnel_netlink.h is what'
must_fail "a hand edit of netlink-gen.c" kmod/netlink-gen.c \
	's/NLA_POLICY_MIN(NLA_U16, 1)/NLA_POLICY_MIN(NLA_U16, 2)/' \
	'not ok .* kmod/netlink-gen.c is what'

# made with another generator version: a difference is a skip, not a
# failure (a Debian update of linux-source-6.12 alone must not fail it)
fresh_tree
echo 6.12.0-0-older > "$tmp/tree/Documentation/netlink/specs/ynl-gen.version"
sed -i 's/NLA_POLICY_MIN(NLA_U16, 1)/NLA_POLICY_MIN(NLA_U16, 2)/' "$tmp/tree/kmod/netlink-gen.c"
if run_check && grep -q '^ok .* kmod/netlink-gen.c .*# SKIP generated with linux-source-6.12 6.12.0-0-older' "$tmp/out"; then
	tap 0 "another recorded generator version: a difference is a skip naming it"
else
	tap 1 "another recorded generator version: a difference is a skip naming it"
	sed 's/^/# /' "$tmp/out"
fi

tap_end
