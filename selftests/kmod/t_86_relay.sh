# Relays, the switchbox of a hosting gateway (Documentation/switchbox.md),
# in funnel.ko: three netns, provider fp (alice) -> gateway fg
# (funnel/gw) -> hoster fh (funnel/hoster), the first hop over SCTP on
# IPv6, the second over TCP on IPv4, funneld with the kernel data path
# on all three and a KDC in fg.  The gateway's relay streams are kind
# relay in funnel.ko, paired across its two carriers: each hop
# authenticated and sealed with its own keys, frames opened and sealed
# again in the kernel, none through funneld.
#   - dig (dnsmasq), radclient (freeradius) and 1000 udp_pump requests
#     from fp answered in fh, none lost;
#   - fg: both streams of each relay are relay streams of funnel.ko,
#     paired with each other (stream-get); their kernel counters show
#     every frame of one sent on the other; funneld relayed none itself;
#   - fh sees funnel/gw on the stream, at key generation >= 1, and the
#     clients' addresses as fp accepted them (origins passed on);
#   - a principal fh refuses gets a refusal on its stream only;
#   - a tcp relay (ldap, echo) on the same kernel carriers: its streams
#     are user streams of funnel.ko, relayed by funneld; ldapsearch of
#     500 entries (one of 70000 bytes) and ldapcompare from fp answered
#     by slapd in fh as directly; 8 MiB echoed byte-exact; fg holds at
#     most its window per direction (--tcp-window 262144);
#   - fh's funneld killed: fg closes the relayed streams, fp's maps
#     wait; fh back: the maps open, dig answers;
#   - fp -> fg over TCP too (both hops TCP: each carrier's receive run
#     relays to the other): 6000 requests on two streams at once, none
#     lost, fg's counters equal both ways, nothing dropped; fg killed
#     under load;
#   - stream-new of a relay stream refused with a clear extack for each
#     bad request (addresses, flows, ordered, half a pair, an unknown
#     carrier, its own carrier, a stream that is no relay, one paired
#     already, relay attributes on another kind).
# shellcheck source=relay.sh
. "$FUNNEL_TOP/selftests/kmod/relay.sh"

t86_conf_h() {
	cat <<-EOF
	identity funnel/hoster keytab $(relay_k hoster)
	listen :9899
	service add dns udp 127.0.0.1:5353 allow funnel/gw@$relay_R
	service add radius udp 127.0.0.1:1812 allow funnel/gw@$relay_R
	service add echo udp 127.0.0.1:7401 allow funnel/gw@$relay_R
	service add nope udp 127.0.0.1:7401 allow alice@$relay_R
	service add ldap tcp 127.0.0.1:7389 allow funnel/gw@$relay_R plugin ldap
	service add techo tcp 127.0.0.1:7402 allow funnel/gw@$relay_R
	EOF
}

t86_conf_g() {
	cat <<-EOF
	identity funnel/gw keytab $(relay_k gw)
	listen [::]:9899
	peer add h 10.97.0.2 carrier tcp principal funnel/hoster
	relay add dns udp peer h allow alice@$relay_R
	relay add radius udp peer h allow alice@$relay_R
	relay add echo udp peer h allow alice@$relay_R
	relay add nope udp peer h
	relay add ldap tcp peer h allow alice@$relay_R
	relay add techo tcp peer h allow alice@$relay_R
	EOF
}

t86_conf_p() {
	cat <<-EOF
	identity alice keytab $(relay_k alice)
	peer add g [fd98::2] carrier sctp principal funnel/gw
	map add udp 127.0.0.1:5300 peer g service dns
	map add udp 127.0.0.1:18120 peer g service radius
	map add udp 127.0.0.1:7400 peer g service echo
	map add udp 127.0.0.1:7500 peer g service nope
	map add tcp 127.0.0.1:3890 peer g service ldap plugin ldap
	map add tcp 127.0.0.1:7410 peer g service techo
	EOF
}

t86_open="all(map_(p).get('state') == 'open' for p in (5300, 18120, 7400, 3890, 7410))"

# t86_search NS PORT ARGS...: ldapsearch -x as the manager, LDIF only
t86_search() {
	local ns=$1 port=$2; shift 2
	ip netns exec "$ns" timeout 60 ldapsearch -x -LLL -o ldif-wrap=no \
		-H "ldap://127.0.0.1:$port" -D "$SVC_LDAP_ADMIN" -w "$SVC_LDAP_PASS" "$@"
}

# the tcp relays: LDAP and 8 MiB through fg's funneld, on kernel carriers
t86_tcp() {
	local out n base=ou=people,$SVC_LDAP_BASE k
	check "relay: fg's log says funneld relays the tcp relays' streams" \
		grep -q 'open for relay ldap -> h stream [0-9]* (service ldap), relayed by funneld' "$SVC_DIR/G.log"
	g_in=$(fd_json G "[c['kernel_id'] for c in j['carriers'] if c['incoming']][0]")
	k=$(fd_json G "[s['id'] for c in j['carriers'] if c['incoming'] for s in c['streams'] if s['service'] == 'ldap'][0]")
	out=$(ip netns exec fg funnel-nl raw stream-get carrier-id=u32:"$g_in" stream-id=u16:"$k" 2>&1)
	if echo "$out" | grep -qx "stream-kind=1" && ! echo "$out" | grep -q "relay-carrier-id"; then
		ok "relay: fg's ldap stream of fp's carrier is a user stream of funnel.ko, not a relay one"
	else
		not_ok "relay: stream-get of the tcp relay's stream"
		echo "$out" | sed 's/^/#   /'
	fi
	t86_search fh 7389 -b "$base" '(objectClass=inetOrgPerson)' >"$SVC_DIR/direct.ldif"
	n=$(grep -c '^dn: ' "$SVC_DIR/direct.ldif")
	if t86_search fp 3890 -b "$base" '(objectClass=inetOrgPerson)' >"$SVC_DIR/relay.ldif" 2>"$SVC_DIR/relay.err" &&
	   [ "$n" = 501 ] && cmp -s "$SVC_DIR/direct.ldif" "$SVC_DIR/relay.ldif"; then
		ok "relay: ldapsearch of the $n entries from fp through the tcp relay as slapd gives them"
	else
		not_ok "relay: ldapsearch through the tcp relay ($n entries directly)"
		sed 's/^/#   /' "$SVC_DIR/relay.err"
	fi
	out=$(ip netns exec fp timeout 30 ldapcompare -x -H ldap://127.0.0.1:3890 "uid=u7,$base" "cn:User 7" 2>&1)
	check "relay: ldapcompare through the tcp relay ($out)" test "$out" = TRUE
	out=$(ip netns exec fp timeout 120 python3 "$FUNNEL_TOP/selftests/tools/tcpprobe.py" echo 127.0.0.1 7410 $((8 << 20)))
	check "relay: 8 MiB echoed through the tcp relay, byte-exact ($out)" test "$out" = "eof got $((8 << 20)) prefix ok"
	out=$(fd_json G "j['tcp_buffers']['queued_peak']")
	check "relay: fg held at most its window per direction ($out <= 2 x 262144 bytes)" \
		test "${out:-999999999}" -le $((2 * 262144))
	check "relay: fg holds nothing once the flows ended" \
		fd_wait G 10 "j['tcp_buffers']['queued'] == 0 and j['tcp_buffers']['reserved'] == 0"
}

# t86_nl_bad WANT ATTR...: stream-new of stream 900 on fg's carrier $g_in
# with these attributes fails with WANT
t86_nl_bad() {
	local want=$1 out rc; shift
	out=$(ip netns exec fg funnel-nl raw stream-new carrier-id=u32:"$g_in" \
		stream-id=u16:900 "$@" 2>&1); rc=$?
	if [ $rc != 0 ] && echo "$out" | grep -qF "$want"; then
		ok "relay: stream-new $* refused: $want"
	else
		not_ok "relay: stream-new $*: '$out' (want '$want')"
	fi
}

t86_conf_p2() {
	cat <<-EOF
	identity alice keytab $(relay_k alice)
	peer add g 10.98.0.2 carrier tcp principal funnel/gw
	map add udp 127.0.0.1:7400 peer g service echo
	map add udp 127.0.0.1:7600 peer g service echo
	EOF
}

# TCP on both of fg's hops: each carrier's receive run relays to the
# other under its own socket's spinlock (funnel.ko try-locks the other's,
# and pushes what a received segment brought once it is parsed), with
# traffic both ways on two relayed streams at once; then fg killed under
# that load.
t86_tcp2() {
	local o1 o2
	svc_stop P TERM
	if fd_start P fp "$(t86_conf_p2)" --datapath kernel -n provider &&
	   fd_wait P 40 "all(map_(p).get('state') == 'open' for p in (7400, 7600))" &&
	   fd_wait G 10 "sorted(c['transport'] + '/' + c['datapath'] for c in j['carriers']) == ['tcp/kernel', 'tcp/kernel']"; then
		ok "relay: fp -> fg over TCP too: both of fg's hops TCP carriers in funnel.ko"
	else
		not_ok "relay: fp -> fg over TCP"; relay_logs P G
		return
	fi
	ip netns exec fp udp_pump rr 127.0.0.1 7400 -n 3000 -w 32 -T 3000 >"$SVC_DIR/rr1" 2>&1 &
	o1=$!
	ip netns exec fp udp_pump rr 127.0.0.1 7600 -n 3000 -w 32 -T 3000 >"$SVC_DIR/rr2" 2>&1 &
	o2=$!
	wait $o1 $o2
	if grep -q "good 3000 bad 0 lost 0" "$SVC_DIR/rr1" &&
	   grep -q "good 3000 bad 0 lost 0" "$SVC_DIR/rr2"; then
		ok "relay: TCP both hops, two streams, 32 outstanding each: 6000 requests answered, none lost"
	else
		not_ok "relay: TCP both hops: $(tail -n 1 "$SVC_DIR/rr1"); $(tail -n 1 "$SVC_DIR/rr2")"
	fi
	# every relayed stream pair: what one received the other sent, both
	# ways, and no frame dropped anywhere on fg
	if fd_json G >/dev/null "(lambda ins, outs: len(ins) == 2 and len(outs) == 2 and sum(s['stats']['rx-frames'] for s in ins) >= 6000 and sum(s['stats']['rx-frames'] for s in ins) == sum(s['stats']['tx-frames'] for s in outs) and sum(s['stats']['rx-frames'] for s in outs) == sum(s['stats']['tx-frames'] for s in ins) and all(s['stats']['tx-drop-queue'] == 0 and s['stats']['rx-drop-no-stream'] == 0 for s in ins + outs))([s for c in j['carriers'] if c['incoming'] for s in c['streams'] if s['service'] == 'echo'], [s for s in carrier('h')['streams'] if s['service'] == 'echo'])"; then
		ok "relay: fg's counters on TCP both hops: every frame relayed both ways, none dropped"
	else
		not_ok "relay: fg's counters on TCP both hops"
		fd_json G "json.dumps([(s['service'], s['stats']['rx-frames'], s['stats']['tx-frames'], s['stats']['rx-drop-no-stream'], s['stats']['tx-drop-queue']) for c in j['carriers'] for s in c['streams']])" | sed 's/^/#   /'
	fi
	# fg killed while both streams relay: its carriers close under load
	ip netns exec fp udp_pump rr 127.0.0.1 7400 -t 3 -w 64 -T 500 >/dev/null 2>&1 &
	o1=$!
	ip netns exec fp udp_pump blast 127.0.0.1 7600 -t 3 >/dev/null 2>&1 &
	o2=$!
	sleep 1
	svc_stop G KILL
	wait $o1 $o2
	# its sockets close as the process goes: the carriers with them
	local left n
	for n in $(seq 50); do
		left=$(ip netns exec fg funnel-nl raw --dump carrier-get 2>&1 |
			grep carrier-id=)
		[ -z "$left" ] && break
		sleep 0.2
	done
	if [ -z "$left" ]; then
		ok "relay: fg killed under load: its carriers gone from funnel.ko"
	else
		not_ok "relay: fg killed under load: carriers left in fg after 10 s"
		echo "$left" | sed 's/^/#   /'
	fi
}

t86_main() {
	local out a kin kout g_in g_out

	if relay_kdc funnel/gw funnel/hoster alice; then
		ok "relay: KDC in fg at 10.98.0.2:$KDC_PORT, keytabs for funnel/gw, funnel/hoster, alice"
	else
		not_ok "relay: KDC up"
		return
	fi
	if svc_dnsmasq dns fh 127.0.0.1 5353 && svc_freeradius radius fh 127.0.0.1 1812 &&
	   svc_slapd ldap fh 127.0.0.1 7389 500 70000; then
		ip netns exec fh udp_pump echo 127.0.0.1 7401 -q &
		svc_register echo $!
		ip netns exec fh python3 "$FUNNEL_TOP/selftests/tools/tcpprobe.py" echoserver 7402 &
		svc_register techo $!
	else
		not_ok "relay: hoster's dnsmasq, freeradius and slapd up"
		return
	fi
	if fd_start H fh "$(t86_conf_h)" --datapath kernel -n hoster &&
	   fd_start G fg "$(t86_conf_g)" --datapath kernel -n gw --tcp-window 262144 &&
	   fd_start P fp "$(t86_conf_p)" --datapath kernel -n provider &&
	   fd_wait P 40 "$t86_open"; then
		ok "relay: fp's maps to fg's relays open (each once fh answered fg)"
	else
		not_ok "relay: maps open"
		fd_ctl P show 2>&1 | sed 's/^/#   /'; relay_logs P G H
		return
	fi
	check "relay: fp -> fg over SCTP (IPv6), fg -> fh over TCP (IPv4), both of fg's carriers in funnel.ko" \
		fd_json G "carrier('h').get('transport') == 'tcp' and carrier('h').get('datapath') == 'kernel' and [c['transport'] + '/' + c['datapath'] for c in j['carriers'] if c['incoming']] == ['sctp/kernel']"
	a=$(svc_dig fp 127.0.0.1 5300 www.funnel.test)
	check "relay: dig through fp -> fg -> fh: $a" test "$a" = "$SVC_DNS_ANSWER"
	check "relay: 50 digs (50 flows) answered" svc_dig_many fp 127.0.0.1 5300 50
	if out=$(svc_radauth fp 127.0.0.1 18120); then
		ok "relay: radclient through the relay: Access-Accept"
	else
		not_ok "relay: radclient: $out"
	fi
	out=$(ip netns exec fp udp_pump rr 127.0.0.1 7400 -n 1000 -w 8 -T 2000 2>&1 | tail -n 1)
	case $out in
	*"good 1000 bad 0 lost 0"*) ok "relay: 1000 udp_pump requests through the relay: $out" ;;
	*) not_ok "relay: 1000 requests: $out" ;;
	esac
	check "relay: fg's log says funnel.ko relays each of them" \
		test "$(grep -c 'open for relay .* relayed by funnel.ko' "$SVC_DIR/G.log")" -ge 3

	# the kernel's view: two relay streams, paired, counting each frame
	g_in=$(fd_json G "[c['kernel_id'] for c in j['carriers'] if c['incoming']][0]")
	g_out=$(fd_json G "carrier('h')['kernel_id']")
	kin=$(fd_json G "[s['id'] for c in j['carriers'] if c['incoming'] for s in c['streams'] if s['service'] == 'echo'][0]")
	kout=$(fd_json G "[s['id'] for s in carrier('h')['streams'] if s['service'] == 'echo'][0]")
	out=$(ip netns exec fg funnel-nl raw stream-get carrier-id=u32:"$g_in" stream-id=u16:"$kin" 2>&1)
	if echo "$out" | grep -qx "stream-kind=4" &&
	   echo "$out" | grep -qx "relay-carrier-id=$g_out" &&
	   echo "$out" | grep -qx "relay-stream-id=$kout"; then
		ok "relay: fg's echo stream of fp's carrier is a relay stream paired with stream $kout of carrier $g_out"
	else
		not_ok "relay: stream-get of the relay stream"
		echo "$out" | sed 's/^/#   /'
	fi
	if fd_json G >/dev/null "(lambda i, o: i['stats']['rx-frames'] >= 1000 and o['stats']['tx-frames'] == i['stats']['rx-frames'] and o['stats']['rx-frames'] >= 1000 and i['stats']['tx-frames'] == o['stats']['rx-frames'])([s for c in j['carriers'] if c['incoming'] for s in c['streams'] if s['service'] == 'echo'][0], [s for s in carrier('h')['streams'] if s['service'] == 'echo'][0])" &&
	   fd_json G >/dev/null "[v['relayed_frames'] for v in j['services'] if v['name'] == 'echo'] == [0]"; then
		ok "relay: fg's kernel counters: every frame of one hop sent on the other ($(fd_json G "[s['stats']['rx-frames'] for s in carrier('h')['streams'] if s['service'] == 'echo'][0]") back), none through funneld"
	else
		not_ok "relay: fg's counters"
		fd_json G "json.dumps([(s['service'], s['stats']['rx-frames'], s['stats']['tx-frames'], s['stats']['rx-drop-no-stream'], s['stats']['tx-drop-queue']) for c in j['carriers'] for s in c['streams']])" | sed 's/^/#   /'
	fi
	check "relay: fh sees funnel/gw@$relay_R on the dns stream, sealed" \
		fd_json H "stream('dns').get('principal') == 'funnel/gw@$relay_R' and stream('dns').get('key_generation', 0) >= 1"
	check "relay: fh shows the echo flows' origin as fp accepted them (127.0.0.1)" \
		fd_wait H 5 "len(stream('echo')['flows']) >= 1 and all(f['origin'].startswith('127.0.0.1:') for f in stream('echo')['flows'])"
	if fd_wait P 20 "map_(7500).get('state') == 'refused' and map_(7500)['reason'].startswith('not-authorized: next hop: not-authorized: principal funnel/gw@$relay_R')"; then
		ok "relay: fh refuses fg for nope: $(fd_json P "map_(7500)['reason']" | cut -c1-120)"
	else
		not_ok "relay: nope: $(fd_json P "map_(7500)")"
	fi

	t86_tcp

	# stream-new of relay streams that funnel.ko must refuse
	t86_nl_bad "a relay stream has no addresses and no flows" stream-kind=u32:4 unordered=flag local-port=be16:9
	t86_nl_bad "a relay stream has no addresses and no flows" stream-kind=u32:4 unordered=flag flow-max=u32:10
	t86_nl_bad "relay streams carry udp services: unordered" stream-kind=u32:4
	t86_nl_bad "relay-carrier-id and relay-stream-id go together" stream-kind=u32:4 unordered=flag relay-carrier-id=u32:"$g_out"
	t86_nl_bad "relay-carrier-id: no such carrier in this netns" stream-kind=u32:4 unordered=flag relay-carrier-id=u32:999999 relay-stream-id=u16:1
	t86_nl_bad "a relay pairs streams of two carriers" stream-kind=u32:4 unordered=flag relay-carrier-id=u32:"$g_in" relay-stream-id=u16:"$kin"
	t86_nl_bad "relay-stream-id: no such relay stream on that carrier" stream-kind=u32:4 unordered=flag relay-carrier-id=u32:"$g_out" relay-stream-id=u16:999
	t86_nl_bad "that relay stream is paired already" stream-kind=u32:4 unordered=flag relay-carrier-id=u32:"$g_out" relay-stream-id=u16:"$kout"
	t86_nl_bad "only a relay stream is paired with another" stream-kind=u32:3 remote-ipv4=be32:0x7f000001 remote-port=be16:9 relay-carrier-id=u32:"$g_out" relay-stream-id=u16:"$kout"
	refused "relay: flow-get of a relay stream refused: it has no flows" \
		"a relay stream has no flows" \
		ip netns exec fg funnel-nl raw --dump flow-get carrier-id=u32:"$g_in" stream-id=u16:"$kin"
	a=$(svc_dig fp 127.0.0.1 5300 www.funnel.test)
	check "relay: dns still answers after the refused requests: $a" test "$a" = "$SVC_DNS_ANSWER"

	# the hoster goes, and comes back
	svc_stop H KILL
	if fd_wait P 30 "map_(5300).get('state') != 'open'"; then
		ok "relay: fh killed: fg ends the relayed streams, fp's dns map: $(fd_json P "map_(5300).get('state')"): $(fd_json P "map_(5300).get('reason')" | cut -c1-100)"
	else
		not_ok "relay: fh killed: fp's map still open"; relay_logs G
	fi
	check "relay: fg has no relay stream left in funnel.ko" \
		fd_wait G 10 "not [s for c in j['carriers'] for s in c['streams']]"
	if fd_start H fh "$(t86_conf_h)" --datapath kernel -n hoster &&
	   fd_wait P 60 "$t86_open"; then
		ok "relay: fh back: fp's maps open again"
	else
		not_ok "relay: fh back"; relay_logs P G H
	fi
	check "relay: dig through the relay again" svc_dig_many fp 127.0.0.1 5300 20
	t86_tcp2
	for n in P G H; do
		svc_stop $n TERM || not_ok "relay: funneld $n exit $?"
	done
	check "relay: no kernel carrier left once the daemons stopped" module_idle
}

if relay_net_up; then
	t86_main
else
	not_ok "relay: three netns joined by veth"
fi
svc_stop_all
kdc_stop
relay_net_down
