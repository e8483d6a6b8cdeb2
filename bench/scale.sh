#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scale: funnel.ko's UDP forwarding rate and memory as flows and streams
# grow, over one TCP carrier (plaintext), in one VM run:
#  - one stream, 64-byte datagrams one-way from 10, 1000 and 10000
#    client flows (udp_pump blast -f, FLOW_BURST datagrams from each in
#    turn; the flows of each step stay, so the last step runs with 11010
#    in the tables): datagrams/s forwarded by the server side, read from
#    the stream's rx-frames counter over the timed window;
#  - request/response over 10 and over 1000 streams of one carrier
#    (one outstanding request per stream);
#  - the memory the flows and streams took (SUnreclaim + Percpu from
#    /proc/meminfo, both sites and the server side's per-flow UDP sockets
#    together) and the slab caches that grew most.
# Not a test: it never fails on a number.
#
#   bench/scale.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
set -u
secs=5
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/scale.sh 900 "$secs" "$@"
fi

secs=${BENCH_SECS:-5}
export PATH=$FUNNEL_TOP/selftests/tools:$FUNNEL_TOP/build/tools:$PATH
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$FUNNEL_TOP/bench/lib.sh"
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
W=$(mktemp -d)
modprobe funnel
sites_up >/dev/null || exit 1
ip netns exec fc ip link set lo up

# unreclaimable slab plus per-CPU allocations (KiB)
unrecl() { awk '/^(SUnreclaim|Percpu):/ { k += $2 } END { print k }' /proc/meminfo; }
# slab bytes per cache (active objects x object size)
slabs() { awk 'NR > 2 { print $1, $2 * $4 }' /proc/slabinfo | sort; }
# grown BEFORE AFTER: the five caches that grew most, in KiB
grown() {
	join "$1" "$2" | awk '{ d = $3 - $2; if (d > 0) print d, $1 }' |
		sort -rn | head -n 5 | awk '{ printf "  %s +%d KiB\n", $2, $1 / 1024 }'
}
now() { date +%s.%N; }
rxf() { nlget fs stats.rx-frames stream-get carrier-id=u32:"$1" stream-id=u16:"$2"; }

echo "bench: $(uname -r), ${secs}s per point, 64-byte datagrams, funnel.ko path over TCP, plaintext"

# --- flows: one stream, one-way to a sink ---
sync; echo 3 >/proc/sys/vm/drop_caches
m0=$(unrecl); slabs >"$W/slab0"
tun s fs --listen 10.99.0.2:7000 \
	--udp-connect 2:127.0.0.1:7101 --unordered --idle 600000 --max 20000
tun c fc --connect 10.99.0.2:7000 \
	--udp-listen 2:127.0.0.1:8101 --unordered --idle 600000 --max 20000
wait_files 20 "$W/s.id" "$W/c.id" || { echo "bench: carrier setup failed"; exit 1; }
sc=$(cat "$W/s.id") cc=$(cat "$W/c.id")
ip netns exec fs udp_pump sink 127.0.0.1 7101 -t 3600 >/dev/null 2>&1 &
sink=$!
sleep 0.5

printf '%-34s %12s %10s\n' "point" "datagrams/s" "flows"
for n in 10 1000 10000; do
	ip netns exec fc udp_pump blast 127.0.0.1 8101 -f "$n" -s 64 \
		-t "$((secs + 2))" >"$W/blast" 2>&1 &
	b=$!
	for _ in $(seq 600); do
		grep -q 'flows open' "$W/blast" && break
		sleep 0.1
	done
	sleep 0.5
	c0=$(rxf "$sc" 2) t0=$(now)
	sleep "$secs"
	c1=$(rxf "$sc" 2) t1=$(now)
	wait "$b"
	f=$(nlget fs flow-count carrier-get carrier-id=u32:"$sc")
	pps=$(awk -v a="${c0:-0}" -v b="${c1:-0}" -v s="$t0" -v e="$t1" \
		'BEGIN { printf "%d", (b - a) / (e - s) }')
	printf '%-34s %12s %10s\n' "one stream, $n client flows" "$pps" "${f:-?}"
	pps_last=$pps
	[ "$n" = 10 ] && pps_first=$pps
done
m1=$(unrecl); slabs >"$W/slab1"
fc_n=$(nlget fc flow-count carrier-get carrier-id=u32:"$cc")
fs_n=$(nlget fs flow-count carrier-get carrier-id=u32:"$sc")
echo "flows in the tables: client ${fc_n:-?}, server ${fs_n:-?} (each with its own UDP socket on the server)"
echo "slab and per-CPU memory (SUnreclaim + Percpu) for them: $(( (m1 - m0) / 1024 )) MiB," \
	"$(awk -v k=$((m1 - m0)) -v n="${fs_n:-0}" 'BEGIN { if (n > 0) printf "%d", k * 1024 / n; else print "?" }') bytes per flow, both sites"
grown "$W/slab0" "$W/slab1"
echo "ratio 10000 flows / 10 flows: $(bench_ratio "$pps_last" "$pps_first")"
kill "$sink" 2>/dev/null
# shellcheck disable=SC2154 # set by tun
kill "$pid_s" "$pid_c" 2>/dev/null
wait "$pid_s" "$pid_c" 2>/dev/null

# --- streams: request/response on 10 and 1000 streams of one carrier ---
sleep 1; sync; echo 3 >/proc/sys/vm/drop_caches
m0=$(unrecl); slabs >"$W/slab2"
tun s2 fs --listen 10.99.0.2:7010 \
	--udp-connect-range 1:127.0.0.1:10000:1000 --unordered --idle 600000
tun c2 fc --connect 10.99.0.2:7010 \
	--udp-listen-range 1:127.0.0.1:20000:1000 --unordered --idle 600000
wait_files 60 "$W/s2.id" "$W/c2.id" || { echo "bench: 1000-stream carrier setup failed"; exit 1; }
m1=$(unrecl); slabs >"$W/slab3"
ip netns exec fs udp_pump echo 127.0.0.1 10000-10999 -q &
sleep 0.5
rate() { sed -n 's/.*rate \([0-9]*\)\/s.*/\1/p' | tail -n 1; }
r10=$(ip netns exec fc udp_pump rr 127.0.0.1 20000-20009 -t "$secs" -w 1 -T 1000 2>&1 | rate)
r1000=$(ip netns exec fc udp_pump rr 127.0.0.1 20000-20999 -t "$secs" -w 1 -T 1000 2>&1 | rate)
printf '%-34s %12s\n' "rr over 10 streams" "${r10:-0}"
printf '%-34s %12s\n' "rr over 1000 streams" "${r1000:-0}"
echo "slab and per-CPU memory for 1000 streams each side: $(( (m1 - m0) / 1024 )) MiB," \
	"$(( (m1 - m0) * 1024 / 2000 )) bytes per stream (the client side: a listening UDP socket each)"
grown "$W/slab2" "$W/slab3"
echo "ratio 1000 streams / 10 streams (rr): $(bench_ratio "$r1000" "$r10")"
sites_down
rm -rf "$W"
