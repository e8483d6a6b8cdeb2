#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funneld accepting carriers under pressure, on this host (userspace
# data path, no VM), under valgrind:
#   - out of descriptors: funneld with two "listen" statements and a
#     small RLIMIT_NOFILE (prlimit); connections to both listeners until
#     accept() fails with EMFILE on both in one round; then `show`
#     answers promptly, funneld is not spinning, and after the pause a
#     real peer's carrier comes up on the second listener.
#   - at most 8 incoming carriers from one address in their handshake:
#     the 9th and 10th are closed at once, another address is taken;
#     the same for 10 IPv6 addresses of one /64 (in a namespace of our
#     own); the refusals counted in stats.
# Ends with SIGTERM: exit 0, no valgrind error, no leak.
#
# usage: selftests/host/t_funneld_accept.sh     (root not needed)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
# SVC_KEEP=1 keeps the temp dir (logs, configs).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "funneld accept"

for p in funneld funnelctl prlimit valgrind python3 timeout; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found"; exit 1; }
done
svc_init
L=127.0.0.1
svc_pick_port P_L1; svc_pick_port P_L2; svc_pick_port P_M

FD_START_TIMEOUT=30

# timed_show NAME: `show` within 2 s; prints the seconds it took
timed_show() {
	local t0 rc
	t0=$(date +%s.%N)
	timeout 2 funnelctl -s "$SVC_DIR/$1.sock" show >/dev/null 2>&1; rc=$?
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
	return $rc
}
# cpu_ticks PID: user + system clock ticks the process has used
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
# ---- EMFILE on two listeners in one round
# 40 descriptors: valgrind keeps some of them for itself; funneld has
# about 10 of its own, so a few dozen connections exhaust the rest
conf_a="plaintext
listen $L:$P_L1
listen $L:$P_L2"
FD_WRAP="prlimit --nofile=40:40 ${VG[*]} --log-file=$SVC_DIR/vg-A.txt" \
	fd_start A "" "$conf_a" --datapath user -n site-a || { not_ok "A starts"; exit 1; }
apid=$(svc_pid A)
ok "A: funneld with listen $L:$P_L1 and $L:$P_L2 under RLIMIT_NOFILE 40"

# 60 connections to each listener at once: both backlogs are full when
# funneld runs out of descriptors, so both listeners fail in one round;
# the connections stay open 1.5 s, then close.  They come from 16
# addresses, 8 at most from each (the per-address handshake limit)
python3 - "$L" "$P_L1" "$P_L2" <<'EOF' &
import socket, sys, time
host, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
socks = []
for i in range(60):
    for p in ports:
        s = socket.socket()
        s.bind(("127.0.0.%d" % (2 + i % 16), 0))
        s.setblocking(False)
        s.connect_ex((host, p))
        socks.append(s)
time.sleep(1.5)
for s in socks:
    s.close()
EOF
flood=$!
wait $flood
n=0
for _ in $(seq 30); do
	n=$(grep -c 'accept: Too many open files' "$SVC_DIR/A.log")
	[ "$n" -ge 1 ] && break
	sleep 0.1
done
if [ "$n" -ge 1 ]; then
	ok "A: accept failed with EMFILE ($n log line(s): $(grep -m 1 'accept: Too many' "$SVC_DIR/A.log" | sed 's/.*accept:/accept:/'))"
else
	not_ok "A: accept never failed with EMFILE: the test does not exhaust descriptors"
	tail -n 20 "$SVC_DIR/A.log" | diag
fi
# the pause (1 s) ends and the half-open carriers are closed; funneld
# must be idle and answer
sleep 2.5
c0=$(cpu_ticks "$apid")
sleep 1
c1=$(cpu_ticks "$apid")
busy=$(( ${c1:-0} - ${c0:-0} ))
if [ -n "$c0" ] && [ "$busy" -le 30 ]; then
	ok "A: idle after the pause (${busy} CPU ticks in 1 s)"
else
	not_ok "A: spinning after the pause: ${busy} CPU ticks in 1 s (of $(getconf CLK_TCK))"
fi
good=0 slow=""
for _ in 1 2 3; do
	if s=$(timed_show A); then good=$((good + 1)); fi
	slow="$slow $s"
done
if [ $good = 3 ]; then
	ok "A: show answers promptly after EMFILE (s:$slow)"
else
	not_ok "A: show answered $good of 3 times within 2 s (s:$slow)"
	tail -n 20 "$SVC_DIR/A.log" | diag
fi
# accepting again: a real peer's carrier comes up on the second listener
fd_start B "" "plaintext
peer add a $L:$P_L2 carrier tcp
map add udp $L:$P_M peer a service none" --datapath user -n site-b
if fd_wait B 10 "carrier('a').get('state') == 'up'" &&
   fd_wait A 5 "any(c.get('state') == 'up' and c.get('peer_node') == 'site-b' for c in j['carriers'])"; then
	ok "A: accepts again after the pause: B's carrier up on $L:$P_L2"
else
	not_ok "A: B's carrier did not come up on $L:$P_L2"
	fd_ctl B show 2>&1 | diag
	tail -n 20 "$SVC_DIR/A.log" | diag
fi
svc_stop B TERM

# ---- handshakes per address: 10 connections from 127.0.0.20 that say
# nothing: funneld keeps 8 in their handshake and closes the other 2 at
# once, while one from 127.0.0.21 is still taken
python3 - "$L" "$P_L1" <<'EOF' >"$SVC_DIR/perhost.out"
import select, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
def conn(src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect((host, port))
    return s
a = [conn("127.0.0.20") for _ in range(10)]
time.sleep(0.5)
b = conn("127.0.0.21")
time.sleep(1)
def closed(s):
    r, _, _ = select.select([s], [], [], 0)
    return bool(r) and s.recv(1) == b""
print(sum(closed(s) for s in a), int(closed(b)))
EOF
read -r na nb <"$SVC_DIR/perhost.out"
if [ "${na:-}" = 2 ] && [ "${nb:-}" = 0 ] &&
   grep -q 'incoming carrier from 127.0.0.20:[0-9]* refused: 8 carriers from that address' "$SVC_DIR/A.log"; then
	ok "A: 10 silent connections from one address: 8 kept in their handshake, 2 closed (logged); another address still taken"
else
	not_ok "A: per-address handshake limit: ${na:-?} of 10 closed (want 2), other address closed: ${nb:-?} (want 0)"
	grep 'refused' "$SVC_DIR/A.log" | tail -n 5 | diag
fi
# ---- the same per IPv6 /64: 10 addresses of one /64 are one host (a
# host picks addresses from its /64 at will), another /64 is another;
# in a user and network namespace of our own, where we may add them
if unshare -rn true 2>/dev/null; then
	svc_pick_port P_L6
	unshare -rn /bin/sh -s "$SVC_DIR" "$P_L6" <<'EOS' >"$SVC_DIR/v6.out" 2>&1
dir=$1 port=$2
ip link set lo up
ip -6 addr add fd00:99::1/64 dev lo nodad
for i in 20 21 22 23 24 25 26 27 28 29; do
	ip -6 addr add fd00:99::$i/128 dev lo nodad
done
ip -6 addr add fd00:98::5/128 dev lo nodad
printf 'listen [fd00:99::1]:%s\nplaintext\n' "$port" >"$dir/v6.conf"
funneld -f -c "$dir/v6.conf" -s "$dir/v6.sock" --datapath user 2>"$dir/v6.log" &
pid=$!
for _ in $(seq 100); do [ -S "$dir/v6.sock" ] && break; sleep 0.05; done
python3 - "$port" <<'EOP'
import select, socket, sys, time
port = int(sys.argv[1])
def conn(src):
    s = socket.socket(socket.AF_INET6)
    s.bind((src, 0))
    s.connect(("fd00:99::1", port))
    return s
a = [conn("fd00:99::%d" % (20 + i)) for i in range(10)]
time.sleep(0.5)
b = conn("fd00:98::5")
time.sleep(1)
def closed(s):
    r, _, _ = select.select([s], [], [], 0)
    return bool(r) and s.recv(1) == b""
print("result", sum(closed(s) for s in a), int(closed(b)))
EOP
kill $pid; wait $pid
EOS
	read -r _ na nb <<EOF2
$(grep '^result' "$SVC_DIR/v6.out")
EOF2
	if [ "${na:-}" = 2 ] && [ "${nb:-}" = 0 ] &&
	   grep -q 'incoming carrier from \[fd00:99::2[0-9]\]:[0-9]* refused: 8 carriers from that address' "$SVC_DIR/v6.log"; then
		ok "IPv6: 10 silent connections from 10 addresses of one /64: 8 kept, 2 closed; another /64 still taken"
	else
		not_ok "IPv6 /64: ${na:-?} of 10 closed (want 2), other /64 closed: ${nb:-?} (want 0)"
		diag <"$SVC_DIR/v6.out"; tail -n 5 "$SVC_DIR/v6.log" | diag
	fi
else
	ok "IPv6 /64 handshake limit # SKIP no user namespaces here"
fi

# the refusals are counted, per reason, in every stats format
st=$(fd_ctl A stats 2>&1)
pr=$(fd_ctl A stats --prometheus 2>&1)
js=$(fd_ctl A stats --json 2>&1)
if echo "$st" | grep -qx 'daemon carriers-refused-address 2' &&
   echo "$st" | grep -qx 'daemon carriers-refused-principal 0' &&
   echo "$pr" | grep -qx 'funnel_carriers_refused_total{reason="address"} 2' &&
   echo "$js" | python3 -c 'import json,sys; d=json.load(sys.stdin)["daemon"]; sys.exit(d["carriers-refused-address"] != 2)'; then
	ok "A: stats count the 2 refused carriers as carriers-refused-address (text, Prometheus, JSON)"
else
	not_ok "A: stats: refusals per address not counted as 2"
	echo "$st" | grep '^daemon' | diag
fi
vg_check A
[ "$T_FAIL" = 0 ]
