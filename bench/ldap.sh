#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: the LDAP plugin (Documentation/plugins.md, issue 17) in one
# VM run: slapd in netns fs with 20000 people; from fc, an ldapsearch
# of all of them in a loop (a 20000-entry result, again and again)
# beside 200 small compares, one after the other, each on a connection
# of its own (a CompareRequest of uid=u7's cn, timed from connect() to
# the CompareResponse), through
#   plugin sctp   a map with "plugin ldap" over a native SCTP carrier
#                 (a plugin stream, phase 2)
#   plain tcp     a map without it over a TCP carrier
#   plugin tcp, plain sctp: the other two, to tell the carrier from the
#                 plugin
# funneld on the userspace data path at both ends unless BENCH_DATAPATH
# says otherwise (TCP services run in funneld on either; a plugin stream
# is unordered on every SCTP carrier, keyed or not), plaintext carriers
# unless BENCH_SEALED=1, the link with netem delay 5 ms each way, then
# also loss 1% each way.  Prints the compares' p50
# and p99 (ms) per row, the searches done meanwhile, and the ratios
# plain tcp / plugin sctp (above 1: the plugin map's compares are
# faster).  TCG emulates the CPUs: read ratios within the run, never
# the absolute numbers.  Not a test: it never fails on a number.
#
#   bench/ldap.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#
# BENCH_DATAPATH=kernel: funneld on the kernel path.  BENCH_SEALED=1:
# Kerberos on every carrier (a throwaway KDC in fs), every stream sealed.
set -u
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	BENCH_KINDS=${BENCH_DATAPATH:-}${BENCH_SEALED:+:sealed} bench_boot bench/ldap.sh 1500 0 "$@"
fi

export PATH=$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
[ -n "${BENCH_BIN:-}" ] && export PATH=$BENCH_BIN:$PATH
# bench_boot passes BENCH_KINDS into the guest: here "DATAPATH[:sealed]"
BENCH_DATAPATH=${BENCH_DATAPATH:-${BENCH_KINDS%%:*}}
case ${BENCH_KINDS:-} in *:sealed) BENCH_SEALED=1 ;; esac
# shellcheck source=lib.sh
. "$FUNNEL_TOP/bench/lib.sh"
# shellcheck source=../selftests/kmod/lib.sh
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
# shellcheck source=../selftests/lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../selftests/lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"
W=$(mktemp -d)
cleanup() { svc_stop_all; kdc_stop; sites_down >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
modprobe funnel
modprobe sctp
sites_up >/dev/null || exit 1
svc_init
NCMP=200
PEOPLE=20000
DP=${BENCH_DATAPATH:-user}
S_ID="plaintext" C_ID="plaintext" PRINC="" ALLOW="" MODE=plaintext
if [ "${BENCH_SEALED:-}" = 1 ]; then
	if ! { kdc_start "$W/krb" 10.99.0.2 fs && kdc_addprinc funnel/s &&
	       kdc_addprinc c && kdc_keytab "$W/s.kt" funnel/s &&
	       kdc_keytab "$W/c.kt" c; } >"$W/kdc.out" 2>&1; then
		echo "bench: KDC set-up failed"; cat "$W/kdc.out"; exit 1
	fi
	S_ID="identity funnel/s keytab $W/s.kt"
	C_ID="identity c keytab $W/c.kt"
	PRINC=" principal funnel/s" ALLOW=" allow c@FUNNEL.TEST" MODE="sealed (Kerberos)"
fi

echo "bench: $(uname -r), funneld --datapath $DP, $MODE, slapd with $PEOPLE people, ldapsearch of all of them in a loop beside $NCMP compares (one connection each), netem delay 5 ms each way (and loss 1% each way), 2 CPUs (TCG)"
t0=$(date +%s)
svc_slapd bldap fs 127.0.0.1 7389 "$PEOPLE" 0 ||
	{ echo "bench: slapd did not start"; exit 1; }
BASE=ou=people,$SVC_LDAP_BASE
echo "bench: slapd up with $PEOPLE entries in $(( $(date +%s) - t0 ))s"

fd_start S fs "$S_ID
listen :9899
service add ldap tcp 127.0.0.1:7389 plugin ldap$ALLOW
service add ldapplain tcp 127.0.0.1:7389$ALLOW" --datapath "$DP" -l warning ||
	{ echo "bench: funneld S did not start"; exit 1; }
fd_start C fc "$C_ID
peer add ssctp 10.99.0.2:9899 carrier sctp$PRINC
peer add stcp 10.99.0.2:9899 carrier tcp$PRINC
map add tcp 127.0.0.1:3890 peer ssctp service ldap plugin ldap
map add tcp 127.0.0.1:3891 peer stcp service ldapplain
map add tcp 127.0.0.1:3892 peer stcp service ldap plugin ldap
map add tcp 127.0.0.1:3893 peer ssctp service ldapplain" --datapath "$DP" -l info ||
	{ echo "bench: funneld C did not start"; exit 1; }
if ! fd_wait C 30 'len(j["maps"]) == 4 and all(m["state"] == "open" for m in j["maps"])'; then
	echo "bench: the maps did not open: the numbers mean nothing"
	fd_ctl C show 2>&1 | tail -n 20
fi
grep -E "stream [0-9]+ open: map" "$SVC_DIR/C.log" | sed 's/^.*: stream/  stream/'

# netem PARAMS...: on both ends of the link, each way
netem() {
	ip netns exec fc tc qdisc replace dev vc root netem "$@"
	ip netns exec fs tc qdisc replace dev vs root netem "$@"
}

# The compares: NCMP of them from fc to 127.0.0.1:PORT, one after the
# other, each on a new connection; prints "p50 P99 n N fail F" (ms)
cat >"$W/cmp.py" <<'EOF'
import socket, sys, time
port, n, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def tlv(t, b):
    n = len(b)
    if n < 128:
        return bytes([t, n]) + b
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([t, 0x80 | len(ln)]) + ln + b
s = lambda x: tlv(4, x.encode())
req = tlv(0x30, tlv(2, b"\x01") + tlv(0x6e, s("uid=u7," + base) +
                                        tlv(0x30, s("cn") + s("User 7"))))
lat, fail = [], 0
for i in range(n):
    t = time.monotonic()
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=20)
        c.sendall(req)
        got = b""
        while len(got) < 2 or len(got) < 2 + got[1]:
            b = c.recv(4096)
            if not b:
                break
            got += b
        c.close()
        # CompareResponse (0x6f), resultCode compareTrue (6)
        if b"\x6f" not in got[:8] or b"\x0a\x01\x06" not in got:
            fail += 1
            continue
    except OSError:
        fail += 1
        continue
    lat.append((time.monotonic() - t) * 1000)
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0
print("p50 %.1f p99 %.1f n %d fail %d" % (pick(0.50), pick(0.99), len(lat), fail))
EOF

declare -A R
ROWS=("plugin sctp:3890" "plain tcp:3891" "plugin tcp:3892" "plain sctp:3893")

# measure ROW PORT LOSS: the search loop in the background, the compares
measure() {
	local row=$1 port=$2 loss=$3 out spid searches
	: >"$W/searches"
	(
		while :; do
			if ip netns exec fc timeout 300 ldapsearch -x -LLL -H "ldap://127.0.0.1:$port" \
				-b "$BASE" '(objectClass=inetOrgPerson)' >"$W/search.out" 2>&1; then
				grep -c '^dn: ' "$W/search.out" >>"$W/searches"
			else
				echo fail >>"$W/searches"
			fi
		done
	) &
	spid=$!
	sleep 1		# the search is under way
	out=$(ip netns exec fc python3 "$W/cmp.py" "$port" "$NCMP" "$BASE" 2>&1 | tail -n 1)
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	pkill -P "$spid" 2>/dev/null
	searches="$(grep -c "^$PEOPLE$" "$W/searches") whole, $(grep -vc "^$PEOPLE$" "$W/searches") not"
	R[$row:$loss:p50]=$(echo "$out" | sed -n 's/^p50 \([0-9.]*\) .*/\1/p')
	R[$row:$loss:p99]=$(echo "$out" | sed -n 's/.* p99 \([0-9.]*\) .*/\1/p')
	R[$row:$loss:n]=$(echo "$out" | sed -n 's/.* n \([0-9]*\) fail \([0-9]*\).*/\1 ok, \2 failed/p')
	R[$row:$loss:s]=$searches
	echo "  $row loss $loss%: $out; searches meanwhile: $searches" >>"$W/raw"
}

# one search through each map first: slapd's caches and every path warm,
# so that the row measured first pays for nothing the others do not
for r in "${ROWS[@]}"; do
	ip netns exec fc timeout 300 ldapsearch -x -LLL -H "ldap://127.0.0.1:${r##*:}" \
		-b "$BASE" '(objectClass=inetOrgPerson)' dn >/dev/null 2>&1 ||
		echo "bench: the warm-up search through ${r%%:*} failed"
done

for loss in 0 1; do
	if [ "$loss" = 0 ]; then netem delay 5ms; else netem delay 5ms loss 1%; fi
	for r in "${ROWS[@]}"; do
		measure "${r%%:*}" "${r##*:}" "$loss"
	done
done
netem delay 0ms

printf '%-12s %5s | %9s %9s | %-18s | %s\n' map loss "p50 ms" "p99 ms" compares "searches of $PEOPLE meanwhile"
for loss in 0 1; do
	for r in "${ROWS[@]}"; do
		row=${r%%:*}
		printf '%-12s %4s%% | %9s %9s | %-18s | %s\n' "$row" "$loss" \
			"${R[$row:$loss:p50]:-?}" "${R[$row:$loss:p99]:-?}" \
			"${R[$row:$loss:n]:-?}" "${R[$row:$loss:s]:-?}"
	done
done
echo "(ratios: plain tcp's latency over plugin sctp's; above 1 = the plugin map's compares are faster)"
for loss in 0 1; do
	printf 'plain tcp / plugin sctp, loss %s%%:  p50 %s  p99 %s\n' "$loss" \
		"$(bench_ratio "${R[plain tcp:$loss:p50]:-0}" "${R[plugin sctp:$loss:p50]:-0}")" \
		"$(bench_ratio "${R[plain tcp:$loss:p99]:-0}" "${R[plugin sctp:$loss:p99]:-0}")"
	printf 'plain sctp / plugin sctp, loss %s%%: p50 %s  p99 %s\n' "$loss" \
		"$(bench_ratio "${R[plain sctp:$loss:p50]:-0}" "${R[plugin sctp:$loss:p50]:-0}")" \
		"$(bench_ratio "${R[plain sctp:$loss:p99]:-0}" "${R[plugin sctp:$loss:p99]:-0}")"
done
echo "raw lines:"
cat "$W/raw"
fd_json S "[(s['id'], s['stats']['rx-drop-malformed'], s['stats']['rx-drop-replay']) for c in j['carriers'] for s in c['streams']]" 2>/dev/null |
	sed 's/^/S streams (id, rx-drop-malformed, rx-drop-replay): /'
