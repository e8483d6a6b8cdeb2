#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP services through funneld on this host (userspace data path, under
# valgrind), with Kerberos and a man in the middle of the carrier
# (selftests/tools/mitm.py): issue 14, items 3 and 4.
#  - resets are resets: a RST from the service or from the client
#    arrives as a RST on the other side (ECONNRESET), not as an EOF;
#    half-close (a client that shuts down writing) still gets its echo;
#  - integrity of a sealed TCP stream: a DATA frame dropped, reordered,
#    forged (one bit), replayed, an unsealed DATA frame injected and an
#    unsealed FLOW_END injected (a truncation), and the last frame of a
#    key dropped or moved after the first of the next (rekeys every 16
#    frames) on the carrier: each is
#    counted by the server (rx-drop-replay, -auth, -no-key), the stream
#    is closed with reason integrity and the client's connection reset,
#    and what the client read is never other than what it sent;
#  - the carrier cut mid-transfer: the client sees a reset;
#  - flow control and memory: a slow and a fast reader on one stream,
#    both complete, within the client's --carrier-buffer-max (windows
#    grown only as far as it allows); a connection past the server's
#    budget is refused with a reset, the others go on, and the budget
#    is given back when the connections end.
#
# usage: selftests/host/t_funneld_tcpsvc.sh     (root not needed)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"
t_begin "funneld tcp services"

for p in funneld funnelctl socat valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p"; exit 1; }
done
MITM=$top/selftests/tools/mitm.py
PROBE=$top/selftests/tools/tcpprobe.py
svc_init
L=127.0.0.1
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/hoster && kdc_addprinc alice &&
   kdc_keytab "$SVC_DIR/hoster.keytab" funnel/hoster &&
   kdc_keytab "$SVC_DIR/alice.keytab" alice; then
	ok "kdc: FUNNEL.TEST on $L:$KDC_PORT, funnel/hoster and alice with keytabs"
else
	not_ok "kdc: set up"; exit 1
fi
svc_pick_port P_CAR; svc_pick_port P_MITM; svc_pick_port P_CTL
svc_pick_port P_ECHO; svc_pick_port P_RST; svc_pick_port P_WATCH
socat TCP-LISTEN:"$P_ECHO",bind=$L,fork,reuseaddr EXEC:cat 2>/dev/null &
svc_register echo $!
python3 "$PROBE" rstserver "$P_RST" &
svc_register rstserver $!
python3 "$PROBE" watchserver "$P_WATCH" "$SVC_DIR/watch" &
svc_register watchserver $!
python3 -u "$MITM" proxy "$P_MITM" $L "$P_CAR" "$P_CTL" >"$SVC_DIR/mitm.log" 2>&1 &
svc_register mitm $!
for p in "$P_ECHO" "$P_RST" "$P_WATCH" "$P_MITM" "$P_CTL"; do
	svc_wait_port "" tcp "$p" 10 || not_ok "a test service listens on port $p"
done

# arm ACTION STREAM [NTH]: the man in the middle's command, in the
# background (its answers in $SVC_DIR/act-ACTION-STREAM), once it is armed
arm() {
	local f=$SVC_DIR/act-$1-$2
	python3 "$MITM" ctl "$P_CTL" "$@" >"$f" &
	actpid=$!
	for _ in $(seq 100); do grep -q armed "$f" && return 0; sleep 0.1; done
	return 1
}

# one map per case: a case closes its stream
cases="pass drop reorder forge replay inject end dropkey reorderkey cut"
conf_c="identity alice keytab $SVC_DIR/alice.keytab
peer add s $L:$P_MITM principal funnel/hoster"
declare -A PORT
for k in $cases rst watch; do
	svc_pick_port "P_$k"
	v=P_$k; PORT[$k]=${!v}
	case $k in rst|watch) svc=$k ;; *) svc="echo" ;; esac
	conf_c+=$'\n'"map add tcp $L:${PORT[$k]} peer s service $svc"
done
conf_s="identity funnel/hoster keytab $SVC_DIR/hoster.keytab
listen $L:$P_CAR
service add echo tcp $L:$P_ECHO allow alice@FUNNEL.TEST
service add rst tcp $L:$P_RST allow alice@FUNNEL.TEST
service add watch tcp $L:$P_WATCH allow alice@FUNNEL.TEST"

# shellcheck disable=SC2054
FD_START_TIMEOUT=30
# --key-soft-limit 16: the keys of stream 0 renew themselves every 16
# control messages (the WINDOW messages alone are hundreds here)
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-S.txt" fd_start S "" "$conf_s" --datapath user \
	--key-soft-limit 16 || not_ok "S starts"
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-C.txt" fd_start C "" "$conf_c" --datapath user \
	--key-soft-limit 16 || not_ok "C starts"
if fd_wait C 60 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])"; then
	ok "carrier up through the man in the middle, $(fd_json C "len(j['maps'])") TCP maps open, sealed"
else
	not_ok "carrier up and maps open"
	fd_ctl C show 2>&1 | diag; tail -n 20 "$SVC_DIR/C.log" "$SVC_DIR/S.log" | diag
fi

# ---- resets and half-close ----

out=$(timeout 40 python3 "$PROBE" echo $L "${PORT[pass]}" 300000)
check "half-close: 300000 bytes echoed in full, then EOF ($out)" test "$out" = "eof got 300000 prefix ok"

out=$(printf 'x\n' | timeout 20 python3 -c '
import socket, sys
s = socket.create_connection(("'$L'", '"${PORT[rst]}"'), timeout=10)
s.sendall(b"hello\n")
try:
    print("eof" if not s.recv(100) else "data")
except ConnectionResetError:
    print("reset")')
check "the service resets: the client gets ECONNRESET ($out)" test "$out" = reset

timeout 20 python3 "$PROBE" rstclient $L "${PORT[watch]}"
for _ in $(seq 200); do [ -s "$SVC_DIR/watch" ] && break; sleep 0.1; done
out=$(cat "$SVC_DIR/watch" 2>/dev/null)
check "the client resets: the service gets ECONNRESET (${out:-nothing})" test "$out" = reset

# ---- the man in the middle, client to server ----

stat_s() { fd_json S "carrier()['stats']['$1']"; }
stream_of() { fd_json C "map_(${PORT[$1]}).get('stream')"; }

# mitm_case CASE COUNTER [BYTES]: tamper with the third data frame of
# CASE's stream (two went through: the client has read some echo), or
# with the last frame before its key changes; the server counts COUNTER,
# closes the stream (integrity), the client is reset and read nothing it
# did not send
mitm_case() {
	local k=$1 ctr=$2 bytes=${3:-300000} sid before after out act
	# small frames: a frame held back (reorder, the key cases) never
	# holds the sender's whole credit
	local how=trickle
	sid=$(stream_of "$k")
	before=$(stat_s "$ctr")
	arm "$k" "$sid" 3
	out=$(timeout 60 python3 "$PROBE" echo $L "${PORT[$k]}" "$bytes" $how)
	wait "$actpid"
	act=$(tail -n 1 "$SVC_DIR/act-$k-$sid")
	for _ in $(seq 30); do
		grep -q "stream $sid closed (integrity)" "$SVC_DIR/S.log" && break
		sleep 0.1
	done
	after=$(stat_s "$ctr")
	case $out in
	"reset got "*" prefix ok") ;;
	*) not_ok "$k: the client is reset and read only what it sent: $out ($act)"
	   # what the two ends logged of the stream (its rekeys, for the key cases)
	   grep -h "stream $sid\b" "$SVC_DIR/C.log" "$SVC_DIR/S.log" | tail -n 12 | diag
	   return ;;
	esac
	if [ "$after" -gt "$before" ] &&
	   grep -q "stream $sid closed (integrity)" "$SVC_DIR/S.log"; then
		ok "$k ($act): $ctr $before -> $after, stream $sid closed (integrity), client: $out"
	else
		not_ok "$k ($act): $ctr $before -> $after, client: $out"
		grep "stream $sid" "$SVC_DIR/S.log" | tail -n 5 | diag
	fi
}
mitm_case drop rx-drop-replay
mitm_case reorder rx-drop-replay
mitm_case forge rx-drop-auth
mitm_case replay rx-drop-replay
mitm_case inject rx-drop-no-key
mitm_case end rx-drop-no-key
# across a rekey (every 16 frames here): the first frame of the new key
# must carry the counter after the old key's last
mitm_case dropkey rx-drop-replay 8000000
mitm_case reorderkey rx-drop-replay 8000000
check "the client closed those maps' streams: integrity, named in its log" \
	test "$(grep -c 'closed by the peer: integrity' "$SVC_DIR/C.log")" = 8

# ---- stream 0: the control messages after the carrier's context ----

# a map added now sends OPEN; one bit of it flipped on the way: the
# server gives the carrier up, the client connects again, every map opens
arm forge 0
svc_pick_port P_NEW
fd_ctl C map add tcp $L:"$P_NEW" peer s service echo >/dev/null
wait "$actpid"
act=$(tail -n 1 "$SVC_DIR/act-forge-0")
if fd_wait C 30 "carrier('s').get('reconnects', 0) >= 1 and carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" &&
   grep -q 'a control message failed its integrity check (rx-drop-auth)' "$SVC_DIR/S.log"; then
	ok "stream 0 forged ($act): the server gives the carrier up (rx-drop-auth), it comes back, $(fd_json C "len(j['maps'])") maps open"
else
	not_ok "stream 0 forged ($act): carrier given up and back: $(fd_json C "carrier('s').get('state')") $(fd_json C "carrier('s').get('reconnects')")"
	grep -E 'integrity|carrier' "$SVC_DIR/S.log" | tail -n 5 | diag
fi

# ---- flow control: a slow reader and a fast one on the same stream ----

# a plaintext pair without valgrind (the pair above ran the same code
# under valgrind): 24 MiB read at 6 MiB/s, and meanwhile 4 MiB at full
# speed through the same map
svc_pick_port P_BLAST; svc_pick_port P_Q; svc_pick_port P_SLOW
python3 "$PROBE" blast "$P_BLAST" $((24 << 20)) &
svc_register blast $!
svc_wait_port "" tcp "$P_BLAST" 10 || not_ok "the blast service listens"
# Q (the server) takes three connections' initial windows (3 x 64 KiB),
# R (the client) holds at most 1 MiB for its connections
svc_pick_port P_HELD
fd_start Q "" "plaintext
listen $L:$P_Q
service add blast tcp $L:$P_BLAST
service add echo tcp $L:$P_ECHO" --datapath user --carrier-buffer-max 196608 ||
	not_ok "Q starts"
fd_start R "" "plaintext
peer add q $L:$P_Q
map add tcp $L:$P_SLOW peer q service blast
map add tcp $L:$P_HELD peer q service echo" --datapath user --carrier-buffer-max 1048576 ||
	not_ok "R starts"
fd_wait R 10 "all(m.get('state') == 'open' for m in j['maps'])" || not_ok "R's maps open"
timeout 60 python3 "$PROBE" read $L "$P_SLOW" $((24 << 20)) $((6 << 20)) >"$SVC_DIR/slow.out" &
slowpid=$!
sleep 1
fast=$(timeout 30 python3 "$PROBE" read $L "$P_SLOW" $((24 << 20)) 2>&1)
slow_running=no
svc_alive "$slowpid" && slow_running=yes
wait "$slowpid"
slow=$(cat "$SVC_DIR/slow.out")
case $slow in
"eof got $((24 << 20)) intact yes in "*)
	ok "slow reader: 24 MiB at 6 MiB/s arrived complete and intact ($slow)" ;;
*)	not_ok "slow reader: 24 MiB at 6 MiB/s: $slow (the stream's rx-drop-queue: $(fd_json R "stream('blast')['stats']['rx-drop-queue']"))" ;;
esac
case $fast in
"eof got $((24 << 20)) intact yes in "*)
	# done while the slow one still reads: not held back by it
	if [ "$slow_running" = yes ]; then
		ok "a fast reader on the same stream, done while the slow one still reads: $fast"
	else
		not_ok "a fast reader on the same stream, done while the slow one still reads: $fast"
	fi ;;
*)	not_ok "a fast reader on the same stream meanwhile: $fast" ;;
esac
buf=$(fd_json R "(lambda b: '%d %d %d' % (b['queued_peak'], b['max'], b['short_windows']))(carrier('q')['tcp_buffers'])")
read -r peak max short <<<"${buf:-0 0 0}"
if [ "$peak" -gt 0 ] && [ "$peak" -le 1048576 ] && [ "$max" = 1048576 ] && [ "$short" -gt 0 ]; then
	ok "the client's carrier held at most its budget: peak $peak of $max bytes queued, $short windows not grown for want of room"
else
	not_ok "the client's carrier within its budget: peak $peak of $max bytes, $short short"
fi

# ---- memory: a connection past the server's budget is refused ----

# wait until Q has given back the windows of the finished transfers
fd_wait Q 10 "j['tcp_buffers']['reserved'] == 0" ||
	not_ok "Q gave back every window: $(fd_json Q "j['tcp_buffers']")"
fd_wait R 10 "j['tcp_buffers']['reserved'] == 0" ||
	not_ok "R gave back every window: $(fd_json R "j['tcp_buffers']")"
out=$(timeout 30 python3 -c '
import socket, sys, time
def conn():
    s = socket.create_connection(("'$L'", '"$P_HELD"'), timeout=10)
    s.sendall(b"hi\n")
    return s, s.recv(100) == b"hi\n"
held = [conn() for _ in range(3)]
r = ["%d echoed" % sum(ok for _, ok in held)]
try:
    # the reset can come before connect() returns (a loaded host)
    s4 = socket.create_connection(("'$L'", '"$P_HELD"'), timeout=10)
    s4.sendall(b"hi\n")
    r.append("4th: " + ("data" if s4.recv(100) else "eof"))
except ConnectionResetError:
    r.append("4th: reset")
held[0][0].close()
for _ in range(50):
    time.sleep(0.2)
    try:
        s5, ok = conn()
    except OSError:
        continue
    if ok:
        r.append("5th: echoed")
        break
    s5.close()
else:
    r.append("5th: never echoed")
print(", ".join(r))' 2>&1 | tail -n 1)
short=$(fd_json Q "carrier()['tcp_buffers']['short_windows']")
check "a 4th connection past the server's budget (3 x 64 KiB) is reset, the 3 others echo, a 5th goes once one ended ($out; short windows $short)" \
	test "$out" = "3 echoed, 4th: reset, 5th: echoed" -a "${short:-0}" -ge 1
check "every window given back once the connections ended" \
	fd_wait Q 10 "j['tcp_buffers']['reserved'] == 0 and j['tcp_buffers']['queued'] == 0"
fd_stop Q; fd_stop R

# ---- the carrier cut mid-transfer ----

python3 "$PROBE" echo $L "${PORT[cut]}" 100000 hold >"$SVC_DIR/cut.out" &
cutpid=$!
for _ in $(seq 300); do grep -q ready "$SVC_DIR/cut.out" && break; sleep 0.1; done
act=$(python3 "$MITM" ctl "$P_CTL" cut 0 | tail -n 1)
wait "$cutpid"
out=$(tail -n 1 "$SVC_DIR/cut.out")
check "carrier cut ($act) while the client waits: it gets a reset ($out)" \
	test "$out" = "reset got 100000 prefix ok"

# the integrity closes, resets and the cut gave every window back
if fd_wait C 10 "j['tcp_buffers']['reserved'] == 0 and j['tcp_buffers']['queued'] == 0" &&
   fd_wait S 10 "j['tcp_buffers']['reserved'] == 0 and j['tcp_buffers']['queued'] == 0"; then
	ok "C and S hold no TCP buffers once every connection ended (after integrity closes, resets and a carrier cut)"
else
	not_ok "C and S hold no TCP buffers at the end: C $(fd_json C "j['tcp_buffers']"), S $(fd_json S "j['tcp_buffers']")"
fi
# stream 0's keys renewed themselves both ways, and no control message
# but the forged one failed
gens() { grep -c "control messages: $2 with key generation" "$SVC_DIR/$1.log"; }
fails=$(grep -c 'a control message failed its integrity check' "$SVC_DIR/S.log" "$SVC_DIR/C.log" |
	awk -F: '{ n += $2 } END { print n }')
check "stream 0's keys renewed every 16 messages (C sent $(gens C sending), received $(gens C receiving) new generations; S $(gens S sending), $(gens S receiving)), one control message failed (the forged one: $fails)" \
	test "$(gens C sending)" -ge 1 -a "$(gens C receiving)" -ge 1 -a \
	"$(gens S sending)" -ge 1 -a "$(gens S receiving)" -ge 1 -a "$fails" = 1
vg_check C
vg_check S
[ "$T_FAIL" = 0 ]
