# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The preamble of the host tests (selftests/host/): sourced with top set
# to the tree.  Puts funneld, funnelctl and the test tools on PATH,
# sources the services, the KDC and the TAP helpers; t_begin NAME makes
# the test stop its services and KDC at exit and end with the plan and a
# summary line "# NAME: P passed, F failed (Ns)".
export PATH=${top:?}/ctl/bin:$top/selftests/tools:$top/build/tools:$PATH
# shellcheck source-path=SCRIPTDIR source=services.sh
. "$top/selftests/lib/services.sh"
# shellcheck source-path=SCRIPTDIR source=kdc.sh
. "$top/selftests/lib/kdc.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$top/selftests/lib/tap.sh"

t_end() {
	svc_stop_all
	kdc_stop
	echo "1..$T_N"
	echo "# $T_NAME: $((T_N - T_FAIL)) passed, $T_FAIL failed ($(( $(date +%s) - T_START ))s)"
}

# t_begin NAME
t_begin() {
	T_NAME=$1
	trap t_end EXIT
	trap 'exit 130' INT TERM
}

# valgrind as the host tests run funneld under it (FD_WRAP="${VG[*]}
# --log-file=..."): definite and indirect leaks are errors (exit 99);
# gss.supp hides what MIT Kerberos keeps until exit, nothing of ours
# shellcheck disable=SC2034
VG=(valgrind --leak-check=full "--show-leak-kinds=definite,indirect"
	"--errors-for-leak-kinds=definite,indirect" --error-exitcode=99
	--track-fds=no --num-callers=30 --suppressions="$top/selftests/host/gss.supp")
