#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# All guest-side selftests of funnel.ko, in one VM boot (selftests/vm/run).
# Prints TAP lines; exit status non-zero if any check failed.
here=$(dirname "$0")
tools=$FUNNEL_TOP/build/tools
export PATH=$tools:$PATH
# FUNNEL_VM_SKIP="t_76_tcpsvc.sh ...": tests not run in this boot (make
# check runs the slowest ones on one kernel only, check-long on all)
for t in "$here"/t_*.sh; do
	case " ${FUNNEL_VM_SKIP:-} " in
	*" ${t##*/} "*) echo "# ${t##*/}: not in this run (make check-long runs it)"; continue ;;
	esac
	s=$(date +%s)
	# shellcheck source=/dev/null
	( . "$here/lib.sh"; . "$t"; exit $FAILS ) || fails=1
	echo "# ${t##*/}: $(( $(date +%s) - s )) s"
done
# FUNNEL_PKG_TEST=1 (or =KVER: on that kernel only): the package test
# too, with the packages selftests/pkg/build.sh made on the host
if [ "${FUNNEL_PKG_TEST:-}" = 1 ] || [ "${FUNNEL_PKG_TEST:-}" = "$(uname -r)" ]; then
	s=$(date +%s)
	"$FUNNEL_TOP/selftests/pkg/t_pkg.sh" || fails=1
	echo "# t_pkg.sh: $(( $(date +%s) - s )) s"
fi
exit ${fails:-0}
