# funneld between two netns (fc client, fs server) joined by veth: real
# DNS (dnsmasq, dig) and RADIUS (freeradius, radclient) through the maps,
# kernel data path on both sites with the kernel's counters checked, then
# kernel <-> userspace interop both ways (the second over IPv6), map
# add/del beside a running dig loop that loses nothing, an unknown service
# refused while dns works, and recovery after kill -9 of the server.
modprobe funnel
# shellcheck source=../lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"

t70_conf_s="plaintext
listen :9899
service add dns udp 127.0.0.1:5353
service add radius udp 127.0.0.1:1812"
t70_maps="map add udp 127.0.0.1:5300 peer s service dns
map add udp 127.0.0.1:18120 peer s service radius"
t70_conf_c="plaintext
peer add s 10.99.0.2 carrier tcp
$t70_maps"
t70_conf_c6="plaintext
peer add s [fd99::2]:9899 carrier tcp
$t70_maps"
t70_open='len(j["maps"]) == 2 and all(m["state"] == "open" for m in j["maps"])'

# t70_up NAME-C NAME-S: C's maps open and S's carrier up, within 15 s
t70_up() {
	fd_wait C 15 "carrier('s').get('state') == 'up' and $t70_open" &&
		fd_wait S 5 "len(j['carriers']) == 1 and carrier()['state'] == 'up'"
}

t70_logs() {
	local n
	for n in "$@"; do
		echo "# ---- funneld $n"
		tail -n 12 "$SVC_DIR/$n.log" 2>/dev/null | sed 's/^/#   /'
	done
}

# t70_traffic WHAT N: N dig queries and one radclient through the maps
t70_traffic() {
	local what=$1 n=$2 out
	if out=$(svc_dig_many fc 127.0.0.1 5300 "$n"); then
		ok "funneld: $what: $n dig queries through the dns map: $out"
	else
		not_ok "funneld: $what: $n dig queries through the dns map: $out"
		fd_ctl C show 2>&1 | sed 's/^/#   /'; t70_logs C S
	fi
	if out=$(svc_radauth fc 127.0.0.1 18120); then
		ok "funneld: $what: radclient through the radius map: Access-Accept"
	else
		not_ok "funneld: $what: radclient through the radius map: Access-Accept"
		echo "$out" | sed 's/^/#   /'
	fi
}

# t70_paths WHAT C-PATH S-PATH: each side's carrier runs the wanted path
t70_paths() {
	local c s
	c=$(fd_json C 'carrier("s").get("datapath")')
	s=$(fd_json S 'carrier().get("datapath")')
	if [ "$c" = "$2" ] && [ "$s" = "$3" ]; then
		ok "funneld: $1: data path client $c, server $s"
	else
		not_ok "funneld: $1: data path client ${c:-?} server ${s:-?}, want $2 and $3"
	fi
}

# t70_kcount NS SIDE PEER-EXPR: the JSON counters of the dns stream equal
# the kernel's (funnel-nl stream-get on the carrier's kernel id)
t70_kcount() {
	local ns=$1 side=$2 cexpr=$3 kid sid k_rx k_tx j_rx j_tx
	read -r kid sid j_rx j_tx < <(fd_json "$side" "[$cexpr.get('kernel_id'),
		stream('dns', $cexpr).get('id'), stream('dns', $cexpr)['stats']['rx-frames'],
		stream('dns', $cexpr)['stats']['tx-frames']]" | tr '\n' ' ')
	k_rx=$(nlget "$ns" stats.rx-frames stream-get carrier-id=u32:"$kid" stream-id=u16:"$sid")
	k_tx=$(nlget "$ns" stats.tx-frames stream-get carrier-id=u32:"$kid" stream-id=u16:"$sid")
	K_RX=$k_rx K_TX=$k_tx
	if [ -n "$kid" ] && [ "${j_rx:-0}" -ge 200 ] && [ "$j_rx" = "$k_rx" ] && [ "$j_tx" = "$k_tx" ]; then
		ok "funneld: kernel: $side's dns stream counters are the kernel's (carrier $kid stream $sid: rx $k_rx tx $k_tx)"
	else
		not_ok "funneld: kernel: $side's dns stream: json rx ${j_rx:-?} tx ${j_tx:-?}, kernel (carrier ${kid:-?} stream ${sid:-?}) rx ${k_rx:-?} tx ${k_tx:-?}"
	fi
}

t70_main() {
	local rc t0 secs a rec c_tx s_rx pid
	if ! command -v funneld >/dev/null; then
		not_ok "funneld: ctl/bin/funneld is built"
		return
	fi
	svc_init
	if svc_dnsmasq dns fs 127.0.0.1 5353 && svc_freeradius radius fs 127.0.0.1 1812; then
		ok "funneld: server site: dnsmasq and freeradius up"
	else
		not_ok "funneld: server site: dnsmasq and freeradius up"
		return
	fi

	# ---- kernel path on both sites
	if fd_start S fs "$t70_conf_s" --datapath kernel -n site-s &&
	   fd_start C fc "$t70_conf_c" --datapath kernel -n site-c -l debug &&
	   t70_up; then
		ok "funneld: kernel/kernel: carrier up on the default port 9899, both maps open"
	else
		not_ok "funneld: kernel/kernel: carrier up, both maps open"
		fd_ctl C show 2>&1 | sed 's/^/#   /'; t70_logs C S
	fi
	t70_paths "kernel/kernel" kernel kernel
	t70_traffic "kernel/kernel" 200
	t70_kcount fc C 'carrier("s")'; c_tx=$K_TX
	t70_kcount fs S 'carrier()'; s_rx=$K_RX
	if [ "${c_tx:-0}" -ge 200 ] && [ "$c_tx" = "$s_rx" ]; then
		ok "funneld: kernel: dns frames client tx $c_tx = server rx $s_rx"
	else
		not_ok "funneld: kernel: dns frames client tx ${c_tx:-?}, server rx ${s_rx:-?}"
	fi

	# ---- map add/del on other maps while a dig loop runs on dns
	svc_dig_many fc 127.0.0.1 5300 300 >"$SVC_DIR/loop.out" 2>&1 &
	pid=$!
	check "funneld: map add udp 127.0.0.1:5301 (dns again) during the loop" \
		fd_ctl C map add udp 127.0.0.1:5301 peer s service dns
	if fd_wait C 10 "map_(5301).get('state') == 'open'" &&
	   [ "$(svc_dig fc 127.0.0.1 5301 h3.funnel.test)" = 198.51.100.4 ]; then
		ok "funneld: the new map opens its own stream and answers"
	else
		not_ok "funneld: the new map opens and answers: $(fd_json C 'json.dumps(map_(5301))')"
	fi
	check "funneld: map del udp 127.0.0.1:5301 during the loop" \
		fd_ctl C map del udp 127.0.0.1:5301
	check "funneld: map del of radius during the loop" \
		fd_ctl C map del udp 127.0.0.1:18120
	check "funneld: map add of radius again during the loop" \
		fd_ctl C map add udp 127.0.0.1:18120 peer s service radius
	# ---- an unknown service is refused, alone
	fd_ctl C map add udp 127.0.0.1:5302 peer s service nosuch >/dev/null 2>&1
	if fd_wait C 10 "map_(5302).get('state') == 'refused' and 'unknown-service' in str(map_(5302).get('reason'))"; then
		ok "funneld: map to an unknown service refused (unknown-service), carrier stays up"
	else
		not_ok "funneld: map to an unknown service refused: $(fd_json C 'json.dumps(map_(5302))')"
	fi
	fd_ctl C map del udp 127.0.0.1:5302 >/dev/null 2>&1
	wait $pid; rc=$?
	if [ $rc = 0 ]; then
		ok "funneld: the dig loop lost nothing meanwhile: $(cat "$SVC_DIR/loop.out")"
	else
		not_ok "funneld: the dig loop lost nothing meanwhile: $(cat "$SVC_DIR/loop.out")"
	fi
	fd_wait C 10 "$t70_open"
	check "funneld: radius answers on its new stream" svc_radauth fc 127.0.0.1 18120

	# ---- kill -9 of the server daemon under load, restart at once:
	# funnel.ko keeps no carrier of the dead daemon, the port is free
	# again, traffic resumes
	ip netns exec fc udp_pump rr 127.0.0.1 5300 -t 4 -w 4 -T 300 >/dev/null 2>&1 &
	load=$!
	sleep 1
	# the client daemon stopped meanwhile, so that funnel.ko closes its
	# carrier before it can delete its streams (checked below)
	cpid=$(svc_pid C)
	[ -n "$cpid" ] || not_ok "funneld: the client daemon's pid not found"
	[ -n "$cpid" ] && kill -STOP "$cpid"
	svc_stop S KILL
	gone=0 end=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$end" ]; do
		if out=$(ip netns exec fc funnel-nl raw --dump carrier-get) &&
		   ! grep -q carrier-id <<<"$out"; then
			gone=1
			break
		fi
		sleep 0.1
	done
	[ -n "$cpid" ] && kill -CONT "$cpid"
	n=$(ip netns exec fs funnel-nl raw --dump carrier-get | grep -c carrier-id)
	if [ "$n" = 0 ]; then
		ok "funneld: kill -9 under load: no carrier of the dead daemon left in funnel.ko"
	else
		not_ok "funneld: kill -9 under load: $n carriers left in funnel.ko"
		ip netns exec fs funnel-nl raw --dump carrier-get | sed 's/^/#   /'
	fi
	t0=$(date +%s.%N)
	fd_start S fs "$t70_conf_s" --datapath kernel -n site-s
	secs=99
	while :; do
		a=$(ip netns exec fc dig @127.0.0.1 -p 5300 +short +tries=1 +time=1 www.funnel.test 2>/dev/null)
		secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		[ "$a" = "$SVC_DNS_ANSWER" ] && break
		[ "${secs%.*}" -ge 15 ] && break
	done
	wait $load
	rec=$(fd_json C 'carrier("s").get("reconnects")')
	if [ "$a" = "$SVC_DNS_ANSWER" ]; then
		ok "funneld: kill -9 and restart of the server: dns answers again after ${secs}s (reconnects $rec)"
	else
		not_ok "funneld: kill -9 and restart of the server: no dns answer within 15 s"
		fd_ctl C show 2>&1 | sed 's/^/#   /'; t70_logs C S
	fi
	# the client's streams of the dead carrier: funnel.ko closed the
	# carrier before funneld deleted them (-ENOENT), which is no failure
	# to warn about: said at debug level only
	n=$(grep -c 'warning: .*stream-del' "$SVC_DIR/C.log")
	d=$(grep -c 'debug: .*stream-del: No such file or directory' "$SVC_DIR/C.log")
	if [ "$gone" = 0 ]; then
		not_ok "funneld: the server's death: the client's kernel carrier still there after 10 s (client daemon ${cpid:-not found})"
	elif [ "$n" = 0 ] && [ "$d" -ge 1 ]; then
		ok "funneld: the server's death: streams funnel.ko had closed already not warned about ($d at debug)"
	else
		not_ok "funneld: the server's death: streams funnel.ko had closed already: $n warnings, $d at debug"
		grep 'stream-del' "$SVC_DIR/C.log" | head -n 5 | sed 's/^/#   /'
	fi
	t70_up
	t70_paths "after restart" kernel kernel
	t70_traffic "after restart" 50

	# ---- interop: client kernel, server userspace
	svc_stop S TERM; rc=$?
	[ $rc = 0 ] && ok "funneld: SIGTERM: server exits 0" || not_ok "funneld: SIGTERM: server exit $rc"
	if fd_start S fs "$t70_conf_s" --datapath user -n site-s && t70_up; then
		ok "funneld: kernel client, userspace server: carrier up, maps open"
	else
		not_ok "funneld: kernel client, userspace server: carrier up, maps open"
		t70_logs C S
	fi
	t70_paths "interop" kernel user
	t70_traffic "kernel client, userspace server" 100

	# ---- interop the other way, over IPv6: client userspace, server kernel
	svc_stop C TERM; rc=$?
	[ $rc = 0 ] && ok "funneld: SIGTERM: client exits 0" || not_ok "funneld: SIGTERM: client exit $rc"
	svc_stop S TERM
	if fd_start S fs "$t70_conf_s" --datapath kernel -n site-s &&
	   fd_start C fc "$t70_conf_c6" --datapath user -n site-c && t70_up; then
		ok "funneld: userspace client, kernel server, over IPv6: carrier up, maps open"
	else
		not_ok "funneld: userspace client, kernel server, over IPv6: carrier up, maps open"
		t70_logs C S
	fi
	t70_paths "interop over IPv6" user kernel
	check "funneld: the carrier runs over IPv6" \
		fd_json C "'fd99::2' in carrier('s')['remote']"
	t70_traffic "userspace client, kernel server" 100

	svc_stop C TERM; a=$?
	svc_stop S TERM; rc=$?
	if [ $a = 0 ] && [ $rc = 0 ]; then ok "funneld: SIGTERM: both exit 0"
	else not_ok "funneld: SIGTERM: client exit $a, server exit $rc"; fi
	for _ in $(seq 50); do
		[ "$(cat /sys/module/funnel/refcnt 2>/dev/null)" = 0 ] && break
		sleep 0.1
	done
	check "funneld: no kernel carrier left once both daemons stopped" \
		test "$(cat /sys/module/funnel/refcnt)" = 0
}

if sites_up; then
	t70_main
else
	not_ok "funneld: sites: two netns joined by veth"
fi
svc_stop_all
sites_down
