#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: request/response latency of UDP services through one
# carrier when the link between the sites loses packets: native SCTP,
# SCTP over UDP and the TCP carrier, at 0%, 1% and 3% loss each way
# (netem), in one VM run, under two loads: "pingpong", one service, one
# request outstanding, 100 requests/s (what sockperf's ping-pong does:
# a lost datagram that nothing follows waits for a retransmission
# timeout); "20 svc", 20 services at 50 requests/s each, one outstanding
# each (a loss is noticed by what follows it).  Prints p50, p99 and p99.9
# of the answered requests, the answered fraction, and the TCP/SCTP
# ratio of p99 for each load and loss.  Not a test: it never fails on a
# number.
#
#   bench/loss.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#
# BENCH_KINDS (e.g. "sctp tcp") and BENCH_LOADS ("pingpong") measure
# fewer carriers or loads.  For each SCTP point the "rto" column shows the
# RTO of the association's path on the client and on the server side, in
# jiffies, from /proc/net/sctp/remaddr once a second during the point
# (lowest-highest).  To try other SCTP timers run the guest yourself with
# funneld's test switches (funneld(8), ENVIRONMENT) in its environment:
#   selftests/vm/run -t 900 -- env FUNNELD_SCTP_SACK_FREQ=1 \
#	BENCH_KINDS="sctp tcp" BENCH_LOADS=pingpong bench/loss.sh
# (BENCH_SCTP_SYSCTL="net.sctp.NAME=VALUE ..." sets SCTP sysctls in both
# sites, for experiments).
#
# funneld runs with --datapath auto and plaintext (the carrier is what is
# measured, not the crypto): funnel.ko carries the TCP carrier, and an
# SCTP carrier too when funnel.ko takes SCTP; `show` says which.
set -u
secs=10
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/loss.sh 900 "$secs" "$@"
fi

secs=${BENCH_SECS:-10}
export PATH=$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
W=$(mktemp -d)
modprobe funnel
modprobe sctp
sites_up >/dev/null || exit 1
# BENCH_SCTP_SYSCTL: "NAME=VALUE ..." set in both sites (experiments)
for kv in ${BENCH_SCTP_SYSCTL:-}; do
	ip netns exec fc sysctl -q -w "$kv" && ip netns exec fs sysctl -q -w "$kv" || exit 1
	echo "bench: sysctl $kv"
done
NSVC=20
ip netns exec fs udp_pump echo 127.0.0.1 7401-$((7400 + NSVC)) -q &

conf_s="plaintext
listen :9899"
conf_c="plaintext
peer add s 10.99.0.2 carrier KIND"
for i in $(seq 1 $NSVC); do
	conf_s="$conf_s
service add e$i udp 127.0.0.1:$((7400 + i))"
	conf_c="$conf_c
map add udp 127.0.0.1:$((8400 + i)) peer s service e$i"
done
echo "$conf_s" >"$W/s.conf"

# loss PERCENT: netem on both ends of the link (each way)
loss() {
	ip netns exec fc tc qdisc replace dev vc root netem loss "$1%"
	ip netns exec fs tc qdisc replace dev vs root netem loss "$1%"
}

# field NAME LINE: the number after NAME in udp_pump's summary
field() { echo "$2" | sed -n "s/.* $1 \([0-9]*\).*/\1/p"; }

# rto_sample SECS: the lines of /proc/net/sctp/remaddr (one per SCTP
# path) of the client and of the server, after "c " and "s ", once a
# second for SECS s
rto_sample() {
	local i
	for i in $(seq "$1"); do
		sleep 1
		ip netns exec fc cat /proc/net/sctp/remaddr | sed -n '2,$s/^/c /p'
		ip netns exec fs cat /proc/net/sctp/remaddr | sed -n '2,$s/^/s /p'
	done
}

# rto_range: "CLO-CHI/SLO-SHI" of rto_sample's lines on stdin (the RTO
# is remaddr's 4th column), "-" if none
rto_range() {
	awk '{ if (!($1 in lo) || $5 < lo[$1]) lo[$1] = $5
	       if (!($1 in hi) || $5 > hi[$1]) hi[$1] = $5 }
	     END { if (!("c" in lo) || !("s" in lo)) { print "-"; exit }
	           printf "%d-%d/%d-%d", lo["c"], hi["c"], lo["s"], hi["s"] }'
}

run_kind() { # KIND
	local kind=$1 out dp l
	ip netns exec fs funneld -f -l warning -c "$W/s.conf" -s "$W/s.sock" 2>"$W/s.log" &
	local spid=$!
	echo "${conf_c//KIND/$kind}" >"$W/c.conf"
	ip netns exec fc funneld -f -l warning -c "$W/c.conf" -s "$W/c.sock" 2>"$W/c.log" &
	local cpid=$!
	# every map open: its "state":"open" and its stream's
	for _ in $(seq 150); do
		[ "$(ip netns exec fc funnelctl -s "$W/c.sock" --json show 2>/dev/null |
			grep -o '"state":"open"' | wc -l)" -ge $((2 * NSVC)) ] && break
		sleep 0.2
	done
	dp=$(ip netns exec fc funnelctl -s "$W/c.sock" show 2>/dev/null | sed -n 's/^carrier s: up, \([a-z-]*\) .*datapath \([a-z]*\).*/\1 \2/p')
	for load in $loads; do
		case $load in
		pingpong) ports=8401 rate=100 ;;
		svc20) ports=8401-$((8400 + NSVC)) rate=50 ;;
		esac
		for l in 0 1 3; do
			loss "$l"
			: >"$W/rto"
			if [ "$kind" != tcp ]; then
				rto_sample "$secs" >"$W/rto" &
				rpid=$!
			fi
			out=$(ip netns exec fc udp_pump rr 127.0.0.1 "$ports" -t "$secs" -w 1 -r "$rate" -T 1000 2>&1 | tail -n 1)
			[ "$kind" != tcp ] && wait "$rpid"
			printf '%-8s %-9s %-14s %4s%% %8s %8s %8s %9s %11s  %s\n' "$load" "$kind" "${dp:-?}" "$l" \
				"$(field p50 "$out")" "$(field p99 "$out")" "$(field p99.9 "$out")" \
				"$(awk -v g="$(field good "$out")" -v s="$(field sent "$out")" 'BEGIN { if (s) printf "%.4f", g / s; else print "n/a" }')" \
				"$(rto_range <"$W/rto")" "$out" >>"$W/table"
			eval "p99_${load}_${kind//-/_}_$l=$(field p99 "$out")"
		done
	done
	loss 0
	kill $cpid $spid 2>/dev/null; wait $cpid $spid 2>/dev/null
}

echo "bench: $(uname -r), pingpong (1 service, 100/s) and 20 svc ($NSVC services, 50/s each), 1 outstanding each, ${secs}s per point, netem loss each way"
loads=${BENCH_LOADS:-pingpong svc20}
env | sed -n 's/^\(FUNNELD_SCTP_[A-Z_]*=.*\)/bench: \1/p'
for k in ${BENCH_KINDS:-sctp sctp-udp tcp}; do run_kind "$k"; done
printf '%-8s %-9s %-14s %5s %8s %8s %8s %9s %11s\n' load carrier "kind datapath" loss "p50 us" "p99 us" "p99.9 us" answered "rto c/s"
cut -c1-96 "$W/table"
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
for load in $loads; do
	for l in 0 1 3; do
		t=0 s=0 u=0
		eval "t=\${p99_${load}_tcp_$l:-0} s=\${p99_${load}_sctp_$l:-0} u=\${p99_${load}_sctp_udp_$l:-0}"
		echo "$load, loss $l%: p99 tcp/sctp $(ratio "$t" "$s"), tcp/sctp-udp $(ratio "$t" "$u")"
	done
done
echo "raw lines:"
sed 's/^/  /' "$W/table"
sites_down >/dev/null 2>&1
