#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The LDAP plugin, phases 1 and 2 (Documentation/plugins.md sections 4
# and 5), on this host: slapd (2000 people and one entry of 100 000 bytes) behind a
# service with "plugin ldap", a plaintext TCP carrier through
# selftests/tools/mitm.py, which logs every frame (MITM_FRAMELOG); the
# userspace data path; both sides under valgrind:
#  - ldapsearch of everything, ldapcompare, a paged search through a map
#    with "plugin ldap" give what slapd gives directly; so does a map
#    without it to the same service (the ends need not agree);
#  - phase 2: both ends have FEAT_PLUGIN, so the plugin map's stream is a
#    plugin stream (both logs say so); each of its DATA frames starts
#    with the sub-header (Sequence 0 for the opening frame, then 1, 2...
#    each way; M and After 1 on a message's pieces), then holds whole
#    LDAPMessages of one operation (plugins.md 5.3), the big entry in
#    frames of its bytes alone; the plain stream's frames cut messages
#    (so the check can tell); at the end, a search of 2001 entries in
#    fewer than 200 frames, a compare during it answered;
#  - a map with the plugin to a service without it: refused
#    (PROTO_MISMATCH), offered again at once as a plain stream; a client
#    site without FEAT_PLUGIN (FUNNELD_NO_PLUGIN=1): phase 1, no
#    sub-headers; both answer as slapd does; a site without flow control
#    (FUNNELD_NO_WINDOW=1) that offers a plugin stream anyway: refused
#    (no window bounds the frames held), a plain stream answers;
#  - sub-headers tampered on the way (mitm.py): a reserved bit set, a
#    Sequence far beyond the window: the flow is reset, S logs why and
#    counts rx-drop-malformed; a frame relayed twice: dropped as a
#    replay (rx-drop-replay), the search goes on;
#  - an unordered plugin stream (FUNNELD_PLUGIN_UNORDERED=1 on a client
#    site U, over TCP) whose frames mitm.py reorders: the opening frame
#    after the next one (the flow waits for it, then connects), a
#    SearchRequest before the BindRequest it follows (kept until then),
#    FLOW_END and the direction's empty last frame before the
#    UnbindRequest (the end waits for it): answered as without; the
#    opening frame lost: after 30 s S resets the flow and says why; a
#    map of U to a service without the plugin: its unordered plugin
#    stream refused, offered again ordered, refused, then plain;
#  - a keyed (Kerberos, a throwaway KDC) unordered plugin stream (site KC
#    with FUNNELD_PLUGIN_UNORDERED=1 to site KS, through a second
#    mitm.py; plugins.md 5.4): both ends say ", unordered"; ldapsearch as
#    slapd gives it, its counter marks sent both ways (logged at debug)
#    and none ignored; a sealed SearchRequest before its BindRequest: no
#    counter window refuses it, answered once and in order; a flow's
#    sealed opening frame sent again after 300 other flows ended (more
#    than an old table of 256 ended ids held): it opens nothing
#    (flows-created), counted rx-drop-replay; a sealed frame of
#    a live flow relayed twice: the stream is closed (integrity, logged
#    with flow and Sequence), the map opens again and answers; an
#    injected unsealed FLOW_END with R: counted (rx-drop-no-key) and the
#    stream closed (integrity), the map opens again; a sealed
#    SearchRequest deleted (nothing follows it in its flow): the
#    sender's counter mark makes KS close the stream (integrity, logged)
#    after FUNNELD_MARK_WAIT_MS (3 s here), the map opens again and
#    answers; a site without counter marks (KN, FUNNELD_NO_MARK=1): its
#    keyed unordered stream answers, and a deletion closes nothing;
#  - a client writing a request one byte at a time: it still travels in
#    one frame, and is answered;
#  - an entry of 60000 bytes that completes while the flow's credit is
#    short, and one of 200000 bytes whose header and last bytes come
#    alone: they go in pieces, all of them arrives (SO_RCVLOWAT reset);
#  - 40 clients holding partial requests of 49106 bytes in a site with a
#    5 MiB --carrier-buffer-max: the stages are reserved there, never past it;
#    a site whose budget holds two connections: the third is reset,
#    counted (flow-drop-limit) and logged;
#  - StartTLS: TLS goes through once the direction left LDAP;
#  - show and show --json name the plugin of each service and map;
#  - refused with a reset, logged with the reason and counted
#    (rx-drop-malformed): an indefinite length from a client, a client
#    that ends inside a message, a service that sends a request, a
#    service that sends an indefinite length.
#
# usage: selftests/host/t_funneld_ldap.sh     (root not needed)
# Prints TAP; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "funneld ldap"

for p in funneld funnelctl valgrind python3 slapd slapadd ldapsearch ldapcompare openssl; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found (make ctl; make deps)"; exit 1; }
done
LT=$top/selftests/tools/ldaptool.py
MITM=$top/selftests/tools/mitm.py
svc_init
L=127.0.0.1
svc_pick_port P_LDAP; svc_pick_port P_CAR; svc_pick_port P_MITM
svc_pick_port P_CTL; svc_pick_port P_BADREQ; svc_pick_port P_BADLEN
svc_pick_port M_LDAP; svc_pick_port M_PLAIN; svc_pick_port M_MIXED
svc_pick_port M_BADREQ; svc_pick_port M_BADLEN
svc_pick_port P_CREDIT; svc_pick_port P_TAIL; svc_pick_port M_CREDIT; svc_pick_port M_TAIL
svc_pick_port P_BIGHEAD; svc_pick_port M_BIGHEAD
svc_pick_port M_FALLBACK; svc_pick_port P_GOOD
FRAMES=$SVC_DIR/frames.log

svc_slapd ldap "" $L "$P_LDAP" 2000 100000 ||
	{ not_ok "slapd starts with 2001 entries"; exit 1; }
python3 -u "$LT" badservice "$P_BADREQ" request 2>>"$SVC_DIR/bad.err" &
svc_register badreq $!
python3 -u "$LT" badservice "$P_BADLEN" indefinite 2>>"$SVC_DIR/bad.err" &
svc_register badlen $!
python3 -u "$LT" badservice "$P_CREDIT" credit 2>>"$SVC_DIR/bad.err" &
svc_register credit $!
python3 -u "$LT" badservice "$P_TAIL" tail 2>>"$SVC_DIR/bad.err" &
svc_register tail $!
python3 -u "$LT" badservice "$P_BIGHEAD" bighead 2>>"$SVC_DIR/bad.err" &
svc_register bighead $!
python3 -u "$LT" badservice "$P_GOOD" good 2>>"$SVC_DIR/bad.err" &
svc_register good $!
MITM_FRAMELOG=$FRAMES python3 -u "$MITM" proxy "$P_MITM" $L "$P_CAR" "$P_CTL" \
	>"$SVC_DIR/mitm.log" 2>&1 &
svc_register mitm $!
for p in "$P_BADREQ" "$P_BADLEN" "$P_CREDIT" "$P_TAIL" "$P_BIGHEAD" "$P_GOOD" "$P_MITM"; do
	svc_wait_port "" tcp "$p" 10 || not_ok "a test service listens on port $p"
done

LVG="valgrind --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--track-fds=no --num-callers=30 --log-file=$SVC_DIR/vg-"
FD_START_TIMEOUT=30 FD_WRAP=${LVG}S.txt fd_start S "" "plaintext
listen $L:$P_CAR
service add ldap tcp $L:$P_LDAP plugin ldap
service add ldapplain tcp $L:$P_LDAP
service add badreq tcp $L:$P_BADREQ plugin ldap
service add badlen tcp $L:$P_BADLEN plugin ldap
service add credit tcp $L:$P_CREDIT plugin ldap
service add tail tcp $L:$P_TAIL plugin ldap
service add bighead tcp $L:$P_BIGHEAD plugin ldap
service add good tcp $L:$P_GOOD plugin ldap" --datapath user ||
	{ not_ok "site S starts under valgrind"; exit 1; }
FD_START_TIMEOUT=30 FD_WRAP=${LVG}C.txt fd_start C "" "plaintext
peer add s $L:$P_MITM carrier tcp
map add tcp $L:$M_LDAP peer s service ldap plugin ldap
map add tcp $L:$M_PLAIN peer s service ldapplain
map add tcp $L:$M_MIXED peer s service ldap
map add tcp $L:$M_BADREQ peer s service badreq plugin ldap
map add tcp $L:$M_BADLEN peer s service badlen plugin ldap
map add tcp $L:$M_CREDIT peer s service credit plugin ldap
map add tcp $L:$M_TAIL peer s service tail plugin ldap
map add tcp $L:$M_BIGHEAD peer s service bighead plugin ldap
map add tcp $L:$M_FALLBACK peer s service ldapplain plugin ldap" --datapath user ||
	{ not_ok "site C starts under valgrind"; exit 1; }
if fd_wait C 30 "carrier('s').get('state') == 'up' and len(j['maps']) == 9 and all(m.get('state') == 'open' for m in j['maps'])"; then
	ok "carrier up through the man in the middle, 9 maps open"
else
	not_ok "carrier up and maps open"
	fd_ctl C show 2>&1 | diag; tail -n 20 "$SVC_DIR/C.log" "$SVC_DIR/S.log" | diag
fi
# the stream of the map on PORT
stream_of() { fd_json C "[m['stream'] for m in j['maps'] if m['addr'].endswith(':$1')][0]"; }
ST_LDAP=$(stream_of "$M_LDAP")
ST_PLAIN=$(stream_of "$M_PLAIN")
check "the plugin map and the plain one have streams ($ST_LDAP, $ST_PLAIN)" \
	test "$ST_LDAP" -ge 1 -a "$ST_PLAIN" -ge 1 -a "$ST_LDAP" != "$ST_PLAIN"

# ---- phase 2 negotiated: a plugin stream, or a plain one ----
check "C: stream $ST_LDAP is a plugin stream (phase 2)" \
	grep -qE "stream $ST_LDAP open: map $L:$M_LDAP -> service ldap \(plugin stream ldap, phase 2\)$" "$SVC_DIR/C.log"
check "S: stream $ST_LDAP is a plugin stream (phase 2)" \
	grep -qE "stream $ST_LDAP open for service ldap -> $L:$P_LDAP \(plugin stream ldap, phase 2\)$" "$SVC_DIR/S.log"
check "C: the map without the plugin to the same service: a plain stream ($ST_PLAIN)" \
	grep -qE "stream [0-9]+ open: map $L:$M_MIXED -> service ldap$" "$SVC_DIR/C.log"
check "S refuses a plugin stream for service ldapplain (no plugin there)" \
	grep -qE "refused \(udp/tcp mismatch\): service ldapplain has no plugin ldap" "$SVC_DIR/S.log"
check "... C offers that map again at once without its plugin stream" \
	grep -qE "map $L:$M_FALLBACK: offered again without its plugin stream \(phase 1\)" "$SVC_DIR/C.log"
check "... and it opens as a plain stream" \
	grep -qE "stream [0-9]+ open: map $L:$M_FALLBACK -> service ldapplain$" "$SVC_DIR/C.log"

# ---- show: the plugin of each service and map ----
check "S show --json: plugin ldap of service ldap, none of ldapplain" \
	fd_json S "{s['name']: s['plugin'] for s in j['services'] if s['name'].startswith('ldap')} == {'ldap': 'ldap', 'ldapplain': ''}"
check "C show --json: plugin ldap of the plugin map, none of the plain one" \
	fd_json C "(map_($M_LDAP)['plugin'], map_($M_PLAIN)['plugin']) == ('ldap', '')"
fd_ctl S show >"$SVC_DIR/S.show"; fd_ctl C show >"$SVC_DIR/C.show"
# (LAST REFUSAL: the fallback map's plugin stream, refused by ldapplain)
if grep -qE '^  NAME +PROTO +TARGET +PROXY +PLUGIN +ALLOW +OPENS +REFUSALS( +LAST REFUSAL)?$' "$SVC_DIR/S.show" &&
   grep -qE "^  ldap +tcp +$L:$P_LDAP +- +ldap +- " "$SVC_DIR/S.show" &&
   grep -qE "^  ldapplain +tcp +$L:$P_LDAP +- +- +- " "$SVC_DIR/S.show" &&
   grep -qE '^  PROTO +ADDRESS +PEER +SERVICE +PLUGIN +STATE +STREAM +REASON$' "$SVC_DIR/C.show" &&
   grep -qE "^  tcp +$L:$M_LDAP +s +ldap +ldap +open " "$SVC_DIR/C.show" &&
   grep -qE "^  tcp +$L:$M_PLAIN +s +ldapplain +- +open " "$SVC_DIR/C.show"; then
	ok "show (text): a PLUGIN column of the services and of the maps"
else
	not_ok "show (text): a PLUGIN column of the services and of the maps"
	cat "$SVC_DIR/S.show" "$SVC_DIR/C.show" | diag
fi

svc_pick_port M_MORE
check "funnelctl map add ... plugin ldap at run time" \
	fd_ctl C map add tcp $L:"$M_MORE" peer s service ldap plugin ldap
out=$(fd_ctl C map add tcp $L:"$M_MORE" peer s service ldap plugin x500 2>&1)
check "funnelctl refuses plugin x500 ($out)" \
	test "$out" = "funnelctl: map add: unknown plugin 'x500' (ldap)"
fd_ctl C map del tcp $L:"$M_MORE" >/dev/null 2>&1

BASE=ou=people,$SVC_LDAP_BASE
search() { # PORT ARGS...: ldapsearch -x on that port, LDIF without comments
	local port=$1; shift
	ldapsearch -x -LLL -o ldif-wrap=no -H "ldap://$L:$port" -D "$SVC_LDAP_ADMIN" \
		-w "$SVC_LDAP_PASS" "$@"
}
search "$P_LDAP" -b "$BASE" '(objectClass=inetOrgPerson)' >"$SVC_DIR/direct.ldif"
n=$(grep -c '^dn: ' "$SVC_DIR/direct.ldif")
for c in "plugin $M_LDAP" "plain $M_PLAIN" "mixed $M_MIXED" "fallback $M_FALLBACK"; do
	# shellcheck disable=SC2086 # split into its words
	set -- $c
	if search "$2" -b "$BASE" '(objectClass=inetOrgPerson)' >"$SVC_DIR/$1.ldif" 2>"$SVC_DIR/$1.err" &&
	   cmp -s "$SVC_DIR/direct.ldif" "$SVC_DIR/$1.ldif"; then
		ok "$1 map: ldapsearch of all $n entries (the 100000-byte one too) as slapd gives them"
	else
		not_ok "$1 map: ldapsearch gives what slapd gives ($n entries)"
		diag <"$SVC_DIR/$1.err"
		diff "$SVC_DIR/direct.ldif" "$SVC_DIR/$1.ldif" | head -n 5 | diag
	fi
done
check "ldapsearch: 2001 entries directly" test "$n" = 2001
out=$(ldapcompare -x -H "ldap://$L:$M_LDAP" "uid=u7,$BASE" "cn:User 7" 2>&1)
check "plugin map: ldapcompare uid=u7 cn:User 7 ($out)" test "$out" = TRUE
out=$(ldapcompare -x -H "ldap://$L:$M_LDAP" "uid=u7,$BASE" "cn:User 8" 2>&1)
check "plugin map: ldapcompare uid=u7 cn:User 8 ($out)" test "$out" = FALSE
out=$(ldapsearch -x -H "ldap://$L:$M_LDAP" -b "$BASE" -E pr=300/noprompt '(uid=u1*)' dn 2>&1 |
	grep -E '^# numEntries' | tail -n 1)
check "plugin map: paged search, 300 a page ($out)" test "$out" = "# numEntries: 1111"

# ---- the frames ----
cp "$FRAMES" "$SVC_DIR/frames-ldap.log"
out=$(python3 "$LT" frames "$SVC_DIR/frames-ldap.log" "$ST_LDAP" plugin 2>&1)
st=$?
# shellcheck disable=SC2086 # "frames F messages M pieces P barriers B after A"
set -- $out
# (packed: frames of several messages of one operation, plugins.md 5.3)
check "plugin stream $ST_LDAP: each DATA frame a sub-header (Sequence in order, M on pieces) and whole LDAPMessages of one operation, the big entry in pieces of its own ($out)" \
	test "$st/$1" = 0/frames -a "${4:-0}" -gt 3000 -a "${6:-0}" -ge 2 -a "${8:-0}" -ge 1 -a "${10:-0}" -ge 1 -a "${12:-0}" -ge 1
out=$(python3 "$LT" frames "$SVC_DIR/frames-ldap.log" "$ST_LDAP" 2>&1)
check "... read without sub-headers its frames are not LDAPMessages, as the check tells ($out)" \
	test "$?" = 1
out=$(python3 "$LT" frames "$SVC_DIR/frames-ldap.log" "$ST_PLAIN" 2>&1)
check "plain stream $ST_PLAIN: its frames cut messages, as the check tells ($out)" \
	test "$?" = 1

# a request written one byte every 5 ms: one frame all the same
REQ=$(python3 -c "
import sys
def tlv(t, b): return bytes([t, len(b)]) + b
s = lambda x: tlv(4, x.encode())
op = tlv(0x63, s('$BASE') + tlv(10, b'\x02') + tlv(10, b'\x00') + tlv(2, b'\x00') +
         tlv(2, b'\x00') + tlv(1, b'\x00') + tlv(0xa3, s('uid') + s('u42')) + tlv(0x30, s('cn')))
print((tlv(0x30, tlv(2, b'\x02') + op) + bytes.fromhex('30050201034200')).hex())")
: >"$FRAMES"
out=$(python3 "$LT" send $L "$M_LDAP" "$REQ" 5 2>&1 | tr '\n' ' ')
check "a client writing a SearchRequest byte by byte gets the entry and the done ($out)" \
	test "$out" = "eof 77 msg 2 64 63 msg 2 65 14 "
out=$(python3 "$LT" frames "$FRAMES" "$ST_LDAP" plugin 2>&1)
# the request free, the unbind a barrier; the entry free, the done after
# it, or with it in one frame when both were there (plugins.md 5.3)
check "... its request and unbind went in one frame each, the unbind a barrier, the done after the entry or with it ($out)" \
	test "$out" = "frames 4 messages 4 pieces 0 barriers 1 after 1 packed 0 most 1" -o \
	"$out" = "frames 3 messages 4 pieces 0 barriers 1 after 0 packed 1 most 2"

# ---- messages that go in pieces after a partial read ----
out=$(python3 "$LT" send $L "$M_CREDIT" 30050201024200 0 "done" 2>&1 | tr '\n' ' ')
check "an entry of 60000 bytes that completes while the credit is short: all of it, and the done ($out)" \
	test "$out" = "done 70014 msg 2 64 10000 msg 2 64 60000 msg 2 65 14 "
out=$(python3 "$LT" send $L "$M_TAIL" 30050201024200 0 1 2>&1 | tr '\n' ' ')
check "an entry of 200000 bytes whose header and tail come alone: all of it ($out)" \
	test "$out" = "whole 200000 msg 2 64 200000 "

# ---- StartTLS: the direction leaves LDAP ----
out=$(LDAPTLS_REQCERT=never search "$M_LDAP" -ZZ -b "$BASE" '(uid=big)' 2>&1 >"$SVC_DIR/tls.ldif")
if [ -z "$out" ] && LDAPTLS_REQCERT=never search "$P_LDAP" -ZZ -b "$BASE" '(uid=big)' 2>/dev/null |
   cmp -s - "$SVC_DIR/tls.ldif" && [ -s "$SVC_DIR/tls.ldif" ]; then
	ok "plugin map: StartTLS (ldapsearch -ZZ), then the big entry over TLS"
else
	not_ok "plugin map: StartTLS then a search over TLS"
	echo "$out" | diag; tail -n 5 "$SVC_DIR/C.log" "$SVC_DIR/S.log" | diag
fi

# ---- refused: reset, logged, counted ----
mal() { fd_json "$1" "sum(s['stats']['rx-drop-malformed'] for c in j['carriers'] for s in c['streams'])"; }
c0=$(mal C)
out=$(python3 "$LT" send $L "$M_LDAP" 3080020101 2>&1 | head -n 1)
check "a client's indefinite length: its connection is reset ($out)" test "$out" = "reset 0"
check "... C logs why" grep -q "LDAP from the client refused: indefinite length (0x80) after tag 0x30 (LDAPMessage): LDAP takes definite lengths only: flow reset" "$SVC_DIR/C.log"
sleep 1.1	# one log line a second per stream
out=$(python3 "$LT" send $L "$M_LDAP" "${REQ:0:10}" 0 shut 2>&1 | head -n 1)
check "a client that ends inside a message: reset ($out)" test "$out" = "reset 0"
check "... C logs why" grep -q "LDAP from the client refused: the connection ended inside a message (5 of 69 bytes): flow reset" "$SVC_DIR/C.log"
sleep 1.1
# a long message's header cut after its length: it is checked before
# any of it goes (here: no messageID), not sent in pieces unchecked
out=$(python3 "$LT" send $L "$M_LDAP" "308400018694/$(printf '04%.0s' $(seq 1 1000))" 2>&1 | head -n 1)
check "a client's 100000-byte message of garbage, its header cut after the length: reset ($out)" \
	test "$out" = "reset 0"
check "... C logs why" grep -q "LDAP from the client refused: messageID tag 0x04 is not an INTEGER (0x02): flow reset" "$SVC_DIR/C.log"
c1=$(mal C)
check "... all three counted in C's rx-drop-malformed ($c0 -> $c1)" test "$((c1 - c0))" = 3

s0=$(mal S)
out=$(python3 "$LT" send $L "$M_BADREQ" "$REQ" 2>&1 | head -n 1)
check "a service that sends a request: the client is reset ($out)" test "${out%% *}" = reset
check "... S logs why" grep -q "LDAP from the service refused: SearchRequest (messageID 2) from the service: it sends responses: flow reset" "$SVC_DIR/S.log"
out=$(python3 "$LT" send $L "$M_BADLEN" "$REQ" 2>&1 | head -n 1)
check "a service that sends an indefinite length: the client is reset ($out)" test "${out%% *}" = reset
out=$(python3 "$LT" send $L "$M_BIGHEAD" "$REQ" 2>&1 | head -n 1)
check "a service that sends a 100000-byte request, its header cut after the length: the client is reset ($out)" \
	test "$out" = "reset 0"
check "... S logs why" grep -q "LDAP from the service refused: SearchRequest (messageID 9) from the service: it sends responses: flow reset" "$SVC_DIR/S.log"
s1=$(mal S)
check "... all three counted in S's rx-drop-malformed ($s0 -> $s1)" test "$((s1 - s0))" = 3
out=$(search "$M_LDAP" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
check "the plugin map still answers ($out)" test "$out" = "cn: User 5"

# ---- plugin stream sub-headers tampered on the way (C to S) ----
# arm ACTION STREAM NTH: mitm.py's command in the background, once armed
arm() {
	local f=$SVC_DIR/act-$1-$2
	python3 "$MITM" ctl "$P_CTL" "$@" >"$f" &
	actpid=$!
	for _ in $(seq 100); do grep -q armed "$f" && return 0; sleep 0.1; done
	return 1
}
stat_s() { fd_json S "sum(s['stats']['$1'] for c in j['carriers'] for s in c['streams'] if s['id'] == $ST_LDAP)"; }
sleep 1.1	# one log line a second per stream
s0=$(stat_s rx-drop-malformed)
# the 2nd frame with a message: the BindRequest (the 1st: the opening one)
arm subreserved "$ST_LDAP" 2 || not_ok "mitm.py armed (subreserved)"
out=$(search "$M_LDAP" -b "$BASE" '(uid=u5)' cn 2>&1 | grep -c '^cn:')
wait "$actpid"
check "a sub-header with a reserved bit set: the flow is reset, no answer ($out entries)" test "$out" = 0
check "... S logs why" grep -q "flow [0-9]*: plugin stream frame from the peer refused: reserved bits 0x01 set in the sub-header: flow reset" "$SVC_DIR/S.log"
sleep 1.1
arm subahead "$ST_LDAP" 2 || not_ok "mitm.py armed (subahead)"
out=$(search "$M_LDAP" -b "$BASE" '(uid=u5)' cn 2>&1 | grep -c '^cn:')
wait "$actpid"
check "a Sequence 1000000 beyond its place: the flow is reset, no answer ($out entries)" test "$out" = 0
check "... S logs why" grep -qE "flow [0-9]+: plugin stream frame from the peer refused: Sequence 1000001 is 1000001 frames above the last delivered \(0\): at most 16384 in flight: flow reset" "$SVC_DIR/S.log"
s1=$(stat_s rx-drop-malformed)
check "... both counted in S's rx-drop-malformed of stream $ST_LDAP ($s0 -> $s1)" test "$((s1 - s0))" = 2
r0=$(stat_s rx-drop-replay)
arm subreplay "$ST_LDAP" 2 || not_ok "mitm.py armed (subreplay)"
out=$(search "$M_LDAP" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
wait "$actpid"
r1=$(stat_s rx-drop-replay)
check "a frame relayed twice: the copy dropped as a replay ($r0 -> $r1), the search answered ($out)" \
	test "$((r1 - r0))/$out" = "1/cn: User 5"

# ---- an unordered plugin stream (FUNNELD_PLUGIN_UNORDERED=1: over TCP,
# where mitm.py reorders its frames as SCTP's unordered delivery may) ----
svc_pick_port M_UNORD; svc_pick_port M_UGOOD; svc_pick_port M_UFALL
FUNNELD_PLUGIN_UNORDERED=1 FD_START_TIMEOUT=30 FD_WRAP=${LVG}U.txt fd_start U "" "plaintext
peer add s $L:$P_MITM carrier tcp
map add tcp $L:$M_UNORD peer s service ldap plugin ldap
map add tcp $L:$M_UGOOD peer s service good plugin ldap
map add tcp $L:$M_UFALL peer s service ldapplain plugin ldap" --datapath user ||
	not_ok "site U (FUNNELD_PLUGIN_UNORDERED=1) starts under valgrind"
fd_wait U 30 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" ||
	not_ok "site U: carrier up, map open"
ST_U=$(fd_json U "map_($M_UNORD)['stream']")
ST_UG=$(fd_json U "map_($M_UGOOD)['stream']")
check "U: stream $ST_U is an unordered plugin stream (ORDERED 0)" \
	grep -qE "stream $ST_U open: map $L:$M_UNORD -> service ldap \(plugin stream ldap, phase 2, unordered\)$" "$SVC_DIR/U.log"
check "S: ... and takes it so" \
	grep -qE "stream $ST_U open for service ldap -> $L:$P_LDAP \(plugin stream ldap, phase 2, unordered\)$" "$SVC_DIR/S.log"
# refused unordered (PROTO_MISMATCH, as by a peer that takes unordered
# plugin streams on plaintext userspace carriers only): ordered next,
# then refused again (no plugin there): a plain stream
ufall() {
	grep -qE "map $L:$M_UFALL: offered again as an ordered plugin stream" "$SVC_DIR/U.log" &&
	grep -qE "map $L:$M_UFALL: offered again without its plugin stream \(phase 1\)" "$SVC_DIR/U.log" &&
	grep -qE "stream [0-9]+ open: map $L:$M_UFALL -> service ldapplain$" "$SVC_DIR/U.log"
}
check "U: an unordered plugin stream refused: offered again as an ordered plugin stream, then without its plugin stream, and it opens plain" ufall
if search "$M_UNORD" -b "$BASE" '(objectClass=inetOrgPerson)' >"$SVC_DIR/unord.ldif" 2>&1 &&
   cmp -s "$SVC_DIR/direct.ldif" "$SVC_DIR/unord.ldif"; then
	ok "unordered: ldapsearch of all $n entries as slapd gives them"
else
	not_ok "unordered: ldapsearch as slapd gives it"
	diff "$SVC_DIR/direct.ldif" "$SVC_DIR/unord.ldif" | head -n 5 | diag
fi
nref0=$(grep -c "plugin stream frame from the peer refused" "$SVC_DIR/S.log")
arm subhold "$ST_U" 1 || not_ok "mitm.py armed (subhold 1)"
out=$(search "$M_UNORD" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
wait "$actpid"
check "unordered: the opening frame after the BindRequest: the flow waits for it, then connects; answered ($out)" \
	test "$out" = "cn: User 5"
# an anonymous BindRequest (a barrier) and a SearchRequest after it (its
# After points to the bind): frames 1 opening, 2 bind, 3 search; the
# bind held until the search passed: the search waits for it at S
BS=300c020101600702010304008000${REQ%30050201034200}
want=$(python3 "$LT" send $L "$M_UNORD" "$BS" 0 "done" 2>&1 | tr '\n' ' ')
arm subhold "$ST_U" 2 || not_ok "mitm.py armed (subhold 2)"
out=$(python3 "$LT" send $L "$M_UNORD" "$BS" 0 "done" 2>&1 | tr '\n' ' ')
wait "$actpid"
check "unordered: a SearchRequest before the BindRequest it follows: kept until the bind is written; answered as without ($out)" \
	test "$out" = "$want" -a "$want" = "done 91 msg 1 61 14 msg 2 64 63 msg 2 65 14 "
# frames: 1 opening, 2 the SearchRequest, 3 the UnbindRequest, 4 the last
# (empty), then FLOW_END: the UnbindRequest after the last two
arm subhold2 "$ST_UG" 3 || not_ok "mitm.py armed (subhold2 3)"
out=$(python3 "$LT" send $L "$M_UGOOD" "$REQ" 0 shut 2>&1 | tr '\n' ' ')
wait "$actpid"
check "unordered: FLOW_END and the last frame before the UnbindRequest: the end waits for it; answered, then the end ($out)" \
	test "$out" = "eof 14 msg 2 65 14 "
nref1=$(grep -c "plugin stream frame from the peer refused" "$SVC_DIR/S.log")
check "... nothing of it refused by S ($nref0 -> $nref1)" test "$nref0" = "$nref1"
# the opening frame lost: the flow's other frames wait for it 30 s, then
# S resets the flow (plugins.md 5.4)
arm subdrop "$ST_U" 1 || not_ok "mitm.py armed (subdrop 1)"
t0=$(date +%s)
out=$(python3 "$LT" send $L "$M_UNORD" "$REQ" 2>&1 | head -n 1)
wait "$actpid"
for _ in $(seq 400); do
	grep -q "plugin stream frame from the peer refused: the flow's opening frame waited 30 s" "$SVC_DIR/S.log" && break
	sleep 0.1
done
t1=$(date +%s)
check "unordered: an opening frame lost: no answer ($out); after 30 s S resets the flow and logs why ($((t1 - t0)) s)" \
	grep -qE "plugin stream frame from the peer refused: the flow's opening frame waited 30 s \([0-9]+ frames\): flow reset" "$SVC_DIR/S.log"
vg_check U

# ---- a keyed (Kerberos) unordered plugin stream (plugins.md 5.4): site
# KC (FUNNELD_PLUGIN_UNORDERED=1: over TCP, through a second mitm.py
# that reorders and replays its sealed frames) to site KS ----
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/hoster && kdc_addprinc alice &&
   kdc_keytab "$SVC_DIR/hoster.keytab" funnel/hoster && kdc_keytab "$SVC_DIR/alice.keytab" alice; then
	ok "kdc: FUNNEL.TEST on $L:$KDC_PORT, funnel/hoster and alice with keytabs"
else
	not_ok "kdc: set up"
fi
svc_pick_port P_KCAR; svc_pick_port P_KMITM; svc_pick_port P_KCTL; svc_pick_port M_KEYED
python3 -u "$MITM" proxy "$P_KMITM" $L "$P_KCAR" "$P_KCTL" >"$SVC_DIR/kmitm.log" 2>&1 &
svc_register kmitm $!
svc_wait_port "" tcp "$P_KMITM" 10 || not_ok "the second mitm.py listens"
VGK="$LVG --suppressions=$top/selftests/host/gss.supp --log-file=$SVC_DIR/vg-"
# FUNNELD_MARK_WAIT_MS: a counter mark unmet fails the stream after 3 s
# here, not 30 s
FUNNELD_MARK_WAIT_MS=3000 FD_START_TIMEOUT=30 FD_WRAP=${VGK}KS.txt fd_start KS "" "identity funnel/hoster keytab $SVC_DIR/hoster.keytab
listen $L:$P_KCAR
service add ldap tcp $L:$P_LDAP plugin ldap allow alice@FUNNEL.TEST" --datapath user -l debug ||
	not_ok "site KS (keyed) starts under valgrind"
FUNNELD_PLUGIN_UNORDERED=1 FD_START_TIMEOUT=30 FD_WRAP=${VGK}KC.txt fd_start KC "" "identity alice keytab $SVC_DIR/alice.keytab
peer add s $L:$P_KMITM carrier tcp principal funnel/hoster
map add tcp $L:$M_KEYED peer s service ldap plugin ldap" --datapath user -l debug ||
	not_ok "site KC (keyed, FUNNELD_PLUGIN_UNORDERED=1) starts under valgrind"
fd_wait KC 40 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" ||
	not_ok "site KC: carrier up, map open"
ST_K=$(fd_json KC "map_($M_KEYED)['stream']")
check "KC: keyed stream $ST_K is an unordered plugin stream" \
	grep -qE "stream $ST_K open: map $L:$M_KEYED -> service ldap \(plugin stream ldap, phase 2, unordered\)$" "$SVC_DIR/KC.log"
check "KS: ... and takes it so, sealed (key generation $(fd_json KS "stream('ldap').get('key_generation')"))" \
	fd_json KS "stream('ldap').get('unordered') == True and stream('ldap').get('key_generation', 0) >= 1"
# MARKs sent and received so far (-l debug: carrier.c's "send mark",
# ctrl.c's "received mark"; KS's carrier is the only one either has)
nmark() { grep -c ": $2 mark\$" "$SVC_DIR/$1.log"; }
mk0="$(nmark KC send) $(nmark KS received) $(nmark KS send) $(nmark KC received)"
if search "$M_KEYED" -b "$BASE" '(objectClass=inetOrgPerson)' >"$SVC_DIR/keyed.ldif" 2>&1 &&
   cmp -s "$SVC_DIR/direct.ldif" "$SVC_DIR/keyed.ldif"; then
	ok "keyed unordered: ldapsearch of all $n entries as slapd gives them"
else
	not_ok "keyed unordered: ldapsearch as slapd gives it"
	diff "$SVC_DIR/direct.ldif" "$SVC_DIR/keyed.ldif" | head -n 5 | diag
fi
# the MARKs of that search (200 ms after the last frame each way) go
# both ways and are all used: show --json counts none ignored on either
# side (review-lows L8: and some were sent, so that none ignored says
# something)
mkmore() { # each of the four counts above its value before the search
	local a b c d e f g h
	read -r a b c d <<<"$mk0"
	read -r e f g h <<<"$(nmark KC send) $(nmark KS received) $(nmark KS send) $(nmark KC received)"
	[ "$e" -gt "$a" ] && [ "$f" -gt "$b" ] && [ "$g" -gt "$c" ] && [ "$h" -gt "$d" ]
}
for _ in $(seq 50); do mkmore && break; sleep 0.1; done
check "keyed unordered: MARKs of that search sent both ways and received (KC send, KS received, KS send, KC received: before $mk0, now $(nmark KC send) $(nmark KS received) $(nmark KS send) $(nmark KC received))" \
	mkmore
check "keyed unordered: no MARK ignored (marks_ignored $(fd_json KS "carrier()['marks_ignored']") at KS, $(fd_json KC "carrier('s')['marks_ignored']") at KC)" \
	fd_json KS "carrier()['marks_ignored'] == 0 and '$(fd_json KC "carrier('s')['marks_ignored']")' == '0'"
karm() { # ACTION STREAM NTH: the second mitm.py's command, once armed
	local f=$SVC_DIR/kact-$1-$2
	: >"$f"
	python3 "$MITM" ctl "$P_KCTL" "$@" >"$f" &
	actpid=$!
	for _ in $(seq 100); do grep -q armed "$f" && return 0; sleep 0.1; done
	return 1
}
kstat() { fd_json KS "sum(s['stats']['$1'] for c in j['carriers'] for s in c['streams'] if s['id'] == $ST_K)"; }
r0=$(kstat rx-drop-replay)
# sealed frames: 1 the opening frame, 2 the BindRequest, 3 the search
karm reorder "$ST_K" 2 || not_ok "mitm.py armed (reorder 2)"
out=$(python3 "$LT" send $L "$M_KEYED" "$BS" 0 "done" 2>&1 | tr '\n' ' ')
wait "$actpid"
r1=$(kstat rx-drop-replay)
check "keyed unordered: a sealed SearchRequest before the BindRequest it follows: no counter window refuses it, kept until the bind is written; answered once, in order ($out; replays $r0 -> $r1)" \
	test "$out/$((r1 - r0))" = "$want/0"
# a flow's opening frame kept, then sent again after 300 other flows
# ended (more than the 256 ids a table of ended ones held)
karm keep "$ST_K" 1 || not_ok "mitm.py armed (keep 1)"
out=$(search "$M_KEYED" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
wait "$actpid"
check "keyed unordered: a search whose opening frame mitm.py keeps ($out)" test "$out" = "cn: User 5"
f0=$(kstat flows-created)
python3 - "$L" "$M_KEYED" <<'PYEOF'
import socket, sys
for i in range(300):
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    s.sendall(bytes.fromhex("30050201014200"))	# UnbindRequest
    s.recv(100)
    s.close()
PYEOF
fd_wait KS 60 "sum(s['stats']['flows-created'] for c in j['carriers'] for s in c['streams'] if s['id'] == $ST_K) >= $f0 + 300 and not stream('ldap').get('flows')" ||
	not_ok "KS: 300 flows made and ended"
r0=$(kstat rx-drop-replay); f1=$(kstat flows-created)
karm resend "$ST_K" 1 || not_ok "mitm.py armed (resend 1)"
out=$(search "$M_KEYED" -b "$BASE" '(uid=u6)' cn 2>&1 | grep '^cn:')
wait "$actpid"
r1=$(kstat rx-drop-replay); f2=$(kstat flows-created)
check "keyed unordered: that opening frame again, 300 flows later: it opens nothing (flows made $f1 -> $f2: the next search's alone; rx-drop-replay $r0 -> $r1), the next search answered ($out)" \
	test "$((f2 - f1))/$((r1 - r0))/$out" = "1/1/cn: User 6"
# a sealed frame of a live flow relayed twice: the stream ends
karm replay "$ST_K" 2 || not_ok "mitm.py armed (replay 2)"
out=$(search "$M_KEYED" -b "$BASE" '(uid=u5)' cn 2>&1 | grep -c '^cn:')
wait "$actpid"
check "keyed unordered: a sealed frame relayed twice: the stream is closed, no answer ($out entries)" test "$out" = 0
check "... KS logs why: CLOSE integrity, the flow and Sequence replayed" \
	grep -qE "stream $ST_K closed \(integrity\): flow [0-9]+: Sequence 1 again \(a replayed frame\): every flow reset" "$SVC_DIR/KS.log"
if fd_wait KC 40 "map_($M_KEYED).get('state') == 'open' and map_($M_KEYED).get('stream') != $ST_K"; then
	out=$(search "$M_KEYED" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
	check "... the map opens again on a new stream, and answers ($out)" test "$out" = "cn: User 5"
else
	not_ok "... the map opens again on a new stream"
fi
# an unsealed FLOW_END with R injected (SCTP would have acknowledged it:
# dropping it alone would delete a frame for good): the stream ends, as
# a keyed ordered one does (plugins.md 5.4); the carrier counts it
ST_K=$(fd_json KC "map_($M_KEYED)['stream']")
k0=$(fd_json KS "carrier()['stats']['rx-drop-no-key']")
karm endreset "$ST_K" 2 || not_ok "mitm.py armed (endreset 2)"
out=$(python3 "$LT" send $L "$M_KEYED" "$BS" 0 "done" 2>&1 | tr '\n' ' ')
wait "$actpid"
k1=$(fd_json KS "carrier()['stats']['rx-drop-no-key']")
check "keyed unordered: an unsealed FLOW_END with R injected: counted ($k0 -> $k1 rx-drop-no-key), no answer ($out)" \
	test "$((k1 - k0))" -ge 1 -a "$out" != "$want"
check "... KS closes the stream (integrity)" \
	grep -qE "stream $ST_K closed \(integrity\): a frame failed its integrity check: every flow reset" "$SVC_DIR/KS.log"
if fd_wait KC 40 "map_($M_KEYED).get('state') == 'open' and map_($M_KEYED).get('stream') != $ST_K"; then
	out=$(search "$M_KEYED" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
	check "... the map opens again on a new stream, and answers ($out)" test "$out" = "cn: User 5"
else
	not_ok "... the map opens again on a new stream"
fi
# a sealed SearchRequest deleted (mitm.py drops it; on SCTP an altered
# header would do it, acknowledged): nothing follows it in its flow, the
# client waits; the sender's counter mark (MARK on stream 0) says it was
# sealed: KS ends the stream once the mark waited FUNNELD_MARK_WAIT_MS
ST_K=$(fd_json KC "map_($M_KEYED)['stream']")
karm drop "$ST_K" 3 || not_ok "mitm.py armed (drop 3)"
t0=$(date +%s)
timeout 20 ldapsearch -x -LLL -H "ldap://$L:$M_KEYED" -D "$SVC_LDAP_ADMIN" \
	-w "$SVC_LDAP_PASS" -b "$BASE" '(uid=u5)' cn >"$SVC_DIR/kdrop.out" 2>&1 &
lpid=$!
wait "$actpid"
for _ in $(seq 150); do
	grep -q "stream $ST_K closed (integrity): frame(s) up to counter" "$SVC_DIR/KS.log" && break
	sleep 0.1
done
t1=$(date +%s)
wait "$lpid"
check "keyed unordered: a sealed SearchRequest deleted, nothing after it in its flow: KS closes the stream after the sender's mark waited 3 s ($((t1 - t0)) s), no answer ($(grep -c '^cn:' "$SVC_DIR/kdrop.out") entries)" \
	grep -qE "stream $ST_K closed \(integrity\): frame\(s\) up to counter [0-9]+ of key generation [0-9]+ did not come within 3 s of the sender's mark: every flow reset" "$SVC_DIR/KS.log"
check "... within 10 s" test "$((t1 - t0))" -le 10
if fd_wait KC 40 "map_($M_KEYED).get('state') == 'open' and map_($M_KEYED).get('stream') != $ST_K"; then
	out=$(search "$M_KEYED" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
	check "... the map opens again on a new stream, and answers ($out)" test "$out" = "cn: User 5"
else
	not_ok "... the map opens again on a new stream"
fi

# ---- a keyed unordered plugin stream from a site without counter
# marks (KN, FUNNELD_NO_MARK=1): it works as before; a deleted frame
# goes unnoticed by marks (what the test above shows is theirs) ----
svc_pick_port M_KNOMARK
FUNNELD_NO_MARK=1 FUNNELD_PLUGIN_UNORDERED=1 FD_START_TIMEOUT=30 fd_start KN "" "identity alice keytab $SVC_DIR/alice.keytab
peer add s $L:$P_KMITM carrier tcp principal funnel/hoster
map add tcp $L:$M_KNOMARK peer s service ldap plugin ldap" --datapath user ||
	not_ok "site KN (keyed, FUNNELD_NO_MARK=1) starts"
fd_wait KN 40 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" ||
	not_ok "site KN: carrier up, map open"
ST_N=$(fd_json KN "map_($M_KNOMARK)['stream']")
out=$(search "$M_KNOMARK" -b "$BASE" '(uid=u5)' cn 2>&1 | grep '^cn:')
check "keyed unordered without FEAT_MARK (KN, stream $ST_N): answered ($out)" test "$out" = "cn: User 5"
m0=$(grep -c "did not come within" "$SVC_DIR/KS.log")
karm drop "$ST_N" 3 || not_ok "mitm.py armed (drop 3, KN)"
timeout 6 ldapsearch -x -LLL -H "ldap://$L:$M_KNOMARK" -D "$SVC_LDAP_ADMIN" \
	-w "$SVC_LDAP_PASS" -b "$BASE" '(uid=u5)' cn >/dev/null 2>&1
wait "$actpid"
check "... mitm.py dropped KN's SearchRequest" grep -q "^done drop $ST_N" "$SVC_DIR/kact-drop-$ST_N"
check "without FEAT_MARK: no mark, nothing closes the stream within 6 s of a deleted SearchRequest (what marks add)" \
	test "$(grep -c "did not come within" "$SVC_DIR/KS.log")" = "$m0"
check "... KN's carrier still up, its map still open" \
	fd_wait KN 5 "carrier('s').get('state') == 'up' and map_($M_KNOMARK).get('state') == 'open'"
vg_check KC
vg_check KS

# ---- a client site without FEAT_PLUGIN: phase 1 ----
svc_pick_port M_OLD
FUNNELD_NO_PLUGIN=1 fd_start N "" "plaintext
peer add s $L:$P_CAR carrier tcp
map add tcp $L:$M_OLD peer s service ldap plugin ldap" --datapath user ||
	not_ok "site N (FUNNELD_NO_PLUGIN=1) starts"
if fd_wait N 30 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" &&
   grep -qE "stream [0-9]+ open: map $L:$M_OLD -> service ldap$" "$SVC_DIR/N.log"; then
	ok "a peer without FEAT_PLUGIN: the plugin map opens a plain stream (phase 1)"
else
	not_ok "a peer without FEAT_PLUGIN: the plugin map opens a plain stream"
	tail -n 5 "$SVC_DIR/N.log" | diag
fi
if search "$M_OLD" -b "$BASE" '(objectClass=inetOrgPerson)' >"$SVC_DIR/old.ldif" 2>&1 &&
   cmp -s "$SVC_DIR/direct.ldif" "$SVC_DIR/old.ldif"; then
	ok "... ldapsearch of all $n entries through it as slapd gives them"
else
	not_ok "... ldapsearch through it as slapd gives it"
	diff "$SVC_DIR/direct.ldif" "$SVC_DIR/old.ldif" | head -n 5 | diag
fi
out=$(ldapcompare -x -H "ldap://$L:$M_OLD" "uid=u7,$BASE" "cn:User 7" 2>&1)
check "... ldapcompare through it ($out)" test "$out" = TRUE

# ---- a client site without flow control (FUNNELD_NO_WINDOW=1) that
# offers a plugin stream anyway: S refuses it (held frames are bounded
# by a flow's window; plugins.md 5.1), the map opens a plain stream ----
svc_pick_port M_NOWIN
FUNNELD_NO_WINDOW=1 fd_start NW "" "plaintext
peer add s $L:$P_CAR carrier tcp
map add tcp $L:$M_NOWIN peer s service ldap plugin ldap" --datapath user ||
	not_ok "site NW (FUNNELD_NO_WINDOW=1) starts"
if fd_wait NW 30 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" &&
   grep -qE "stream [0-9]+ open: map $L:$M_NOWIN -> service ldap$" "$SVC_DIR/NW.log" &&
   grep -q "a plugin stream needs flow control (FEAT_WINDOW) on the carrier" "$SVC_DIR/S.log"; then
	ok "a peer without flow control: S refuses its plugin stream ($(grep -o 'refused.*needs flow control[^)]*' "$SVC_DIR/S.log" | head -n 1)), the map opens a plain stream"
else
	not_ok "a peer without flow control: plugin stream refused, plain stream open"
	tail -n 5 "$SVC_DIR/NW.log" "$SVC_DIR/S.log" | diag
fi
if search "$M_NOWIN" -b "$BASE" '(objectClass=inetOrgPerson)' >"$SVC_DIR/nowin.ldif" 2>&1 &&
   cmp -s "$SVC_DIR/direct.ldif" "$SVC_DIR/nowin.ldif"; then
	ok "... ldapsearch of all $n entries through it as slapd gives them"
else
	not_ok "... ldapsearch through the plain stream of NW as slapd gives it"
fi

# ---- stages of slow clients: within the carrier's budget ----
# H holds no valgrind (its timing decides how many partial messages the
# kernel wakes it for).  A flow of a plugin stream reserves its window
# (64 KiB) and its sequencing state (10260 bytes): 75796 bytes; a stage
# 49160 more.  40 flows each with a stage take 4998240 bytes of the
# 5 MiB, so all 40 connections are taken whatever the host's timing (no
# bytes come back, so no window grows; nothing else charges H's budget).
# With 4 MiB, stages made early left too little for the last
# connections: the 40th was refused once in a loaded CI run.
svc_pick_port M_HOLD
fd_start H "" "plaintext
peer add s $L:$P_CAR carrier tcp
map add tcp $L:$M_HOLD peer s service ldap plugin ldap" --datapath user \
	--carrier-buffer-max 5242880 || not_ok "site H starts"
fd_wait H 30 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" ||
	not_ok "site H: carrier up, map open"
python3 "$LT" hold $L "$M_HOLD" 40 60 >"$SVC_DIR/hold.out" 2>&1 &
hold_pid=$!
svc_register hold $hold_pid
# the client holds its 40 connections for 60 s (killed below), so a
# slow host cannot let them close before H is read
for _ in $(seq 1 300); do grep -q holding "$SVC_DIR/hold.out" && break; sleep 0.1; done
# the stages (49160 bytes each, in queued) are reserved as windows are:
# reserved = 40 windows + the stages, never past the budget; the partial
# messages without room go in pieces instead (counted in short)
hold_ok() {	# "reserved queued max short"
	# shellcheck disable=SC2086 # four words
	set -- $1
	test "${2:-0}" -ge 49160 -a "${1:-0}" -ge $((40 * 65536 + ${2:-0})) -a "${1:-0}" -le "${3:-0}"
}
for _ in $(seq 1 20); do
	out=$(fd_json H "'%d %d %d %d' % tuple(carrier('s')['tcp_buffers'][k] for k in ('reserved', 'queued', 'max', 'short_windows'))")
	hold_ok "$out" && break
	sleep 0.5
done
check "40 clients holding partial 49106-byte requests: stages made and reserved within the 5 MiB budget ($out)" hold_ok "$out"
hold_ok "$out" || { tail -n 5 "$SVC_DIR/hold.out"; tail -n 10 "$SVC_DIR/H.log"; } | diag
out=$(fd_json H "'%d %d' % tuple(sum(s[k] if k == 'nflows' else s['stats'][k] for c in j['carriers'] for s in c['streams']) for k in ('nflows', 'flow-drop-limit'))")
check "... all 40 connections taken (flows, refused: $out)" test "$out" = "40 0"
kill "$hold_pid" 2>/dev/null

# ---- a new connection without room in the budget: refused, said so ----
# T's budget holds two flows of a plugin stream (2 x 75796 bytes), not
# three: the third client gets a reset, T logs why and counts it
svc_pick_port M_TIGHT
fd_start T "" "plaintext
peer add s $L:$P_CAR carrier tcp
map add tcp $L:$M_TIGHT peer s service ldap plugin ldap" --datapath user \
	--carrier-buffer-max 196608 || not_ok "site T starts"
fd_wait T 30 "carrier('s').get('state') == 'up' and all(m.get('state') == 'open' for m in j['maps'])" ||
	not_ok "site T: carrier up, map open"
# the client holds its connections open (killed below) while T is read
python3 - "$L" "$M_TIGHT" >"$SVC_DIR/tight.out" 2>&1 <<'EOF' &
import socket, sys, time
res = []
socks = []
for _ in range(3):
    socks.append(socket.create_connection((sys.argv[1], int(sys.argv[2]))))
    time.sleep(0.2)     # accepted in this order
for s in socks:
    s.settimeout(1)
    try:
        res.append("eof" if not s.recv(1) else "data")
    except socket.timeout:
        res.append("open")
    except ConnectionResetError:
        res.append("reset")
print(" ".join(res), flush=True)
time.sleep(60)
EOF
tight_pid=$!
svc_register tight $tight_pid
for _ in $(seq 1 100); do [ -s "$SVC_DIR/tight.out" ] && break; sleep 0.1; done
tight=$(head -n 1 "$SVC_DIR/tight.out")
t_state() { fd_json T "'%d %d' % (sum(s['stats']['flow-drop-limit'] for c in j['carriers'] for s in c['streams']), carrier('s')['tcp_buffers']['reserved'])"; }
out=$(t_state)
check "the budget has room for two connections, not three: $tight; flow-drop-limit, reserved: $out" \
	test "$tight" = "open open reset" -a "$out" = "1 151592"
check "... T logs why" grep -qE "stream [0-9]+: a new connection refused: no room in the buffer budget for its window \(reserved 151592 of 196608 bytes, --carrier-buffer-max\)" "$SVC_DIR/T.log"
# two more at once, seconds after the first: refused and counted, one
# more line (at most one a second)
python3 - "$L" "$M_TIGHT" <<'EOF'
import socket, sys
for _ in range(2):
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    s.settimeout(1)
    try:
        s.recv(1)
    except OSError:
        pass
    s.close()
EOF
out=$(t_state)
logs=$(grep -c "a new connection refused: no room in the buffer budget" "$SVC_DIR/T.log")
check "... two more refused at once: counted, nothing of theirs kept, one more log line (flow-drop-limit, reserved: $out; $logs lines)" \
	test "$out" = "3 151592" -a "$logs" = 2
kill "$tight_pid" 2>/dev/null
fd_stop T

# ---- whole messages of one operation share a frame (plugins.md 5.3) ----
# an ldapsearch of all entries through the plugin map with a compare on
# another connection issued while it runs: the search as slapd gives it,
# in far fewer DATA frames than entries (the stream's counters at C), the
# compare answered; in the frames mitm.py logged, each frame holds whole
# messages of one operation (never two operations, a barrier alone)
frames_c() { fd_json C "'%d %d' % tuple(s['stats'][k] for c in j['carriers'] for s in c['streams'] if s['id'] == $ST_LDAP for k in ('rx-frames', 'tx-frames'))"; }
: >"$FRAMES"
# shellcheck disable=SC2046 # "rx tx"
set -- $(frames_c)
rx0=${1:-0} tx0=${2:-0}
search "$M_LDAP" -b "$BASE" '(objectClass=inetOrgPerson)' >"$SVC_DIR/pack.ldif" 2>"$SVC_DIR/pack.err" &
spid=$!
sleep 0.3
cmp_out=$(ldapcompare -x -H "ldap://$L:$M_LDAP" "uid=u1999,$BASE" "cn:User 1999" 2>&1)
wait "$spid"
src=$?
# shellcheck disable=SC2046 # "rx tx"
set -- $(frames_c)
rx=$((${1:-0} - rx0)) tx=$((${2:-0} - tx0))
if [ "$src" = 0 ] && cmp -s "$SVC_DIR/direct.ldif" "$SVC_DIR/pack.ldif"; then
	ok "packing: ldapsearch of all $n entries through the plugin map as slapd gives them"
else
	not_ok "packing: ldapsearch through the plugin map as slapd gives it"
	diag <"$SVC_DIR/pack.err"
	diff "$SVC_DIR/direct.ldif" "$SVC_DIR/pack.ldif" | head -n 5 | diag
fi
check "packing: a compare issued during the search answers ($cmp_out)" test "$cmp_out" = TRUE
check "packing: C received $rx DATA frames on stream $ST_LDAP for $n entries (fewer than $((n / 10))), sent $tx" 	test "$rx" -gt 0 -a "$rx" -lt $((n / 10))
out=$(python3 "$LT" frames "$FRAMES" "$ST_LDAP" plugin 2>&1)
st=$?
# shellcheck disable=SC2086 # "frames F messages M pieces P barriers B after A packed K most N"
set -- $out
check "packing: each frame whole messages of one operation, a barrier alone; ${4:-0} messages in ${2:-0} frames ($out)" \
	test "$st/$1" = 0/frames -a "${4:-0}" -gt "$n" -a "${2:-0}" -lt $((n / 10)) -a "${12:-0}" -ge 1 -a "${14:-0}" -ge 50
# ... and the check tells a frame of two operations, or with a barrier
E2=300c020102640704017830023000 E3=300c020103640704017830023000
B2=300c02010261070a010004000400
printf 'a 9 0 0 1 36 0000000100000000%s%s\n' "$E2" "$E3" >"$SVC_DIR/frames-bad1.log"
printf 'a 9 0 0 1 36 0000000100000000%s%s\n' "$E2" "$B2" >"$SVC_DIR/frames-bad2.log"
printf 'a 9 0 0 1 36 0000000100000000%s%s\n' "$E2" "$E2" >"$SVC_DIR/frames-good.log"
out=$(python3 "$LT" frames "$SVC_DIR/frames-good.log" 9 plugin 2>&1)
check "... the check takes a frame of two entries of messageID 2 ($out)" \
	test "$out" = "frames 1 messages 2 pieces 0 barriers 0 after 0 packed 1 most 2"
out=$(python3 "$LT" frames "$SVC_DIR/frames-bad1.log" 9 plugin 2>&1)
check "... the check refuses a frame of messageIDs 2 and 3 ($out)" test "$?" = 1
out=$(python3 "$LT" frames "$SVC_DIR/frames-bad2.log" 9 plugin 2>&1)
check "... and an entry and a BindResponse in one frame ($out)" test "$?" = 1

vg_check C
vg_check S
