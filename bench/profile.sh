#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Profile: where the guest's CPU time goes while funnel.ko forwards UDP
# over a TCP carrier (plaintext: the forwarding, not the crypto, which
# bench/seal.sh measures): one-way (64-byte datagrams at full rate),
# request/response, and dnsperf (16 clients, 8 queries outstanding each)
# against dnsmasq.  perf samples all CPUs (cpu-clock: TCG has no PMU)
# for the whole of each load and prints the top symbols by self time,
# the funnel.ko functions by time spent in them and below them, and
# the share of the CPUs that was idle and that spun on a contended lock.
# Not a test: it never fails on a number.
#
#   bench/profile.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#
# BENCH_TOP=N: symbols listed per profile (default 15).
#
# perf record wraps the load (perf -- LOAD): started in the middle of a
# load instead, perf in the TCG guest put 98% of its samples in the idle
# loop and none in the load, whatever the load was.
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
[ -n "${BENCH_BIN:-}" ] && export PATH=$BENCH_BIN:$PATH
# shellcheck source=../selftests/kmod/lib.sh
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
# shellcheck source=../selftests/lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
command -v perf >/dev/null || { echo "bench: no perf (make deps installs linux-perf)"; exit 1; }
W=$(mktemp -d)
cleanup() {
	kill "${pid_s:-}" "${pid_c:-}" 2>/dev/null
	svc_stop_all; sites_down >/dev/null 2>&1; rm -rf "$W"
}
trap cleanup EXIT
modprobe funnel
sites_up >/dev/null || exit 1
ip netns exec fc ip link set lo up
svc_init
ip netns exec fs udp_pump echo 127.0.0.1 7001 -q &
svc_register echo "$!"
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

# profile NAME OUT LOAD...: run LOAD (its output to OUT) under perf
# sampling all CPUs, then print what the profile says
profile() {
	local name=$1 out=$2 data=$W/perf.data
	shift 2
	echo "## $name"
	if ! timeout $((secs + 60)) perf record -q -e cpu-clock -F 499 -a -g \
		-o "$data" -- "$@" >"$out" 2>"$W/perf.err"; then
		echo "bench: perf record or the load failed: $(tail -n 2 "$W/perf.err")"
		return
	fi
	echo "top symbols, self time (% of all samples, both CPUs):"
	timeout 120 perf report -q -i "$data" --no-children --sort sym -g none \
		--percent-limit 0.5 2>/dev/null | grep . | sed -n "1,${top}p" | sed 's/^ */  /'
	echo "funnel.ko functions, time in them and below them:"
	timeout 120 perf report -q -i "$data" --children --sort sym -g none 2>/dev/null |
		awk '/\[k\] funnel_/ && n < 8 { printf "  %s %s\n", $1, $NF; n++ }'
	timeout 120 perf report -q -i "$data" --no-children --sort sym -g none 2>/dev/null |
		awk '/pv_native_safe_halt|default_idle$/ { idle += $1 }
		     /native_queued_spin_lock_slowpath/ { spin += $1 }
		     /\[k\] funnel_/ { own += $1 }
		     END { printf "idle %.1f%%, spinning on a contended lock %.1f%%, in funnel.ko itself %.1f%%\n", idle, spin, own }'
	spinners "$data"
}
# spinners DATA: who spun on a contended lock: the three callers nearest
# to the spin (lock wrappers left out) of the samples in
# native_queued_spin_lock_slowpath, the most frequent first
spinners() {
	timeout 120 perf script -i "$1" -F comm,ip,sym 2>/dev/null | awk '
		function done() {
			if (spin) { total++; n[path]++ }
			spin = 0; path = ""; depth = -1
		}
		BEGIN { depth = -1 }
		/^[^ \t]/ { done(); depth = 0; next }
		/^$/ { done(); next }
		depth >= 0 {
			sym = $2
			if (depth == 0 && sym == "native_queued_spin_lock_slowpath") spin = 1
			depth++
			if (!spin || depth > 12 || sym ~ /spin_lock|spin_trylock|queued_spin/) next
			if (split(path, parts, " < ") < 3) path = path == "" ? sym : path " < " sym
		}
		END {
			done()
			if (!total) exit
			printf "who spun (%d samples; the callers nearest the lock):\n", total
			for (p in n) printf "  %5.1f%% %s\n", 100 * n[p] / total, p | "sort -rn | head -n 6"
		}'
}
rate() { sed -n 's/.*rate \([0-9]*\)\/s.*/\1/p' | tail -n 1; }

echo "bench: $(uname -r), ${secs}s per profile, 64-byte datagrams, funnel.ko path over TCP, plaintext, 2 CPUs (TCG)"
# one-way: a sink on the server site, a blaster on the client site
ip netns exec fs udp_pump sink 127.0.0.1 7101 -t $((secs + 3)) >"$W/sink" 2>&1 &
sink=$!
sleep 0.3
profile one-way "$W/blast" ip netns exec fc udp_pump blast 127.0.0.1 8101 -t "$secs" -s 64
wait "$sink"
echo "one-way: $(rate <"$W/sink") datagrams/s at the sink"
# request/response: one outstanding request at a time
profile request/response "$W/rr" ip netns exec fc udp_pump rr 127.0.0.1 8001 -t "$secs" -w 1 -T 1000
echo "request/response: $(rate <"$W/rr")/s"
# dnsperf, 16 clients with 8 queries outstanding each, through stream 3
profile "dnsperf -c 16" "$W/dnsperf" ip netns exec fc dnsperf -s 127.0.0.1 -p 8201 \
	-d "$W/queries" -c 16 -q 128 -l "$secs" -t 2
echo "dnsperf -c 16: $(awk '/Queries per second:/ { printf "%.0f", $4 }' "$W/dnsperf") queries/s"
