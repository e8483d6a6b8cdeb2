# SCTP carriers in funnel.ko (issue 13, kernel part), between netns fc and
# fs: DNS through kernel udp streams over IPv4 (plain) and IPv6 (sealed),
# CTRL frames both ways among 10k datagrams, the funneld side of an
# attached socket (carrier-new, stream-new and send refusals with their
# extack or errno, one frame per recv(), EAGAIN and EPOLLOUT, EOF),
# malformed messages from a raw SCTP peer, oversize, abort, close and a
# socket owner going away, PR-SCTP abandoning datagrams of a stalled link,
# a burst bundled in few SCTP packets and nothing held by bundling, a
# partial delivery SCTP aborts, a restart of the peer, carrier-new again
# after carrier-del, and rmmod refused while SCTP carriers live.
modprobe funnel
modprobe sctp
W=$(mktemp -d)
sites_up || not_ok "sctp: two netns joined by veth"
peer=$FUNNEL_TOP/selftests/kmod/sctppeer.py

# the "ok - " and "not ok - " lines of sctppeer.py count here
sctp_tap() {
	local l
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "${l#ok - }" ;;
		"not ok - "*) not_ok "${l#not ok - }" ;;
		*) echo "$l" ;;
		esac
	done
}

# down_seen NS ID REASON NAME: a carrier-down-ntf of carrier ID in NS's
# monitor output, with REASON (a number)
down_seen() {
	local i
	for i in $(seq 50); do
		awk -v id="$2" -v r="$3" '
			/^event=/ { e = $0; c = ""; rs = "" }
			/^carrier-id=/ { c = substr($0, 12) }
			/^reason=/ { rs = substr($0, 8) }
			/^$/ { if (e == "event=carrier-down-ntf" && c == id && rs == r) f = 1 }
			END { exit !f }' "$W/mon-$1.out" && { ok "$4"; return; }
		sleep 0.1
	done
	not_ok "$4"
	tail -n 12 "$W/mon-$1.out" | sed 's/^/#   /'
	return 1
}

# listening NAME...: until each sctppeer.py server NAME listens
listening() {
	local n
	for n in "$@"; do
		for i in $(seq 100); do
			grep -q '^# listening' "$W/$n" 2>/dev/null && break
			sleep 0.1
		done
	done
}
dns_server
ip netns exec fs udp_pump echo 127.0.0.1 7301 -q &
ip netns exec fs udp_pump echo 127.0.0.1 7401 -q &
ip netns exec fc udp_pump echo 127.0.0.1 7201 -q &
ip netns exec fs funnel-nl monitor 0 120 >"$W/mon-fs.out" 2>&1 &
ip netns exec fc funnel-nl monitor 0 120 >"$W/mon-fc.out" 2>&1 &
wait_files 5 "$W/mon-fs.out" "$W/mon-fc.out" && sleep 0.3

check "sctp: info-get names the sctp cap" \
	sh -c "funnel-nl info | grep -q 'sctp'"

# --- raw peers: malformed messages, oversize, abort, close, owner gone
for c in malformed:7011 oversize:7012 abort:7013 close:7014; do
	ip netns exec fs env SCTPPEER_READY="$W/${c%:*}.id" \
		SCTPPEER_DONE="$W/malformed.done" python3 "$peer" \
		server 10.99.0.2 "${c#*:}" "${c%:*}" >"$W/${c%:*}.py" 2>&1 &
done
listening malformed.py oversize.py abort.py close.py
for c in malformed:7011 oversize:7012 abort:7013 close:7014; do
	tun "${c%:*}" fc --sctp --connect 10.99.0.2:"${c#*:}" \
		--udp-connect 1:127.0.0.1:7201
done

# --- the funneld side of an attached socket, and a socket owner going
# away, meanwhile
ip netns exec fs python3 "$peer" server 10.99.0.2 7010 echo >"$W/echo.py" 2>&1 &
echo_srv=$!
listening echo.py
ip netns exec fc python3 "$peer" api 10.99.0.2 7010 >"$W/api.out" 2>&1 &
api=$!
ip netns exec fs python3 "$peer" server 10.99.0.2 7015 eof >"$W/owner-srv.out" 2>&1 &
owner_srv=$!
listening owner-srv.out
ip netns exec fc python3 "$peer" owner 10.99.0.2 7015 >"$W/owner.out" 2>&1 &
owner=$!

# --- A: IPv4, plain; B: IPv6, sealed; C: CTRL frames among datagrams;
# P: a stream with a PR-SCTP lifetime of 200 ms
tun sa fs --sctp --listen 10.99.0.2:7000 --udp-connect 1:127.0.0.1:5353
tun sb fs --sctp --listen '[fd99::2]:7001' --udp-connect '1:[::1]:5353' --unordered
tun sc fs --sctp --listen 10.99.0.2:7002 --udp-connect 1:127.0.0.1:7301 \
	--ctrl-send 400 --ctrl-expect 400 --ctrl-delay 300
tun sp fs --sctp --listen 10.99.0.2:7003 --udp-connect 1:127.0.0.1:7401
# (an SCTP connect() to a port nobody listens on yet may wait for INIT
# retransmissions: the listeners first)
for i in $(seq 50); do
	[ "$(ip netns exec fs ss -Hln --sctp | grep -c ':700[0-3] ')" = 4 ] && break
	sleep 0.1
done
tun ca fc --sctp --connect 10.99.0.2:7000 --udp-listen 1:127.0.0.1:5300
tun cb fc --sctp --connect '[fd99::2]:7001' --udp-listen '1:[::1]:5301' --unordered
tun cc fc --sctp --connect 10.99.0.2:7002 --udp-listen 1:127.0.0.1:5500 \
	--ctrl-send 400 --ctrl-expect 400 --ctrl-delay 300
tun cp fc --sctp --connect 10.99.0.2:7003 --udp-listen 1:127.0.0.1:5600 --pr-ttl 200
if wait_files 20 "$W"/{sa,ca,sb,cb,sc,cc,sp,cp}.id; then
	ok "sctp: four SCTP carriers with their streams set up by funnel-tun --sctp"
else
	# nothing else can pass: end here rather than wait for every query
	not_ok "sctp: four SCTP carriers with their streams set up by funnel-tun --sctp"
	tail -n 5 "$W"/*.out | sed 's/^/#   /'
	sites_down
	rm -rf "$W"
	return 0
fi
cb=$(cat "$W/cb.id") sb=$(cat "$W/sb.id")
cp=$(cat "$W/cp.id") sp=$(cat "$W/sp.id")
key fc "$cb" 1 0 1 "$K1" "$S1" "$K2" "$S2" >/dev/null
key fs "$sb" 1 0 1 "$K2" "$S2" "$K1" "$S1" >/dev/null

ip netns exec fc udp_pump rr 127.0.0.1 5500 -n 10000 -w 16 -T 5000 \
	>"$W/rr-c.out" 2>&1 &
# shellcheck disable=SC2034 # interleaved (lib.sh) waits for it
rr_c=$!

dns_test() { # NAME PORT SERVER
	local i
	: >"$W/q.txt"; : >"$W/want.txt"
	for i in $(seq 0 199); do
		echo "h$((i % 20)).funnel.test A" >>"$W/q.txt"
		echo "192.0.2.$((i % 20 + 1))" >>"$W/want.txt"
	done
	ip netns exec fc dig @"$3" -p "$2" +short +tries=3 +time=5 \
		-f "$W/q.txt" >"$W/got.txt" 2>&1
	if cmp -s "$W/want.txt" "$W/got.txt"; then
		ok "sctp: $1: 200 dig queries through the carrier, all answered right"
	else
		not_ok "sctp: $1: 200 dig queries through the carrier, all answered right"
		diff "$W/want.txt" "$W/got.txt" | head -n 5 | sed 's/^/#   /'
	fi
}
dns_test "DNS over IPv4, plain" 5300 127.0.0.1
dns_test "DNS over IPv6, sealed" 5301 ::1
ip netns exec fc funnel-nl raw carrier-get carrier-id=u32:"$cb" >"$W/cb.get"
if grep -qx 'transport=2' "$W/cb.get" && grep -qx 'local-ipv6=fd99::1' "$W/cb.get" &&
   grep -qx 'remote-ipv6=fd99::2' "$W/cb.get" && grep -qx 'remote-port=7001' "$W/cb.get"; then
	ok "sctp: carrier-get: transport sctp, the primary path's addresses"
else
	not_ok "sctp: carrier-get: transport sctp, the primary path's addresses"
	sed 's/^/#   /' "$W/cb.get"
fi
txc=$(nlget fc keyconf.tx-counter key-get carrier-id=u32:"$cb" stream-id=u16:1 keyconf.slot=u32:0)
rxf=$(nlget fs stats.rx-frames stream-get carrier-id=u32:"$sb" stream-id=u16:1)
bad=$(nlget fs stats.rx-drop-auth stream-get carrier-id=u32:"$sb" stream-id=u16:1)
if [ "${txc:-0}" -gt 200 ] && [ "${rxf:-0}" -ge 200 ] && [ "$bad" = 0 ]; then
	ok "sctp: sealed: the client sealed $((txc - 1)) frames, the server opened $rxf"
else
	not_ok "sctp: sealed: tx-counter ${txc:-?}, server rx-frames ${rxf:-?}, rx-drop-auth ${bad:-?}"
fi

# --- CTRL frames both ways among 10k datagrams (carrier C)
interleaved sctp

# --- the results of the funneld side, before the link stalls
wait $api
sctp_tap <"$W/api.out"
wait $echo_srv || sed 's/^/#   /' "$W/echo.py"
wait $owner
sctp_tap <"$W/owner.out"
wait $owner_srv
if grep -qx eof "$W/owner-srv.out"; then
	ok "sctp: the socket owner gone: the association is shut down"
else
	not_ok "sctp: the socket owner gone: the association is shut down"
	sed 's/^/#   /' "$W/owner-srv.out"
fi
# the malformed peer holds its carrier up until malformed.done: counters now
for i in $(seq 100); do
	grep -q 'malformed: after' "$W/malformed.py" && break
	sleep 0.1
done
mid=$(cat "$W/malformed.id")
ip netns exec fc funnel-nl raw carrier-get carrier-id=u32:"$mid" >"$W/malformed.stats"
touch "$W/malformed.done"

# --- PR-SCTP: datagrams sent while the link is stalled longer than the
# 200 ms lifetime are abandoned, not delivered late
ip netns exec fc udp_pump rr 127.0.0.1 5600 -n 10 >/dev/null 2>&1
rx0=$(nlget fs stats.rx-frames stream-get carrier-id=u32:"$sp" stream-id=u16:1)
ip netns exec fc tc qdisc add dev vc root netem loss 100%
ip netns exec fc python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(b"stale %d" % i, ("127.0.0.1", 5600))
    time.sleep(0.01)'
sleep 1
ip netns exec fc tc qdisc del dev vc root
sleep 1
rx1=$(nlget fs stats.rx-frames stream-get carrier-id=u32:"$sp" stream-id=u16:1)
ab=$(nlget fc tx-abandoned stream-get carrier-id=u32:"$cp" stream-id=u16:1)
abc=$(nlget fc tx-abandoned carrier-get carrier-id=u32:"$cp")
late=$((rx1 - rx0))
if [ "${rx0:-0}" -ge 10 ] && [ "$late" -le 5 ] && [ "${ab:-0}" -ge 45 ] &&
   [ "$abc" = "$ab" ]; then
	ok "sctp: PR-SCTP: of 50 datagrams sent into a 1 s stall, $late delivered late, $ab abandoned"
else
	not_ok "sctp: PR-SCTP: of 50 stalled datagrams ${late} delivered late (want <= 5), ${ab:-?} abandoned (carrier ${abc:-?})"
fi
check "sctp: PR-SCTP: the stream carries datagrams again after the stall" \
	ip netns exec fc udp_pump rr 127.0.0.1 5600 -n 10 -T 3000

# --- the same as one burst of 300 datagrams of 1000 bytes: more than
# SCTP's send buffer takes; the rest waits in funnel.ko's queue, and the
# lifetime runs there too (abandoned, never sent late with a new one)
rx0=$(nlget fs stats.rx-frames stream-get carrier-id=u32:"$sp" stream-id=u16:1)
ab0=$(nlget fc tx-abandoned stream-get carrier-id=u32:"$cp" stream-id=u16:1)
dq0=$(nlget fc stats.tx-drop-queue carrier-get carrier-id=u32:"$cp")
ip netns exec fc tc qdisc add dev vc root netem loss 100%
ip netns exec fc python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(b"%04d" % i + bytes(996), ("127.0.0.1", 5600))'
sleep 1
ip netns exec fc tc qdisc del dev vc root
sleep 1.5
rx1=$(nlget fs stats.rx-frames stream-get carrier-id=u32:"$sp" stream-id=u16:1)
ab=$(nlget fc tx-abandoned stream-get carrier-id=u32:"$cp" stream-id=u16:1)
dq=$(nlget fc stats.tx-drop-queue carrier-get carrier-id=u32:"$cp")
late=$((rx1 - rx0)) ab=$((ab - ab0)) dq=$((dq - dq0))
if [ "$late" -le 5 ] && [ "$ab" -ge 100 ] && [ $((ab + dq)) -ge 295 ]; then
	ok "sctp: PR-SCTP: of a burst of 300 datagrams into a 1 s stall, $late delivered late, $ab abandoned (in SCTP or in funnel.ko's queue), $dq beyond the queue's room"
else
	not_ok "sctp: PR-SCTP: burst of 300 into a stall: $late delivered late (want <= 5), $ab abandoned, $dq dropped at the queue (want >= 295 together)"
fi

# --- bundling: the sender work sends every queued frame but the last
# with MSG_MORE, so a burst leaves in far fewer SCTP packets than
# datagrams (DATA chunks bundled); a lone datagram still goes at once
# (MSG_MORE never stays on the last one)
check "sctp: bundling: lone datagrams go at once (20 requests, one at a time, 300 ms timeout)" \
	ip netns exec fc udp_pump rr 127.0.0.1 5600 -n 20 -w 1 -T 300
sctp_out_packs() {
	ip netns exec "$1" cat /proc/net/sctp/snmp | awk '$1 == "SctpOutSCTPPacks" { print $2 }'
}
rx0=$(nlget fs stats.rx-frames stream-get carrier-id=u32:"$sp" stream-id=u16:1)
pk0=$(sctp_out_packs fc)
ip netns exec fc udp_pump blast 127.0.0.1 5600 -t 1 -s 64 >"$W/blast.out" 2>&1
sleep 1
pk=$(( $(sctp_out_packs fc) - pk0 ))
rx=$(( $(nlget fs stats.rx-frames stream-get carrier-id=u32:"$sp" stream-id=u16:1) - rx0 ))
# (the client's packets include its SACKs of the echoed datagrams)
if [ "$rx" -ge 200 ] && [ $((pk * 3)) -le "$rx" ]; then
	ok "sctp: bundling: $rx datagrams of a burst arrived, the client sent $pk SCTP packets"
else
	not_ok "sctp: bundling: $rx datagrams of a burst arrived (want >= 200) in $pk SCTP packets from the client (want <= a third)"
	sed 's/^/#   /' "$W/blast.out"
fi
ip netns exec fc udp_pump rr 127.0.0.1 5600 -n 20 -w 1 -T 300 >"$W/after.out" 2>&1
echo "# after the burst: $(cat "$W/after.out")"
check "sctp: bundling: the stream carries datagrams after the burst" \
	ip netns exec fc udp_pump rr 127.0.0.1 5600 -n 20 -w 1 -T 3000

# --- bundling never holds a frame: with an 8 KiB send buffer, 20 small
# datagrams then one of 9000 bytes (SCTP refuses it: EMSGSIZE), 20 times:
# every small one is echoed at once.  A frame sent with MSG_MORE ahead of
# one SCTP refuses stays held until SCTP flushes for another reason;
# held chunks that fill the send buffer stopped the carrier's transmit
# until a heartbeat (30 s on funnel-tun's carriers)
old_wmem=$(sysctl -n net.core.wmem_default)
sysctl -qw net.core.wmem_default=8192
ip netns exec fs sysctl -qw net.core.wmem_default=8192 2>/dev/null
ip netns exec fc sysctl -qw net.core.wmem_default=8192 2>/dev/null
tun sh fs --sctp --listen 10.99.0.2:7004 --udp-connect 1:127.0.0.1:7401
for i in $(seq 50); do
	[ "$(ip netns exec fs ss -Hln --sctp | grep -c ':7004 ')" = 1 ] && break
	sleep 0.1
done
tun ch fc --sctp --connect 10.99.0.2:7004 --udp-listen 1:127.0.0.1:5700
if wait_files 20 "$W"/sh.id "$W"/ch.id; then
	sysctl -qw net.core.wmem_default="$old_wmem"
	ip netns exec fc python3 - >"$W/hold.out" 2>&1 <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.05)
short = []
for r in range(20):
    for i in range(20):
        s.sendto(b"r%02d-%02d" % (r, i) + bytes(58), ("127.0.0.1", 5700))
    s.sendto(bytes(9000), ("127.0.0.1", 5700))
    got, t0 = 0, time.time()
    while got < 20 and time.time() - t0 < 2:
        try:
            if len(s.recv(70000)) == 64:
                got += 1
        except socket.timeout:
            pass
    if got < 20:
        short.append((r, got))
print("rounds short of 20 echoes within 2 s:", short)
PY
	if grep -qx 'rounds short of 20 echoes within 2 s: \[\]' "$W/hold.out"; then
		ok "sctp: bundling holds nothing: 20 x (20 small + 1 refused 9000-byte) with an 8 KiB send buffer, every small one echoed within 2 s"
	else
		not_ok "sctp: bundling holds nothing: $(cat "$W/hold.out")"
		ip netns exec fc cat /proc/net/sctp/assocs | sed 's/^/#   /'
	fi
else
	sysctl -qw net.core.wmem_default="$old_wmem"
	not_ok "sctp: bundling holds nothing: carriers with an 8 KiB send buffer set up"
fi
ip netns exec fs sysctl -qw net.core.wmem_default="$old_wmem" 2>/dev/null
ip netns exec fc sysctl -qw net.core.wmem_default="$old_wmem" 2>/dev/null

id=$(awk '/^event=carrier-down-ntf/ { e = 1 } e && /^carrier-id=/ { c = substr($0, 12) } e && /^reason=7$/ { print c; exit }' "$W/mon-fc.out")
if [ -n "$id" ]; then
	ok "sctp: the socket owner gone: carrier-down-ntf reason owner-gone"
else
	not_ok "sctp: the socket owner gone: carrier-down-ntf reason owner-gone"
fi

wait_files 10 "$W"/{malformed,oversize,abort,close}.id
sctp_tap <"$W/malformed.py"
want="stats.rx-drop-malformed=5 stats.rx-drop-unknown-type=1"
miss=""
for w in $want; do grep -qx "$w" "$W/malformed.stats" || miss="$miss $w"; done
if [ -z "$miss" ]; then
	ok "sctp: malformed: short, wrong-stream, CTRL-on-5, reserved flag, garbage: 5 malformed, 1 unknown type"
else
	not_ok "sctp: malformed: counters: missing$miss"
	grep 'rx-' "$W/malformed.stats" | sed 's/^/#   /'
fi
down_seen fc "$(cat "$W/oversize.id")" 3 "sctp: a 70008-byte message: carrier down, reason oversize"
down_seen fc "$(cat "$W/abort.id")" 4 "sctp: the peer aborts: carrier down, reason sock-error"
down_seen fc "$(cat "$W/close.id")" 1 "sctp: the peer closes: carrier down, reason peer-closed"
down_seen fc "$mid" 1 "sctp: malformed: the carrier stayed up until the peer closed" ||
	sed 's/^/#   /' "$W/malformed.py" "$W/malformed.out"
wait "$pid_oversize" "$pid_abort" "$pid_close" "$pid_malformed"
check "sctp: oversize: funneld's recv() fails with EMSGSIZE" grep -q 'recv: Message too long' "$W/oversize.out"
check "sctp: abort: funneld's recv() fails with ECONNRESET" grep -q 'recv: Connection reset by peer' "$W/abort.out"

# --- what SCTP does to the association under a carrier (one netns,
# loopback): a partial delivery aborted by PR-SCTP (FORWARD-TSN: the
# abandoned message's head must not be joined with the next message of
# its SCTP stream; it is counted rx-abandoned, not rx-drop-malformed),
# a restart of the peer during a partial delivery (SCTP keeps the
# partial delivery and parks SCTP_RESTART behind it: funnel.ko sees the
# peer's new verification tag, the carrier ends), and a restart of the
# peer (SCTP_RESTART: the carrier ends);
# carrier-del, then carrier-new of the same socket
asoc=$FUNNEL_TOP/selftests/kmod/sctpasoc.py
ip -n fc link set lo mtu 1500
ip netns exec fc python3 "$asoc" pdabort 7020 >"$W/pdabort.out" 2>&1
ip netns exec fc python3 "$asoc" pdrestart 7024 "$W/pdrestart.id" >"$W/pdrestart.out" 2>&1
pdr_rc=$?
ip netns exec fc python3 "$asoc" pdrefuse 7026 >"$W/pdrefuse.out" 2>&1
pdf_rc=$?
ip -n fc link set lo mtu 65536
sctp_tap <"$W/pdabort.out"
sctp_tap <"$W/pdrestart.out"
check "sctp: pdrestart ran to its end (exit $pdr_rc)" test "$pdr_rc" = 0
sctp_tap <"$W/pdrefuse.out"
check "sctp: pdrefuse ran to its end (exit $pdf_rc)" test "$pdf_rc" = 0
down_seen fc "$(cat "$W/pdrestart.id" 2>/dev/null)" 4 \
	"sctp: the peer restarts during a partial delivery: carrier down, reason sock-error"
ip netns exec fc python3 "$asoc" restart 7022 "$W/restart.id" >"$W/restart.out" 2>&1
sctp_tap <"$W/restart.out"
down_seen fc "$(cat "$W/restart.id" 2>/dev/null)" 4 \
	"sctp: the peer restarts the association: carrier down, reason sock-error"

# --- unload while SCTP carriers are live is refused
refused "sctp: rmmod refused while SCTP carriers are live" "in use|busy" rmmod funnel
check "sctp: the carriers still forward after the refused rmmod" \
	ip netns exec fc udp_pump rr 127.0.0.1 5600 -n 10 -T 3000
sites_down
module_idle
check "sctp: rmmod once the SCTP sockets are closed" rmmod funnel
check "sctp: modprobe again" modprobe funnel
rm -rf "$W"
