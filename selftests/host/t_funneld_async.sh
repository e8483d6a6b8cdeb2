#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funneld's blocking calls run off its event loop (worker threads), on
# this host (userspace data path, no VM):
#   A. A KDC that drops packets (UDP and TCP sockets that read and never
#      answer), with a real throwaway KDC (lib/kdc.sh) for the carrier
#      that is up: while a new peer's carrier waits on the dead KDC for
#      its GSS-API context, and later while a stream's rekey waits on it,
#      the sealed echo stream of the established carrier loses nothing
#      with a 500 ms timeout, `show` answers within 1 s, the stream keeps
#      its key generation; the waiting peer is deleted meanwhile (a job
#      cancelled while it runs); SIGTERM while a rekey still waits on the
#      KDC: funneld stops within 2 s.  C runs under valgrind.
#   B. Name resolution (needs root: a private mount namespace with its
#      own /etc/hosts and /etc/resolv.conf, whose name server drops every
#      query): a peer name with two addresses, the first one not
#      answering (a listener whose backlog is full), is reached on the
#      second; a peer name and a service target name that wait on the
#      dead name server do not stop the echo on another stream, and
#      `show` answers within 1 s, on both sides.
#
# usage: selftests/host/t_funneld_async.sh
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
# SVC_KEEP=1 keeps the temp dir.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "funneld async"

for p in funneld funnelctl udp_pump valgrind python3 timeout; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found"; exit 1; }
done
svc_init
L=127.0.0.1
FD_START_TIMEOUT=30

# now: seconds since the epoch, with decimals
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# shows NAME COUNT: COUNT `show` each within 1 s; prints the times
shows() {
	local i t0 rc=0 times=""
	for i in $(seq "$2"); do
		t0=$(now)
		timeout 1 funnelctl -s "$SVC_DIR/$1.sock" show >/dev/null 2>&1 || rc=1
		times="$times $(since "$t0")"
		sleep 0.3
	done
	echo "$times"
	return $rc
}
# blackhole ADDR PORT PROTOS: a process that reads what comes on ADDR:PORT
# (udp, tcp or both) and never answers; registered as bh-PORT
blackhole() {
	python3 - "$1" "$2" "$3" <<'EOF' &
import select, socket, sys
addr, port, protos = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks, conns = [], []
if "udp" in protos:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    socks.append(u)
if "tcp" in protos:
    t = socket.socket()
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(64)
    socks.append(t)
while True:
    r, _, _ = select.select(socks + conns, [], [])
    for s in r:
        if s in conns:
            if not s.recv(65536):
                conns.remove(s)
                s.close()
        elif s.type == socket.SOCK_STREAM:
            conns.append(s.accept()[0])
        else:
            s.recv(65536)
EOF
	svc_register "bh$2" $!
}

# ---- A. a KDC that drops packets
# funnel/hoster's tickets live 70 s: a stream's context is renewed 10 s
# after it was made (security.md section 6), with fresh tickets
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/hoster 70 && kdc_addprinc funnel/other &&
   kdc_addprinc alice && kdc_keytab "$SVC_DIR/hoster.keytab" funnel/hoster funnel/other &&
   kdc_keytab "$SVC_DIR/alice.keytab" alice; then
	ok "kdc: FUNNEL.TEST on $L:$KDC_PORT; funnel/hoster (tickets of 70 s), funnel/other, alice"
else
	not_ok "kdc: set up"; exit 1
fi
svc_pick_port P_CAR; svc_pick_port P_ECHO; svc_pick_port P_M1; svc_pick_port P_M2
svc_pick_port P_BH
udp_pump echo $L "$P_ECHO" -q &
svc_register echo $!
blackhole $L "$P_BH" udp,tcp

fd_start S "" "identity funnel/hoster keytab $SVC_DIR/hoster.keytab
listen $L:$P_CAR
service add echo udp $L:$P_ECHO allow alice@FUNNEL.TEST" --datapath user ||
	not_ok "S starts"
FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-C.txt" fd_start C "" "identity alice keytab $SVC_DIR/alice.keytab
peer add s $L:$P_CAR principal funnel/hoster
map add udp $L:$P_M1 peer s service echo" --datapath user -l debug ||
	not_ok "C starts"
if fd_wait C 40 "carrier('s').get('state') == 'up' and map_($P_M1).get('state') == 'open'"; then
	ok "C: carrier to S up, the echo stream open and sealed (generation $(fd_json C "stream('echo').get('key_generation')"))"
else
	not_ok "C: carrier to S up and the echo map open"
	fd_ctl C show 2>&1 | diag; tail -n 20 "$SVC_DIR/C.log" | diag
fi
t_ctx=$(now)

# from now on the realm's KDC drops everything (krb5 reads krb5.conf again)
sed -i "s/^\([[:space:]]*kdc = \).*/\1$L:$P_BH/" "$KDC_DIR/krb5.conf"
out=$(KRB5CCNAME=MEMORY:probe timeout 3 kinit -k -t "$SVC_DIR/alice.keytab" alice 2>&1); rc=$?
if [ $rc = 124 ]; then
	ok "kdc: the realm's KDC is now $L:$P_BH, which drops packets (kinit still waiting after 3 s)"
else
	not_ok "kdc: kinit against the dropping KDC returned at once (exit $rc: $out)"
fi

# a carrier whose context needs a ticket for funnel/other: its first step
# waits on the dead KDC
udp_pump rr $L "$P_M1" -t 6 -w 1 -T 500 >"$SVC_DIR/rr1.out" 2>&1 &
rr=$!
sleep 0.5
fd_ctl C peer add dead $L:"$P_CAR" principal funnel/other >/dev/null 2>&1
sleep 0.5
if times=$(shows C 6); then
	ok "dead KDC: C's show answers within 1 s while a carrier waits on the KDC (s:$times)"
else
	not_ok "dead KDC: C's show within 1 s while a carrier waits on the KDC (s:$times)"
fi
check "dead KDC: the waiting carrier is 'connecting'" \
	fd_json C "carrier('dead').get('state') == 'connecting'"
wait $rr
out=$(tail -n 1 "$SVC_DIR/rr1.out")
case $out in
*" bad 0 lost 0 "*) ok "dead KDC: 6 s of echo through the sealed stream meanwhile, none over 500 ms: $out" ;;
*) not_ok "dead KDC: echo through the sealed stream meanwhile: $out" ;;
esac
# the peer goes while its job runs: the answer is thrown away later
check "dead KDC: peer del of the waiting peer" fd_ctl C peer del dead
check "dead KDC: the echo answers after the peer del" udp_pump rr $L "$P_M1" -n 20 -w 1 -T 1000

# the echo stream's context is renewed 10 s after it was made, with
# fresh tickets: its rekey waits on the dead KDC
while ! le 11 "$(since "$t_ctx")"; do sleep 0.2; done
udp_pump rr $L "$P_M1" -t 3 -w 1 -T 500 >"$SVC_DIR/rr2.out" 2>&1
out=$(tail -n 1 "$SVC_DIR/rr2.out")
g=$(fd_json C "stream('echo').get('key_generation')")
if grep -q 'stream [0-9]*: rekey: a new context' "$SVC_DIR/C.log" && [ "$g" = 1 ] &&
   ! grep -q 'rekey: GSS-API' "$SVC_DIR/C.log"; then
	case $out in
	*" bad 0 lost 0 "*) ok "rekey waits on the KDC: the stream keeps generation 1, 3 s of echo none over 500 ms: $out" ;;
	*) not_ok "rekey waits on the KDC: echo meanwhile: $out" ;;
	esac
else
	not_ok "rekey waits on the KDC: generation ${g:-?}, log: $(grep -E 'context valid|rekey' "$SVC_DIR/C.log" | tail -n 3)"
fi
if times=$(shows C 3); then
	ok "rekey waits on the KDC: show answers within 1 s (s:$times)"
else
	not_ok "rekey waits on the KDC: show within 1 s (s:$times)"
fi
# SIGTERM while the rekey's job is still in the KDC exchange
t0=$(now)
vg_check C
el=$(since "$t0")
if le "$el" 2 && grep -qE 'KDC lookup(s)? still running' "$SVC_DIR/C.log"; then
	ok "SIGTERM with a job waiting on the KDC: C stopped in ${el}s"
else
	not_ok "SIGTERM with a job waiting on the KDC: C took ${el}s ($(grep -c 'still running' "$SVC_DIR/C.log") 'still running' lines)"
fi
svc_stop S TERM
kdc_stop

# ---- B. name resolution, in a private mount namespace
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	ok "names: # SKIP needs root and mount namespaces"
	[ "$T_FAIL" = 0 ]
	exit
fi
svc_pick_port P_S2; svc_pick_port P_M3; svc_pick_port P_M4
# the name server drops every query; resolv.conf waits 3 s for it
blackhole 127.0.0.53 53 udp
printf 'nameserver 127.0.0.53\noptions timeout:3 attempts:1\n' >"$SVC_DIR/resolv.conf"
printf '127.0.0.1 dual.funnel.test\n127.0.0.2 dual.funnel.test\n' >"$SVC_DIR/hosts"
cat >"$SVC_DIR/ns" <<EOF
#!/bin/sh
# ns CMD...: CMD with this test's /etc/hosts and /etc/resolv.conf
exec unshare -m sh -c 'mount --bind "$SVC_DIR/hosts" /etc/hosts &&
	mount --bind "$SVC_DIR/resolv.conf" /etc/resolv.conf && exec "\$@"' ns "\$@"
EOF
chmod +x "$SVC_DIR/ns"
# the order getaddrinfo() gives: the first address does not answer
order=$("$SVC_DIR/ns" python3 -c "import socket; print(' '.join(a[4][0] for a in socket.getaddrinfo('dual.funnel.test', 1, socket.AF_INET, socket.SOCK_STREAM)))")
first=${order%% *} second=${order##* }
if [ "$first" != "$second" ] && [ -n "$second" ]; then
	ok "names: dual.funnel.test resolves to $order in the namespace"
else
	not_ok "names: dual.funnel.test resolves to '$order'"
fi
# a listener on the first address with a full backlog: SYNs are dropped
python3 - "$first" "$P_S2" <<'EOF' &
import socket, sys, time
l = socket.socket()
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(0)
c = socket.socket()
c.connect((sys.argv[1], int(sys.argv[2])))
time.sleep(3600)
EOF
svc_register full $!

FD_WRAP="$SVC_DIR/ns" fd_start S2 "" "plaintext
listen $second:$P_S2
service add echo udp $L:$P_ECHO
service add slow udp slow.funnel.test:$P_ECHO" --datapath user || not_ok "S2 starts"
t0=$(now)
FD_WRAP="$SVC_DIR/ns ${VG[*]} --log-file=$SVC_DIR/vg-C2.txt" fd_start C2 "" "plaintext
peer add s2 dual.funnel.test:$P_S2
map add udp $L:$P_M3 peer s2 service echo" --datapath user || not_ok "C2 starts"
if fd_wait C2 20 "carrier('s2').get('state') == 'up' and map_($P_M3).get('state') == 'open'"; then
	ok "names: C2 reached s2 at $(fd_json C2 "carrier('s2')['remote']") (the second address) in $(since "$t0")s: $(grep -m 1 'trying the next address' "$SVC_DIR/C2.log" | sed 's/.*: connect/connect/')"
else
	not_ok "names: C2's carrier to dual.funnel.test:$P_S2 up ($(fd_json C2 "carrier('s2').get('last_error')"))"
	tail -n 10 "$SVC_DIR/C2.log" | diag
fi
# a service target and a peer name that wait 3 s on the name server
udp_pump rr $L "$P_M3" -t 4 -w 1 -T 500 >"$SVC_DIR/rr3.out" 2>&1 &
rr=$!
sleep 0.3
fd_ctl C2 map add udp $L:"$P_M4" peer s2 service slow >/dev/null 2>&1
fd_ctl C2 peer add slowpeer slow.funnel.test:1 >/dev/null 2>&1
sleep 0.3
if times=$(shows S2 4); then
	ok "names: S2's show answers within 1 s while an OPEN's target name waits on the name server (s:$times)"
else
	not_ok "names: S2's show within 1 s while an OPEN's target name waits (s:$times)"
fi
if times=$(shows C2 2); then
	ok "names: C2's show answers within 1 s while a peer name waits on the name server (s:$times)"
else
	not_ok "names: C2's show within 1 s while a peer name waits (s:$times)"
fi
wait $rr
out=$(tail -n 1 "$SVC_DIR/rr3.out")
case $out in
*" bad 0 lost 0 "*) ok "names: 4 s of echo on the other stream meanwhile, none over 500 ms: $out" ;;
*) not_ok "names: echo on the other stream meanwhile: $out" ;;
esac
if fd_wait C2 10 "'cannot be resolved now' in map_($P_M4).get('reason', '') and 'cannot resolve' in carrier('slowpeer').get('last_error', '')" &&
   grep -q "service slow: cannot resolve" "$SVC_DIR/S2.log" &&
   ! fd_json C2 "'slow.funnel.test' in map_($P_M4).get('reason', '')" >/dev/null; then
	ok "names: refused without naming S2's target to the peer: $(fd_json C2 "map_($P_M4)['reason']") (S2 logs the name); peer: $(fd_json C2 "carrier('slowpeer')['last_error']")"
else
	not_ok "names: the slow names fail with 'cannot resolve': map $(fd_json C2 "map_($P_M4).get('reason')"), peer $(fd_json C2 "carrier('slowpeer').get('last_error')")"
fi
vg_check C2
svc_stop S2 TERM
[ "$T_FAIL" = 0 ]
