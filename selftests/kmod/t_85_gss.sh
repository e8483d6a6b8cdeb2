# funneld with Kerberos (no plaintext): a throwaway MIT KDC in netns fs,
# funneld on both sites authenticating the carrier and every stream with
# GSS-API, keys derived per stream and installed in funnel.ko.  DNS and
# RADIUS through sealed kernel streams with a capture of the carrier that
# shows none of the payload; a service that allows only alice refuses
# bob's stream while alice's traffic goes on; two services under
# principals of their own (their own keytabs), one reached by a map as
# carol, answer, and a map that expects the wrong service principal is
# refused while dig goes on; kernel sealing on one side
# and userspace sealing on the other; rekeys forced by the key soft limit
# and by a 70-second ticket lifetime during steady traffic with no
# datagram lost (meanwhile the server drops the origins of kernel UDP
# flows once the flows end, and not before); and the set-up errors
# (wrong keytab, missing keytab, unknown principal, KDC down at start)
# with a clear error, retries and no crash.
modprobe funnel
# Sealing here with the AES-NI and PCLMULQDQ gcm(aes), as on hardware
# where udev loads them (the VM has no udev); t_80_seal.sh, before this
# file, tests the generic C one.  Both are synchronous and fit funnel's
# per-CPU request area, or key-new would refuse every key.
modprobe aesni_intel 2>/dev/null
modprobe ghash_clmulni_intel 2>/dev/null
# shellcheck source=../lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"

t85_k() { echo "$SVC_DIR/krb/$1.keytab"; }

t85_conf_s() {
	cat <<-EOF
	identity funnel/site-s keytab $(t85_k site-s)
	listen :9899
	service add dns udp 127.0.0.1:5353 allow alice@FUNNEL.TEST,rita@FUNNEL.TEST
	service add radius udp 127.0.0.1:1812 allow alice@FUNNEL.TEST
	service add echo udp 127.0.0.1:7401 allow alice@FUNNEL.TEST,rita@FUNNEL.TEST
	service add techo tcp 127.0.0.1:7901 allow alice@FUNNEL.TEST
	service add dnsid udp 127.0.0.1:5353 allow alice@FUNNEL.TEST identity dns/site-s keytab $(t85_k dns-s)
	service add echoid udp 127.0.0.1:7401 identity echo/site-s keytab $(t85_k echo-s) allow carol@FUNNEL.TEST
	EOF
}

# t85_conf_c WHO [PEER-PRINCIPAL] [KEYTAB] [MAPS]
t85_conf_c() {
	local who=$1 pp=${2:-funnel/site-s} kt=${3:-$(t85_k "$1")}
	printf 'identity %s keytab %s\npeer add s 10.99.0.2 carrier tcp principal %s\n' \
		"$who" "$kt" "$pp"
	printf '%s\n' "${4:-map add udp 127.0.0.1:5300 peer s service dns
map add udp 127.0.0.1:18120 peer s service radius
map add udp 127.0.0.1:7400 peer s service echo
map add tcp 127.0.0.1:7902 peer s service techo}"
}

# t85_tcp WHAT: 1 MB through the TCP map (a sealed user stream), echoed;
# the sealed FLOW_END frames of the half-close pass funnel.ko both ways:
# the flow is gone at both ends at once, nothing refused
t85_tcp() {
	ip netns exec fc timeout 60 socat -t10 TCP:127.0.0.1:7902 - <"$SVC_DIR/big" >"$SVC_DIR/back" 2>/dev/null
	check "gss: $1: 1 MB through the sealed TCP stream, echoed byte for byte" \
		cmp -s "$SVC_DIR/big" "$SVC_DIR/back"
	check "gss: $1: sealed FLOW_END both ways: no TCP flow left, no frame refused" \
		fd_wait S 3 "stream('techo').get('nflows') == 0 and all(c['stats'][k] == 0 for c in j['carriers'] if any(s.get('service') == 'techo' for s in c.get('streams', [])) for k in ('rx-drop-malformed', 'rx-drop-no-key', 'rx-drop-auth', 'rx-drop-replay'))"
}

t85_open='all(m["state"] == "open" for m in j["maps"])'

# t85_origins WHAT SERVICE: within 5 s the server shows each flow of the
# client's SERVICE stream (the same flow id) with, as its origin, what
# the client shows as the flow's remote: 127.0.0.1 and the port of the
# client program (dig, udp_pump).  A kernel client finds its flows in
# funnel.ko's dumps, a userspace one sends ORIGIN at once; a kernel
# server keeps the ORIGINs for show, a userspace one with its flows.
t85_origins() {
	local want srv n
	want=$(fd_json C "json.dumps({str(f['id']): f.get('remote') for f in stream('$2').get('flows', [])})")
	srv="{str(f['id']): f.get('origin') for c in j['carriers'] if c['state'] == 'up' for s in c['streams'] if s['service'] == '$2' for f in s.get('flows', [])}"
	n=$(echo "$want" | grep -o '127\.0\.0\.1:' | wc -l)
	if [ "$n" -gt 0 ] &&
	   fd_wait S 5 "(lambda w, s: all(v.startswith('127.0.0.1:') and s.get(k) == v for k, v in w.items()))($want, $srv)"; then
		ok "gss: $1: the server shows the origin of each of the $n $2 flows, the client's address ($(echo "$want" | cut -c1-60)...)"
	else
		not_ok "gss: $1: the server shows each $2 flow's origin"
		echo "client: ${want:-none}" | cut -c1-400 | diag
		fd_json S "json.dumps($srv)" | cut -c1-400 | diag
	fi
}

# t85_gone WHAT SERVICE MARK EARLY SECS: the client's SERVICE flows,
# made after line MARK of the server's log, end (30 s idle): the server
# then lists none of them and, one to two flow dumps later, has dropped
# their origins, none kept for the stream (its log, at debug level).
# EARLY: a copy of that log taken SECS s after the flows' last datagram,
# while they still lived: it must show none of their origins dropped
# ("": no copy).
t85_gone() {
	local sid pat got i
	sid=$(fd_json S "[s['id'] for c in j['carriers'] if c['state'] == 'up' for s in c['streams'] if s['service'] == '$2'][0]")
	pat="stream $sid: origins of [0-9]* flows gone dropped"
	if [ -n "$4" ]; then
		check "gss: $1: the server dropped no origin of the live $2 flows in $5 s" \
			sh -c "! tail -n +$(($3 + 1)) '$4' | grep '$pat'"
	fi
	for i in $(seq 200); do
		got=$(tail -n +$(($3 + 1)) "$SVC_DIR/S.log" | grep "$pat")
		echo "$got" | grep -q ', 0 kept$' &&
			fd_json S "[s.get('nflows') for c in j['carriers'] if c['state'] == 'up' for s in c['streams'] if s['service'] == '$2'] == [0]" >/dev/null &&
			break
		sleep 0.1
	done
	if [ "$i" -lt 200 ]; then
		ok "gss: $1: the $2 flows ended: the server lists none and dropped their $(echo "$got" | awk -F 'origins of ' '{ split($2, a, " "); n += a[1] } END { print n + 0 }') origins, none kept (stream $sid)"
	else
		not_ok "gss: $1: the server drops the origins of the ended $2 flows (stream ${sid:-?})"
		echo "${got:-no drop logged}" | tail -n 5 | diag
		fd_json S "json.dumps([s.get('nflows') for c in j['carriers'] if c['state'] == 'up' for s in c['streams'] if s['service'] == '$2'])" | diag
	fi
}

t85_logs() {
	local n
	for n in "$@"; do
		echo "# ---- funneld $n"
		grep -v ' debug: ' "$SVC_DIR/$n.log" 2>/dev/null | tail -n 12 | sed 's/^/#   /'
	done
}

# t85_rr NAME SECONDS PORT: udp_pump request/response through a map; the
# summary line, status 0 iff something came back and nothing was lost
t85_rr() {
	local out
	out=$(ip netns exec fc udp_pump rr 127.0.0.1 "$3" -t "$2" -w 1 -T 1000 2>&1 | tail -n 1)
	echo "$out"
	case $out in
	*" lost 0 "*) [ "$(echo "$out" | sed -n 's/.* good \([0-9]*\) .*/\1/p')" -gt 0 ] ;;
	*) return 1 ;;
	esac
}

# t85_gen NAME SERVICE: key generation of the stream as NAME shows it
t85_gen() { fd_json "$1" "stream('$2').get('key_generation', 0)"; }

# t85_error NAME PATTERN SECONDS: the carrier's last error matches
t85_error() {
	fd_wait "$1" "$3" "'$2' in str(carrier('s').get('last_error')) and carrier('s').get('state') != 'up'"
}

t85_main() {
	local out pid rc g0 g1 kid sid n cap t0

	svc_init
	if kdc_start "$SVC_DIR/krb" 10.99.0.2 fs &&
	   kdc_addprinc funnel/site-s && kdc_addprinc alice &&
	   kdc_addprinc bob && kdc_addprinc rita 70 &&
	   kdc_addprinc dns/site-s && kdc_addprinc echo/site-s &&
	   kdc_addprinc carol &&
	   kdc_keytab "$(t85_k site-s)" funnel/site-s &&
	   kdc_keytab "$(t85_k alice)" alice &&
	   kdc_keytab "$(t85_k bob)" bob &&
	   kdc_keytab "$(t85_k rita)" rita &&
	   kdc_keytab "$(t85_k dns-s)" dns/site-s &&
	   kdc_keytab "$(t85_k echo-s)" echo/site-s &&
	   kdc_keytab "$(t85_k carol)" carol; then
		ok "gss: KDC for FUNNEL.TEST in netns fs at 10.99.0.2:$KDC_PORT, keytabs for funnel/site-s alice bob rita (70 s tickets), dns/site-s, echo/site-s, carol"
	else
		not_ok "gss: KDC up with principals and keytabs"
		return
	fi
	if svc_dnsmasq dns fs 127.0.0.1 5353 && svc_freeradius radius fs 127.0.0.1 1812; then
		ip netns exec fs udp_pump echo 127.0.0.1 7401 -q &
		svc_register echo $!
		ip netns exec fs socat TCP-LISTEN:7901,fork,reuseaddr EXEC:cat 2>/dev/null &
		svc_register techo $!
		head -c 1000000 /dev/urandom >"$SVC_DIR/big"
		ok "gss: server site: dnsmasq, freeradius, a UDP and a TCP echo up"
	else
		not_ok "gss: server site: dnsmasq and freeradius up"
		return
	fi

	# ---- kernel path both sides, sealed
	# debug: the origins the server drops (t85_gone)
	if fd_start S fs "$(t85_conf_s)" --datapath kernel -n site-s -l debug &&
	   fd_start C fc "$(t85_conf_c alice)" --datapath kernel -n site-c &&
	   fd_wait C 15 "carrier('s').get('state') == 'up' and $t85_open"; then
		ok "gss: kernel/kernel: carrier authenticated (peer $(fd_json C "carrier('s').get('principal')")), four sealed streams open"
	else
		not_ok "gss: kernel/kernel: carrier up and maps open"
		fd_ctl C show 2>&1 | sed 's/^/#   /'; t85_logs C S
		return
	fi
	check "gss: the server sees alice@FUNNEL.TEST on the carrier and on the dns stream" \
		fd_json S "carrier().get('principal') == 'alice@FUNNEL.TEST' and stream('dns').get('principal') == 'alice@FUNNEL.TEST'"
	check "gss: every stream is at key generation 1 on both sides" \
		fd_json C "all(s.get('key_generation') == 1 for s in carrier('s')['streams'])"
	check "gss: show says sealed, with the generation" \
		sh -c "funnelctl -s $SVC_DIR/C.sock show | grep -q 'sealed.*key generation 1'"

	# capture the carrier while a uniquely named query and a RADIUS
	# request go through; the same capture on the server's loopback (the
	# service side, plaintext) must see them: the check can fail
	cap=$SVC_DIR/carrier.pcap
	ip netns exec fs tcpdump --immediate-mode -U -s 0 -i vs -w "$cap" tcp port 9899 2>"$cap.err" &
	pid=$!
	ip netns exec fs tcpdump --immediate-mode -U -s 0 -i lo -w "$cap.lo" udp port 5353 2>"$cap.lo.err" &
	n=$!
	for _ in $(seq 50); do
		grep -q listening "$cap.err" && grep -q listening "$cap.lo.err" && break
		sleep 0.1
	done
	out=$(ip netns exec fc dig @127.0.0.1 -p 5300 +short +tries=2 +time=2 sealedpayloadcheck.funnel.test 2>&1)
	svc_radauth fc 127.0.0.1 18120 >"$SVC_DIR/rad.out" 2>&1; rc=$?
	echo tcpsealedmarker | ip netns exec fc timeout 10 socat -t5 TCP:127.0.0.1:7902 - >"$SVC_DIR/tcp.out" 2>&1
	sleep 1
	kill "$pid" "$n" 2>/dev/null; wait "$pid" "$n" 2>/dev/null
	if [ $rc = 0 ]; then
		ok "gss: radclient through the sealed radius stream: Access-Accept"
	else
		not_ok "gss: radclient through the sealed radius stream"; sed 's/^/#   /' "$SVC_DIR/rad.out"
	fi
	# the sealed query, answer, RADIUS and TCP frames must be in it
	rc=$(tcpdump -r "$cap" -nn -q 2>/dev/null | awk '$NF >= 40 { n++ } END { print n + 0 }')
	if grep -aq sealedpayloadcheck "$cap.lo" && [ "$rc" -ge 4 ] &&
	   grep -q tcpsealedmarker "$SVC_DIR/tcp.out" &&
	   ! grep -aq -e sealedpayloadcheck -e "$SVC_RADIUS_USER" -e tcpsealedmarker "$cap"; then
		ok "gss: capture of the carrier ($rc segments of 40+ bytes) has neither the query name, the RADIUS user nor the TCP payload; the service side has the name in clear (dig: ${out:-no answer})"
	else
		not_ok "gss: carrier capture without the payload (carrier $(grep -ac sealedpayloadcheck "$cap") hits, service side $(grep -ac sealedpayloadcheck "$cap.lo"))"
	fi
	out=$(svc_dig_many fc 127.0.0.1 5300 200) && ok "gss: kernel/kernel: 200 dig queries through the sealed dns stream: $out" ||
		not_ok "gss: kernel/kernel: 200 dig queries: $out"
	t85_origins "kernel/kernel" dns
	t85_tcp "kernel/kernel"
	read -r kid sid < <(fd_json C "[carrier('s').get('kernel_id'), stream('dns').get('id')]" | tr '\n' ' ')
	n=$(nlget fc stats.rx-drop-auth stream-get carrier-id=u32:"$kid" stream-id=u16:"$sid")
	g0=$(nlget fc stats.rx-frames stream-get carrier-id=u32:"$kid" stream-id=u16:"$sid")
	out=$(nlget fc keyconf.key-id key-get carrier-id=u32:"$kid" stream-id=u16:"$sid" keyconf.slot=u32:0)
	if [ "${g0:-0}" -ge 200 ] && [ "$n" = 0 ] && [ "$out" = 1 ] &&
	   [ "$(nlget fc keyconf.soft-limit key-get carrier-id=u32:"$kid" stream-id=u16:"$sid" keyconf.slot=u32:0)" = 4194304 ]; then
		ok "gss: funnel.ko holds key 1 (soft limit 2^22) for the dns stream, opened $g0 frames, rx-drop-auth 0"
	else
		not_ok "gss: funnel.ko key and counters of the dns stream (key ${out:-none}, rx $g0, drop-auth $n)"
	fi

	# ---- bob is refused by dns (alice only) while alice's traffic flows
	svc_dig_many fc 127.0.0.1 5300 200 >"$SVC_DIR/loop.out" 2>&1 &
	pid=$!
	if fd_start B fc "$(t85_conf_c bob funnel/site-s "" "map add udp 127.0.0.1:5310 peer s service dns")" --datapath kernel -n site-b &&
	   fd_wait B 15 "'not-authorized' in str(map_(5310).get('reason'))"; then
		ok "gss: bob's dns stream refused: $(fd_json B "map_(5310).get('reason')")"
	else
		not_ok "gss: bob's stream refused (not-authorized): $(fd_json B 'json.dumps(j["maps"])')"
		t85_logs B S
	fi
	check "gss: the server logged who was refused" \
		grep -q 'refused (not authorized): principal bob@FUNNEL.TEST' "$SVC_DIR/S.log"
	check "gss: bob's carrier itself is up (authenticated, no service for him)" \
		fd_json B "carrier('s').get('state') == 'up'"
	wait $pid; rc=$?
	[ $rc = 0 ] && ok "gss: alice's dig loop beside bob's refusal lost nothing: $(cat "$SVC_DIR/loop.out")" ||
		not_ok "gss: alice's dig loop beside bob's refusal: $(cat "$SVC_DIR/loop.out")"
	svc_stop B TERM

	# ---- a principal per service and per map (security.md section
	# 2): dnsid is dns/site-s and echoid echo/site-s, each from its own
	# keytab; the maps name them, echoid's authenticates as carol (its
	# allow list); a map to dnsid expecting echo/site-s is refused while
	# dig goes on through the dns stream of the same carrier
	fd_ctl C map add udp 127.0.0.1:5320 peer s service dnsid principal dns/site-s >/dev/null
	fd_ctl C map add udp 127.0.0.1:7420 peer s service echoid principal echo/site-s identity carol keytab "$(t85_k carol)" >/dev/null
	if fd_wait C 15 "map_(5320).get('state') == 'open' and map_(7420).get('state') == 'open'" &&
	   out=$(svc_dig_many fc 127.0.0.1 5320 20) && n=$(t85_rr C 2 7420); then
		ok "gss: services under dns/site-s and echo/site-s (own keytabs) answer through kernel streams: dig $out; echo as carol $n"
	else
		not_ok "gss: services under their own principals: ${out:-} ${n:-} $(fd_json C "json.dumps([map_(5320), map_(7420)])")"
		t85_logs C S
	fi
	check "gss: on S's kernel carrier of alice's, the echoid stream sealed by carol (the map's identity), dnsid's by alice, both at key generation 1" \
		fd_json S "[(c['datapath'], c['principal']) for c in j['carriers'] if any(s['service'] == 'echoid' for s in c['streams'])] == [('kernel', 'alice@FUNNEL.TEST')] and stream('echoid').get('principal') == 'carol@FUNNEL.TEST' and stream('dnsid').get('principal') == 'alice@FUNNEL.TEST' and stream('dnsid').get('key_generation') == 1 and stream('echoid').get('key_generation') == 1"
	read -r kid sid < <(fd_json C "[carrier('s').get('kernel_id'), stream('echoid').get('id')]" | tr '\n' ' ')
	out=$(nlget fc keyconf.key-id key-get carrier-id=u32:"$kid" stream-id=u16:"$sid" keyconf.slot=u32:0)
	check "gss: funnel.ko holds key 1 of the echoid stream (carrier $kid, stream $sid): ${out:-none}" \
		test "$out" = 1
	svc_dig_many fc 127.0.0.1 5300 100 >"$SVC_DIR/loop.out" 2>&1 &
	pid=$!
	fd_ctl C map add udp 127.0.0.1:5321 peer s service dnsid principal echo/site-s >/dev/null
	if fd_wait C 15 "map_(5321).get('state') == 'refused' and 'not-authorized: service dnsid accepts dns/site-s only' in map_(5321).get('reason', '')"; then
		ok "gss: a map expecting echo/site-s from dnsid is refused: $(fd_json C "map_(5321)['reason']" | cut -c1-160)"
	else
		not_ok "gss: the wrong service principal refused: $(fd_json C "map_(5321)")"
	fi
	wait $pid; rc=$?
	if [ $rc = 0 ] && fd_json C "map_(5320).get('state') == 'open' and map_(7420).get('state') == 'open'" >/dev/null; then
		ok "gss: the other streams went on: dig meanwhile $(cat "$SVC_DIR/loop.out"), dnsid and echoid open"
	else
		not_ok "gss: the other streams beside the refusal: $(cat "$SVC_DIR/loop.out")"
	fi

	# ---- rekey on the key soft limit, under steady traffic
	svc_stop C TERM
	fd_start C fc "$(t85_conf_c alice)" --datapath kernel -n site-c --key-soft-limit 400
	fd_wait C 15 "$t85_open"
	if out=$(t85_rr C 8 7400); then
		g1=$(t85_gen C echo)
		if [ "${g1:-0}" -ge 3 ]; then
			ok "gss: soft limit 400 frames: key generation 1 -> $g1 during 8 s of echo, nothing lost ($out)"
		else
			not_ok "gss: soft limit 400 frames: generation only ${g1:-?} ($out)"; t85_logs C S
		fi
	else
		not_ok "gss: soft limit rekeys lose nothing: $out (generation $(t85_gen C echo))"; t85_logs C S
	fi
	# a rekey started by the last frames may still be finishing (the
	# server's stream: the one of the carrier up now)
	for _ in $(seq 50); do
		g1=$(t85_gen C echo)
		g0=$(fd_json S "[s for c in j['carriers'] if c['state'] == 'up' for s in c['streams'] if s['service'] == 'echo'][0]['key_generation']")
		[ "$g0" = "$g1" ] && break
		sleep 0.2
	done
	check "gss: the server followed the rekeys (client at generation $g1, server at ${g0:-?})" \
		test "$g0" = "$g1"

	# ---- rekey on the ticket lifetime (rita's tickets live 70 s); a
	# few dns flows first, idle during the echo, whose origins the
	# server keeps until they end (30 s after), not longer
	svc_stop C TERM
	fd_start C fc "$(t85_conf_c rita funnel/site-s "" "map add udp 127.0.0.1:7400 peer s service echo
map add udp 127.0.0.1:5300 peer s service dns")" --datapath kernel -n site-c
	fd_wait C 15 "$t85_open"
	n=$(wc -l <"$SVC_DIR/S.log")
	if out=$(svc_dig_many fc 127.0.0.1 5300 20); then
		ok "gss: rita: 20 dig queries through the dns stream: $out"
	else
		not_ok "gss: rita: 20 dig queries through the dns stream: $out"
	fi
	t0=$SECONDS
	t85_origins "rita" dns
	g0=$(t85_gen C echo)
	if out=$(t85_rr C 24 7400); then
		g1=$(t85_gen C echo)
		if [ "${g1:-0}" -ge $((g0 + 2)) ]; then
			ok "gss: 70 s tickets: generation $g0 -> $g1 in 24 s of steady echo, nothing lost ($out)"
		else
			not_ok "gss: 70 s tickets: generation $g0 -> ${g1:-?} in 24 s ($out)"; t85_logs C S
		fi
	else
		not_ok "gss: lifetime rekeys lose nothing: $out"; t85_logs C S
	fi
	# the dns flows live at least 30 s after the queries
	cap=''
	t0=$((SECONDS - t0))
	if [ $t0 -lt 29 ]; then
		cap=$SVC_DIR/S.early
		cp "$SVC_DIR/S.log" "$cap"
	fi
	t85_gone "rita" dns "$n" "$cap" "$t0"

	# ---- kernel sealing on one side, userspace on the other
	svc_stop C TERM
	fd_start C fc "$(t85_conf_c alice)" --datapath user -n site-c
	if fd_wait C 15 "carrier('s').get('state') == 'up' and carrier('s').get('datapath') == 'user' and $t85_open" &&
	   out=$(svc_dig_many fc 127.0.0.1 5300 100) && svc_radauth fc 127.0.0.1 18120 >/dev/null; then
		ok "gss: userspace-sealing client, kernel-sealing server: dns and radius answer ($out)"
	else
		not_ok "gss: userspace client, kernel server: ${out:-carrier not up}"; t85_logs C S
	fi
	t85_origins "userspace client, kernel server" dns
	t85_tcp "userspace client, kernel server"
	svc_stop S TERM
	fd_start S fs "$(t85_conf_s)" --datapath user -n site-s
	svc_stop C TERM
	fd_start C fc "$(t85_conf_c alice)" --datapath kernel -n site-c
	if fd_wait C 15 "carrier('s').get('state') == 'up' and $t85_open" &&
	   out=$(t85_rr C 3 7400); then
		ok "gss: kernel-sealing client, userspace-sealing server: echo both ways ($out)"
	else
		not_ok "gss: kernel client, userspace server: ${out:-carrier not up}"; t85_logs C S
	fi
	t85_origins "kernel client, userspace server" echo
	t85_tcp "kernel client, userspace server"
	svc_stop C TERM
	svc_stop S TERM
	fd_start S fs "$(t85_conf_s)" --datapath kernel -n site-s

	# ---- set-up errors: a clear error, retries, no crash
	fd_start C fc "$(t85_conf_c alice funnel/site-s "$SVC_DIR/krb/nosuch.keytab")" --datapath kernel -n site-c
	if t85_error C "GSS-API" 15; then
		ok "gss: missing keytab: $(fd_json C "carrier('s').get('last_error')")"
	else
		not_ok "gss: missing keytab gives a clear error: $(fd_json C "carrier('s').get('last_error')")"
	fi
	svc_stop C TERM
	fd_start C fc "$(t85_conf_c alice funnel/nosuch)" --datapath kernel -n site-c
	if t85_error C "not found" 15; then
		ok "gss: unknown principal: $(fd_json C "carrier('s').get('last_error')")"
	else
		not_ok "gss: unknown principal gives a clear error: $(fd_json C "carrier('s').get('last_error')")"
	fi
	svc_stop C TERM
	svc_stop S TERM
	# the server holds alice's keytab, not its own key
	fd_start S fs "$(t85_conf_s | sed "s|$(t85_k site-s)|$(t85_k alice)|")" --datapath kernel -n site-s
	fd_start C fc "$(t85_conf_c alice)" --datapath kernel -n site-c
	# up to 4 s, until the server has refused the context
	for _ in $(seq 40); do
		grep -q 'GSS-API' "$SVC_DIR/S.log" && break
		sleep 0.1
	done
	if grep -q 'GSS-API' "$SVC_DIR/S.log" && fd_json C "carrier('s').get('state') != 'up'" >/dev/null; then
		ok "gss: wrong keytab on the server: refused ($(grep -o 'GSS-API: [^(]*' "$SVC_DIR/S.log" | tail -n 1)), client retries ($(fd_json C "carrier('s').get('last_error')"))"
	else
		not_ok "gss: wrong keytab on the server: $(fd_json C "carrier('s').get('state')") $(grep GSS "$SVC_DIR/S.log" | tail -n 1)"
	fi
	svc_stop C TERM
	svc_stop S TERM
	fd_start S fs "$(t85_conf_s)" --datapath kernel -n site-s
	kdc_down
	fd_start C fc "$(t85_conf_c alice)" --datapath kernel -n site-c
	if t85_error C "KDC" 15; then
		ok "gss: KDC down at start: $(fd_json C "carrier('s').get('last_error')")"
	else
		not_ok "gss: KDC down gives a clear error: $(fd_json C "carrier('s').get('last_error')")"
	fi
	kdc_up
	if fd_wait C 40 "carrier('s').get('state') == 'up' and $t85_open" &&
	   out=$(svc_dig_many fc 127.0.0.1 5300 20); then
		ok "gss: KDC back: the carrier comes up by itself (reconnects $(fd_json C "carrier('s').get('reconnects')")), dns answers ($out)"
	else
		not_ok "gss: KDC back: carrier up again"; t85_logs C S
	fi
	for n in S C; do
		if svc_alive "$(svc_pid $n)"; then
			svc_stop $n TERM; rc=$?
			[ $rc = 0 ] && ok "gss: funneld $n ran through every error and exits 0 on SIGTERM" ||
				not_ok "gss: funneld $n exit $rc"
		else
			not_ok "gss: funneld $n died"; t85_logs $n
		fi
	done
	check "gss: no kernel carrier left once the daemons stopped" module_idle
}

if sites_up; then
	t85_main
else
	not_ok "gss: sites: two netns joined by veth"
fi
svc_stop_all
kdc_stop
sites_down
