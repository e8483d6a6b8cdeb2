#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funneld on this host, userspace data path (no funnel.ko, no VM, no
# netns): two daemons over loopback TCP, site S serving real dnsmasq and
# freeradius, site C mapping local UDP ports to them.  Checks DNS and
# RADIUS through the maps, the JSON state and counters on both sides, a
# refused stream (unknown service) and a deleted map next to a working
# one, recovery after kill -9 of the server daemon, funnelctl's error
# paths (exit 1 / 2, nothing changed), and a valgrind run (no error, no
# leak) ending with SIGTERM.
#
# usage: selftests/host/t_funneld_user.sh     (root not needed for this)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
# SVC_KEEP=1 keeps the temp dir (logs, configs) for a look afterwards.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"
# expect_rc NAME RC PATTERN CMD...: CMD exits RC and prints PATTERN (grep -E)
expect_rc() {
	local name=$1 want=$2 pat=$3 out rc; shift 3
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && echo "$out" | grep -qE -- "$pat"; then
		ok "$name (exit $rc: $(echo "$out" | head -n 1))"
	else
		not_ok "$name (exit $rc, wanted $want and /$pat/)"
		echo "$out" | diag
	fi
}
logs() { # NAME...: the tail of these logs, as TAP comments
	local n
	for n in "$@"; do
		echo "# ---- $n.log"
		tail -n "${LOG_LINES:-15}" "$SVC_DIR/$n.log" 2>/dev/null | diag
	done
}

t_begin "funneld userspace path"

for p in funneld funnelctl dnsmasq freeradius dig radclient valgrind python3 ss promtool; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found (make ctl; make deps)"; exit 1; }
done

svc_init
svc_pick_port P_DNS; svc_pick_port P_RAD; svc_pick_port P_CAR
svc_pick_port P1; svc_pick_port P2; svc_pick_port P3; svc_pick_port P4
L=127.0.0.1

# ---- the services on site S
if svc_dnsmasq dns "" $L "$P_DNS" && svc_freeradius radius "" $L "$P_RAD"; then
	ok "services: dnsmasq on $L:$P_DNS and freeradius on $L:$P_RAD answer directly"
else
	not_ok "services: dnsmasq and freeradius start"
	exit 1
fi

conf_s="# site S: serves dnsmasq and freeradius
plaintext
listen $L:$P_CAR
service add dns udp $L:$P_DNS
service add radius udp $L:$P_RAD"
conf_c="# site C: maps two local ports to S's services
plaintext
peer add s $L:$P_CAR carrier tcp
map add udp $L:$P1 peer s service dns
map add udp $L:$P2 peer s service radius"
ARGS=(--datapath user -l debug)

start_s() { fd_start S "" "$conf_s" "${ARGS[@]}" -n site-s; }
start_c() { fd_start C "" "$conf_c" "${ARGS[@]}" -n site-c; }

if start_s && start_c; then
	ok "funneld: sites S and C start with --datapath user, control sockets listen"
else
	not_ok "funneld: sites S and C start"
	logs S C
	exit 1
fi

# ---- carrier and streams up
all_open='len(j["maps"]) == 2 and all(m["state"] == "open" for m in j["maps"])'
if fd_wait C 10 "carrier('s').get('state') == 'up' and $all_open"; then
	ok "carrier up, both maps open (C: $(fd_json C '" ".join(m["service"] + "=" + m["state"] for m in j["maps"])'))"
else
	not_ok "carrier up and both maps open within 10 s"
	fd_ctl C show 2>&1 | diag
	logs S C
fi
check "show --json: C: data path user, plaintext, peer s tcp" \
	fd_json C 'j["plaintext"] is True and carrier("s")["datapath"] == "user" and
carrier("s")["transport"] == "tcp" and j["peers"][0]["name"] == "s" and j["peers"][0]["carrier"] in ("tcp", "auto")'
check "show --json: S: one incoming carrier, up, user path, node site-c" \
	fd_json S 'len(j["carriers"]) == 1 and carrier()["incoming"] is True and carrier()["state"] == "up" and
carrier()["datapath"] == "user" and carrier()["peer_node"] == "site-c"'

# ---- DNS and RADIUS through the maps
out=$(svc_dig_many "" $L "$P1" 200)
if [ $? = 0 ]; then ok "dns: 200 dig queries through the map, all answered right: $out"
else not_ok "dns: 200 dig queries through the map: $out"; logs C S; fi
out=$(svc_radauth "" $L "$P2")
if [ $? = 0 ]; then ok "radius: radclient through the map: Access-Accept"
else not_ok "radius: radclient through the map: no Access-Accept"; echo "$out" | diag; fi
out=$(svc_radauth "" $L "$P2" alice wrong-password)
if echo "$out" | grep -q 'Received Access-Reject'; then
	ok "radius: a wrong password through the map: Access-Reject"
else
	not_ok "radius: a wrong password through the map: Access-Reject"; echo "$out" | diag
fi

# ---- counters, both sides
st='lambda s, k: s.get("stats", {}).get(k, 0)'
# the frame counters of the dns stream: C sent what S received, and back
# (read until they agree: the last replies may still be on their way)
for _ in $(seq 30); do
	c_tx=$(fd_json C "($st)(stream('dns'), 'tx-frames')")
	c_rx=$(fd_json C "($st)(stream('dns'), 'rx-frames')")
	s_rx=$(fd_json S "($st)(stream('dns'), 'rx-frames')")
	s_tx=$(fd_json S "($st)(stream('dns'), 'tx-frames')")
	[ "$c_tx" = "$s_rx" ] && [ "$c_rx" = "$s_tx" ] && break
	sleep 0.1
done
if [ "${c_tx:-0}" -ge 200 ] && [ "${c_rx:-0}" -ge 200 ] &&
   [ "$c_tx" = "$s_rx" ] && [ "$c_rx" = "$s_tx" ]; then
	ok "counters: dns stream: C tx $c_tx = S rx $s_rx, S tx $s_tx = C rx $c_rx"
else
	not_ok "counters: dns stream: C tx ${c_tx:-?} S rx ${s_rx:-?}, S tx ${s_tx:-?} C rx ${c_rx:-?} (want >= 200 and equal)"
	fd_json C 'json.dumps(stream("dns"))' | diag
fi
c_fl=$(fd_json C 'stream("dns").get("stats", {}).get("flows-created", -1)')
if [ "${c_fl:-0}" -ge 50 ]; then
	ok "counters: dig's queries came from $c_fl source ports (flows) on C"
else
	not_ok "counters: flows-created on C's dns stream is ${c_fl:-?}, want >= 50"
fi
r_c=$(fd_json C "($st)(stream('radius'), 'rx-frames')")
r_s=$(fd_json S "($st)(stream('radius'), 'rx-frames')")
if [ "${r_c:-0}" -ge 2 ] && [ "${r_s:-0}" -ge 2 ]; then
	ok "counters: radius stream: C rx $r_c, S rx $r_s"
else
	not_ok "counters: radius stream: C rx ${r_c:-?}, S rx ${r_s:-?} (want >= 2)"
fi
c_car=$(fd_json C "($st)(carrier('s'), 'tx-frames')")
s_car=$(fd_json S "($st)(carrier(), 'rx-frames')")
d=$(( ${s_car:-0} - ${c_car:-0} ))
if [ "${c_car:-0}" -gt 200 ] && [ "${d#-}" -le 5 ]; then
	ok "counters: carrier: C tx-frames $c_car, S rx-frames $s_car"
else
	not_ok "counters: carrier: C tx-frames ${c_car:-?}, S rx-frames ${s_car:-?} (want > 200, within 5)"
fi
check "show and stats print text for both sites" \
	sh -c "funnelctl -s '$SVC_DIR/C.sock' show | grep -q dns && funnelctl -s '$SVC_DIR/S.sock' stats >/dev/null"
out=$(fd_ctl C stats --prometheus 2>&1)
if echo "$out" | grep -qE '^funnel_[a-z_]+(\{[^}]*\})? [0-9]+' && ! echo "$out" | grep -qvE '^(#|funnel_[a-z_0-9]+(\{[^}]*\})? [0-9.e+-]+$|$)'; then
	ok "stats --prometheus: $(echo "$out" | grep -c '^funnel_') samples, every line a comment or a sample"
else
	not_ok "stats --prometheus: exposition format"
	echo "$out" | head -n 10 | diag
fi

# the real thing through promtool and the JSON schema, both sites
for site in C S; do
	if fd_ctl $site stats --prometheus >"$SVC_DIR/$site.prom" 2>&1 &&
	   promtool check metrics <"$SVC_DIR/$site.prom" >"$SVC_DIR/$site.promtool" 2>&1 &&
	   [ ! -s "$SVC_DIR/$site.promtool" ]; then
		ok "stats --prometheus: $site: promtool check metrics finds nothing"
	else
		not_ok "stats --prometheus: $site: promtool check metrics"
		head -n 10 "$SVC_DIR/$site.promtool" | diag
	fi
	fd_ctl $site --json show >"$SVC_DIR/$site.show.json" 2>&1
done
/usr/bin/python3 "$top/selftests/unit/show_schema.py" "C=$SVC_DIR/C.show.json" \
	"S=$SVC_DIR/S.show.json" >"$SVC_DIR/schema.out" 2>&1
if [ $? = 0 ] && [ "$(grep -c '^ok ' "$SVC_DIR/schema.out")" = 3 ]; then
	ok "show --json: both sites valid under Documentation/funnel-show.schema.json"
else
	not_ok "show --json: both sites valid under Documentation/funnel-show.schema.json"
	diag <"$SVC_DIR/schema.out"
fi

# ---- a map to an unknown service is refused; dns goes on
dig_bg() { # PORT COUNT OUTFILE: svc_dig_many in the background, pid in $bg
	svc_dig_many "" $L "$1" "$2" >"$3" 2>&1 &
	bg=$!
}
dig_bg "$P1" 200 "$SVC_DIR/bg1.out"
out=$(fd_ctl C map add udp $L:"$P3" peer s service nosuch 2>&1); rc=$?
if [ $rc = 0 ] && fd_wait C 5 "map_($P3).get('state') == 'refused' and 'unknown-service' in str(map_($P3).get('reason'))"; then
	ok "refused: map to service nosuch: state refused, reason $(fd_json C "map_($P3)['reason']")"
else
	not_ok "refused: map to service nosuch (map add exit $rc: $out): $(fd_json C "json.dumps(map_($P3))")"
fi
check "refused: the carrier stays up, the dns map open" \
	fd_json C "carrier('s')['state'] == 'up' and map_($P1)['state'] == 'open'"
wait $bg
if [ $? = 0 ]; then ok "refused: dns kept answering meanwhile: $(cat "$SVC_DIR/bg1.out")"
else not_ok "refused: dns kept answering meanwhile: $(cat "$SVC_DIR/bg1.out")"; fi
check "refused: map del of the refused map" fd_ctl C map del udp $L:"$P3"

# ---- map del radius while dig runs on dns; then add it back
dig_bg "$P1" 300 "$SVC_DIR/bg2.out"
sleep 0.2
check "map del udp $L:$P2 (radius) while dns runs" fd_ctl C map del udp $L:"$P2"
if fd_json C "len(j['maps']) == 1 and map_($P2) == {}" >/dev/null && ! svc_port_bound "" udp "$P2"; then
	ok "map del: the map is gone from show, its port released"
else
	not_ok "map del: the map is gone from show, its port released"
	fd_json C 'json.dumps(j["maps"])' | diag
fi
out=$(svc_radauth "" $L "$P2" 2>&1)
if [ $? != 0 ]; then ok "map del: radclient to the deleted map gets no answer"
else not_ok "map del: radclient to the deleted map still answered"; fi
if fd_wait S 5 "not [s for s in carrier().get('streams', []) if s.get('service') == 'radius' and s.get('state') == 'open']"; then
	ok "map del: S closed its radius stream"
else
	not_ok "map del: S closed its radius stream"; fd_json S 'json.dumps(carrier().get("streams"))' | diag
fi
wait $bg
if [ $? = 0 ]; then ok "map del: dns lost nothing meanwhile: $(cat "$SVC_DIR/bg2.out")"
else not_ok "map del: dns lost nothing meanwhile: $(cat "$SVC_DIR/bg2.out")"; fi
check "map add radius again" fd_ctl C map add udp $L:"$P2" peer s service radius
fd_wait C 5 "map_($P2).get('state') == 'open'"
check "map add: radclient through the new map: Access-Accept" svc_radauth "" $L "$P2"

# ---- funnelctl error paths against the live daemon: nothing changes
config='json.dumps({k: j.get(k) for k in ("plaintext", "listens", "peers", "services", "maps")}, sort_keys=True)'
before_c=$(fd_json C "$config")
before_s=$(fd_json S "$config")
expect_rc "error: map add for a missing peer: exit 1, names the peer" 1 'nopeer' \
	fd_ctl C map add udp $L:"$P4" peer nopeer service dns
expect_rc "error: map add on a port in use (dnsmasq's): exit 1" 1 '.' \
	fd_ctl C map add udp $L:"$P_DNS" peer s service dns
expect_rc "error: map add on a port an existing map holds: exit 1" 1 '.' \
	fd_ctl C map add udp $L:"$P1" peer s service radius
expect_rc "error: service del of an unknown service: exit 1, names it" 1 'nosvc' \
	fd_ctl S service del nosvc
expect_rc "error: service add of an existing name: exit 1" 1 'dns' \
	fd_ctl S service add dns udp $L:9
expect_rc "error: peer del while a map uses it: exit 1" 1 '.' \
	fd_ctl C peer del s
expect_rc "error: map del of a map that does not exist: exit 1" 1 '.' \
	fd_ctl C map del udp $L:"$P4"
expect_rc "error: bad syntax (map add udp): exit 2" 2 '.' fd_ctl C map add udp
expect_rc "error: bad syntax (unknown command): exit 2" 2 '.' fd_ctl C frobnicate
expect_rc "error: bad syntax (port 70000): exit 2" 2 '.' \
	fd_ctl C map add udp $L:70000 peer s service dns
expect_rc "error: no daemon on the socket: exit 1" 1 '.' \
	funnelctl -s "$SVC_DIR/none.sock" show
expect_rc "error: peer add with carrier tcp and udp-port: exit 2, says why" 2 \
	"peer add: 'udp-port' is for carrier sctp-udp or auto \(carrier tcp uses no SCTP over UDP\)" \
	fd_ctl C peer add u2 127.0.0.2 carrier tcp udp-port 9900
expect_rc "error: peer add with udp-port 0: exit 2" 2 "peer add: bad udp-port '0' \(1-65535\)" \
	fd_ctl C peer add u2 127.0.0.2 udp-port 0
if [ "$(fd_json C "$config")" = "$before_c" ] && [ "$(fd_json S "$config")" = "$before_s" ]; then
	ok "error: show --json of both sites unchanged by the refused commands"
else
	not_ok "error: show --json changed by refused commands"
	diff <(echo "$before_c" | python3 -m json.tool) <(fd_json C "$config" | python3 -m json.tool) | diag
fi
check "error: dns still answers after the refused commands" svc_dig_many "" $L "$P1" 20

# ---- show: every address of a peer, its udp-port (a peer with two
# addresses, on a port where nothing listens; deleted again)
if fd_ctl C peer add u2 127.0.0.2,127.0.0.3:9 udp-port 9900 >/dev/null 2>&1; then
	check "show --json: a peer's addresses and udp_port" \
		fd_json C "[p for p in j['peers'] if p['name'] == 'u2'] == [{'name': 'u2', 'host': '127.0.0.2:9', 'carrier': 'auto', 'principal': '', 'addresses': ['127.0.0.2:9', '127.0.0.3:9'], 'udp_port': 9900}]"
	check "show --json: a peer without udp-port: udp_port 0, its one address" \
		fd_json C "[(p['addresses'], p['udp_port']) for p in j['peers'] if p['name'] == 's'] == [([p['host']], 0) for p in j['peers'] if p['name'] == 's']"
	out=$(fd_ctl C show 2>&1)
	if echo "$out" | grep -Eq '^  NAME +HOST +CARRIER +UDP PORT +PRINCIPAL$' &&
	   echo "$out" | grep -Eq '^  u2 +127\.0\.0\.2:9,127\.0\.0\.3:9 +auto +9900 +-$' &&
	   echo "$out" | grep -Eq '^  s +[^ ]+ +[a-z-]+ +- '; then
		ok "show: the peers table has both addresses of u2 and its UDP PORT, - for s"
	else
		not_ok "show: u2's addresses and UDP PORT"; echo "$out" | diag
	fi
	check "peer del u2" fd_ctl C peer del u2
else
	not_ok "peer add u2 ... udp-port 9900"
fi

# ---- kill -9 of S, restart: traffic resumes by itself
svc_stop S KILL
check "restart: C sees the carrier down" \
	fd_wait C 5 "carrier('s').get('state') != 'up'"
sleep 2
t0=$(date +%s.%N)
if start_s; then
	resumed=""
	while :; do
		a=$(dig @$L -p "$P1" +short +tries=1 +time=1 www.funnel.test 2>/dev/null)
		if [ "$a" = "$SVC_DNS_ANSWER" ]; then resumed=1; break; fi
		[ "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print (b - a > 15) }')" = 1 ] && break
		sleep 0.1
	done
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if [ -n "$resumed" ] && [ "$(awk -v s="$secs" 'BEGIN { print (s <= 15) }')" = 1 ]; then
		ok "restart: after kill -9 and restart of S, dns answers again in ${secs}s"
	else
		not_ok "restart: dns did not answer within 15 s of S's restart (${secs}s)"
		fd_ctl C show 2>&1 | diag; logs C S
	fi
else
	not_ok "restart: S starts again after kill -9"
	logs S
fi
rec=$(fd_json C 'carrier("s").get("reconnects")')
if [ "${rec:-0}" -ge 1 ] && fd_wait C 5 "$all_open"; then
	ok "restart: C counts $rec reconnect(s), both maps open again"
else
	not_ok "restart: reconnects ${rec:-?}, maps $(fd_json C '" ".join(m["state"] for m in j["maps"])')"
fi
check "restart: radius through the map again" svc_radauth "" $L "$P2"
check "restart: 100 dig queries" svc_dig_many "" $L "$P1" 100

# ---- SIGTERM: exit 0, socket removed
for s in C S; do
	svc_stop $s TERM; rc=$?
	if [ $rc = 0 ] && [ ! -e "$SVC_DIR/$s.sock" ]; then
		ok "SIGTERM: $s exits 0 and removes its control socket"
	else
		not_ok "SIGTERM: $s exit $rc, socket $(ls "$SVC_DIR/$s.sock" 2>&1)"
		logs $s
	fi
done
if ! svc_port_bound "" udp "$P1" && ! svc_port_bound "" tcp "$P_CAR"; then
	ok "SIGTERM: map and listen ports released"
else
	not_ok "SIGTERM: map and listen ports released"
fi

# ---- configuration errors at start: exit non-zero, name the file and line
printf 'plaintext\nlisten %s:%s\nservice add dns udp %s:%s\nmap add udp %s:%s peer nosuch service dns\n' \
	$L "$P_CAR" $L "$P_DNS" $L "$P4" >"$SVC_DIR/bad.conf"
out=$(timeout 10 funneld -f -c "$SVC_DIR/bad.conf" -s "$SVC_DIR/bad.sock" --datapath user 2>&1); rc=$?
if [ $rc != 0 ] && [ $rc != 124 ] && echo "$out" | grep -q 'bad.conf:4' && [ ! -e "$SVC_DIR/bad.sock" ]; then
	ok "config: a bad statement stops funneld (exit $rc): $(echo "$out" | grep 'bad.conf:4' | head -n 1)"
else
	not_ok "config: a bad statement must stop funneld naming bad.conf:4 (exit $rc)"
	echo "$out" | diag
fi
out=$(timeout 10 funneld -f -c "$SVC_DIR/missing.conf" -s "$SVC_DIR/bad.sock" 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q 'missing.conf'; then
	ok "config: -c with a missing file: exit 1, names it"
else
	not_ok "config: -c with a missing file: exit $rc"; echo "$out" | diag
fi
expect_rc "funneld -V prints the version" 0 '[0-9]+\.[0-9]+' funneld -V
expect_rc "funneld with an unknown option: exit 2" 2 '.' funneld --frobnicate

# ---- without -f: funneld returns once its socket listens, funnelctl works
printf '%s\n' "$conf_s" >"$SVC_DIR/D.conf"
out=$(timeout 10 funneld -c "$SVC_DIR/D.conf" -s "$SVC_DIR/D.sock" --datapath user 2>&1); rc=$?
if [ $rc = 0 ] && fd_json D "j['services'][0]['name'] in ('dns', 'radius')" >/dev/null; then
	ok "daemon: funneld without -f returns 0 and answers funnelctl at once"
else
	not_ok "daemon: funneld without -f: exit $rc, then show: $(fd_ctl D show 2>&1 | head -n 1)"
	echo "$out" | diag
fi
dpid=$(ss -Hxlp src "$SVC_DIR/D.sock" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
if [ -n "$dpid" ] && [ "$(ps -o ppid= -p "$dpid" | tr -d ' ')" != $$ ]; then
	svc_register D "$dpid"
	kill "$dpid"
	for _ in $(seq 50); do svc_alive "$dpid" || break; sleep 0.1; done
	if ! svc_alive "$dpid" && [ ! -e "$SVC_DIR/D.sock" ]; then
		ok "daemon: detached (pid $dpid), SIGTERM ends it and removes the socket"
	else
		not_ok "daemon: pid $dpid still alive or socket left after SIGTERM"
	fi
else
	not_ok "daemon: cannot find the detached funneld (pid '${dpid:-}')"
fi

# ---- both daemons under valgrind: traffic, then SIGTERM: no error, no leak
FD_START_TIMEOUT=30
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-S.txt" start_s || not_ok "valgrind: S starts"
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-C.txt" start_c || not_ok "valgrind: C starts"
if fd_wait C 30 "carrier('s').get('state') == 'up' and $all_open"; then
	out=$(svc_dig_many "" $L "$P1" 100 5)
	[ $? = 0 ] && ok "valgrind: 100 dig queries through C and S under valgrind: $out" ||
		not_ok "valgrind: 100 dig queries under valgrind: $out"
	check "valgrind: radclient Access-Accept" svc_radauth "" $L "$P2"
	fd_ctl C map add udp $L:"$P3" peer s service nosuch >/dev/null 2>&1
	fd_wait C 10 "map_($P3).get('state') == 'refused'"
	fd_ctl C map del udp $L:"$P2" >/dev/null 2>&1
	fd_ctl C --json show >/dev/null; fd_ctl S stats --prometheus >/dev/null
else
	not_ok "valgrind: carrier up under valgrind within 30 s"
	logs C S
fi
vg_check C
vg_check S
[ "$T_FAIL" = 0 ]
