#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# selftest.sh KVER: the VM runner must fail a run whose command fails, whose
# guest WARNs, whose guest writes after a free (with -d), or that outlives
# its timeout.  TAP lines.
kver=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
run=$top/selftests/vm/run
fails=0
res() { if [ "$1" = 0 ]; then echo "ok - vm runner: $2"; else echo "not ok - vm runner: $2"; fails=1; fi; }

"$run" -q -k "$kver" -- sh -c 'exit 3' 2>/dev/null
rc=$?
[ $rc = 3 ]; res $? "a failing guest command fails the run with its status (got $rc)"

warn=$top/build/$kver/selftests/vm/warn/funnel_selftest_warn.ko
err=$("$run" -q -k "$kver" -- insmod "$warn" 2>&1)
rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "kernel warning in guest"
res $? "a guest WARN fails the run (got $rc)"

# with the memory checkers on (-d), a write after free is caught
err=$("$run" -q -d -k "$kver" -- insmod "$warn" uaf=1 2>&1)
rc=$?
[ $rc = 1 ] && echo "$err" | grep -qE "Poison overwritten|KFENCE|kernel tainted"
res $? "with -d a use-after-free in the guest fails the run (got $rc)"
err=$("$run" -q -k "$kver" -- sh -c 'cat /proc/cmdline' 2>&1)
echo "$err" | grep -q slub_debug
[ $? = 1 ]; res $? "without -d no memory checker is on"

"$run" -q -k "$kver" -t 12 -- sleep 600 >/dev/null 2>&1
rc=$?
[ $rc = 124 ]; res $? "the hard timeout ends the run with 124 (got $rc)"
exit $fails
