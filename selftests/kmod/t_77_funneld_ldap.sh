# funneld's LDAP plugin (Documentation/plugins.md, phases 1 and 2) on the
# kernel data path: slapd in netns fs (500 people and one entry of 70000
# bytes) behind a service with "plugin ldap", a map with it in netns fc,
# over a TCP carrier (funnel.ko's ULP: an ordered plugin stream) and a
# native SCTP carrier (an unordered plugin stream, SCTP_UNORDERED),
# funneld on the kernel path at both ends (the TCP streams are funnel.ko
# "user" streams), then over SCTP keyed (Kerberos: funneld seals the
# plugin stream, funnel.ko passes its frames, unordered too, plugins.md
# 5.4), then over SCTP with funneld on the userspace path at both ends:
# the plugin stream as negotiated (C's log), ldapsearch of everything, 8
# of them at once, ldapcompare and StartTLS give what slapd gives
# directly; a client that sends an indefinite length is reset, logged and
# counted (rx-drop-malformed).
modprobe sctp
modprobe funnel
# shellcheck source=../lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"

svc_init
sites_up || not_ok "ldap: two netns joined by veth"
svc_slapd t77ldap fs 127.0.0.1 7389 500 70000 || not_ok "ldap: slapd starts in fs"
t77_base=ou=people,$SVC_LDAP_BASE
t77_search() { # NS PORT ARGS...: ldapsearch -x as the manager, LDIF only
	local ns=$1 port=$2
	shift 2
	ip netns exec "$ns" timeout 60 ldapsearch -x -LLL -o ldif-wrap=no \
		-H "ldap://127.0.0.1:$port" -D "$SVC_LDAP_ADMIN" -w "$SVC_LDAP_PASS" "$@"
}
t77_search fs 7389 -b "$t77_base" '(objectClass=inetOrgPerson)' >"$SVC_DIR/t77-direct.ldif"
LDAPTLS_REQCERT=never t77_search fs 7389 -ZZ -b "$t77_base" '(uid=big)' >"$SVC_DIR/t77-tls-direct.ldif"
check "ldap: slapd answers directly (501 entries, and over TLS)" \
	test "$(grep -c '^dn: ' "$SVC_DIR/t77-direct.ldif")/$(grep -c '^dn: ' "$SVC_DIR/t77-tls-direct.ldif")" = 501/1

t77_k() { echo "$SVC_DIR/t77-$1.keytab"; }
# the unordered DATA chunks SCTP sent from netns fs
# shellcheck disable=SC2016 # awk's $1, $2
t77_unord() { ip netns exec fs awk '$1 == "SctpOutUnorderChunks" { print $2 }' /proc/net/sctp/snmp; }
t77_run() { # CARRIER [DATAPATH [keyed]]
	local dp=${2:-kernel} keyed=${3:-}
	local what="ldap over $1 ($dp path${keyed:+, keyed})" n bad=0 pids="" c0 c1 u0 u1 out
	local want="(plugin stream ldap, phase 2)" ids="plaintext" idc="plaintext" pc=""
	[ "$1" = sctp ] && want="(plugin stream ldap, phase 2, unordered)"
	if [ -n "$keyed" ]; then
		ids="identity funnel/site-s keytab $(t77_k site-s)"
		idc="identity alice keytab $(t77_k alice)"
		pc=" principal funnel/site-s"
	fi
	if fd_start S fs "$ids
listen :9899
service add ldap tcp 127.0.0.1:7389 plugin ldap" --datapath "$dp" &&
	   fd_start C fc "$idc
peer add s 10.99.0.2 carrier $1$pc
map add tcp 127.0.0.1:3890 peer s service ldap plugin ldap" --datapath "$dp" &&
	   fd_wait C 20 "carrier('s').get('state') == 'up' and all(m['state'] == 'open' for m in j['maps'])"; then
		ok "$what: carrier up ($dp path both ends), map open"
	else
		not_ok "$what: carrier up and map open"
		fd_ctl C show 2>&1 | sed 's/^/#   /'
		tail -n 10 "$SVC_DIR/C.log" "$SVC_DIR/S.log" | sed 's/^/#   /'
	fi
	out=$(grep -E "stream [0-9]+ open: map 127.0.0.1:3890 " "$SVC_DIR/C.log" | tail -n 1)
	check "$what: the map's stream is a plugin stream: ${out##*service ldap }" \
		test "${out##*service ldap }" = "$want"
	if [ -n "$keyed" ]; then
		check "$what: S shows it unordered and sealed (key generation $(fd_json S "stream('ldap').get('key_generation')"))" \
			fd_json S "stream('ldap').get('unordered') == True and stream('ldap').get('key_generation', 0) >= 1"
	fi
	u0=$(t77_unord)
	t77_search fc 3890 -b "$t77_base" '(objectClass=inetOrgPerson)' >"$SVC_DIR/t77-map.ldif" 2>&1
	u1=$(t77_unord)
	check "$what: ldapsearch of the 501 entries (one of 70000 bytes) as slapd gives them" \
		cmp -s "$SVC_DIR/t77-direct.ldif" "$SVC_DIR/t77-map.ldif"
	if [ "$1" = sctp ]; then
		# the entries in frames of whole messages (some 130 here),
		# each an SCTP_UNORDERED chunk (an ordered stream: none)
		check "$what: S sent the entries unordered (SctpOutUnorderChunks $u0 -> $u1)" \
			test "$((u1 - u0))" -ge 50
	fi
	for n in $(seq 8); do
		t77_search fc 3890 -b "$t77_base" '(objectClass=inetOrgPerson)' >"$SVC_DIR/t77-par$n.ldif" 2>&1 &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # the pids
	wait $pids
	for n in $(seq 8); do
		cmp -s "$SVC_DIR/t77-direct.ldif" "$SVC_DIR/t77-par$n.ldif" || bad=$((bad + 1))
	done
	check "$what: 8 such searches at once, each whole ($bad differ)" test $bad = 0
	out=$(ip netns exec fc timeout 20 ldapcompare -x -H ldap://127.0.0.1:3890 "uid=u7,$t77_base" "cn:User 7" 2>&1)
	check "$what: ldapcompare ($out)" test "$out" = TRUE
	LDAPTLS_REQCERT=never t77_search fc 3890 -ZZ -b "$t77_base" '(uid=big)' >"$SVC_DIR/t77-tls.ldif" 2>&1
	check "$what: StartTLS, then the big entry over TLS" \
		cmp -s "$SVC_DIR/t77-tls-direct.ldif" "$SVC_DIR/t77-tls.ldif"
	c0=$(fd_json C "sum(s['stats']['rx-drop-malformed'] for c in j['carriers'] for s in c['streams'])")
	out=$(ip netns exec fc timeout 10 python3 "$FUNNEL_TOP/selftests/tools/ldaptool.py" \
		send 127.0.0.1 3890 3080020101 2>&1 | head -n 1)
	c1=$(fd_json C "sum(s['stats']['rx-drop-malformed'] for c in j['carriers'] for s in c['streams'])")
	check "$what: an indefinite length from a client: reset ($out), counted ($c0 -> $c1), logged" \
		test "$out/$((c1 - c0))" = "reset 0/1" -a -n "$(grep 'LDAP from the client refused: indefinite length' "$SVC_DIR/C.log")"
	svc_stop C TERM
	svc_stop S TERM
}
t77_run tcp
t77_run sctp
if kdc_start "$SVC_DIR/krb" 10.99.0.2 fs && kdc_addprinc funnel/site-s &&
   kdc_addprinc alice && kdc_keytab "$(t77_k site-s)" funnel/site-s &&
   kdc_keytab "$(t77_k alice)" alice; then
	t77_run sctp kernel keyed
else
	not_ok "ldap: KDC up with funnel/site-s and alice"
fi
t77_run sctp user
svc_stop_all
kdc_stop 2>/dev/null
sites_down
