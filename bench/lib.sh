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
		env BENCH_SECS="$secs" BENCH_BIN="${BENCH_BIN:-}" BENCH_KINDS="${BENCH_KINDS:-}" \
		BENCH_ROUNDS="${BENCH_ROUNDS:-}" "$script"
}

# --- in the guest (FUNNEL_TOP set): pieces shared by the measurements ---

# bench_field NAME LINE: the number after NAME in a udp_pump summary line
bench_field() { echo "$2" | sed -n "s/.* $1 \([0-9]*\).*/\1/p"; }

# bench_ratio A B [DECIMALS]: A / B (2 decimals), "n/a" when B is not > 0
bench_ratio() {
	awk -v a="${1:-0}" -v b="${2:-0}" -v d="${3:-2}" \
		'BEGIN { if (b > 0) printf "%.*f", d, a / b; else print "n/a" }'
}

# bench_udp_rr NS ADDR PORT SECONDS: udp_pump's summary line of a paced
# request/response stream from NS to ADDR:PORT (50 requests/s, one
# outstanding, 2 s timeout: what bench/fair.sh measures), for bench_field
bench_udp_rr() {
	ip netns exec "$1" udp_pump rr "$2" "$3" -t "$4" -w 1 -r 50 -T 2000 2>&1 | tail -n 1
}

# bench_carrier_path NS SOCK: "KIND DATAPATH" of the first carrier of the
# funneld with control socket SOCK, from `funnelctl show` ("?" if none up)
bench_carrier_path() {
	local p
	p=$(ip netns exec "$1" funnelctl -s "$2" show 2>/dev/null |
		sed -n 's/^carrier [^:]*: up, \([a-z-]*\) .*datapath \([a-z]*\).*/\1 \2/p' | head -n 1)
	echo "${p:-?}"
}
