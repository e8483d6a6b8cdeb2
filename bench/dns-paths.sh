#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: UDP services through Funnel measured by real clients (issue
# 15), in one VM run: dnsperf against dnsmasq with 1, 4 and 16 clients
# (each with 8 queries outstanding), and sockperf's UDP ping-pong (p50,
# p99 and p99.9 of the full round trip), through
#   direct     fc queries fs's address: no relay at all
#   funnel     a UDP map on fc to a UDP service on fs, for each carrier
#              kind (BENCH_KINDS, default "tcp sctp"), data path
#              (funneld --datapath kernel: funnel.ko forwards the
#              datagrams; --datapath user: funneld does) and plaintext
#              or sealed (Kerberos, a throwaway KDC in the VM)
# Prints one table (queries/s answered per client count, the share of
# queries lost, sockperf's percentiles in us), what a query cost the
# guest with 16 clients (CPU time, context switches, TCP segments, each
# CPU's idle share), then the ratios that the
# issue's goals are stated in: kernel/user, kernel/direct and
# sealed/plain.  TCG emulates the CPUs (slowly, AES-NI very slowly):
# read ratios between the rows of one run, never the absolute rates.
# Not a test: it never fails on a number.
#
#   bench/dns-paths.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#   BENCH_KINDS="tcp": the TCP carrier only
#   BENCH_DPS="kernel": funnel.ko's data path only (default "kernel user")
#   BENCH_MODES="plain": plaintext only (default "plain sealed")
#   BENCH_DIRECT=0: no direct row
# (set in the guest's environment: selftests/vm/run -- env ... this
# script).  modprobe leaves a funnel.ko already loaded as it is, so a
# wrapper may insmod another build of it first (an A/B comparison).
set -u
secs=5
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/dns-paths.sh 900 "$secs" "$@"
fi

secs=${BENCH_SECS:-5}
kinds=${BENCH_KINDS:-tcp sctp}
dps=${BENCH_DPS:-kernel user}
modes=${BENCH_MODES:-plain sealed}
export PATH=$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
[ -n "${BENCH_BIN:-}" ] && export PATH=$BENCH_BIN:$PATH
# shellcheck source=lib.sh
. "$FUNNEL_TOP/bench/lib.sh"
# shellcheck source=../selftests/kmod/lib.sh
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
# shellcheck source=../selftests/lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../selftests/lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"
W=$(mktemp -d)
cleanup() { svc_stop_all; kdc_stop; sites_down >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
modprobe funnel
modprobe sctp
sites_up >/dev/null || exit 1
svc_init
DNS=5353	# dnsmasq on fs: 127.0.0.1 (the services) and 10.99.0.2 (direct)
PP=7501		# sockperf's server on fs, the same two addresses

svc_dnsmasq dns fs 127.0.0.1,10.99.0.2 $DNS || { echo "bench: dnsmasq did not start"; exit 1; }
for a in 127.0.0.1 10.99.0.2; do
	ip netns exec fs sockperf sr -i $a -p $PP >"$W/sockperf-$a.log" 2>&1 &
	svc_register "sockperf_${a//./_}" "$!"
done
for i in $(seq 0 49); do echo "h$i.funnel.test A"; done >"$W/queries"
if ! { kdc_start "$W/krb" 10.99.0.2 fs && kdc_addprinc funnel/s &&
       kdc_addprinc c && kdc_keytab "$W/s.kt" funnel/s &&
       kdc_keytab "$W/c.kt" c; } >"$W/kdc.out" 2>&1; then
	echo "bench: KDC set-up failed: sealed rows will be empty"; cat "$W/kdc.out"
fi

declare -A R	# R[ROW:q1|q4|q16|lost|p50|p99|p999]
declare -A PATHS
ROWS=()
CLIENTS="1 4 16"

# What a query costs the guest (dnsperf -c 16): CPU time (both CPUs,
# from /proc/stat) and context switches per answered query, each CPU's
# idle share, and TCP segments sent per query in the client's netns.
cost_start() {
	cat /proc/stat >"$W/stat0"
	NSTAT_HISTORY=$W/nstat ip netns exec fc nstat -n
}
# cost_end ROW QUERIES
cost_end() {
	local segs
	cat /proc/stat >"$W/stat1"
	segs=$(NSTAT_HISTORY=$W/nstat ip netns exec fc nstat 2>/dev/null |
		awk '$1 == "TcpOutSegs" { print $2 }')
	R[$1:cost]=$(awk -v q="${2:-0}" -v segs="${segs:-0}" -v hz="$(getconf CLK_TCK)" '
		FNR == 1 { f++ }
		/^cpu/ { b = 0; for (i = 2; i <= 8; i++) if (i != 5) b += $i
			 busy[f, $1] = b; idle[f, $1] = $5; if (f == 1) cpus[++n] = $1 }
		/^ctxt/ { ctxt[f] = $2 }
		END {
			if (q <= 0) exit
			printf "%.0f us CPU/q, %.2f ctxt/q, %.2f segs/q, idle", \
				1e6 * (busy[2, "cpu"] - busy[1, "cpu"]) / hz / q, \
				(ctxt[2] - ctxt[1]) / q, segs / q
			for (k = 2; k <= n; k++) {
				c = cpus[k]; b = busy[2, c] - busy[1, c]; d = idle[2, c] - idle[1, c]
				printf " %s %.0f%%", c, (b + d > 0 ? 100 * d / (b + d) : 0)
			}
		}' "$W/stat0" "$W/stat1")
}

# measure ROW DNS-PORT PP-PORT: dnsperf for each client count and
# sockperf's ping-pong, from fc toward ADDR (127.0.0.1 for a map)
measure() {
	local row=$1 addr=$2 dport=$3 pport=$4 n out lost=0
	ROWS+=("$row")
	for n in $CLIENTS; do
		cost_start
		out=$(ip netns exec fc dnsperf -s "$addr" -p "$dport" -d "$W/queries" \
			-c "$n" -q $((8 * n)) -l "$secs" -t 2 2>&1)
		R[$row:q$n]=$(echo "$out" | awk '/Queries per second:/ { printf "%.0f", $4 }')
		[ "$n" = 16 ] && cost_end "$row" "$(echo "$out" | awk '/Queries completed:/ { print $3 }')"
		lost=$(echo "$out" | sed -n 's/.*Queries lost: *[0-9]* *(\([0-9.]*\)%).*/\1/p')
		R[$row:lost]=${lost:-?}
		echo "  $row dnsperf -c $n: $(echo "$out" | grep -E 'Queries (sent|completed|lost)|per second' | tr -s ' ' | tr '\n' ' ')" >>"$W/raw"
	done
	out=$(ip netns exec fc sockperf pp -i "$addr" -p "$pport" -t "$secs" --full-rtt 2>&1)
	R[$row:p50]=$(echo "$out" | awk '/percentile 50.000/ { printf "%.0f", $NF }')
	R[$row:p99]=$(echo "$out" | awk '/percentile 99.000/ { printf "%.0f", $NF }')
	R[$row:p999]=$(echo "$out" | awk '/percentile 99.900/ { printf "%.0f", $NF }')
	echo "  $row sockperf: $(echo "$out" | grep -E 'Summary|percentile (50|99|99.9)00' | tr -s ' ' | tr '\n' ' ')" >>"$W/raw"
}

# funnel KIND DATAPATH plain|sealed N: a pair of funneld, maps on fc
# 127.0.0.1:(8600+N) (DNS) and :(8700+N) (sockperf), carrier port 7600+N
funnel() {
	local kind=$1 dp=$2 mode=$3 n=$4 row="funnel $2 $3 $1" s c sc cc allow=""
	local lp=$((7600 + n)) dport=$((8600 + n)) pport=$((8700 + n))
	s=s$n c=c$n
	if [ "$mode" = plain ]; then
		sc="plaintext"
		cc="plaintext
peer add s 10.99.0.2:$lp carrier $kind"
	else
		allow=" allow c@FUNNEL.TEST"
		sc="identity funnel/s keytab $W/s.kt"
		cc="identity c keytab $W/c.kt
peer add s 10.99.0.2:$lp carrier $kind principal funnel/s"
	fi
	sc="$sc
listen 10.99.0.2:$lp
service add dns udp 127.0.0.1:$DNS$allow
service add pp udp 127.0.0.1:$PP$allow"
	cc="$cc
map add udp 127.0.0.1:$dport peer s service dns
map add udp 127.0.0.1:$pport peer s service pp"
	if ! fd_start "$s" fs "$sc" --datapath "$dp" -l warning ||
	   ! fd_start "$c" fc "$cc" --datapath "$dp" -l warning ||
	   ! fd_wait "$c" 30 'len(j["maps"]) == 2 and all(m["state"] == "open" for m in j["maps"])'; then
		echo "bench: $row: the maps did not open: its numbers mean nothing"
		tail -n 3 "$SVC_DIR/$s.log" "$SVC_DIR/$c.log"
	fi
	PATHS[$row]=$(bench_carrier_path fc "$SVC_DIR/$c.sock")
	measure "$row" 127.0.0.1 "$dport" "$pport"
	fd_stop "$c"
	fd_stop "$s"
}

echo "bench: $(uname -r), ${secs}s per point, dnsperf -c 1/4/16 (8 outstanding each) to dnsmasq, sockperf UDP ping-pong (full round trip), 2 CPUs (TCG)"
ip netns exec fc ip link set lo up
PATHS[direct]="-"
[ "${BENCH_DIRECT:-1}" = 0 ] || measure direct 10.99.0.2 $DNS $PP
n=0
for kind in $kinds; do
	for dp in $dps; do
		for mode in $modes; do
			n=$((n + 1))
			funnel "$kind" "$dp" "$mode" $n
		done
	done
done

printf '%-26s %-12s %7s %7s %7s %6s | %7s %7s %8s\n' path carrier "qps -c1" "-c4" "-c16" "lost%" "p50 us" "p99 us" "p99.9 us"
for row in "${ROWS[@]}"; do
	printf '%-26s %-12s %7s %7s %7s %6s | %7s %7s %8s\n' "$row" "${PATHS[$row]}" \
		"${R[$row:q1]:-0}" "${R[$row:q4]:-0}" "${R[$row:q16]:-0}" "${R[$row:lost]:-?}" \
		"${R[$row:p50]:-}" "${R[$row:p99]:-}" "${R[$row:p999]:-}"
done
echo "what a query cost the guest at dnsperf -c 16 (segs: TCP segments the client site sent):"
for row in "${ROWS[@]}"; do
	printf '  %-26s %s\n' "$row" "${R[$row:cost]:-?}"
done
# ratio LABEL A B: qps per client count and p50 (inverted: B/A, so that
# above 1 means A is better everywhere)
ratio() {
	local label=$1 a=$2 b=$3 out="" k
	for k in 1 4 16; do
		out="$out  -c$k $(bench_ratio "${R[$a:q$k]:-0}" "${R[$b:q$k]:-0}")"
	done
	printf '%-40s%s  p50 %s\n' "$label:" "$out" "$(bench_ratio "${R[$b:p50]:-0}" "${R[$a:p50]:-0}")"
}
echo "(qps ratios; p50: the second's latency over the first's, above 1 = the first is faster)"
for kind in $kinds; do
	for mode in plain sealed; do
		ratio "kernel/user, $mode $kind" "funnel kernel $mode $kind" "funnel user $mode $kind"
		ratio "kernel/direct, $mode $kind" "funnel kernel $mode $kind" direct
		ratio "user/direct, $mode $kind" "funnel user $mode $kind" direct
	done
	for dp in kernel user; do
		ratio "sealed/plain, $dp $kind" "funnel $dp sealed $kind" "funnel $dp plain $kind"
	done
done
echo "raw lines:"
cat "$W/raw"
