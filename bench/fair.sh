#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: what a bulk TCP download does to a UDP service on the same
# carrier (issue 14, fair sharing).  The link between the sites is
# slowed to 20 Mbit/s each way (netem), so that the carrier's queues
# fill; a UDP request/response service (udp_pump rr, 50 requests/s, one
# outstanding) is measured alone, then while a TCP map downloads as
# fast as it can (netem holds 100 packets, 60 ms: the link itself adds
# little queueing).  For each carrier kind (tcp, sctp) and data path
# (user, kernel) it prints the UDP p50/p99 alone and under the download,
# their ratio, and the download's rate.  Not a test: it never fails on a
# number.
#
#   bench/fair.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#   BENCH_BIN=DIR: run DIR's funneld and funnelctl (e.g. an older build)
set -u
secs=8
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/fair.sh 900 "$secs" "$@"
fi

secs=${BENCH_SECS:-8}
export PATH=$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
# BENCH_BIN=DIR: funneld and funnelctl from DIR (another build, to compare)
[ -n "${BENCH_BIN:-}" ] && export PATH=$BENCH_BIN:$PATH
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
W=$(mktemp -d)
PROBE=$FUNNEL_TOP/selftests/tools/tcpprobe.py
modprobe funnel
modprobe sctp
sites_up >/dev/null || exit 1
# packets of at most one MTU, so that netem's 100 are 60 ms (a veth
# passes 64 KiB GSO packets otherwise: 100 of them are seconds)
ip netns exec fc ethtool -K vc tso off gso off gro off >/dev/null
ip netns exec fs ethtool -K vs tso off gso off gro off >/dev/null
ip netns exec fc tc qdisc replace dev vc root netem rate 20mbit limit 100
ip netns exec fs tc qdisc replace dev vs root netem rate 20mbit limit 100
ip netns exec fs udp_pump echo 127.0.0.1 7401 -q &
echo_pid=$!
ip netns exec fs python3 "$PROBE" blast 7500 $((64 << 20)) &
blast_pid=$!
sleep 2	# it makes its 64 MiB first

echo "plaintext
listen :9899
service add e udp 127.0.0.1:7401
service add bulk tcp 127.0.0.1:7500" >"$W/s.conf"

field() { echo "$2" | sed -n "s/.* $1 \([0-9]*\).*/\1/p"; }

run() { # KIND DATAPATH
	local kind=$1 dp=$2 idle busy got spid cpid rd
	ip netns exec fs funneld -f -l warning --datapath "$dp" -c "$W/s.conf" -s "$W/s.sock" 2>"$W/s.log" &
	spid=$!
	printf 'plaintext\npeer add s 10.99.0.2 carrier %s\nmap add udp 127.0.0.1:8401 peer s service e\nmap add tcp 127.0.0.1:8500 peer s service bulk\n' \
		"$kind" >"$W/c.conf"
	ip netns exec fc funneld -f -l warning --datapath "$dp" -c "$W/c.conf" -s "$W/c.sock" 2>"$W/c.log" &
	cpid=$!
	for i in $(seq 150); do
		[ "$(ip netns exec fc funnelctl -s "$W/c.sock" --json show 2>/dev/null |
			grep -o '"state":"open"' | wc -l)" -ge 4 ] && break
		[ "$i" = 150 ] && echo "# $kind $dp: the maps did not open in 30 s: numbers below mean nothing"
		sleep 0.2
	done
	idle=$(ip netns exec fc udp_pump rr 127.0.0.1 8401 -t "$secs" -w 1 -r 50 -T 2000 2>&1 | tail -n 1)
	ip netns exec fc timeout $((secs + 4)) python3 "$PROBE" read 127.0.0.1 8500 $((64 << 20)) >"$W/read.out" 2>&1 &
	rd=$!
	sleep 2
	got=$(ip netns exec fc funnelctl -s "$W/c.sock" --json show 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(s["stats"]["rx-bytes"] for c in j["carriers"] for s in c["streams"] if s["proto"] == "tcp"))' 2>/dev/null)
	busy=$(ip netns exec fc udp_pump rr 127.0.0.1 8401 -t "$secs" -w 1 -r 50 -T 2000 2>&1 | tail -n 1)
	got=$(( $(ip netns exec fc funnelctl -s "$W/c.sock" --json show 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(s["stats"]["rx-bytes"] for c in j["carriers"] for s in c["streams"] if s["proto"] == "tcp"))' 2>/dev/null || echo 0) - ${got:-0} ))
	kill $rd 2>/dev/null; wait $rd 2>/dev/null
	printf '%-9s %-7s %8s %8s %8s %8s %7s %9s\n' "$kind" "$dp" \
		"$(field p50 "$idle")" "$(field p99 "$idle")" \
		"$(field p50 "$busy")" "$(field p99 "$busy")" \
		"$(awk -v a="$(field p99 "$busy")" -v b="$(field p99 "$idle")" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')" \
		"$(awk -v g="$got" -v s="$secs" 'BEGIN { printf "%.1f", g * 8 / s / 1e6 }')" >>"$W/table"
	echo "  $kind $dp idle: $idle" >>"$W/raw"
	echo "  $kind $dp busy: $busy" >>"$W/raw"
	kill $cpid $spid 2>/dev/null; wait $cpid $spid 2>/dev/null
}

echo "bench: $(uname -r), link 20 Mbit/s each way, UDP rr 50/s alone and under a TCP download through the same carrier, ${secs}s per point"
for k in tcp sctp; do
	for dp in user kernel; do run $k $dp; done
done
printf '%-9s %-7s %8s %8s %8s %8s %7s %9s\n' carrier path "p50 us" "p99 us" "p50 bulk" "p99 bulk" "p99 x" "bulk Mbit"
cat "$W/table"
echo "raw lines:"
cat "$W/raw"
kill $echo_pid $blast_pid 2>/dev/null
wait $echo_pid $blast_pid 2>/dev/null
sites_down >/dev/null 2>&1
