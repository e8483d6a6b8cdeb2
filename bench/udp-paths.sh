#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: UDP through Funnel's kernel path, through funneld's
# userspace path, through a plain userspace UDP-over-TCP relay (socat),
# and direct, in one VM run; the same through an SCTP carrier on
# funnel.ko's path and on funneld's; prints rates and the ratios.
# Not a test: it never fails on a number.
#
#   bench/udp-paths.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#
#   BENCH_KINDS="sctp": the SCTP rows only (kernel and userspace path);
#   BENCH_ROUNDS=N (in the guest's environment, e.g. through
#   selftests/vm/run -- env BENCH_ROUNDS=5 bench/udp-paths.sh): every row
#   is measured N times (default 3), the rows interleaved in each round,
#   each round printed; the table lists each row's best round, since
#   TCG's rates only ever fall when the host is busy with something else
#   (a row's best is what the path can do, and every row had the same
#   chances at a quiet host);
#   BENCH_PERF=1 (the same way): the SCTP kernel-path runs under perf
#   record -a (as bench/profile.sh), and their top symbols printed
#
# Inside the guest (FUNNEL_TOP set) it runs the measurement itself.
set -u
secs=5
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/udp-paths.sh 1200 "$secs" "$@"
fi

secs=${BENCH_SECS:-5}
sctp_only=0
[ "${BENCH_KINDS:-}" = sctp ] && sctp_only=1
export PATH=$FUNNEL_TOP/selftests/tools:$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
W=$(mktemp -d)
modprobe funnel
sites_up >/dev/null || exit 1
ip -n fs addr add 10.99.0.3/24 dev vs
ip netns exec fs udp_pump echo 127.0.0.1 7001 -q &
ip netns exec fs udp_pump echo 10.99.0.3 7002 -q &

# (a) kernel path: stream 1 request/response, stream 2 one-way
tun s fs --listen 10.99.0.2:7000 --udp-connect 1:127.0.0.1:7001 \
	--udp-connect 2:127.0.0.1:7101
tun c fc --connect 10.99.0.2:7000 --udp-listen 1:127.0.0.1:8001 \
	--udp-listen 2:127.0.0.1:8101
wait_files 20 "$W/s.id" "$W/c.id" || { echo "bench: carrier setup failed"; exit 1; }
ip netns exec fc ip link set lo up
# TCP_NODELAY on the carrier is funnel-tun's; socat gets the same below
# (b) socat relay: UDP -> TCP -> UDP, one TCP connection each way;
# made again for every round (a UDP4-LISTEN socat serves its first
# client's address only)
socat_up() {
	pkill -x socat
	sleep 0.2
	ip netns exec fs socat TCP4-LISTEN:9001,reuseaddr,nodelay UDP4:127.0.0.1:7001 &
	ip netns exec fs socat TCP4-LISTEN:9002,reuseaddr,nodelay UDP4:127.0.0.1:7102 &
	sleep 0.5
	ip netns exec fc socat UDP4-LISTEN:8002 TCP4:10.99.0.2:9001,nodelay &
	ip netns exec fc socat UDP4-LISTEN:8102 TCP4:10.99.0.2:9002,nodelay &
}
# (c) funneld's userspace path on both sites, same services
printf 'listen 10.99.0.2:7500\nplaintext\nservice add rr udp 127.0.0.1:7001\nservice add ow udp 127.0.0.1:7201\n' >"$W/us.conf"
printf 'plaintext\npeer add s 10.99.0.2:7500 carrier tcp\nmap add udp 127.0.0.1:8003 peer s service rr\nmap add udp 127.0.0.1:8103 peer s service ow\n' >"$W/uc.conf"
ip netns exec fs funneld -f --datapath user -l warning -c "$W/us.conf" -s "$W/us.sock" 2>"$W/us.log" &
ip netns exec fc funneld -f --datapath user -l warning -c "$W/uc.conf" -s "$W/uc.sock" 2>"$W/uc.log" &
# (d) SCTP carriers through funneld: funnel.ko's path and funneld's
# (plaintext, lifetime 0: the numbers compare forwarding, not PR-SCTP)
modprobe sctp
sctp_pair() { # NAME PORT DATAPATH CLIENT-RR-PORT CLIENT-OW-PORT
	printf 'listen 10.99.0.2:%s\nplaintext\nservice add rr udp 127.0.0.1:7001 lifetime 0\nservice add ow udp 127.0.0.1:%s lifetime 0\n' \
		"$2" "$((7300 + $2 % 10))" >"$W/$1s.conf"
	printf 'plaintext\npeer add s 10.99.0.2:%s carrier sctp\nmap add udp 127.0.0.1:%s peer s service rr lifetime 0\nmap add udp 127.0.0.1:%s peer s service ow lifetime 0\n' \
		"$2" "$4" "$5" >"$W/$1c.conf"
	ip netns exec fs funneld -f --datapath "$3" -l warning -c "$W/$1s.conf" -s "$W/$1s.sock" 2>"$W/$1s.log" &
	ip netns exec fc funneld -f --datapath "$3" -l warning -c "$W/$1c.conf" -s "$W/$1c.sock" 2>"$W/$1c.log" &
}
sctp_pair sk 7601 kernel 8004 8104
sctp_pair su 7602 user 8005 8105
sleep 4

rate() { sed -n 's/.*rate \([0-9]*\)\/s.*/\1/p' | tail -n 1; }
# perf NAME CMD...: CMD, under perf record when BENCH_PERF is set (perf
# wraps the load: see bench/profile.sh); then the top symbols
perf_wrap() {
	local name=$1
	shift
	if [ -z "${BENCH_PERF:-}" ]; then
		"$@"
		return
	fi
	perf record -q -e cpu-clock -F 499 -a -g -o "$W/perf.data" -- "$@"
	{
		echo "## perf: $name, self time"
		perf report -q -i "$W/perf.data" --no-children --sort sym -g none \
			--percent-limit 0.7 2>/dev/null | grep . | sed -n '1,30p'
		echo "## perf: $name, funnel/sctp functions and below"
		perf report -q -i "$W/perf.data" --children --sort sym -g none 2>/dev/null |
			awk '/\[k\] (funnel_|sctp_|process_one_work|lock_sock|release_sock)/ && n < 25 { printf "  %s %s\n", $1, $NF; n++ }'
	} >>"$W/perf.txt"
}
rr() { perf_wrap "rr $2" ip netns exec fc udp_pump rr "$@" -t "$secs" -w 1 -T 1000 2>&1 | rate; }
oneway() { # CLIENT-PORT SINK-ADDR SINK-PORT
	ip netns exec fs udp_pump sink "$2" "$3" -t "$secs" >"$W/sink" 2>&1 &
	local s=$!
	sleep 0.3
	perf_wrap "one-way $1" ip netns exec fc udp_pump blast 127.0.0.1 "$1" -t "$secs" -s 64 >/dev/null 2>&1
	sleep 0.5
	kill $s 2>/dev/null; wait $s 2>/dev/null
	rate <"$W/sink"
}

ow_direct() {
	ip netns exec fs udp_pump sink 10.99.0.3 7103 -t "$secs" >"$W/dsink" 2>&1 &
	local s=$!
	sleep 0.3
	ip netns exec fc udp_pump blast 10.99.0.3 7103 -t "$secs" -s 64 >/dev/null 2>&1
	sleep 0.5
	kill $s 2>/dev/null; wait $s 2>/dev/null
	rate <"$W/dsink"
}
# best VAR VALUE: keep the larger of VAR and VALUE in VAR
best() { [ "${2:-0}" -gt "${!1:-0}" ] && printf -v "$1" '%s' "$2"; return 0; }

rounds=${BENCH_ROUNDS:-3}
echo "bench: $(uname -r), ${secs}s per run, 64-byte datagrams, $rounds rounds (the table: each row's best)"
k_rr=0 s_rr=0 d_rr=0 u_rr=0 k_ow=0 s_ow=0 u_ow=0 d_ow=0 sk_rr=0 su_rr=0 sk_ow=0 su_ow=0
for round in $(seq 1 "$rounds"); do
	if [ "$sctp_only" = 0 ]; then
		socat_up
		r_k_rr=$(rr 127.0.0.1 8001); r_u_rr=$(rr 127.0.0.1 8003)
		r_s_rr=$(rr 127.0.0.1 8002); r_d_rr=$(rr 10.99.0.3 7002)
	fi
	r_sk_rr=$(rr 127.0.0.1 8004); r_su_rr=$(rr 127.0.0.1 8005)
	if [ "$sctp_only" = 0 ]; then
		r_k_ow=$(oneway 8101 127.0.0.1 7101); r_u_ow=$(oneway 8103 127.0.0.1 7201)
		r_s_ow=$(oneway 8102 127.0.0.1 7102); r_d_ow=$(ow_direct)
	fi
	r_sk_ow=$(oneway 8104 127.0.0.1 7301); r_su_ow=$(oneway 8105 127.0.0.1 7302)
	for v in k_rr u_rr s_rr d_rr sk_rr su_rr k_ow u_ow s_ow d_ow sk_ow su_ow; do
		r=r_$v
		best "$v" "${!r:-0}"
	done
	if [ "$sctp_only" = 0 ]; then
		echo "round $round: rr kernel ${r_k_rr:-0} user ${r_u_rr:-0} socat ${r_s_rr:-0} direct ${r_d_rr:-0} sctp-kernel ${r_sk_rr:-0} sctp-user ${r_su_rr:-0}; one-way kernel ${r_k_ow:-0} user ${r_u_ow:-0} socat ${r_s_ow:-0} direct ${r_d_ow:-0} sctp-kernel ${r_sk_ow:-0} sctp-user ${r_su_ow:-0}"
	else
		echo "round $round: rr sctp-kernel ${r_sk_rr:-0} sctp-user ${r_su_rr:-0}; one-way sctp-kernel ${r_sk_ow:-0} sctp-user ${r_su_ow:-0}"
	fi
done
sk_dp=$(ip netns exec fc funnelctl -s "$W/skc.sock" show 2>/dev/null | sed -n 's/^carrier s: up, \([a-z-]*\) .*datapath \([a-z]*\).*/\1 \2/p')

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
if [ "$sctp_only" = 1 ]; then
	printf '%-28s %12s %12s\n' "path" "rr/s" "one-way/s"
	printf '%-28s %12s %12s\n' "sctp, kernel path (${sk_dp:-?})" "${sk_rr:-0}" "${sk_ow:-0}"
	printf '%-28s %12s %12s\n' "sctp, funneld userspace path" "${su_rr:-0}" "${su_ow:-0}"
	echo "sctp kernel/user:    rr $(ratio "$sk_rr" "$su_rr")  one-way $(ratio "$sk_ow" "$su_ow")"
else
	printf '%-28s %12s %12s\n' "path" "rr/s" "one-way/s"
	printf '%-28s %12s %12s\n' "funnel kernel path" "${k_rr:-0}" "${k_ow:-0}"
	printf '%-28s %12s %12s\n' "funneld userspace path" "${u_rr:-0}" "${u_ow:-0}"
	printf '%-28s %12s %12s\n' "sctp, kernel path (${sk_dp:-?})" "${sk_rr:-0}" "${sk_ow:-0}"
	printf '%-28s %12s %12s\n' "sctp, funneld userspace path" "${su_rr:-0}" "${su_ow:-0}"
	printf '%-28s %12s %12s\n' "socat UDP-over-TCP relay" "${s_rr:-0}" "${s_ow:-0}"
	printf '%-28s %12s %12s\n' "direct (no tunnel)" "${d_rr:-0}" "${d_ow:-0}"
	echo "ratio kernel/socat:  rr $(ratio "$k_rr" "$s_rr")  one-way $(ratio "$k_ow" "$s_ow")"
	echo "ratio kernel/user:   rr $(ratio "$k_rr" "$u_rr")  one-way $(ratio "$k_ow" "$u_ow")"
	echo "ratio user/socat:    rr $(ratio "$u_rr" "$s_rr")  one-way $(ratio "$u_ow" "$s_ow")"
	echo "ratio kernel/direct: rr $(ratio "$k_rr" "$d_rr")  one-way $(ratio "$k_ow" "$d_ow")"
	echo "sctp kernel/user:    rr $(ratio "$sk_rr" "$su_rr")  one-way $(ratio "$sk_ow" "$su_ow")"
	echo "sctp/tcp (kernel):   rr $(ratio "$sk_rr" "$k_rr")  one-way $(ratio "$sk_ow" "$k_ow")"
fi
[ -r "$W/perf.txt" ] && cat "$W/perf.txt"
sites_down
rm -rf "$W"
