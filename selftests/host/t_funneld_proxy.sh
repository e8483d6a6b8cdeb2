#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Flow origins and the PROXY protocol v2 (issue 14 item 5), on this host
# (plaintext carrier through selftests/tools/mitm.py, userspace data
# path; the server side S under valgrind):
#  - a TCP service with "proxy v2": its backend (selftests/tools/
#    proxyecho.py, a strict PROXY v2 parser) logs the client's real
#    address and port, as the client connected to the map, and the map's
#    address: IPv4, IPv6, and IPv4 through a dual-stack map (family 4);
#    the echo is intact after the header; show and show --json on S list
#    that origin with the flow, and the service with proxy v2;
#  - a service without "proxy" gets no header;
#  - a UDP map: S shows the UDP client's origin with its flow;
#  - an opening frame with a malformed origin (family 5, rewritten by
#    the man in the middle): the client's connection is reset, S counts
#    rx-drop-malformed, the service never sees it;
#  - a client side without FEAT_ORIGIN (FUNNELD_NO_ORIGIN=1, as a funneld
#    before flow origins): the service gets the PROXY v2 LOCAL command,
#    S logs once that the peer sends no origins, bytes still pass;
#  - a server side without FEAT_ORIGIN: the client sends no origin, the
#    service gets the client's bytes only.
#
# usage: selftests/host/t_funneld_proxy.sh     (root not needed)
# Prints TAP; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "funneld proxy"

for p in funneld funnelctl valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found (make ctl; make deps)"; exit 1; }
done
PX=$top/selftests/tools/proxyecho.py
MITM=$top/selftests/tools/mitm.py
svc_init
L=127.0.0.1
svc_pick_port P_CAR; svc_pick_port P_MITM; svc_pick_port P_CTL
svc_pick_port P_PX; svc_pick_port P_PLAIN; svc_pick_port P_UDP
svc_pick_port M4; svc_pick_port M6; svc_pick_port MDUAL
svc_pick_port MPLAIN; svc_pick_port MUDP; svc_pick_port MBAD; svc_pick_port MNOORIG
python3 -u "$PX" serve $L "$P_PX" "$SVC_DIR/px.log" 2>>"$SVC_DIR/px.err" &
svc_register proxyecho $!
python3 -u "$PX" serve $L "$P_PLAIN" "$SVC_DIR/plain.log" 2>>"$SVC_DIR/plain.err" &
svc_register plainecho $!
python3 -u "$PX" udpecho $L "$P_UDP" &
svc_register udpecho $!
python3 -u "$MITM" proxy "$P_MITM" $L "$P_CAR" "$P_CTL" >"$SVC_DIR/mitm.log" 2>&1 &
svc_register mitm $!
for p in "$P_PX" "$P_PLAIN" "$P_MITM" "$P_CTL"; do
	svc_wait_port "" tcp "$p" 10 || not_ok "a test service listens on port $p"
done

VG="valgrind --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--track-fds=no --num-callers=30 --log-file=$SVC_DIR/vg-S.txt"
FD_START_TIMEOUT=30 FD_WRAP=$VG fd_start S "" "plaintext
listen $L:$P_CAR
service add px tcp $L:$P_PX proxy v2
service add plain tcp $L:$P_PLAIN
service add uecho udp $L:$P_UDP" --datapath user ||
	{ not_ok "site S starts under valgrind"; exit 1; }
fd_start C "" "plaintext
peer add s $L:$P_MITM carrier tcp
map add tcp $L:$M4 peer s service px
map add tcp [::1]:$M6 peer s service px
map add tcp $MDUAL peer s service px
map add tcp $L:$MPLAIN peer s service plain
map add udp $L:$MUDP peer s service uecho
map add tcp $L:$MBAD peer s service px" --datapath user ||
	{ not_ok "site C starts"; exit 1; }
if fd_wait C 30 "carrier('s').get('state') == 'up' and len(j['maps']) == 6 and all(m.get('state') == 'open' for m in j['maps'])"; then
	ok "carrier up through the man in the middle, 6 maps open"
else
	not_ok "carrier up and maps open"
	fd_ctl C show 2>&1 | diag; tail -n 20 "$SVC_DIR/C.log" "$SVC_DIR/S.log" | diag
fi
if fd_ctl S show | grep -Eq "^  px +tcp +$L:$P_PX +v2 " &&
   fd_ctl S show | grep -Eq "^  plain +tcp +$L:$P_PLAIN +- " &&
   fd_json S "{s['name']: s['proxy'] for s in j['services']} == {'px': 'v2', 'plain': '', 'uecho': ''}" >/dev/null; then
	ok "show on S: service px with PROXY v2, the others without (text and --json)"
else
	not_ok "show on S: the services' proxy"
	fd_ctl S show | diag; fd_json S "j['services']" | diag
fi

ORIGINS="[f['origin'] for c in j['carriers'] for s in c['streams'] for f in s['flows']]"

# tcp_case WHAT HOST PORT LOGFILE: a client through the map HOST:PORT,
# in the background until "touch $HOLD"; sets SRC, SPORT (the client's
# end), ECHO (its result) and LINE (the backend's new log line)
tcp_case() {
	local out=$SVC_DIR/cl-$1 n
	HOLD=$SVC_DIR/hold-$1
	rm -f "$out" "$HOLD"
	n=0
	[ -f "$4" ] && n=$(wc -l <"$4")
	python3 "$PX" client "$2" "$3" "$out" "$HOLD" &
	CLPID=$!
	for _ in $(seq 200); do
		[ -f "$out" ] && [ "$(wc -l <"$out")" = 2 ] && break
		grep -qE '^(reset|error)' "$out" 2>/dev/null && break
		sleep 0.05
	done
	read -r SRC SPORT <"$out"
	ECHO=$(sed -n 2p "$out")
	for _ in $(seq 40); do
		LINE=$(sed -n "$((n + 1))p" "$4" 2>/dev/null)
		[ -n "$LINE" ] && break
		sleep 0.05
	done
}

# IPv4, IPv6, and IPv4 to a dual-stack map (an IPv4-mapped address)
for c in "v4 $L $M4 $L" "v6 ::1 $M6 ::1" "dual $L $MDUAL $L"; do
	# shellcheck disable=SC2086 # split into its words
	set -- $c
	tcp_case "$1" "$2" "$3" "$SVC_DIR/px.log"
	check "$1: the echo is intact after the PROXY header ($ECHO)" test "$ECHO" = "echo ok"
	check "$1: the backend got PROXY v2 with the client's address and the map's: '$LINE'" \
		test "$LINE" = "proxy $SRC $SPORT $4 $3"
	case $SRC in *:*) o="[$SRC]:$SPORT" ;; *) o="$SRC:$SPORT" ;; esac
	if fd_wait S 10 "'$o' in $ORIGINS" &&
	   fd_ctl S show | grep -qF " from $o: idle"; then
		ok "$1: show on S lists the flow from $o (text and --json)"
	else
		not_ok "$1: show on S lists the flow's origin $o"
		fd_json S "$ORIGINS" | diag; fd_ctl S show | grep flow | diag
	fi
	touch "$HOLD"; wait "$CLPID"
done

tcp_case plain $L "$MPLAIN" "$SVC_DIR/plain.log"
check "a service without proxy: no header, echo intact ($ECHO, backend: '$LINE')" \
	test "$ECHO/$LINE" = "echo ok/none"
touch "$HOLD"; wait "$CLPID"

# ---- UDP: the client's origin with its flow on S ----
out=$(timeout 10 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$L'", 0))
s.settimeout(5)
s.sendto(b"ping", ("'$L'", '"$MUDP"'))
print(s.recv(100).decode(), s.getsockname()[1])')
read -r pong uport <<<"$out"
check "udp: the datagram echoed through the map ($out)" test "$pong" = ping
if fd_wait S 10 "'$L:$uport' in $ORIGINS"; then
	ok "udp: show on S lists the UDP flow from $L:$uport"
else
	not_ok "udp: show on S lists the UDP flow from $L:$uport"
	fd_json S "$ORIGINS" | diag
fi

# ---- a malformed origin: refused with a reset, counted ----
sid=$(fd_json C "map_($MBAD)['stream']")
mal() { fd_json S "sum(s['stats']['rx-drop-malformed'] for c in j['carriers'] for s in c['streams'])"; }
m0=$(mal)
n0=$(wc -l <"$SVC_DIR/px.log")
python3 "$MITM" ctl "$P_CTL" badorigin "$sid" >"$SVC_DIR/act-badorigin" &
actpid=$!
for _ in $(seq 100); do grep -q armed "$SVC_DIR/act-badorigin" && break; sleep 0.1; done
tcp_case bad $L "$MBAD" "$SVC_DIR/px.log"
touch "$HOLD"; wait "$CLPID"; wait "$actpid"
m1=$(mal)
n1=$(wc -l <"$SVC_DIR/px.log")
check "a malformed origin (family 5): the client is reset ($(tail -n 1 "$SVC_DIR/cl-bad"))" \
	grep -qx reset "$SVC_DIR/cl-bad"
check "... S counts rx-drop-malformed ($m0 -> $m1), the service saw no connection ($n0 -> $n1)" \
	test "$((m1 - m0))/$n1" = "1/$n0"
tcp_case after $L "$MBAD" "$SVC_DIR/px.log"
check "... and the stream goes on: the next connection passes ($ECHO, '$LINE')" \
	test "$ECHO/${LINE%% *}" = "echo ok/proxy"
touch "$HOLD"; wait "$CLPID"

# ---- a client side without FEAT_ORIGIN: LOCAL ----
FD_WRAP="env FUNNELD_NO_ORIGIN=1" fd_start O "" "plaintext
peer add s $L:$P_CAR carrier tcp
map add tcp $L:$MNOORIG peer s service px" --datapath user ||
	not_ok "site O (no FEAT_ORIGIN) starts"
fd_wait O 30 "len(j['maps']) == 1 and all(m.get('state') == 'open' for m in j['maps'])" ||
	not_ok "site O's map opens"
tcp_case old $L "$MNOORIG" "$SVC_DIR/px.log"
check "no FEAT_ORIGIN: the backend gets the PROXY v2 LOCAL command ('$LINE'), echo intact ($ECHO)" \
	test "$LINE/$ECHO" = "local/echo ok"
touch "$HOLD"; wait "$CLPID"
tcp_case old2 $L "$MNOORIG" "$SVC_DIR/px.log"
n=$(grep -c "the peer sends no flow origins" "$SVC_DIR/S.log")
check "... S logged it once for that carrier ($n), a second connection too gets LOCAL ('$LINE')" \
	test "$n/$LINE" = "1/local"
touch "$HOLD"; wait "$CLPID"

# ---- a server side without FEAT_ORIGIN: the client sends none ----
# (an opening frame with an origin would reach an older server's
# service as the connection's first bytes)
svc_pick_port P_CAR2; svc_pick_port MOLD
FD_WRAP="env FUNNELD_NO_ORIGIN=1" fd_start N "" "plaintext
listen $L:$P_CAR2
service add plain tcp $L:$P_PLAIN" --datapath user ||
	not_ok "site N (no FEAT_ORIGIN) starts"
fd_start D "" "plaintext
peer add n $L:$P_CAR2 carrier tcp
map add tcp $L:$MOLD peer n service plain" --datapath user ||
	not_ok "site D starts"
fd_wait D 30 "len(j['maps']) == 1 and all(m.get('state') == 'open' for m in j['maps'])" ||
	not_ok "site D's map opens"
tcp_case oldsrv $L "$MOLD" "$SVC_DIR/plain.log"
check "a server without FEAT_ORIGIN: its service gets the client's bytes only ($ECHO, backend: '$LINE')" \
	test "$ECHO/$LINE" = "echo ok/none"
touch "$HOLD"; wait "$CLPID"
svc_stop D
svc_stop N

svc_stop O
svc_stop C
vg_check S
