#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Funnel demo (make demo): two sites in a test VM, DNS and RADIUS
# through Funnel, both sites authenticated with Kerberos: a throwaway MIT
# KDC (realm FUNNEL.TEST, selftests/lib/kdc.sh) runs in the hoster's
# namespace, each funneld has its own principal and keytab, the hoster's
# services allow only the provider's principal, and every stream is
# sealed with AES-256-GCM under keys derived from its GSS-API context.
#
# usage: scripts/demo.sh [-k KVER] [-t SECONDS]
#
# On this machine it boots a QEMU VM with a Debian kernel (the newest
# installed one unless -k) and this machine's root shared read-only;
# inside the VM it runs itself again with --in-vm, which builds the two
# sites and prints what happens.  Exit 0 only if DNS and RADIUS both
# answered through Funnel on sealed streams, a capture of the carrier
# shows no query name in clear, and a map to a service that does not
# allow the provider's principal is refused (not authorized) while DNS
# goes on answering.  Needs: make deps; make kmods ctl (make demo does
# all of it).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

# ======================================================================
# On the host: check what the VM needs, then boot it
# ======================================================================
if [ "${1:-}" != --in-vm ]; then
	kver="" tmo=300
	while [ $# -gt 0 ]; do
		case $1 in
		-k) kver=$2; shift 2 ;;
		-t) tmo=$2; shift 2 ;;
		-h|--help) sed -n 's/^# usage: //p' "$0"; exit 0 ;;
		*) echo "demo: unknown argument $1" >&2; exit 2 ;;
		esac
	done
	[ -n "$kver" ] || kver=$(ls -1 /lib/modules 2>/dev/null | sort -V | tail -n 1)
	die() { echo "demo: $*" >&2; exit 1; }
	[ -n "$kver" ] || die "no kernel in /lib/modules: run make deps"
	[ -r "$top/build/$kver/kmod/funnel.ko" ] ||
		die "funnel.ko for $kver is not built: run make kmods"
	for p in ctl/bin/funneld ctl/bin/funnelctl; do
		[ -x "$top/$p" ] || die "$p is not built: run make ctl"
	done
	for p in qemu-system-x86_64 dnsmasq freeradius dig radclient tcpdump \
		krb5kdc kdb5_util kadmin.local kinit klist; do
		command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] ||
			die "$p is missing: run make deps"
	done
	cat <<-EOF
	================================================================
	 Funnel demo: DNS and RADIUS between two sites through Funnel,
	 both sites authenticated with Kerberos
	================================================================
	 A QEMU VM boots Linux $kver (software emulation, about a minute).
	 Inside it, two network namespaces stand for two sites, joined by a
	 veth "wire":

	   provider 10.0.0.1, fd00::1  <---- one Funnel carrier (SCTP 9899) --->  hoster 10.0.0.2, fd00::2
	     dig, radclient                                                         dnsmasq :53, freeradius :1812
	     funneld: identity provider@FUNNEL.TEST,                                krb5kdc: realm FUNNEL.TEST (throwaway)
	       peer hoster, principal funnel/hoster                                 funneld: identity funnel/hoster, listen :9899
	       map udp 127.0.0.1:5300 -> service dns                                  service dns    -> 127.0.0.1:53   allow provider
	       map udp 127.0.0.1:1812 -> service radius                               service radius -> 127.0.0.1:1812 allow provider

	 Both sites authenticate with Kerberos (GSS-API, keytabs from a
	 throwaway KDC): the carrier and each stream run a security context
	 of their own, so each side knows the other's principal, and a
	 service admits only the principals on its allow list.  Each stream
	 is sealed with AES-256-GCM under keys derived from its context.
	 funnel.ko carries each service on its own stream of the carrier
	 (UDP unordered), in the kernel.  The provider asks its own
	 127.0.0.1; the answers come from the hoster's servers.
	================================================================
	EOF
	"$top/selftests/vm/run" -k "$kver" -t "$tmo" -- "$top/scripts/demo.sh" --in-vm
	rc=$?
	echo
	if [ $rc = 0 ]; then
		echo "demo: PASS: DNS and RADIUS answered through Funnel, Kerberos-authenticated and sealed"
	elif [ $rc = 124 ]; then
		echo "demo: FAIL: the VM did not finish within ${tmo}s (-t SECONDS for more)" >&2
	else
		echo "demo: FAIL (exit $rc): see the messages above" >&2
	fi
	exit $rc
fi

# ======================================================================
# In the VM (root, the host's userland, funnel.ko installed)
# ======================================================================
# shellcheck source=../selftests/lib/services.sh
. "$top/selftests/lib/services.sh"
# shellcheck source=../selftests/lib/kdc.sh
. "$top/selftests/lib/kdc.sh"
SVC_DIR=/tmp/funnel-demo
rm -rf "$SVC_DIR"
mkdir -p "$SVC_DIR"
svc_init
KRB=$SVC_DIR/krb

step() { printf '\n==> %s\n' "$*"; }
run() { # show a command, then run it
	printf '  $ %s\n' "$*"
	"$@"
}
fail() {
	echo
	echo "demo: FAILED: $*" >&2
	for f in hoster provider dns radius krb/kdc; do
		[ -s "$SVC_DIR/$f.log" ] || continue
		echo "---- last lines of $f's log ($SVC_DIR/$f.log)" >&2
		tail -n 15 "$SVC_DIR/$f.log" | sed 's/WARNING/warning/g' >&2
	done
	exit 1
}
cleanup() {
	svc_stop_all
	kdc_stop
	ip netns del provider 2>/dev/null
	ip netns del hoster 2>/dev/null
}
trap cleanup EXIT

step "Two sites: network namespaces provider and hoster, joined by a veth"
run ip netns add provider || fail "ip netns add"
run ip netns add hoster || fail "ip netns add"
run ip link add wire netns provider type veth peer name wire netns hoster || fail "ip link add veth"
run ip -n provider addr add 10.0.0.1/24 dev wire
run ip -n hoster addr add 10.0.0.2/24 dev wire
run ip -n provider addr add fd00::1/64 dev wire nodad
run ip -n hoster addr add fd00::2/64 dev wire nodad
for n in provider hoster; do
	ip -n $n link set lo up && ip -n $n link set wire up || fail "link up in $n"
done
ip netns exec provider ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "provider cannot ping hoster over the veth"
echo "  provider 10.0.0.1 reaches hoster 10.0.0.2"

step "The kernel module"
run modprobe funnel || fail "modprobe funnel"
echo "  \$ funnelctl version"
funnelctl version 2>&1 | sed 's/^/  /'

step "A throwaway Kerberos realm FUNNEL.TEST: MIT krb5kdc in hoster, one principal and keytab per site"
echo "  (selftests/lib/kdc.sh: kdb5_util create, krb5kdc -n, kadmin.local addprinc -randkey and ktadd;"
echo "   it exports KRB5_CONFIG, so both funnelds find the KDC at 10.0.0.2)"
run kdc_start "$KRB" 10.0.0.2 hoster || fail "the KDC did not start"
run kdc_addprinc funnel/hoster || fail "kdc_addprinc funnel/hoster"
run kdc_addprinc provider || fail "kdc_addprinc provider"
run kdc_keytab "$KRB/hoster.keytab" funnel/hoster || fail "kdc_keytab hoster"
run kdc_keytab "$KRB/provider.keytab" provider || fail "kdc_keytab provider"
echo "  krb5kdc for FUNNEL.TEST listens on 10.0.0.2:$KDC_PORT (in hoster); keytabs:"
for kt in hoster provider; do
	printf '    %-30s %s\n' "$KRB/$kt.keytab" \
		"$(klist -k "$KRB/$kt.keytab" 2>/dev/null | awk 'NR > 3 { print $2 }' | sort -u | paste -sd' ')"
done

step "hoster: the real servers, on its loopback only"
printf '  $ dnsmasq ... --listen-address=127.0.0.1 --port=53 --address=/funnel.test/%s\n' "$SVC_DNS_ANSWER"
svc_dnsmasq dns hoster 127.0.0.1 53 || fail "dnsmasq did not start in hoster"
printf '  $ freeradius -f -d %s (user %s, client secret %s)\n' "$SVC_DIR/radius.raddb" "$SVC_RADIUS_USER" "$SVC_RADIUS_SECRET"
svc_freeradius radius hoster 127.0.0.1 1812 || fail "freeradius did not start in hoster"
if ip netns exec provider dig @10.0.0.2 -p 53 +short +tries=1 +time=1 www.funnel.test 2>/dev/null |
	grep -qF "$SVC_DNS_ANSWER"; then
	fail "dnsmasq answers the provider directly: the demo would prove nothing"
fi
echo "  (the provider cannot reach them directly: they listen on hoster's 127.0.0.1)"

step "hoster: funneld with a configuration file"
conf_h="# /tmp/funnel-demo/hoster.conf
identity funnel/hoster keytab $KRB/hoster.keytab
listen :9899
service add dns udp 127.0.0.1:53 allow provider@FUNNEL.TEST
service add radius udp 127.0.0.1:1812 allow provider@FUNNEL.TEST
service add dns-internal udp 127.0.0.1:53 allow somebody-else@FUNNEL.TEST"
echo "$conf_h" | sed 's/^/    /'
echo "  $ ip netns exec hoster funneld -f -c $SVC_DIR/hoster.conf -s $SVC_DIR/hoster.sock -n hoster &"
fd_start hoster hoster "$conf_h" -n hoster || fail "funneld did not start in hoster"

step "provider: funneld, then two maps added with funnelctl while it runs"
conf_p="# /tmp/funnel-demo/provider.conf
identity provider keytab $KRB/provider.keytab
peer add hoster 10.0.0.2 principal funnel/hoster"
echo "$conf_p" | sed 's/^/    /'
echo "  $ ip netns exec provider funneld -f -c $SVC_DIR/provider.conf -s $SVC_DIR/provider.sock -n provider &"
fd_start provider provider "$conf_p" -n provider || fail "funneld did not start in provider"
P="funnelctl -s $SVC_DIR/provider.sock"
run ip netns exec provider $P map add udp 127.0.0.1:5300 peer hoster service dns ||
	fail "map add dns refused"
run ip netns exec provider $P map add udp 127.0.0.1:1812 peer hoster service radius ||
	fail "map add radius refused"
echo "  waiting for the carrier and the two streams (a Kerberos exchange each)..."
fd_wait provider 30 "carrier('hoster').get('state') == 'up' and len(j['maps']) == 2 and all(m['state'] == 'open' for m in j['maps'])" ||
	{ fd_ctl provider show; fail "the carrier or the maps did not open within 30 s"; }
read -r path peer_p dns_gen rad_gen < <(fd_json provider \
	'carrier("hoster")["datapath"]' 'carrier("hoster").get("principal")' \
	'stream("dns").get("key_generation", 0)' 'stream("radius").get("key_generation", 0)' | tr '\n' ' ')
client_p=$(fd_json hoster 'carrier().get("principal")')
echo "  carrier up, streams open; data path: $path"
echo "  the provider's funneld proved the hoster is $peer_p; the hoster's proved the provider is $client_p"
echo "  dns stream sealed, key generation $dns_gen; radius stream sealed, key generation $rad_gen"
sealed=0
[ "$peer_p" = funnel/hoster@FUNNEL.TEST ] && [ "$client_p" = provider@FUNNEL.TEST ] &&
	[ "${dns_gen:-0}" -ge 1 ] && [ "${rad_gen:-0}" -ge 1 ] && sealed=1

step "provider: DNS and RADIUS through Funnel"
echo "  \$ ip netns exec provider dig @127.0.0.1 -p 5300 www.funnel.test +short"
dns=$(ip netns exec provider dig @127.0.0.1 -p 5300 +short +tries=2 +time=2 www.funnel.test 2>&1)
echo "$dns" | sed 's/^/  /'
dns=$(echo "$dns" | head -n 1)
many=$(svc_dig_many provider 127.0.0.1 5300 50); many_rc=$?
echo "  and 50 more queries for h0..h49.funnel.test, each from its own port: $many"
echo "  \$ echo \"User-Name=$SVC_RADIUS_USER,User-Password=$SVC_RADIUS_PASS\" | ip netns exec provider radclient 127.0.0.1:1812 auth $SVC_RADIUS_SECRET"
rad=$(svc_radauth provider 127.0.0.1 1812); rad_rc=$?
echo "$rad" | sed 's/^/  /'

step "On the wire: a capture of the carrier while one query goes through"
secret=nobody-reads-this.funnel.test
cap=$SVC_DIR/carrier.pcap
echo "  \$ ip netns exec hoster tcpdump -i wire -w $cap sctp or port 9899 &    (and on hoster's lo: udp port 53)"
rm -f "$cap" "$cap.lo"
ip netns exec hoster tcpdump --immediate-mode -U -s 0 -i wire -w "$cap" sctp or port 9899 >/dev/null 2>"$cap.err" &
tpid=$!
ip netns exec hoster tcpdump --immediate-mode -U -s 0 -i lo -w "$cap.lo" udp port 53 >/dev/null 2>"$cap.lo.err" &
tpid_lo=$!
for _ in $(seq 200); do # until both say their filter is attached
	[ "$(grep -l 'listening on' "$cap.err" "$cap.lo.err" 2>/dev/null | wc -l)" = 2 ] && break
	sleep 0.05
done
echo "  \$ ip netns exec provider dig @127.0.0.1 -p 5300 $secret +short"
ip netns exec provider dig @127.0.0.1 -p 5300 +short +tries=2 +time=2 "$secret" 2>&1 | sed 's/^/  /'
sleep 1
kill "$tpid" "$tpid_lo" 2>/dev/null
wait "$tpid" "$tpid_lo" 2>/dev/null
echo "  \$ tcpdump -r $cap -nn -q -t      (the packets of 120 bytes or more: the sealed query and answer)"
# the packets' lengths (whatever the carrier: SCTP, SCTP in UDP, TCP)
segs=$(tcpdump -r "$cap" -nn -q -t -e 2>/dev/null | sed -n 's/.*, length \([0-9]*\): \(.*\)/\1 \2/p')
echo "$segs" | awk '$1 + 0 >= 120' | cut -d' ' -f2- | head -n 6 | sed 's/^/    /'
small=$(echo "$segs" | awk '$1 + 0 > 0 && $1 + 0 < 120 { print $1 }')
[ -n "$small" ] && echo "    (and $(echo "$small" | wc -l) smaller ones, of $(echo "$small" | sort -nu | paste -sd/) bytes: acknowledgements)"
echo "  \$ tcpdump -r $cap.lo -nn -t      (hoster's lo: funneld <-> dnsmasq)"
tcpdump -r "$cap.lo" -nn -t 2>/dev/null | head -n 4 | sed 's/^/    /'
# the sealed query and answer are on the wire (frames at least as long
# as the 70-byte DNS messages), and the name is nowhere in them
sealed_segs=$(echo "$segs" | awk '$1 + 0 >= 120' | wc -l)
on_wire=$(grep -ac "${secret%%.*}" "$cap" 2>/dev/null)
on_lo=$(grep -ac "${secret%%.*}" "$cap.lo" 2>/dev/null)
echo "  \"${secret%%.*}\" in the carrier capture: ${on_wire:-0} times ($sealed_segs sealed DNS segments);" \
	"on hoster's lo: ${on_lo:-0} times"
wire_ok=0
[ "${on_wire:-0}" = 0 ] && [ "${on_lo:-0}" -gt 0 ] && [ "$sealed_segs" -ge 2 ] && wire_ok=1

# show, with the first 3 flows of each stream (one flow per dig query)
short_flows() {
	awk '/^ +flow / { if (++n <= 3) print; else more++; next }
	     { if (more) printf "    ... and %d more flows\n", more; n = 0; more = 0; print }
	     END { if (more) printf "    ... and %d more flows\n", more }' | sed 's/^/  /'
}
step "funnelctl show, provider side"
echo "  \$ ip netns exec provider $P show"
ip netns exec provider $P show | short_flows
step "funnelctl show, hoster side"
echo "  \$ ip netns exec hoster funnelctl -s $SVC_DIR/hoster.sock show"
fd_ctl hoster show | short_flows

step "Authorization: hoster's service dns-internal allows only somebody-else@FUNNEL.TEST"
run ip netns exec provider $P map add udp 127.0.0.1:5301 peer hoster service dns-internal ||
	fail "map add dns-internal refused by funnelctl"
refused=0
if fd_wait provider 20 "'not-authorized' in str(map_(5301).get('reason'))"; then
	refused=1
	echo "  the map is $(fd_json provider "map_(5301).get('state')"): $(fd_json provider "map_(5301).get('reason')")"
else
	echo "  the map did not get refused: $(fd_json provider 'json.dumps(map_(5301))')"
fi
echo "  hoster's log:"
grep 'refused (not authorized)' "$SVC_DIR/hoster.log" | tail -n 1 | cut -d' ' -f2- | sed 's/^/    /'

echo "  \$ ip netns exec provider dig @127.0.0.1 -p 5301 www.funnel.test +short +tries=1 +time=1"
ip netns exec provider dig @127.0.0.1 -p 5301 +short +tries=1 +time=1 www.funnel.test 2>&1 | sed 's/^/  /'
echo "  \$ ip netns exec provider dig @127.0.0.1 -p 5300 www.funnel.test +short     (dns, allowed, goes on)"
dns2=$(ip netns exec provider dig @127.0.0.1 -p 5300 +short +tries=2 +time=2 www.funnel.test 2>&1)
echo "$dns2" | sed 's/^/  /'
dns2=$(echo "$dns2" | head -n 1)

echo
echo "================================================================"
res=0
if [ "$dns" = "$SVC_DNS_ANSWER" ] && [ $many_rc = 0 ]; then
	echo "DNS      ok: dig @127.0.0.1 -p 5300 www.funnel.test -> $dns via Funnel ($path data path)"
else
	echo "DNS      FAILED: dig @127.0.0.1 -p 5300 www.funnel.test -> '${dns:-no answer}' (want $SVC_DNS_ANSWER); $many"
	res=1
fi
if [ $rad_rc = 0 ]; then
	echo "RADIUS   ok: radclient 127.0.0.1:1812 auth (User-Name=$SVC_RADIUS_USER) -> Access-Accept via Funnel ($path data path)"
else
	echo "RADIUS   FAILED: radclient 127.0.0.1:1812 auth -> $(echo "$rad" | grep -oiE 'Received Access-[A-Za-z]+|no reply' | tail -n 1)"
	res=1
fi
if [ $sealed = 1 ] && [ $wire_ok = 1 ]; then
	echo "KERBEROS ok: carrier between $client_p and $peer_p, streams sealed (AES-256-GCM), the query name not on the wire"
else
	echo "KERBEROS FAILED: peers '${client_p:-?}' / '${peer_p:-?}', key generations ${dns_gen:-?} ${rad_gen:-?}, name on the wire ${on_wire:-?} times in $sealed_segs segments (lo ${on_lo:-?})"
	res=1
fi
if [ $refused = 1 ] && [ "$dns2" = "$SVC_DNS_ANSWER" ]; then
	echo "ALLOW    ok: map to dns-internal refused (not authorized) for provider@FUNNEL.TEST, dns answers on"
else
	echo "ALLOW    FAILED: dns-internal refused: $refused, dns afterwards: '${dns2:-no answer}'"
	res=1
fi
echo "================================================================"
[ $res = 0 ] || fail "see above"
svc_stop provider TERM || echo "demo: funneld (provider) did not exit 0 on SIGTERM" >&2
svc_stop hoster TERM || echo "demo: funneld (hoster) did not exit 0 on SIGTERM" >&2
exit 0
