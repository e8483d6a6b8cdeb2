# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest-side selftests: TAP output, one line a check.

FAILS=0
ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }

# check NAME CMD...: CMD must succeed
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; echo "$out" | sed 's/^/#   /'; fi
}

# refused NAME PATTERN CMD...: CMD must fail and print PATTERN (grep -E)
refused() {
	local name=$1 pat=$2 out rc; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -qE "$pat"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, wanted /$pat/)"
		echo "$out" | sed 's/^/#   /'
	fi
}

module_loaded() { grep -q '^funnel ' /proc/modules; }
