#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of selftests/tools/udp_pump on loopback: echo and rr over 64
# ports without a bad or lost reply, rr against nothing and against an
# echo that answers from the wrong port, blast into sink, usage errors.
#
#   test_udp_pump.sh [UDP_PUMP]   (default: build/tools/udp_pump)
#
# Prints TAP; exits non-zero if a test failed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
pump=${1:-$top/build/tools/udp_pump}

tmp=$(mktemp -d) || exit 1
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
out=$tmp/out
err=$tmp/err

n=0
failed=0

tap() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		for f in "$out" "$err"; do
			[ -s "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
		done
	fi
}

skip() { # NAME REASON
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

run() { # COMMAND...; sets $rc, output in $out and $err
	"$@" >"$out" 2>"$err"
	rc=$?
}

# expect_usage NAME TEXT COMMAND...: exit status 2, TEXT and a usage line
# on stderr, nothing on stdout
expect_usage() {
	name=$1 text=$2
	shift 2
	run "$@"
	[ $rc -eq 2 ] && grep -qF -- "$text" "$err" && grep -q '^usage: ' "$err" &&
		[ ! -s "$out" ]
	tap $? "$name"
}

# wait_bound FILE: until a python3 helper printed "bound" to FILE (10 s
# at most: python3 may take longer than a moment to start, a pyenv shim)
wait_bound() {
	i=0
	while [ $i -lt 100 ] && ! grep -q '^bound$' "$1"; do
		sleep 0.1
		i=$((i + 1))
	done
}

# wait_port ADDR PORT: until an echo answers on PORT (5 s at most)
wait_port() {
	i=0
	while [ $i -lt 50 ]; do
		"$pump" rr "$1" "$2" -n 1 -T 100 >/dev/null 2>&1 && return 0
		i=$((i + 1))
	done
	return 1
}

# Ports of this run: 200 from a base that depends on the process id.
base=$((20000 + ($$ % 200) * 200))
last=$((base + 63))

# ---- usage ----

run "$pump" --help
[ $rc -eq 0 ] && grep -q '^usage: udp_pump' "$out"
tap $? "udp_pump --help"

expect_usage "without a mode exits 2" "missing mode" "$pump"
expect_usage "unknown mode exits 2" "'frob'" "$pump" frob 127.0.0.1 1
expect_usage "rr without -n or -t exits 2" "needs -n COUNT or -t SECONDS" \
	"$pump" rr 127.0.0.1 "$base"
expect_usage "rr with a bad option exits 2" "'-x'" \
	"$pump" rr 127.0.0.1 "$base" -n 1 -x
expect_usage "rr with SIZE below 16 exits 2" "'15'" \
	"$pump" rr 127.0.0.1 "$base" -n 1 -s 15
expect_usage "rr with RATE 0 exits 2" "bad value '0'" \
	"$pump" rr 127.0.0.1 "$base" -n 1 -r 0
expect_usage "echo with a bad address exits 2" "'localhost'" \
	"$pump" echo localhost "$base"
expect_usage "echo with a reversed port range exits 2" "'$last-$base'" \
	"$pump" echo 127.0.0.1 "$last-$base"
expect_usage "blast with a port range exits 2" "single port" \
	"$pump" blast 127.0.0.1 "$base-$last" -t 1
expect_usage "sink without -t exits 2" "needs -t SECONDS" \
	"$pump" sink 127.0.0.1 "$base"
expect_usage "blast -f 0 exits 2" "bad value '0'" \
	"$pump" blast 127.0.0.1 "$base" -t 1 -f 0
expect_usage "blast -f above 60000 exits 2" "bad value '60001'" \
	"$pump" blast 127.0.0.1 "$base" -t 1 -f 60001
expect_usage "blast -f without a number exits 2" "bad value 'x'" \
	"$pump" blast 127.0.0.1 "$base" -t 1 -f x
expect_usage "sink -f exits 2 (blast only)" "'-f'" \
	"$pump" sink 127.0.0.1 "$base" -t 1 -f 2

# ---- echo and rr ----

"$pump" echo 127.0.0.1 "$base-$last" >"$tmp/echo.out" 2>&1 &
echo_pid=$!
pids="$pids $echo_pid"
if wait_port 127.0.0.1 "$last"; then
	run "$pump" rr 127.0.0.1 "$base-$last" -n 1000 -w 8
	[ $rc -eq 0 ] &&
		grep -Eqx 'rr: ports 64 sent 64000 good 64000 bad 0 lost 0 rate [0-9]+/s p50 [0-9]+us p99 [0-9]+us p99.9 [0-9]+us' "$out"
	tap $? "rr -n 1000 -w 8 over 64 ports: all good, none bad or lost"
	lat=$(sed -n 's/.* p50 \([0-9]*\)us p99 \([0-9]*\)us p99.9 \([0-9]*\)us$/\1 \2 \3/p' "$out")
	p50=${lat%% *} p999=${lat##* } p99=${lat#* }; p99=${p99%% *}
	[ "${p50:-0}" -gt 0 ] && [ "$p50" -le "$p99" ] && [ "$p99" -le "$p999" ]
	tap $? "rr prints its round trips: p50 ${p50:-?} <= p99 ${p99:-?} <= p99.9 ${p999:-?} us, p50 above 0"

	run "$pump" rr 127.0.0.1 "$base-$last" -t 1 -w 4 -s 1400
	[ $rc -eq 0 ] &&
		grep -Eqx 'rr: ports 64 sent [1-9][0-9]* good [1-9][0-9]* bad 0 lost 0 rate [1-9][0-9]*/s p50 [0-9]+us p99 [0-9]+us p99.9 [0-9]+us' "$out"
	tap $? "rr -t 1 with 1400-byte requests: good, none bad or lost"

	# paced: 64 ports x 50/s x 2 s = 6400, not the thousands the
	# window alone allows (a pacing that does nothing fails here)
	run "$pump" rr 127.0.0.1 "$base-$last" -t 2 -w 4 -r 50
	sent=$(sed -n 's/^rr: ports 64 sent \([0-9]*\) .*/\1/p' "$out")
	[ $rc -eq 0 ] && [ "${sent:-0}" -ge 5800 ] && [ "$sent" -le 6600 ]
	tap $? "rr -r 50 paces 64 ports for 2 s: ${sent:-?} requests (6400 expected)"
else
	tap 1 "echo on 64 ports answers"
fi
kill -TERM "$echo_pid"
wait "$echo_pid"
rc=$?
cp "$tmp/echo.out" "$out"
: >"$err"
count=$(sed -n 's/^echo: \([0-9]*\) datagrams$/\1/p' "$out")
[ $rc -eq 0 ] && [ "${count:-0}" -ge 64000 ]
tap $? "echo exits 0 on SIGTERM and counts the datagrams"

"$pump" echo ::1 "$base" -q >"$tmp/echo6.out" 2>&1 &
echo6_pid=$!
pids="$pids $echo6_pid"
if wait_port ::1 "$base"; then
	run "$pump" rr ::1 "$base" -n 200 -w 4 -s 16
	[ $rc -eq 0 ] && grep -q 'good 200 bad 0 lost 0' "$out"
	tap $? "rr over IPv6"
	kill -TERM "$echo6_pid"
	wait "$echo6_pid"
	[ $? -eq 0 ] && [ ! -s "$tmp/echo6.out" ]
	tap $? "echo -q prints nothing"
else
	skip "rr over IPv6" "no IPv6 loopback"
fi

# Nothing listens on these ports: every request is lost.
run "$pump" rr 127.0.0.1 "$((base + 100))-$((base + 103))" -n 3 -w 2 -T 200
[ $rc -eq 1 ] && grep -Eqx 'rr: ports 4 sent 12 good 0 bad 0 lost 12 rate 0/s p50 0us p99 0us p99.9 0us' "$out"
tap $? "rr against nothing: all lost, exit 1"

run "$pump" rr 127.0.0.1 "$((base + 100))" -t 1 -T 200
[ $rc -eq 0 ] && grep -q 'good 0 bad 0 lost [1-9]' "$out"
tap $? "rr -t ignores lost requests without -S"
run "$pump" rr 127.0.0.1 "$((base + 100))" -t 1 -T 200 -S
[ $rc -eq 1 ] && grep -q 'good 0 bad 0 lost [1-9]' "$out"
tap $? "rr -t -S fails on lost requests"

# An echo that answers each port's requests from the other port, as a
# mixup of streams would: every reply is bad.
if command -v python3 >/dev/null 2>&1; then
	python3 - "$((base + 110))" >"$tmp/swap.out" 2>&1 <<'EOF' &
import select, socket, sys
port = int(sys.argv[1])
socks = []
for p in (port, port + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", p))
    socks.append(s)
print("bound", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        data, src = s.recvfrom(65536)
        socks[1 - socks.index(s)].sendto(data, src)
EOF
	swap_pid=$!
	pids="$pids $swap_pid"
	wait_bound "$tmp/swap.out"
	run "$pump" rr 127.0.0.1 "$((base + 110))-$((base + 111))" -n 5 -w 5 -T 200
	[ $rc -eq 1 ] && grep -q 'ports 2 sent 10 good 0 bad 10 lost 10' "$out"
	tap $? "rr counts replies from the wrong port as bad"
	kill "$swap_pid" 2>/dev/null
else
	skip "rr counts replies from the wrong port as bad" "no python3"
fi

# ---- blast and sink ----

sink_port=$((base + 120))
"$pump" sink 127.0.0.1 "$sink_port" -t 1 >"$tmp/sink.out" 2>&1 &
sink_pid=$!
pids="$pids $sink_pid"
sleep 0.3
run "$pump" blast 127.0.0.1 "$sink_port" -t 1 -s 200
blast_rc=$rc
sent=$(sed -n 's/^blast: sent \([0-9]*\) rate [0-9]*\/s$/\1/p' "$out")
wait "$sink_pid"
sink_rc=$?
received=$(sed -n 's/^sink: received \([0-9]*\) rate [0-9]*\/s$/\1/p' "$tmp/sink.out")
[ $blast_rc -eq 0 ] && [ "${sent:-0}" -gt 0 ]
tap $? "blast sends for 1 s"
[ $sink_rc -eq 0 ] && [ "${received:-0}" -gt 0 ] &&
	[ "${received:-0}" -le "${sent:-0}" ]
tap $? "sink counts what blast sent (${received:-?} of ${sent:-?})"

# blast -f: from FLOWS source ports, each opened before the clock starts
if command -v python3 >/dev/null 2>&1; then
	python3 - "$((base + 121))" >"$tmp/flows.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
print("bound", flush=True)
ports, last = set(), time.time()
while not ports or time.time() - last < 1.5:
    try:
        ports.add(s.recvfrom(2048)[1][1])
        last = time.time()
    except socket.timeout:
        pass
print("ports", len(ports), flush=True)
EOF
	flows_pid=$!
	pids="$pids $flows_pid"
	wait_bound "$tmp/flows.out"
	run "$pump" blast 127.0.0.1 "$((base + 121))" -t 1 -f 20
	wait "$flows_pid"
	[ $rc -eq 0 ] && grep -qx 'blast: 20 flows open' "$out" &&
		grep -qx 'ports 20' "$tmp/flows.out"
	tap $? "blast -f 20 sends from 20 source ports ($(sed -n 's/^ports //p' "$tmp/flows.out"))"
else
	skip "blast -f 20 sends from 20 source ports" "no python3"
fi

"$pump" sink 127.0.0.1 "$sink_port" -t 10 >"$tmp/sink.out" 2>&1 &
sink_pid=$!
sleep 0.3
kill -TERM "$sink_pid"
wait "$sink_pid"
[ $? -eq 0 ] && grep -qx 'sink: received 0 rate 0/s' "$tmp/sink.out"
tap $? "sink stops on SIGTERM"

echo "1..$n"
exit $failed
