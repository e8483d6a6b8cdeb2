#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One principal cannot take every carrier of a funneld, on this host
# (userspace data path, no VM, a throwaway MIT KDC): nine client funneld
# authenticate as alice to one server S (under valgrind); S keeps 8 of
# their carriers up and refuses the 9th after its GSS-API exchange
# ("at most 8 per principal", counted as carriers-refused-principal in
# stats); a client authenticating as bob still comes up, and its echo
# works; `funnelctl plaintext` at run time is refused; SIGTERM: no
# valgrind error, no leak.
#
# usage: selftests/host/t_funneld_principal.sh     (root not needed)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
# SVC_KEEP=1 keeps the temp dir.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "funneld principal"

for p in funneld funnelctl udp_pump valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found"; exit 1; }
done
svc_init
L=127.0.0.1
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/hoster && kdc_addprinc alice &&
   kdc_addprinc bob && kdc_keytab "$SVC_DIR/hoster.keytab" funnel/hoster &&
   kdc_keytab "$SVC_DIR/alice.keytab" alice && kdc_keytab "$SVC_DIR/bob.keytab" bob; then
	ok "kdc: FUNNEL.TEST, funnel/hoster, alice and bob with keytabs"
else
	not_ok "kdc: set up"; exit 1
fi
svc_pick_port P_CAR; svc_pick_port P_ECHO; svc_pick_port P_MB
udp_pump echo $L "$P_ECHO" -q &
svc_register echo $!

FD_START_TIMEOUT=30
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-S.txt" fd_start S "" \
	"identity funnel/hoster keytab $SVC_DIR/hoster.keytab
listen $L:$P_CAR
service add echo udp $L:$P_ECHO allow alice@FUNNEL.TEST,bob@FUNNEL.TEST" \
	--datapath user || not_ok "S starts"

# nine clients as alice, one after the other, each up before the next
up=0
for i in $(seq 9); do
	fd_start "A$i" "" "identity alice keytab $SVC_DIR/alice.keytab
peer add s $L:$P_CAR principal funnel/hoster" --datapath user -n "alice-$i" ||
		not_ok "A$i starts"
	if [ "$i" -le 8 ]; then
		fd_wait "A$i" 30 "carrier('s').get('state') == 'up'" && up=$((up + 1))
	fi
done
if [ $up = 8 ]; then
	ok "8 clients authenticated as alice: each carrier up"
else
	not_ok "8 clients as alice: $up carriers up"
	tail -n 20 "$SVC_DIR/S.log" | diag
fi
if fd_wait S 30 "$(printf '%s' "sum(1 for c in j['carriers'] if c.get('state') == 'up') == 8")" &&
   grep -q 'refused: alice@FUNNEL.TEST has 8 incoming carriers up already (at most 8 per principal)' "$SVC_DIR/S.log"; then
	ok "the 9th as alice is refused after its handshake: $(grep -o 'refused: alice@FUNNEL.TEST has [^)]*)' "$SVC_DIR/S.log" | head -n 1)"
else
	not_ok "the 9th carrier as alice is refused (S: $(fd_json S "sum(1 for c in j['carriers'] if c.get('state') == 'up')") up)"
	grep -i 'refused\|alice-9' "$SVC_DIR/S.log" | tail -n 5 | diag
	fd_ctl A9 show 2>&1 | diag
fi
n=$(fd_ctl S stats | sed -n 's/^daemon carriers-refused-principal //p')
check "S counts it: carriers-refused-principal ${n:-?} (>= 1)" test "${n:-0}" -ge 1

# A9 sees its carrier up, then dropped: it backs off as after a failed
# connect (0.5, 1, 2, 4 s...), not from 0.5 s again after each "up" (it
# once came back twice a second, each time with a full GSS-API exchange)
sleep 6
m=$(fd_ctl S stats | sed -n 's/^daemon carriers-refused-principal //p')
check "A9 backs off: refused ${n:-?}, then ${m:-?} in the next 6 s (at most 4 more)" \
	test "$(( ${m:-99} - ${n:-0} ))" -le 4
# (up for the few milliseconds between the hoster's HELLO and its
# refusal at most: waited out)
check "A9 is not up: $(fd_json A9 "carrier('s').get('state')")" \
	fd_wait A9 5 "carrier('s').get('state') != 'up'"

# another principal is not held back by alice's carriers
fd_start B "" "identity bob keytab $SVC_DIR/bob.keytab
peer add s $L:$P_CAR principal funnel/hoster
map add udp $L:$P_MB peer s service echo" --datapath user -n bob-1 ||
	not_ok "B starts"
if fd_wait B 30 "carrier('s').get('state') == 'up' and map_($P_MB).get('state') == 'open'"; then
	out=$(udp_pump rr $L "$P_MB" -n 20 -w 1 -T 2000 2>&1 | tail -n 1)
	case $out in
	*"good 20 bad 0 lost 0"*) ok "bob's carrier comes up beside alice's 8, its echo works: $out" ;;
	*) not_ok "bob's echo: $out" ;;
	esac
else
	not_ok "bob's carrier and map up"
	fd_ctl B show 2>&1 | diag
fi
# plaintext cannot be switched on under carriers that are authenticated
out=$(fd_ctl S plaintext 2>&1); rc=$?
if [ $rc != 0 ] && echo "$out" | grep -q 'only in the configuration file' &&
   fd_json S "not j['plaintext']" >/dev/null; then
	ok "funnelctl plaintext at run time is refused: $out"
else
	not_ok "funnelctl plaintext at run time: exit $rc, $out"
fi
for i in $(seq 9); do svc_stop "A$i" TERM; done
svc_stop B TERM
vg_check S
[ "$T_FAIL" = 0 ]
