#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Identities per service and per map (security.md section 2), on this
# host (userspace data path, no VM, a throwaway MIT KDC), both funneld
# under valgrind.  The hoster S authenticates its carriers as
# funnel/hoster and offers two services under principals of their own,
# each from its own keytab: "dns" (UDP echo) as dns/hoster, "ldap" (TCP
# echo) as ldap/hoster.  The client C is alice; its maps name the
# principal each service must prove, and its ldap maps authenticate as
# carol (an identity clause), whom the ldap allow list wants:
#   - both services answer through their maps; S's streams are sealed by
#     alice (dns) and carol (ldap) over a carrier of alice's; a map to
#     ldap without the identity clause is refused for alice;
#   - carol's two ldap maps (the second added once the first is open)
#     share one ccache: the KDC issues one TGT and one ldap/hoster ticket
#     to carol;
#   - a map to dns expecting ldap/hoster is refused (not-authorized, the
#     principal dns accepts named on both sides) while dns traffic on
#     the carrier goes on;
#   - a service whose keytab is missing, one whose keytab is unreadable
#     (mode 0000 when not root; a file that is no keytab, and one owned
#     by another user when root), one whose keytab holds another
#     principal's key, the daemon's own keytab gone (a service without
#     the clause), and a map whose identity keytab is missing: each a
#     clear error naming the service (map) and the keytab in the log of
#     the side whose keytab it is, the others unaffected; the peer is told
#     which service (identity) is not usable, nothing of the keytab, its
#     owner or mode (not even a principal the allow list refuses);
#   - a service keytab whose directory is made group-writable, and a map
#     identity keytab made a symbolic link, after their statements: each
#     refused when a stream needs it (the detail in the log of the side
#     whose keytab it is), opened once repaired;
#   - a map as dave from a keytab of carol then dave opens as dave; map
#     identity keytabs without the identity's key, not a keytab, or
#     holding no key: the map closed with the identity and the keytab
#     named;
#   - carol's ccache kept while a map of carol (and carol.keytab) is
#     left (no new TGT), destroyed with the last one (a new TGT for the
#     next map, which opens and answers); a second client whose keys are
#     renewed every 100 frames rekeys its map as carol (cd's allow list
#     refuses alice); a map deleted while its first step waits for a
#     stopped KDC;
#   - plaintext: a warning for each identity statement and identity,
#     principal and allow clause, which it leaves unused;
#   - show: the identity of each service and map, the principal of each
#     map and a service's last refusal (S's detail), in text and JSON;
#     an identity clause with a keytab of mode 0640 is refused from
#     funnelctl;
#   - SIGTERM: no valgrind error, no leak.
#
# usage: selftests/host/t_funneld_ident.sh     (root not needed)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "funneld ident"

for p in funneld funnelctl udp_pump socat valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p"; exit 1; }
done
svc_init
L=127.0.0.1
R=FUNNEL.TEST
K=$SVC_DIR/keytabs
mkdir -p "$K"
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/hoster &&
   kdc_addprinc dns/hoster && kdc_addprinc ldap/hoster &&
   kdc_addprinc alice && kdc_addprinc carol && kdc_addprinc dave &&
   kdc_keytab "$K/hoster.keytab" funnel/hoster &&
   kdc_keytab "$K/dns.keytab" dns/hoster &&
   kdc_keytab "$K/ldap.keytab" ldap/hoster &&
   kdc_keytab "$K/alice.keytab" alice && kdc_keytab "$K/carol.keytab" carol &&
   kdc_keytab "$K/multi.keytab" carol dave &&
   kdc_keytab "$K/unread.keytab" dns/hoster; then
	ok "kdc: $R, funnel/hoster, dns/hoster and ldap/hoster each in a keytab of its own, alice, carol, carol and dave in one"
else
	not_ok "kdc: set up"; exit 1
fi
svc_pick_port P_CAR; svc_pick_port P_UECHO; svc_pick_port P_TECHO
for m in DNS LDAP LDAP2 ALICE WRONG GONE OTHER NOID LOCKED; do svc_pick_port "P_$m"; done
udp_pump echo $L "$P_UECHO" -q &
svc_register uecho $!
socat TCP-LISTEN:"$P_TECHO",bind=$L,fork,reuseaddr EXEC:cat 2>/dev/null &
svc_register techo $!

# gone: its keytab does not exist (accepted, with a warning); unread:
# made unreadable once S runs
conf_s="identity funnel/hoster keytab $K/hoster.keytab
listen $L:$P_CAR
service add dns udp $L:$P_UECHO allow alice@$R identity dns/hoster keytab $K/dns.keytab
service add ldap tcp $L:$P_TECHO identity ldap/hoster keytab $K/ldap.keytab allow carol@$R
service add gone udp $L:$P_UECHO identity dns/hoster keytab $K/gone.keytab
service add unread udp $L:$P_UECHO identity dns/hoster keytab $K/unread.keytab
service add other udp $L:$P_UECHO identity dns/hoster keytab $K/ldap.keytab
service add locked udp $L:$P_UECHO allow carol@$R identity dns/hoster keytab $K/gone.keytab
service add plain udp $L:$P_UECHO
service add cd udp $L:$P_UECHO identity dns/hoster keytab $K/dns.keytab allow carol@$R,dave@$R"
conf_c="identity alice keytab $K/alice.keytab
peer add s $L:$P_CAR principal funnel/hoster
map add udp $L:$P_DNS peer s service dns principal dns/hoster
map add tcp $L:$P_LDAP peer s service ldap principal ldap/hoster identity carol keytab $K/carol.keytab
map add tcp $L:$P_ALICE peer s service ldap principal ldap/hoster
map add udp $L:$P_GONE peer s service gone principal dns/hoster
map add udp $L:$P_OTHER peer s service other principal dns/hoster
map add udp $L:$P_NOID peer s service dns principal dns/hoster identity carol keytab $K/nocarol.keytab
map add udp $L:$P_LOCKED peer s service locked principal dns/hoster"

FD_START_TIMEOUT=30
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-S.txt" fd_start S "" "$conf_s" --datapath user ||
	not_ok "S starts"
if grep -q "service gone: identity dns/hoster: keytab $K/gone.keytab does not exist yet" "$SVC_DIR/S.log"; then
	ok "a service keytab that does not exist yet: accepted, with a warning"
else
	not_ok "a service keytab that does not exist yet: accepted, with a warning"
	tail -n 5 "$SVC_DIR/S.log" | diag
fi
# unreadable from now on (as the identity statement, the keytab had to
# be readable when the statement was applied)
if [ "$(id -u)" = 0 ]; then
	head -c 300 /dev/urandom >"$K/unread.keytab"
	unread_why="not a keytab"
else
	chmod 0000 "$K/unread.keytab"
	unread_why="mode 0000"
fi
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-C.txt" fd_start C "" "$conf_c" --datapath user ||
	not_ok "C starts"

if fd_wait C 40 "carrier('s').get('state') == 'up' and map_($P_DNS).get('state') == 'open' and map_($P_LDAP).get('state') == 'open'"; then
	ok "carrier up as alice, maps to dns (dns/hoster) and ldap (ldap/hoster, as carol) open"
else
	not_ok "carrier up, dns and ldap maps open"
	fd_ctl C show 2>&1 | diag; tail -n 20 "$SVC_DIR/C.log" "$SVC_DIR/S.log" | diag
fi
# a second map of carol's, once the first has her tickets
fd_ctl C map add tcp $L:"$P_LDAP2" identity carol keytab "$K/carol.keytab" peer s service ldap principal "ldap/hoster@$R" >/dev/null
check "a second map as carol, from funnelctl, opens" fd_wait C 20 "map_($P_LDAP2).get('state') == 'open'"
out=$(udp_pump rr $L "$P_DNS" -n 50 -w 1 -T 2000 2>&1 | tail -n 1)
case $out in
*"good 50 bad 0 lost 0"*) ok "dns under dns/hoster answers: $out" ;;
*) not_ok "dns under dns/hoster answers: $out" ;;
esac
head -c 200000 /dev/urandom >"$SVC_DIR/big"
timeout 30 socat -t5 TCP:$L:"$P_LDAP" - <"$SVC_DIR/big" >"$SVC_DIR/back" 2>/dev/null
check "ldap under ldap/hoster answers: 200 kB echoed byte for byte" cmp -s "$SVC_DIR/big" "$SVC_DIR/back"
echo ldap2 | timeout 10 socat -t2 TCP:$L:"$P_LDAP2" - >"$SVC_DIR/back2" 2>/dev/null
check "the second ldap map (target with its realm) answers" grep -qx ldap2 "$SVC_DIR/back2"

# who S saw: the carrier is alice's, the ldap streams carol's
if fd_json S >/dev/null "carrier().get('principal') == 'alice@$R' and stream('dns').get('principal') == 'alice@$R' and [s['principal'] for s in carrier()['streams'] if s['service'] == 'ldap'] == ['carol@$R', 'carol@$R']"; then
	ok "S: carrier and dns stream sealed by alice@$R, both ldap streams by carol@$R (the maps' identity)"
else
	not_ok "S: the principals of the carrier and streams"
	fd_json S "json.dumps([(s['service'], s['principal']) for s in carrier()['streams']])" | diag
fi
if fd_wait C 10 "map_($P_ALICE).get('state') == 'refused' and 'not-authorized' in map_($P_ALICE)['reason'] and 'alice@$R is not authorized' in map_($P_ALICE)['reason']"; then
	ok "ldap's allow list refuses the map without identity (alice): $(fd_json C "map_($P_ALICE)['reason']")"
else
	not_ok "ldap refuses alice: $(fd_json C "map_($P_ALICE)")"
fi
issued() { grep 'ISSUE:' "$KDC_DIR/kdc.log" | grep -c "carol@$R for $1"; }
n="$(issued krbtgt/)/$(issued ldap/hoster)"
if [ "$n" = 1/1 ]; then
	ok "carol's two maps share a ccache: the KDC issued carol 1 TGT and 1 ticket for ldap/hoster"
else
	not_ok "carol's tickets from the KDC: TGT/ldap/hoster $n, want 1/1"
fi

# the wrong service principal: that stream alone, while dns goes on
# (the map added while dns traffic runs, so that its refusal and the
# retries after it fall within the traffic)
udp_pump rr $L "$P_DNS" -t 4 -w 1 -T 2000 >"$SVC_DIR/rr.out" 2>&1 &
rr=$!
sleep 0.5
fd_ctl C map add udp $L:"$P_WRONG" peer s service dns principal ldap/hoster >/dev/null
if fd_wait C 10 "map_($P_WRONG).get('state') == 'refused' and map_($P_WRONG)['reason'].startswith(\"not-authorized: service dns accepts dns/hoster only: GSS-API: gss_accept_sec_context: The ticket isn't for us (major 0xd0000, minor \")"; then
	ok "a map to dns expecting ldap/hoster is refused: $(fd_json C "map_($P_WRONG)['reason']" | cut -c1-200)"
else
	not_ok "a map expecting the wrong principal is refused: $(fd_json C "map_($P_WRONG)")"
fi
check "S logged that refusal with the principal dns accepts and the library's message (the peer: its status codes' texts)" \
	grep -q "refused (not authorized): service dns accepts dns/hoster only: GSS-API: gss_accept_sec_context: Cannot decrypt ticket for ldap/hoster@$R using keytab key for dns/hoster@$R (major .*(the peer is told: service dns accepts dns/hoster only: GSS-API: gss_accept_sec_context: The ticket isn't for us " "$SVC_DIR/S.log"
check "C logged it" grep -q "refused by the peer: not authorized: service dns accepts dns/hoster only" "$SVC_DIR/C.log"
wait $rr
out=$(tail -n 1 "$SVC_DIR/rr.out")
case $out in
*" lost 0 "*) ok "dns through the same carrier meanwhile: nothing lost ($out)" ;;
*) not_ok "dns through the same carrier meanwhile: $out" ;;
esac

# keytabs missing or unreadable when a stream needs them: the detail in
# S's log, the peer told which service's credentials are not usable
generic="its credentials are not usable here; see this side's log"
# wait_grep SECONDS COMMAND...: until COMMAND succeeds
wait_grep() {
	local end=$(( SECONDS + $1 ))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}
# no_local PORT: C's reason for that map names nothing of S's files
no_local() {
	fd_json C "not any(w in map_($1)['reason'] for w in ('$K', 'keytab', 'uid', 'UNPROTECTED', 'mode', 'root'))"
}
if fd_wait C 10 "map_($P_GONE).get('state') == 'refused' and map_($P_GONE)['reason'] == \"internal-error: service gone (identity dns/hoster): $generic\"" &&
   no_local "$P_GONE" >/dev/null; then
	ok "a missing service keytab: the peer is told $(fd_json C "map_($P_GONE)['reason']")"
else
	not_ok "a missing service keytab: $(fd_json C "map_($P_GONE)")"
fi
check "S logged it, naming the service and the keytab" \
	grep -q "refused (internal error): service gone (identity dns/hoster): keytab $K/gone.keytab: No such file or directory (the peer is told: service gone (identity dns/hoster): $generic)" "$SVC_DIR/S.log"
check "S show --json: the last refusal of gone and dns with S's detail" \
	fd_json S "[v['last_refusal'] for v in j['services'] if v['name'] == 'gone'] == ['internal-error: service gone (identity dns/hoster): keytab $K/gone.keytab: No such file or directory'] and [v['last_refusal'].startswith('not-authorized: service dns accepts dns/hoster only: GSS-API: gss_accept_sec_context: Cannot decrypt ticket for ldap/hoster@$R') for v in j['services'] if v['name'] == 'dns'] == [True]"
if fd_wait C 10 "map_($P_OTHER).get('state') == 'refused' and \"service other (identity dns/hoster): $generic\" in map_($P_OTHER)['reason']" &&
   no_local "$P_OTHER" >/dev/null &&
   grep -q "refused (internal error): service other (identity dns/hoster): GSS-API: keytab $K/ldap.keytab: No key table entry found for dns/hoster@$R" "$SVC_DIR/S.log"; then
	ok "a service keytab without the identity's key: named in S's log, the peer told $(fd_json C "map_($P_OTHER)['reason']")"
else
	not_ok "a service keytab without the identity's key: $(fd_json C "map_($P_OTHER)")"
fi
if fd_wait C 10 "map_($P_LOCKED).get('state') == 'refused' and \"service locked (identity dns/hoster): $generic\" in map_($P_LOCKED)['reason']" &&
   no_local "$P_LOCKED" >/dev/null; then
	ok "a missing keytab of a service whose allow list refuses alice: alice is told $(fd_json C "map_($P_LOCKED)['reason']")"
else
	not_ok "a missing keytab of a service whose allow list refuses alice: $(fd_json C "map_($P_LOCKED)")"
fi
# the daemon's own keytab (a service without identity clause), gone
mv "$K/hoster.keytab" "$K/hoster.keytab.away"
svc_pick_port P_PLAIN
fd_ctl C map add udp $L:"$P_PLAIN" peer s service plain >/dev/null
if fd_wait C 10 "map_($P_PLAIN).get('state') == 'refused' and map_($P_PLAIN)['reason'] == \"internal-error: service plain: this side's credentials are not usable here; see its log\"" &&
   no_local "$P_PLAIN" >/dev/null &&
   grep -q "refused (internal error): service plain: GSS-API: keytab $K/hoster.keytab: No such file or directory (the peer is told: " "$SVC_DIR/S.log"; then
	ok "the daemon's keytab gone: named in S's log, the peer told $(fd_json C "map_($P_PLAIN)['reason']")"
else
	not_ok "the daemon's keytab gone: $(fd_json C "map_($P_PLAIN)")"
	grep plain "$SVC_DIR/S.log" | tail -n 2 | diag
fi
mv "$K/hoster.keytab.away" "$K/hoster.keytab"
check "the daemon's keytab back: that map opens" fd_wait C 40 "map_($P_PLAIN).get('state') == 'open'"
svc_pick_port P_UNREAD
fd_ctl C map add udp $L:"$P_UNREAD" peer s service unread principal dns/hoster >/dev/null
if fd_wait C 10 "map_($P_UNREAD).get('state') == 'refused' and \"service unread (identity dns/hoster): $generic\" in map_($P_UNREAD)['reason']" &&
   no_local "$P_UNREAD" >/dev/null &&
   grep -q "service unread (identity dns/hoster): .*$K/unread.keytab.*(the peer is told: " "$SVC_DIR/S.log"; then
	ok "an unreadable service keytab ($unread_why): named in S's log, the peer told $(fd_json C "map_($P_UNREAD)['reason']")"
else
	not_ok "an unreadable service keytab ($unread_why): $(fd_json C "map_($P_UNREAD)")"
	grep unread "$SVC_DIR/S.log" | tail -n 3 | diag
fi
if [ "$(id -u)" = 0 ]; then
	cp -p "$K/dns.keytab" "$K/unread.keytab"
	chown 65534 "$K/unread.keytab"
	if wait_grep 10 grep -q "refused (internal error): service unread (identity dns/hoster): UNPROTECTED KEYTAB: $K/unread.keytab is owned by uid 65534" "$SVC_DIR/S.log" &&
	   no_local "$P_UNREAD" >/dev/null; then
		ok "a service keytab owned by another user since: in S's log, not told to the peer ($(fd_json C "map_($P_UNREAD)['reason']" | cut -c1-100))"
	else
		not_ok "a service keytab owned by another user since: $(fd_json C "map_($P_UNREAD)")"
		grep unread "$SVC_DIR/S.log" | tail -n 2 | diag
	fi
	chown 0 "$K/unread.keytab"
else
	ok "a service keytab owned by another user # SKIP needs root to chown"
	chmod 0600 "$K/unread.keytab"
fi
# back to a good keytab: the map opens by itself
if fd_wait C 40 "map_($P_UNREAD).get('state') == 'open'"; then
	ok "its keytab repaired: the map opens at its next try"
else
	not_ok "its keytab repaired: the map opens: $(fd_json C "map_($P_UNREAD)")"
fi
if fd_wait C 10 "map_($P_NOID).get('state') == 'closed' and 'identity carol: keytab $K/nocarol.keytab: No such file or directory' in map_($P_NOID)['reason']"; then
	ok "a missing map identity keytab: $(fd_json C "map_($P_NOID)['reason']")"
else
	not_ok "a missing map identity keytab: $(fd_json C "map_($P_NOID)")"
fi
check "the dns and ldap maps stayed open through all of it" \
	fd_json C "all(map_(p).get('state') == 'open' for p in ($P_DNS, $P_LDAP, $P_LDAP2)) and carrier('s')['reconnects'] == 0"

# show
check "S show --json: each service's identity" \
	fd_json S "{s['name']: s['identity'] for s in j['services']} == {'dns': 'dns/hoster', 'ldap': 'ldap/hoster', 'gone': 'dns/hoster', 'unread': 'dns/hoster', 'other': 'dns/hoster', 'locked': 'dns/hoster', 'plain': '', 'cd': 'dns/hoster'}"
check "C show --json: each map's identity and principal" \
	fd_json C "(map_($P_LDAP)['identity'], map_($P_LDAP)['principal'], map_($P_DNS)['identity'], map_($P_DNS)['principal'], map_($P_LDAP2)['principal']) == ('carol', 'ldap/hoster', '', 'dns/hoster', 'ldap/hoster@$R')"
fd_ctl S show >"$SVC_DIR/S.show"; fd_ctl C show >"$SVC_DIR/C.show"
if grep -q '^  NAME .* ALLOW .* IDENTITY .* OPENS  REFUSALS  LAST REFUSAL$' "$SVC_DIR/S.show" &&
   grep -qE "^  gone +udp .* dns/hoster +0 +[0-9]+ +internal-error: service gone \(identity dns/hoster\): keytab $K/gone.keytab: No such file or directory$" "$SVC_DIR/S.show" &&
   grep -qE '^  ldap +tcp .* carol@FUNNEL.TEST +ldap/hoster ' "$SVC_DIR/S.show" &&
   grep -q '^  PROTO .* SERVICE .* IDENTITY .* PRINCIPAL .* STATE' "$SVC_DIR/C.show" &&
   grep -qE "^  tcp +$L:$P_LDAP +s +ldap +carol +ldap/hoster +open " "$SVC_DIR/C.show"; then
	ok "show (text): IDENTITY and LAST REFUSAL of the services, IDENTITY and PRINCIPAL of the maps"
else
	not_ok "show (text): identity and principal columns"
	cat "$SVC_DIR/S.show" "$SVC_DIR/C.show" | diag
fi
# a map's identity that is not its keytab's first principal
svc_pick_port P_DAVE
fd_ctl C map add udp $L:"$P_DAVE" peer s service cd principal dns/hoster identity dave keytab "$K/multi.keytab" >/dev/null
if fd_wait C 20 "map_($P_DAVE).get('state') == 'open'" &&
   fd_json S "'dave@$R' in [s['principal'] for s in carrier()['streams'] if s['service'] == 'cd']" >/dev/null &&
   out=$(udp_pump rr $L "$P_DAVE" -n 20 -w 1 -T 2000 2>&1 | tail -n 1) &&
   case $out in *"good 20 bad 0 lost 0"*) true ;; *) false ;; esac; then
	ok "a map as dave from a keytab of carol then dave: S sees dave@$R, it answers"
else
	not_ok "a map as dave, the second principal of its keytab: $(fd_json C "map_($P_DAVE)") ${out:-}"
fi
check "the KDC issued no TGT to carol for dave's map (still 1)" test "$(issued krbtgt/)" = 1

# a map's identity keytab that krb5 cannot use: named with the identity
printf 'this is not a keytab but a line of text\n' >"$K/junk.keytab"
printf '\005\002' >"$K/empty.keytab"
chmod 0600 "$K/junk.keytab" "$K/empty.keytab"
for kt in alice junk empty; do
	svc_pick_port P_KT
	eval "P_KT_$kt=$P_KT"
	fd_ctl C map add udp $L:"$P_KT" peer s service cd principal dns/hoster identity carol keytab "$K/$kt.keytab" >/dev/null
done
for kt in "alice:No key table entry found for carol@$R" "junk:Unsupported key table format version number" "empty:holds no key"; do
	eval "port=\$P_KT_${kt%%:*}"
	want="identity carol: GSS-API: keytab $K/${kt%%:*}.keytab: ${kt#*:}"
	if fd_wait C 10 "map_($port).get('state') == 'closed' and map_($port)['reason'] == '$want'"; then
		ok "a map identity keytab: $want"
	else
		not_ok "a map identity keytab: want '$want': $(fd_json C "map_($port)")"
	fi
	fd_ctl C map del udp $L:"$port" >/dev/null
done

# carol's ccache lives as long as a map of carol and carol.keytab
svc_pick_port P_LDAP3
fd_ctl C map del tcp $L:"$P_LDAP2" >/dev/null
fd_ctl C map add tcp $L:"$P_LDAP3" peer s service ldap principal ldap/hoster identity carol keytab "$K/carol.keytab" >/dev/null
if fd_wait C 20 "map_($P_LDAP3).get('state') == 'open'" && [ "$(issued krbtgt/)" = 1 ]; then
	ok "one of carol's maps deleted, another added: it opens on her ccache (TGTs issued to carol: 1)"
else
	not_ok "another map of carol's: $(fd_json C "map_($P_LDAP3)"), carol's TGTs $(issued krbtgt/)"
fi
fd_ctl C map del tcp $L:"$P_LDAP" >/dev/null
fd_ctl C map del tcp $L:"$P_LDAP3" >/dev/null
fd_ctl C map add tcp $L:"$P_LDAP" peer s service ldap principal ldap/hoster identity carol keytab "$K/carol.keytab" >/dev/null
if fd_wait C 20 "map_($P_LDAP).get('state') == 'open'" && [ "$(issued krbtgt/)" = 2 ] &&
   echo again | timeout 10 socat -t2 TCP:$L:"$P_LDAP" - >"$SVC_DIR/back3" 2>/dev/null &&
   grep -qx again "$SVC_DIR/back3"; then
	ok "all of carol's maps deleted, one added: a new ccache (TGTs issued to carol: 2), the stream reopens and answers"
else
	not_ok "carol's maps deleted and one added: $(fd_json C "map_($P_LDAP)"), carol's TGTs $(issued krbtgt/)"
fi

# a map deleted while its first step waits for the KDC: the ccache of
# its identity (carol from multi.keytab, new) is destroyed when that
# step is done, not under it (valgrind at the end)
svc_pick_port P_STOP
kill -STOP "$KDC_PID"
fd_ctl C map add udp $L:"$P_STOP" peer s service cd principal dns/hoster identity carol keytab "$K/multi.keytab" >/dev/null
sleep 1
fd_ctl C map del udp $L:"$P_STOP" >/dev/null
kill -CONT "$KDC_PID"
sleep 1
check "a map deleted while its identity's first step waited for the KDC: C goes on" \
	fd_wait C 10 "carrier('s').get('state') == 'up' and map_($P_DNS).get('state') == 'open' and map_($P_STOP) == {}"

# rekeys of a map with an identity: as carol (cd's allow list would
# refuse alice); a second client, its keys renewed every 100 frames
svc_pick_port P_RK
conf_c2="identity alice keytab $K/alice.keytab
peer add s $L:$P_CAR principal funnel/hoster
map add udp $L:$P_RK peer s service cd principal dns/hoster identity carol keytab $K/carol.keytab"
fd_start C2 "" "$conf_c2" --datapath user --key-soft-limit 100 || not_ok "C2 starts"
fd_wait C2 20 "map_($P_RK).get('state') == 'open'"
out=$(udp_pump rr $L "$P_RK" -n 400 -w 1 -T 2000 2>&1 | tail -n 1)
rk=$(fd_json S "[(s['principal'], s['rekeys'], s['key_generation']) for c in j['carriers'] for s in c['streams'] if s['service'] == 'cd' and s['principal'] == 'carol@$R']")
case $out in
*"good 400 bad 0 lost 0"*)
	if fd_json C2 "map_($P_RK).get('state') == 'open'" >/dev/null &&
	   fd_json S "[s['rekeys'] >= 1 and s['key_generation'] >= 2 for c in j['carriers'] for s in c['streams'] if s['service'] == 'cd' and s['principal'] == 'carol@$R'] == [True]" >/dev/null; then
		ok "a map with an identity rekeys as that identity: 400 datagrams, S's stream $rk"
	else
		not_ok "rekeys of a map with an identity: $rk, $(fd_json C2 "map_($P_RK)")"
	fi ;;
*) not_ok "rekeys of a map with an identity: $out; $rk" ;;
esac
svc_stop C2 TERM

# a keytab's directory and symbolic links, checked when a stream needs
# the keytab: a service keytab in a directory made group-writable since
# the statement (S's log says so, the peer is told the generic text), a
# map identity keytab made a symbolic link since (to carol's own good
# keytab); repaired, each opens
mkdir -m 0755 "$K/sdir" "$K/cdir"
cp -p "$K/dns.keytab" "$K/sdir/dns.keytab"
fd_ctl S service add swap udp $L:"$P_UECHO" identity dns/hoster keytab "$K/sdir/dns.keytab" >/dev/null
chmod 0775 "$K/sdir"
svc_pick_port P_SWAP
fd_ctl C map add udp $L:"$P_SWAP" peer s service swap principal dns/hoster >/dev/null
if fd_wait C 10 "map_($P_SWAP).get('state') == 'refused' and map_($P_SWAP)['reason'] == \"internal-error: service swap (identity dns/hoster): $generic\"" &&
   no_local "$P_SWAP" >/dev/null &&
   wait_grep 5 grep -q "refused (internal error): service swap (identity dns/hoster): UNPROTECTED KEYTAB DIRECTORY: $K/sdir, the directory of keytab $K/sdir/dns.keytab, has mode 0775: " "$SVC_DIR/S.log"; then
	ok "a service keytab whose directory became group-writable: in S's log, the peer told $(fd_json C "map_($P_SWAP)['reason']")"
else
	not_ok "a service keytab in a group-writable directory: $(fd_json C "map_($P_SWAP)")"
	grep swap "$SVC_DIR/S.log" | tail -n 2 | diag
fi
chmod 0755 "$K/sdir"
check "its directory 0755 again: the map opens at its next try" \
	fd_wait C 40 "map_($P_SWAP).get('state') == 'open'"
svc_pick_port P_LNK
fd_ctl C map add udp $L:"$P_LNK" peer s service cd principal dns/hoster identity carol keytab "$K/cdir/carol.keytab" >/dev/null
ln -s "$K/carol.keytab" "$K/cdir/carol.keytab"
want="identity carol: keytab $K/cdir/carol.keytab is a symbolic link: funneld does not follow one (whoever can change the link chooses the file); name the keytab itself"
if fd_wait C 20 "map_($P_LNK).get('state') == 'closed' and map_($P_LNK)['reason'] == '$want'"; then
	ok "a map identity keytab made a symbolic link since: $want"
else
	not_ok "a map identity keytab made a symbolic link: $(fd_json C "map_($P_LNK)")"
fi
rm "$K/cdir/carol.keytab"
cp -p "$K/carol.keytab" "$K/cdir/carol.keytab"
if fd_wait C 40 "map_($P_LNK).get('state') == 'open'" &&
   out=$(udp_pump rr $L "$P_LNK" -n 20 -w 1 -T 2000 2>&1 | tail -n 1) &&
   case $out in *"good 20 bad 0 lost 0"*) true ;; *) false ;; esac; then
	ok "the link replaced by the keytab itself: the map opens and answers"
else
	not_ok "the link replaced by the keytab: $(fd_json C "map_($P_LNK)") ${out:-}"
fi
fd_ctl C map del udp $L:"$P_SWAP" >/dev/null
fd_ctl C map del udp $L:"$P_LNK" >/dev/null

# plaintext: the identity, principal and allow clauses are not used,
# and the log says so (plaintext given before them or after)
svc_pick_port P_NONE; svc_pick_port P_X
conf_x="service add pa udp $L:$P_UECHO identity dns/hoster keytab $K/dns.keytab allow carol@$R
plaintext
identity alice keytab $K/alice.keytab
peer add s $L:$P_NONE principal funnel/hoster
map add udp $L:$P_X peer s service dns principal dns/hoster identity carol keytab $K/carol.keytab"
fd_start X "" "$conf_x" --datapath user || not_ok "X starts"
fd_ctl X service add pb udp $L:"$P_UECHO" allow carol@$R >/dev/null
bad=
for w in "service pa: the identity and allow clauses are not used in plaintext mode (nothing is authenticated)" \
	 "identity alice: not used in plaintext mode (nothing is authenticated)" \
	 "peer s: the principal clause is not used in plaintext mode" \
	 "map udp $L:$P_X: the identity and principal clauses are not used in plaintext mode" \
	 "service pb: the allow clause is not used in plaintext mode"; do
	grep -qF "funneld warning: $w" "$SVC_DIR/X.log" || bad+="[$w] "
done
if [ -z "$bad" ]; then
	ok "plaintext: a warning for each identity, principal and allow clause left unused"
else
	not_ok "plaintext: no warning $bad"
	grep warning "$SVC_DIR/X.log" | diag
fi
svc_stop X TERM

cp -p "$K/alice.keytab" "$K/open.keytab"
chmod 0640 "$K/open.keytab"
svc_pick_port P_OPEN
out=$(fd_ctl C map add udp $L:"$P_OPEN" peer s service dns identity alice keytab "$K/open.keytab" 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "map add: identity alice: UNPROTECTED KEYTAB: $K/open.keytab has mode 0640" &&
   fd_json C "map_($P_OPEN) == {}" >/dev/null; then
	ok "an identity clause with a 0640 keytab is refused: $out"
else
	not_ok "an identity clause with a 0640 keytab: exit $rc: $out"
fi

vg_check C
vg_check S
[ "$T_FAIL" = 0 ]
