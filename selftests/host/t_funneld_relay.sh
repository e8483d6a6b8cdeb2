#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Relays, the switchbox of a hosting gateway (Documentation/switchbox.md),
# on this host (userspace data path, no VM, a throwaway MIT KDC): the
# provider P (alice) connects to the gateway G (funnel/gw), which connects
# to the hoster H (funnel/hoster); G relays P's streams to H's services,
# each hop authenticated and sealed with its own keys, G under valgrind.
#   - dig (dnsmasq) and radclient (freeradius) through P's maps, G's
#     relays and H's services answered; 500 udp_pump requests, none lost;
#   - G's show: the relay's next hop, both streams of each relay open,
#     P's principal on the service side, the frames relayed on both
#     hops' streams; H sees funnel/gw@R on the stream (its own hop), and
#     the clients' addresses as P accepted them (flow origins passed on);
#   - G's allow list refuses carol's map (not-authorized at G) and H never
#     sees a stream for it; H's allow list refuses G (a not-authorized
#     refusal reaches P's map, naming the next hop) and a service H does
#     not have (unknown-service); dns answers meanwhile, nothing lost;
#   - a relay with an identity clause: G opens the next hop as carol;
#     the KDC down, a map for one whose identity has no ticket yet is
#     refused ("cannot start its GSS-API context"), dns goes on; the KDC
#     back, that map opens;
#   - bad statements: a tcp relay with a lifetime, no peer, an unknown peer, service del
#     of a relay, relay del of a service, a name taken, peer del of a
#     next hop: each refused with a clear message, nothing changed;
#   - H stopped: G closes P's relayed stream (the next hop's stream
#     ended), P's map waits; H started again: the map opens, dns answers;
#   - relay del: P's stream closed (closed-by-user), G's next hop stream
#     gone at H;
#   - SIGTERM: no valgrind error, no leak.
#
# usage: selftests/host/t_funneld_relay.sh     (root for freeradius)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "funneld relay"

for p in funneld funnelctl udp_pump valgrind python3 dnsmasq dig freeradius radclient; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p"; exit 1; }
done
svc_init
L=127.0.0.1
R=FUNNEL.TEST
K=$SVC_DIR/keytabs
mkdir -p "$K"
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/gw &&
   kdc_addprinc funnel/hoster && kdc_addprinc alice && kdc_addprinc carol &&
   kdc_addprinc dave && kdc_keytab "$K/dave.keytab" dave &&
   kdc_keytab "$K/gw.keytab" funnel/gw &&
   kdc_keytab "$K/hoster.keytab" funnel/hoster &&
   kdc_keytab "$K/alice.keytab" alice && kdc_keytab "$K/carol.keytab" carol; then
	ok "kdc: $R, funnel/gw, funnel/hoster, alice, carol, dave"
else
	not_ok "kdc: set up"; exit 1
fi
for m in G H DNSD RADD UECHO DNS RAD ECHO NOPE GHOST CDNS CAROL LOOP DAVE; do svc_pick_port "P_$m"; done
svc_dnsmasq dnsd "" $L "$P_DNSD" || not_ok "dnsmasq starts"
svc_freeradius radd "" $L "$P_RADD" || not_ok "freeradius starts"
udp_pump echo $L "$P_UECHO" -q &
svc_register uecho $!

conf_h="identity funnel/hoster keytab $K/hoster.keytab
listen $L:$P_H
service add dns udp $L:$P_DNSD allow funnel/gw@$R
service add radius udp $L:$P_RADD allow funnel/gw@$R
service add echo udp $L:$P_UECHO allow funnel/gw@$R
service add nope udp $L:$P_UECHO allow alice@$R
service add cdns udp $L:$P_DNSD allow carol@$R
service add ddns udp $L:$P_DNSD allow dave@$R"
conf_g="identity funnel/gw keytab $K/gw.keytab
listen $L:$P_G
peer add h $L:$P_H principal funnel/hoster
relay add dns udp peer h allow alice@$R
relay add radius udp peer h
relay add echo udp peer h allow alice@$R,carol@$R
relay add nope udp peer h
relay add ghost udp peer h
relay add cdns udp peer h identity carol keytab $K/carol.keytab
relay add ddns udp peer h identity dave keytab $K/dave.keytab allow alice@$R
relay add caronly udp peer h service echo allow carol@$R
peer add self $L:$P_G principal funnel/gw
relay add loop udp peer self service loop"
conf_p="identity alice keytab $K/alice.keytab
peer add g $L:$P_G principal funnel/gw
map add udp $L:$P_DNS peer g service dns
map add udp $L:$P_RAD peer g service radius
map add udp $L:$P_ECHO peer g service echo
map add udp $L:$P_NOPE peer g service nope
map add udp $L:$P_GHOST peer g service ghost
map add udp $L:$P_CDNS peer g service cdns
map add udp $L:$P_CAROL peer g service caronly
map add udp $L:$P_LOOP peer g service loop"

FD_START_TIMEOUT=30
fd_start H "" "$conf_h" --datapath user || not_ok "H starts"
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-G.txt" fd_start G "" "$conf_g" --datapath user ||
	not_ok "G starts"
fd_start P "" "$conf_p" --datapath user || not_ok "P starts"

if fd_wait P 60 "all(map_(p).get('state') == 'open' for p in ($P_DNS, $P_RAD, $P_ECHO, $P_CDNS))"; then
	ok "P's maps to G's relays dns, radius, echo and cdns open (each once H answered G)"
else
	not_ok "P's maps open"
	fd_ctl P show 2>&1 | diag; tail -n 30 "$SVC_DIR/G.log" | diag
fi
a=$(svc_dig "" $L "$P_DNS" www.funnel.test)
if [ "$a" = "$SVC_DNS_ANSWER" ]; then
	ok "dig through P -> G -> H: $a"
else
	not_ok "dig through P -> G -> H: '$a'"
fi
check "50 digs (50 flows) through the relay, all answered" \
	svc_dig_many "" $L "$P_DNS" 50
if out=$(svc_radauth "" $L "$P_RAD"); then
	ok "radclient through P -> G -> H: Access-Accept"
else
	not_ok "radclient through the relay: $out"
fi
out=$(udp_pump rr $L "$P_ECHO" -n 500 -w 4 -T 2000 2>&1 | tail -n 1)
case $out in
*"good 500 bad 0 lost 0"*) ok "500 udp_pump requests through the relay: $out" ;;
*) not_ok "500 requests through the relay: $out" ;;
esac

# G: the relays, both hops' streams, what went through
if fd_json G >/dev/null "[v['relay'] for v in j['services'] if v['name'] == 'dns'] == ['h/dns'] and [v['target'] for v in j['services'] if v['name'] == 'dns'] == [''] and [v['relay'] for v in j['services'] if v['name'] == 'caronly'] == ['h/echo']"; then
	ok "G show --json: relay dns goes to h/dns, caronly to h/echo, no target"
else
	not_ok "G show --json: the relays"
	fd_json G "j['services']" | diag
fi
in_s="[s for c in j['carriers'] if c['incoming'] for s in c['streams'] if s['service'] == 'echo']"
out_s="[s for s in carrier('h')['streams'] if s['service'] == 'echo']"
if fd_json G >/dev/null "len($in_s) == 1 and len($out_s) == 1 and ${in_s}[0]['state'] == 'open' and ${out_s}[0]['state'] == 'open' and ${in_s}[0]['principal'] == 'alice@$R' and ${in_s}[0]['stats']['rx-frames'] >= 500 and ${out_s}[0]['stats']['tx-frames'] == ${in_s}[0]['stats']['rx-frames'] and ${out_s}[0]['stats']['rx-frames'] >= 500 and ${in_s}[0]['stats']['tx-frames'] == ${out_s}[0]['stats']['rx-frames'] and ${in_s}[0]['addr'] == 'relay to h/echo' and ${out_s}[0]['addr'] == 'relay echo'"; then
	ok "G: echo's two streams open, alice@$R on P's, every frame of one sent on the other ($(fd_json G "${in_s}[0]['stats']['rx-frames']") each way)"
else
	not_ok "G: echo's streams and counters"
	fd_json G "json.dumps([(s['service'], s['addr'], s['state'], s['principal'], s['stats']['rx-frames'], s['stats']['tx-frames']) for c in j['carriers'] for s in c['streams']])" | diag
fi
check "G: the relay's counter of frames relayed (>= 1000 for echo), none dropped" \
	fd_json G "[(v['relayed_frames'] >= 1000, v['relay_drops']) for v in j['services'] if v['name'] == 'echo'] == [(True, 0)]"
check "H: the dns stream is G's (funnel/gw@$R), sealed" \
	fd_json H "stream('dns').get('principal') == 'funnel/gw@$R' and stream('dns').get('key_generation', 0) >= 1"
check "H: the echo flows' origin is the client as P accepted it ($L)" \
	fd_json H "len(stream('echo')['flows']) >= 1 and all(f['origin'].startswith('$L:') for f in stream('echo')['flows'])"
text_relay() { fd_ctl G show | grep -E '^ *dns +udp +relay h/dns '; }
check "G's text show names the relay's next hop" text_relay

# refusals, each on its stream only, while dns goes on
udp_pump rr $L "$P_ECHO" -t 4 -w 1 -T 2000 >"$SVC_DIR/rr.out" 2>&1 &
rr=$!
if fd_wait P 20 "map_($P_CAROL).get('state') == 'refused' and map_($P_CAROL)['reason'].startswith('not-authorized:') and 'alice@$R' in map_($P_CAROL)['reason'] and 'next hop' not in map_($P_CAROL)['reason']"; then
	ok "G's allow list refuses alice for caronly: $(fd_json P "map_($P_CAROL)['reason']")"
else
	not_ok "G refuses alice for caronly: $(fd_json P "map_($P_CAROL)")"
fi
check "... and H never saw a stream for it (echo: 1 open)" \
	fd_json H "[v['opens'] for v in j['services'] if v['name'] == 'echo'] == [1]"
if fd_wait P 20 "map_($P_NOPE).get('state') == 'refused' and map_($P_NOPE)['reason'].startswith('not-authorized: next hop: not-authorized: principal funnel/gw@$R is not authorized') and 'funnel/gw@$R' in map_($P_NOPE)['reason']"; then
	ok "H's allow list refuses G: P's map says so: $(fd_json P "map_($P_NOPE)['reason']")"
else
	not_ok "H refuses G for nope: $(fd_json P "map_($P_NOPE)")"
fi
if fd_wait P 20 "map_($P_GHOST).get('state') == 'refused' and map_($P_GHOST)['reason'].startswith('unknown-service: next hop: unknown-service: ')"; then
	ok "a service H does not have: $(fd_json P "map_($P_GHOST)['reason']")"
else
	not_ok "ghost: $(fd_json P "map_($P_GHOST)")"
fi
if fd_wait P 20 "map_($P_LOOP).get('state') == 'refused' and map_($P_LOOP)['reason'] == 'not-authorized: next hop: not-authorized: a relay does not take its own streams (a loop)'"; then
	ok "a relay whose next hop is the gateway itself: refused at the second pass: $(fd_json P "map_($P_LOOP)['reason']")"
else
	not_ok "relay loop: $(fd_json P "map_($P_LOOP)")"
fi
check "G logged the loop with the principal" \
	grep -q "relay loop: a stream from funnel/gw@$R, the relay's own identity: a loop" "$SVC_DIR/G.log"
check "G warns of relays without an allow list" \
	grep -q "relay loop has no allow list: any principal of the realm reaches peer self's service loop as funnel/gw" "$SVC_DIR/G.log"
check "G logged the next hop's refusal" \
	grep -q "relay nope: stream [0-9]* refused by the next hop: not authorized" "$SVC_DIR/G.log"
check "G: nope and ghost left no stream behind on either hop" \
	fd_json G "not [s for c in j['carriers'] for s in c['streams'] if s['service'] in ('nope', 'ghost')]"
wait $rr
out=$(tail -n 1 "$SVC_DIR/rr.out")
case $out in
*" lost 0 "*) ok "echo through the relay meanwhile: nothing lost ($out)" ;;
*) not_ok "echo through the relay meanwhile: $out" ;;
esac
check "the relay with an identity clause opens the next hop as carol" \
	fd_json H "stream('cdns').get('principal') == 'carol@$R'"
a=$(svc_dig "" $L "$P_CDNS" www.funnel.test)
check "dig through cdns (carol at H): $a" test "$a" = "$SVC_DNS_ANSWER"

# the KDC away: a map for relay ddns, whose next hop runs as dave (no
# ticket yet), is refused saying that G cannot start that context; G's
# log names the KDC; the KDC back, the map opens by itself
kdc_down
fd_ctl P map add udp "$L:$P_DAVE" peer g service ddns >/dev/null 2>&1
if fd_wait P 20 "map_($P_DAVE).get('state') in ('refused', 'closed') and 'the gateway cannot start its GSS-API context' in map_($P_DAVE).get('reason', '')" &&
   grep -q 'relay ddns: .*KDC' "$SVC_DIR/G.log"; then
	ok "KDC down: P's map for ddns refused: $(fd_json P "map_($P_DAVE)['reason']")"
else
	not_ok "KDC down: P's map for ddns: $(fd_json P "map_($P_DAVE)")"
	grep 'relay ddns' "$SVC_DIR/G.log" | tail -n 3 | diag
fi
a=$(svc_dig "" $L "$P_DNS" www.funnel.test)
check "KDC down: dns through the relay goes on: $a" test "$a" = "$SVC_DNS_ANSWER"
kdc_up
if fd_wait P 40 "map_($P_DAVE).get('state') == 'open'" &&
   a=$(svc_dig "" $L "$P_DAVE" www.funnel.test) && [ "$a" = "$SVC_DNS_ANSWER" ]; then
	ok "KDC back: the ddns map opens by itself, dig answers: $a"
else
	not_ok "KDC back: ddns map: $(fd_json P "map_($P_DAVE)")"
fi

# bad statements: refused, nothing changed
expect_refused() {
	local want=$1 out rc; shift
	out=$(fd_ctl G "$@" 2>&1); rc=$?
	if [ $rc != 0 ] && [ "$out" = "funnelctl: $want" ]; then
		ok "'$*' refused: $out"
	else
		not_ok "'$*': exit $rc: '$out' (want '$want')"
	fi
}
expect_refused "relay add: 'lifetime' is for udp only (tcp data is never abandoned)" relay add t tcp peer h lifetime 100
expect_refused "relay add: missing 'peer NAME'" relay add t udp
expect_refused "relay add: no peer 'nosuch' (peer add first)" relay add t udp peer nosuch
expect_refused "relay add: relay 'dns' exists (relay del first)" relay add dns udp peer h
expect_refused "service del: 'dns' is a relay (relay del)" service del dns
expect_refused "peer del: peer 'h' is the next hop of relay 'caronly' (relay del first)" peer del h
expect_refused "peer del: peer 'self' is the next hop of relay 'loop' (relay del first)" peer del self
fd_ctl G service add plain udp $L:"$P_UECHO" >/dev/null
expect_refused "relay del: 'plain' is a service (service del)" relay del plain
expect_refused "relay add: service 'plain' exists (service del first)" relay add plain udp peer h
expect_refused "service add: relay 'echo' exists (relay del first)" service add echo udp $L:1
check "G: the relays as they were (9, one service)" \
	fd_json G "len([v for v in j['services'] if v['relay']]) == 9 and len(j['services']) == 10"

# the hoster goes: G ends the relayed streams; back: they open again
fd_stop H
if fd_wait P 20 "map_($P_DNS).get('state') in ('closed', 'refused', 'waiting') and 'next hop' in map_($P_DNS).get('reason', '')"; then
	ok "H stopped: P's dns map closed: $(fd_json P "map_($P_DNS)['reason']")"
else
	not_ok "H stopped: $(fd_json P "map_($P_DNS)")"
fi
check "G: no stream of dns on either hop" \
	fd_json G "not [s for c in j['carriers'] for s in c['streams'] if s['service'] == 'dns']"
fd_start H "" "$conf_h" --datapath user || not_ok "H starts again"
if fd_wait P 60 "map_($P_DNS).get('state') == 'open'"; then
	ok "H back: P's dns map open again"
else
	not_ok "H back: $(fd_json P "map_($P_DNS)")"
	tail -n 20 "$SVC_DIR/G.log" | diag
fi
a=$(svc_dig "" $L "$P_DNS" www.funnel.test)
check "dig through the relay again: $a" test "$a" = "$SVC_DNS_ANSWER"

# relay del: P's stream closed by the user, the next hop's gone at H
check "P's echo map open again too" fd_wait P 30 "map_($P_ECHO).get('state') == 'open'"
fd_ctl G relay del echo >/dev/null
# closed, then refused at its next try: the relay is gone
if fd_wait P 10 "map_($P_ECHO).get('state') == 'refused' and map_($P_ECHO)['reason'] == \"unknown-service: no service 'echo'\"" &&
   grep -q "stream [0-9]* closed by the peer: closed by the user: service deleted" "$SVC_DIR/P.log"; then
	ok "relay del echo: P's stream closed (closed by user), its map refused next: $(fd_json P "map_($P_ECHO)['reason']")"
else
	not_ok "relay del: $(fd_json P "map_($P_ECHO)")"
	grep 'closed by the peer' "$SVC_DIR/P.log" | diag
fi
check "... and H's echo stream is gone" fd_wait H 10 "stream('echo') == {}"
check "... and dns goes on" svc_dig_many "" $L "$P_DNS" 10

vg_check G
[ "$T_FAIL" = 0 ]
