#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lint.sh KVER...: checkpatch --strict on the kernel sources, and for each
# kernel a fresh W=1 build with sparse (C=2): no warning from our files.
# Prints TAP lines; exit 1 if any check failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
fails=0
ok() { echo "ok - lint: $*"; }
not_ok() { echo "not ok - lint: $*"; fails=1; }

cp=/usr/local/share/funnel/checkpatch/scripts/checkpatch.pl
# checkpatch FILE [IGNORE,...]: the ignores are the few checks that do not
# apply to that file, each with its reason below.
checkpatch() {
	local f=$1 ign=FILE_PATH_CHANGES,SPDX_LICENSE_TAG${2:+,$2} out
	out=$("$cp" --no-tree --strict --terse --show-types --ignore "$ign" \
		--max-line-length=100 -f "$f" 2>&1)
	if echo "$out" | grep -qE ': (ERROR|WARNING|CHECK):'; then
		echo "$out" | grep -E ': (ERROR|WARNING|CHECK):' | sed 's/^/#   /'
		return 1
	fi
}
# checkpatch_all: checkpatch --strict on every kernel source, one TAP line
checkpatch_all() {
	if [ -x "$cp" ]; then
		bad=0
		for f in kmod/*.c kmod/*.h uapi/linux/*.h selftests/vm/warn/*.c; do
			case "$f" in
			# the protos/ops copied from TCP's at run time are not const
			kmod/ulp.c) checkpatch "$f" CONST_STRUCT || bad=1 ;;
			# the one place that compares kernel versions
			kmod/compat.h) checkpatch "$f" CONST_STRUCT,LINUX_VERSION_CODE,CONSTANT_COMPARISON || bad=1 ;;
			# BIT() does not exist for userspace
			uapi/*) checkpatch "$f" BIT_MACRO || bad=1 ;;
			*) checkpatch "$f" || bad=1 ;;
			esac
		done
		if [ $bad = 0 ]; then ok "checkpatch --strict"; else not_ok "checkpatch --strict"; fi
	else
		not_ok "checkpatch.pl not found at $cp (make deps)"
	fi
	return $fails
}

# lint_build KVER: a fresh W=1 C=2 build for KVER, one TAP line
lint_build() {
	local kver=$1 b out warn f
	b=$top/build/lint-$kver
	rm -rf "$b"
	mkdir -p "$b/kmod" "$b/selftests/vm/warn"
	for f in kmod/*.c kmod/*.h kmod/Kbuild Kbuild selftests/vm/warn/*; do
		ln -s "$top/$f" "$b/$f"
	done
	ln -s "$top/uapi" "$b/uapi"
	ln -s "$top/VERSION" "$b/VERSION"
	if ! out=$(make -j"$(nproc)" -Otarget -C "/lib/modules/$kver/build" M="$b" W=1 C=2 modules 2>&1); then
		not_ok "$kver: W=1 C=2 build"
		echo "$out" | tail -n 20 | sed 's/^/#   /'
		return 1
	fi
	warn=$(echo "$out" | grep -E "^$b/.*(warning|error):|^/work.*: (warning|error):" | grep -F "$b/")
	if [ -z "$warn" ]; then
		ok "$kver: W=1 build and sparse clean"
	else
		not_ok "$kver: W=1 build and sparse clean"
		echo "$warn" | sed 's/^/#   /'
	fi
	return $fails
}

# checkpatch (one perl process at a time) runs beside the builds (make
# -j, one process per source): on 2 cores lint took 50 s one after the
# other.  Each part's output is kept and printed in the old order.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
checkpatch_all >"$tmp/checkpatch" 2>&1 &
cp_pid=$!
for kver in "$@"; do
	lint_build "$kver" >"$tmp/build-$kver" 2>&1 || fails=1
done
wait "$cp_pid" || fails=1
cat "$tmp/checkpatch"
for kver in "$@"; do
	cat "$tmp/build-$kver"
done
exit $fails
