#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funneld with Kerberos on this host, userspace data path (no VM): a
# throwaway MIT KDC, two daemons over loopback under valgrind, the
# carrier and every stream authenticated, frames sealed by funneld
# (ctl/funneld/sec/seal.c) on a UDP and a TCP stream, rekeys forced by a small key
# soft limit during request/response traffic with nothing lost, a stream
# refused by an allow list, a peer in plaintext refused, and SIGTERM:
# no valgrind error, no leak.
#
# usage: selftests/host/t_funneld_gss.sh     (root not needed)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"
t_begin "funneld gss"

for p in funneld funnelctl udp_pump socat valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p"; exit 1; }
done
svc_init
L=127.0.0.1
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/hoster && kdc_addprinc alice &&
   kdc_addprinc bob && kdc_keytab "$SVC_DIR/hoster.keytab" funnel/hoster &&
   kdc_keytab "$SVC_DIR/alice.keytab" alice && kdc_keytab "$SVC_DIR/bob.keytab" bob; then
	ok "kdc: FUNNEL.TEST on $L:$KDC_PORT, funnel/hoster, alice and bob with keytabs"
else
	not_ok "kdc: set up"; exit 1
fi
svc_pick_port P_CAR; svc_pick_port P_UECHO; svc_pick_port P_TECHO
svc_pick_port P_M1; svc_pick_port P_M2; svc_pick_port P_M3
udp_pump echo $L "$P_UECHO" -q &
svc_register uecho $!
socat TCP-LISTEN:"$P_TECHO",bind=$L,fork,reuseaddr EXEC:cat 2>/dev/null &
svc_register techo $!
head -c 500000 /dev/urandom >"$SVC_DIR/big"

conf_s="identity funnel/hoster keytab $SVC_DIR/hoster.keytab
listen $L:$P_CAR
service add echo udp $L:$P_UECHO allow alice@FUNNEL.TEST
service add techo tcp $L:$P_TECHO allow alice@FUNNEL.TEST
service add bobonly udp $L:$P_UECHO allow bob@FUNNEL.TEST"
conf_c="identity alice keytab $SVC_DIR/alice.keytab
peer add s $L:$P_CAR principal funnel/hoster
map add udp $L:$P_M1 peer s service echo
map add tcp $L:$P_M2 peer s service techo
map add udp $L:$P_M3 peer s service bobonly"

FD_START_TIMEOUT=30
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-S.txt" fd_start S "" "$conf_s" --datapath user --key-soft-limit 300 ||
	not_ok "S starts"
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-C.txt" fd_start C "" "$conf_c" --datapath user --key-soft-limit 300 ||
	not_ok "C starts"
if fd_wait C 40 "carrier('s').get('state') == 'up' and map_($P_M1).get('state') == 'open' and map_($P_M2).get('state') == 'open' and map_($P_M3).get('state') == 'refused'"; then
	ok "carrier up as $(fd_json C "carrier('s').get('principal')"), echo and techo open, sealed (generation $(fd_json C "stream('echo').get('key_generation')"))"
else
	not_ok "carrier up and maps open under valgrind"
	fd_ctl C show 2>&1 | diag; tail -n 20 "$SVC_DIR/C.log" "$SVC_DIR/S.log" | diag
fi
check "bobonly refused: not authorized, alice named" \
	fd_wait C 5 "'not-authorized' in map_($P_M3)['reason'] and 'alice@FUNNEL.TEST' in map_($P_M3)['reason']"
out=$(udp_pump rr $L "$P_M1" -t 4 -w 1 -T 2000 2>&1 | tail -n 1)
g=$(fd_json C "stream('echo').get('key_generation')")
case $out in
*" lost 0 "*) [ "${g:-0}" -ge 2 ] && ok "soft limit 300: 4 s of echo, generation 1 -> $g, $out" ||
	not_ok "soft limit 300: generation ${g:-?} ($out)" ;;
*) not_ok "soft limit 300: echo lost datagrams: $out (generation ${g:-?})" ;;
esac
# a rekey started by the last frames may still be finishing
# (the check uses the loop's last reading: a later read could fail alone)
for _ in $(seq 30); do
	g=$(fd_json C "stream('echo').get('key_generation')")
	gs=$(fd_json S "stream('echo').get('key_generation')")
	[ -n "$g" ] && [ "$gs" = "$g" ] && break
	sleep 0.2
done
check "the server is at the client's generation (client ${g:-?}, server ${gs:-?})" \
	test -n "$g" -a "$gs" = "$g"
# the client's contexts share one ccache: one TGT and one ticket for
# funnel/hoster serve the carrier, three streams and every rekey above
# (soft-limit rekeys; a rekey for the ticket's end takes fresh tickets)
issued() { grep 'ISSUE:' "$KDC_DIR/kdc.log" | grep -c "alice@FUNNEL.TEST for $1"; }
n="$(issued krbtgt/)/$(issued funnel/hoster)"
if [ "$n" = 1/1 ]; then
	ok "alice's tickets from the KDC: 1 TGT, 1 for funnel/hoster ($g generations, 4 contexts)"
else
	not_ok "alice's tickets from the KDC: TGT/funnel/hoster $n, want 1/1 ($g generations)"
fi
timeout 60 socat -t10 TCP:$L:"$P_M2" - <"$SVC_DIR/big" >"$SVC_DIR/back" 2>/dev/null
check "500 kB through the sealed TCP stream, echoed byte for byte" cmp -s "$SVC_DIR/big" "$SVC_DIR/back"
check "no frame refused by the opening side (rx-drop-auth, -replay, -no-key 0)" \
	fd_json S "all(carrier()['stats'][k] == 0 for k in ('rx-drop-auth', 'rx-drop-replay', 'rx-drop-no-key'))"

# the largest datagram a sealed frame holds (65503 bytes) goes through;
# one byte more is tx-drop-toobig on its stream, not a key problem
out=$(udp_pump rr $L "$P_M1" -n 2 -w 1 -s 65503 -T 3000 2>&1 | tail -n 1)
python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x' * 65504, ('$L', $P_M1))"
for _ in $(seq 20); do
	[ "$(fd_json C "stream('echo')['stats']['tx-drop-toobig']")" = 1 ] && break
	sleep 0.2
done
case $out in
*"good 2 bad 0 lost 0"*)
	check "a 65504-byte datagram: the stream's tx-drop-toobig 1, no tx-drop-no-key (65503 bytes: 2 echoes)" \
		fd_json C "stream('echo')['stats']['tx-drop-toobig'] == 1 and stream('echo')['stats']['tx-drop-no-key'] == 0 and carrier()['stats']['tx-drop-no-key'] == 0" ;;
*) not_ok "65503-byte datagrams through the sealed stream: $out" ;;
esac

# a plaintext peer gets nothing
svc_pick_port P_M4
fd_start P "" "plaintext
peer add s $L:$P_CAR
map add udp $L:$P_M4 peer s service echo" --datapath user
if fd_wait P 15 "'no GSS-API' in str(carrier('s').get('last_error')) or 'mismatch' in str(carrier('s').get('last_error'))"; then
	ok "a plaintext peer is refused: $(fd_json P "carrier('s').get('last_error')")"
else
	not_ok "a plaintext peer is refused: $(fd_json P "carrier('s').get('last_error')")"
fi
svc_stop P TERM

# a peer that skips the carrier's context and says HELLO (FEAT_GSS) at
# once gets nothing: the server resets it, no carrier comes up
out=$(python3 - "$L" "$P_CAR" <<'PYEOF'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
# HELLO: version 1, type 1; FEATURES (1) = FEAT_GSS; NODE (2) = "forger"
body = bytes([1, 1, 0, 0]) + struct.pack(">HHI", 1, 4, 1) + struct.pack(">HH", 2, 6) + b"forger"
hdr = struct.pack(">HBBI", 0, 1, 0, 0)		# stream 0, CTRL
s.sendall(b"FUNNEL\x02\x00" + struct.pack(">H", len(hdr + body)) + hdr + body)
try:
    got = s.recv(4096)
    print("closed" if not got else "got %d bytes" % len(got))
except ConnectionResetError:
    print("reset")
PYEOF
)
if grep -q "HELLO before the carrier's GSS-API context" "$SVC_DIR/S.log" &&
   fd_json S "len(j['carriers']) == 1"; then
	ok "a forged HELLO before the carrier's context: $out, logged, the only carrier is C's"
else
	not_ok "a forged HELLO before the carrier's context ($out): $(grep -c HELLO "$SVC_DIR/S.log") log lines, $(fd_json S "len(j['carriers'])") carriers"
fi

# an identity whose key is not in the keytab: a clear error, no carrier
svc_pick_port P_M5
fd_start I "" "identity alice keytab $SVC_DIR/bob.keytab
peer add s $L:$P_CAR principal funnel/hoster
map add udp $L:$P_M5 peer s service echo" --datapath user
if fd_wait I 15 "str(carrier('s').get('last_error')) == 'GSS-API: keytab $SVC_DIR/bob.keytab: No key table entry found for alice@FUNNEL.TEST'"; then
	ok "identity alice with bob's keytab: $(fd_json I "carrier('s').get('last_error')")"
else
	not_ok "identity alice with bob's keytab: $(fd_json I "carrier('s').get('last_error')")"
fi
svc_stop I TERM

vg_check C
vg_check S
[ "$T_FAIL" = 0 ]
