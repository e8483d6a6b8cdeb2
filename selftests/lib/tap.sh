# SPDX-License-Identifier: GPL-2.0
# TAP output for the host tests (selftests/host/): numbered "ok N - ..."
# and "not ok N - ..." lines, a diagnostic filter and a check helper.
# The caller prints "1..$T_N" at the end; T_FAIL counts failures and
# T_START is when this file was sourced.

T_N=0 T_FAIL=0 T_START=$(date +%s)
ok()     { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
diag()   { sed 's/^/#   /'; }
# check NAME CMD...: CMD must succeed (its output shown on failure)
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; echo "$out" | diag; fi
}
