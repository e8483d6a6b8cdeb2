# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# TAP lines for the shell tests of selftests/unit (sourced):
# tap STATUS NAME prints one result, tap_end the plan; $failed is 1 once a
# result was not ok.

n=0
failed=0

tap() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

tap_end() {
	echo "1..$n"
	exit $failed
}
