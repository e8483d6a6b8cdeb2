#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A refused map is offered again on its own backoff, not with the
# keepalive: site C maps a port to service "dns", which site S does not
# have yet; with --keepalive 60, C still sends OPEN again after about 1,
# 2, 4 s (each 3/4 to 5/4 of its step; the log says "next try in N ms"
# and show says why the map is refused).  Once S adds the service, the map
# opens at the next try and DNS answers through it; when S deletes the
# service again, the map's first retry comes after about 1 s again.  C
# runs under valgrind.
#
# usage: selftests/host/t_mapretry.sh     (root not needed)
# Prints TAP; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "mapretry"

for p in funneld funnelctl valgrind python3 dnsmasq dig; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found (make ctl; make deps)"; exit 1; }
done
svc_init
svc_pick_port P_DNS; svc_pick_port P_CAR; svc_pick_port P1
L=127.0.0.1
svc_dnsmasq dns "" $L "$P_DNS" || { not_ok "dnsmasq on $L:$P_DNS"; exit 1; }

VG="valgrind --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--track-fds=no --num-callers=30 --log-file=$SVC_DIR/vg-C.txt"
fd_start S "" "plaintext
listen $L:$P_CAR" --datapath user --keepalive 60 || { not_ok "site S starts"; exit 1; }
FD_START_TIMEOUT=30 FD_WRAP=$VG fd_start C "" "plaintext
peer add s $L:$P_CAR carrier tcp
map add udp $L:$P1 peer s service dns" --datapath user --keepalive 60 ||
	{ not_ok "site C starts under valgrind"; exit 1; }

# opens: the times (s since midnight) of C's OPENs for the map, one a
# line, each after the map was closed or refused
opens() {
	grep -E "opening stream .* for map udp $L:$P1 |stream [0-9]+ closed by the peer" "$SVC_DIR/C.log" |
		awk '{ split($1, t, ":"); printf "%.3f\n", t[1] * 3600 + t[2] * 60 + t[3] }'
}
# gaps_ok FROM: the gaps between OPENs (and the close) from the FROM-th
# on, in ms, and whether each is within 3/4..5/4 of 1 s, 2 s, 4 s ...
# (200 ms slack)
gaps_ok() {
	opens | awk -v from="$1" 'NR >= from { if (n++) { g = ($1 - p) * 1000;
		printf "%d ", g; if (g < step * 750 - 200 || g > step * 1250 + 200) bad = 1;
		step *= 2 } p = $1 } BEGIN { step = 1 } END { exit bad || n < 2 }'
}

if fd_wait C 10 "map_($P1).get('state') == 'refused' and 'unknown-service' in map_($P1).get('reason', '')"; then
	ok "map to S's missing service dns: refused, reason $(fd_json C "map_($P1)['reason']")"
else
	not_ok "map to the missing service: refused: $(fd_json C "json.dumps(map_($P1))")"
fi
sleep 9
n=$(opens | wc -l)
if g=$(gaps_ok 1) && [ "$n" -ge 4 ]; then
	ok "with --keepalive 60: $n OPENs in 9 s, gaps ${g}ms (1, 2, 4 s +-25%)"
else
	not_ok "retries on the map's own backoff: $n OPENs in 9 s (want >= 4), gaps ${g}ms"
	grep -E "map|stream" "$SVC_DIR/C.log" | tail -n 12 | diag
fi
if grep -q "s: map $L:$P1: next try in [0-9]* ms" "$SVC_DIR/C.log"; then
	ok "the log says when: $(grep -o 'map [0-9.:]*: next try in [0-9]* ms' "$SVC_DIR/C.log" | tail -n 1)"
else
	not_ok "the log says when the map is tried again"
fi

# the service appears: the next try opens the map
fd_ctl S service add dns udp $L:"$P_DNS" || not_ok "S: service add dns"
if fd_wait C 12 "map_($P1).get('state') == 'open'" &&
   [ "$(svc_dig "" $L "$P1" www.funnel.test)" = "$SVC_DNS_ANSWER" ]; then
	ok "S adds the service: the map opens at its next try, DNS answers through it"
else
	not_ok "S adds the service: the map opens: $(fd_json C "json.dumps(map_($P1))")"
fi

# the service goes: the first retry comes after about a second again
before=$(opens | wc -l)
fd_ctl S service del dns || not_ok "S: service del dns"
# the close, then OPENs after 1 s and 2 s, each +-25%: up to 3.75 s
for _ in $(seq 50); do
	[ "$(opens | wc -l)" -ge $((before + 3)) ] && break
	sleep 0.1
done
if g=$(gaps_ok $((before + 1))) && [ "$(opens | wc -l)" -ge $((before + 3)) ]; then
	ok "S deletes the service: the backoff starts again at 1 s: gaps ${g}ms"
else
	not_ok "S deletes the service: backoff from 1 s: $(( $(opens | wc -l) - before - 1 )) OPENs after the close, gaps ${g}ms"
	grep -E "map|stream" "$SVC_DIR/C.log" | tail -n 8 | diag
fi

svc_stop C TERM; rc=$?
sumline=$(grep -E 'ERROR SUMMARY' "$SVC_DIR/vg-C.txt" | tail -n 1 | sed 's/^==[0-9]*== //')
if [ $rc = 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$SVC_DIR/vg-C.txt"; then
	ok "valgrind: C: SIGTERM, exit 0, $sumline"
else
	not_ok "valgrind: C: exit $rc, ${sumline:-no summary}"
	grep -E -A 12 'Invalid|uninitialised|definitely lost|indirectly lost' \
		"$SVC_DIR/vg-C.txt" | head -n 40 | diag
fi
[ "$T_FAIL" = 0 ]
