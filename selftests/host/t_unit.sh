#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funneld as systemd runs it (ctl/funneld/funneld.service), on this host:
#   - the unit scores 3.0 or better in `systemd-analyze security
#     --offline=true` and names the user, capabilities and watchdog
#     funneld is documented to run with;
#   - the notification protocol (Type=notify, WatchdogSec=), with a
#     Unix datagram socket standing in for systemd's $NOTIFY_SOCKET:
#     READY=1 once the control socket answers, WATCHDOG=1 every half
#     $WATCHDOG_USEC, no ping from a stopped daemon (SIGSTOP), pings
#     again after SIGCONT, STOPPING=1 on SIGTERM; funneld under valgrind.
#
# usage: selftests/host/t_unit.sh       (root not needed)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=$top/ctl/bin:$PATH
# shellcheck source-path=SCRIPTDIR source=../lib/services.sh
. "$top/selftests/lib/services.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$top/selftests/lib/tap.sh"

cleanup() {
	[ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null
	svc_stop_all
	echo "1..$T_N"
	echo "# unit: $((T_N - T_FAIL)) passed, $T_FAIL failed ($(( $(date +%s) - T_START ))s)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unit=$top/ctl/funneld/funneld.service
for p in systemd-analyze funneld funnelctl valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found"; exit 1; }
done
svc_init

# ---- the unit
out=$(systemd-analyze security --offline=true "$unit" 2>&1)
score=$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
	ok "unit: systemd-analyze security --offline=true: exposure $score (3.0 or better)"
else
	not_ok "unit: systemd-analyze security: exposure '${score:-?}' (want <= 3.0)"
	echo "$out" | grep '✗' | head -n 20 | sed 's/^/#   /'
fi
for want in "Type=notify" "WatchdogSec=" "User=funnel" \
	    "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
	    "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
	    "ExecStart=/usr/local/sbin/funneld -f"; do
	check "unit: has $want" grep -q "^$want" "$unit"
done

# ---- the notification protocol
ns=$SVC_DIR/notify.sock
python3 - "$ns" "$SVC_DIR/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        m = s.recv(4096).decode(errors="replace")
        for line in m.split("\n"):
            f.write("%.3f %s\n" % (time.time(), line))
PY
lpid=$!
for _ in $(seq 50); do [ -S "$ns" ] && break; sleep 0.1; done
: >"$SVC_DIR/notify.log"
n_of() { grep -c " $1\$" "$SVC_DIR/notify.log"; }
svc_pick_port P_L
conf="plaintext
listen 127.0.0.1:$P_L"
FD_START_TIMEOUT=30
FD_WRAP="env NOTIFY_SOCKET=$ns WATCHDOG_USEC=600000 valgrind --leak-check=full --error-exitcode=99 --log-file=$SVC_DIR/vg.txt"
if fd_start D "" "$conf" --datapath user; then
	pid=$(svc_pid D)
	for _ in $(seq 100); do [ "$(n_of READY=1)" -ge 1 ] && break; sleep 0.1; done
	check "notify: READY=1 once the control socket listens" test "$(n_of READY=1)" = 1
	check "notify: STATUS names the control socket" grep -q "STATUS=running, control socket $SVC_DIR/D.sock" "$SVC_DIR/notify.log"
	sleep 1.6
	w=$(n_of WATCHDOG=1)
	# WATCHDOG_USEC 600 ms: a ping every 300 ms, about 5 in 1.6 s
	check "notify: WATCHDOG=1 every half WATCHDOG_USEC ($w pings in 1.6 s)" test "$w" -ge 3 -a "$w" -le 8
	kill -STOP "$pid"
	w0=$(n_of WATCHDOG=1)
	sleep 1.5
	w1=$(n_of WATCHDOG=1)
	kill -CONT "$pid"
	check "notify: a stopped funneld sends no ping ($((w1 - w0)) in 1.5 s), so systemd would restart it" \
		test $((w1 - w0)) -le 1
	sleep 1
	w2=$(n_of WATCHDOG=1)
	check "notify: pings again once it runs ($((w2 - w1)) in 1 s)" test $((w2 - w1)) -ge 2
	svc_stop D TERM; rc=$?
	check "notify: STOPPING=1 on SIGTERM" test "$(n_of STOPPING=1)" = 1
	check "valgrind: funneld exit 0, no error, no leak (rc $rc)" test "$rc" = 0
	grep -q 'ERROR SUMMARY: 0 errors' "$SVC_DIR/vg.txt" || sed 's/^/#   /' "$SVC_DIR/vg.txt" | tail -n 20
else
	not_ok "funneld -f under NOTIFY_SOCKET starts"
fi
unset FD_WRAP

# without WATCHDOG_USEC: READY=1, no ping; WATCHDOG_PID of another process: no ping
: >"$SVC_DIR/notify.log"
FD_WRAP="env NOTIFY_SOCKET=$ns WATCHDOG_USEC=200000 WATCHDOG_PID=1"
if fd_start E "" "$conf" --datapath user; then
	sleep 1
	check "notify: WATCHDOG_PID of another process: READY=1 and no ping" \
		test "$(n_of READY=1)" = 1 -a "$(n_of WATCHDOG=1)" = 0
	svc_stop E TERM
else
	not_ok "funneld with WATCHDOG_PID=1 starts"
fi
unset FD_WRAP
exit $((T_FAIL > 0))
