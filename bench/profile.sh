#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Profile: where the guest's CPU time goes while funnel.ko forwards UDP
# over a TCP carrier (plaintext: the forwarding, not the crypto, which
# bench/seal.sh measures), one-way (64-byte datagrams at full rate) and
# request/response, and dnsperf (16 clients) against dnsmasq.  perf
# samples all CPUs (cpu-clock: TCG has no PMU) and prints the top kernel
# symbols by self time, with funnel.ko's own share.  Not a test: it
# never fails on a number.
#
#   bench/profile.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#
# BENCH_TOP=N: symbols listed per profile (default 15).
set -u
secs=5
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/profile.sh 600 "$secs" "$@"
fi

secs=${BENCH_SECS:-5}
top=${BENCH_TOP:-15}
export PATH=$FUNNEL_TOP/selftests/tools:$FUNNEL_TOP/build/tools:$PATH
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../selftests/lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
command -v perf >/dev/null || { echo "bench: no perf (make deps installs linux-perf)"; exit 1; }
W=$(mktemp -d)
modprobe funnel
sites_up >/dev/null || exit 1
ip netns exec fc ip link set lo up
ip netns exec fs udp_pump echo 127.0.0.1 7001 -q &
svc_init
svc_dnsmasq dns fs 127.0.0.1 5353 || { echo "bench: dnsmasq did not start"; exit 1; }
for i in $(seq 0 49); do echo "h$i.funnel.test A"; done >"$W/queries"

# stream 1 request/response to an echo service, stream 2 one-way to a
# sink, stream 3 to dnsmasq; unordered (as funneld makes UDP streams),
# flows idle for 10 min
tun s fs --listen 10.99.0.2:7000 \
	--udp-connect 1:127.0.0.1:7001 --unordered --idle 600000 \
	--udp-connect 2:127.0.0.1:7101 --unordered --idle 600000 \
	--udp-connect 3:127.0.0.1:5353 --unordered --idle 600000
tun c fc --connect 10.99.0.2:7000 \
	--udp-listen 1:127.0.0.1:8001 --unordered --idle 600000 \
	--udp-listen 2:127.0.0.1:8101 --unordered --idle 600000 \
	--udp-listen 3:127.0.0.1:8201 --unordered --idle 600000
wait_files 20 "$W/s.id" "$W/c.id" || { echo "bench: carrier setup failed"; exit 1; }
sleep 0.5

# profile NAME: sample all CPUs for secs seconds while the load runs,
# print the top symbols by self time and funnel.ko's share of all samples
profile() {
	local data=$W/$1.data
	echo "## $1"
	if ! timeout $((secs + 60)) perf record -q -e cpu-clock -a -o "$data" \
		-- sleep "$secs" >"$W/perf.out" 2>&1; then
		echo "bench: perf record failed: $(tail -n 2 "$W/perf.out")"
		return
	fi
	timeout 120 perf report -q -i "$data" --no-children --sort sym \
		--percent-limit 0.5 2>/dev/null | sed -n "1,${top}p" | sed 's/^ *//'
	timeout 120 perf report -q -i "$data" --no-children --sort dso 2>/dev/null |
		awk '/funnel/ { s += $1 } END { printf "funnel.ko self time: %.1f%%\n", s }'
}
rate() { sed -n 's/.*rate \([0-9]*\)\/s.*/\1/p' | tail -n 1; }

echo "bench: $(uname -r), ${secs}s per profile, 64-byte datagrams, funnel.ko path over TCP, plaintext"
# one-way: a sink on the server site, a blaster on the client site
ip netns exec fs udp_pump sink 127.0.0.1 7101 -t $((secs + 2)) >"$W/sink" 2>&1 &
sink=$!
sleep 0.3
ip netns exec fc udp_pump blast 127.0.0.1 8101 -t $((secs + 2)) -s 64 >/dev/null 2>&1 &
load=$!
sleep 1
profile one-way
wait "$load"; kill "$sink" 2>/dev/null; wait "$sink"
echo "one-way: $(rate <"$W/sink") datagrams/s at the sink"
# request/response: one outstanding request at a time
ip netns exec fc udp_pump rr 127.0.0.1 8001 -t $((secs + 2)) -w 1 -T 1000 >"$W/rr" 2>&1 &
load=$!
sleep 1
profile request/response
wait "$load"
echo "request/response: $(rate <"$W/rr")/s"
# dnsperf, 16 clients with 8 queries outstanding each, through stream 3
ip netns exec fc dnsperf -s 127.0.0.1 -p 8201 -d "$W/queries" -c 16 -q 128 \
	-l $((secs + 2)) -t 2 >"$W/dnsperf" 2>&1 &
load=$!
sleep 1
profile "dnsperf -c 16"
wait "$load"
echo "dnsperf -c 16: $(awk '/Queries per second:/ { printf "%.0f", $4 }' "$W/dnsperf") queries/s"
svc_stop_all
sites_down
rm -rf "$W"
