# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared by the benchmarks (sourced): on the host, boot a VM and run the
# benchmark in it.

# bench_boot SCRIPT TIMEOUT SECS [-k KVER] [-t SECONDS]: build what the
# guest needs, then run SCRIPT (relative to the tree) in a guest of the
# newest kernel (or KVER) with BENCH_SECS (SECS unless -t) and BENCH_BIN
# in its environment; does not return
bench_boot() {
	local script=$1 timeout=$2 secs=$3 top kver o
	shift 3
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	kver=$(make -s -C "$top" print-kvers | tr ' ' '\n' | tail -n 1)
	while getopts k:t: o; do
		case $o in
		k) kver=$OPTARG ;;
		t) secs=$OPTARG ;;
		*) echo "usage: $script [-k KVER] [-t SECONDS]" >&2; exit 2 ;;
		esac
	done
	make -s -C "$top" kmods ctl tools >/dev/null || exit 1
	exec "$top/selftests/vm/run" -k "$kver" -t "$timeout" -- \
		env BENCH_SECS="$secs" BENCH_BIN="${BENCH_BIN:-}" "$script"
}
