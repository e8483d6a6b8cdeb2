# UDP services through kernel streams, between two netns joined by veth:
# real DNS (dnsmasq, dig) over IPv4 and IPv6 carriers, 64 echo streams at
# once, control frames interleaved with 10k datagrams, flow limit and
# idle expiry, rmmod refused while carriers live.
modprobe funnel
W=$(mktemp -d)
sites_up || not_ok "sites: two netns joined by veth"

# --- the server site: dnsmasq on 127.0.0.1 and ::1, UDP echo ports
dns_server
ip netns exec fs udp_pump echo 127.0.0.1 7101-7164 -q &
ip netns exec fs udp_pump echo 127.0.0.1 7201 -q &
ip netns exec fs udp_pump echo 127.0.0.1 7301 -q &

# --- carrier A (IPv4): DNS on stream 1, 64 echo streams 101..164, a
# small stream 3 (3 flows at most, 4 s idle)
tun sa fs --listen 10.99.0.2:7000 --udp-connect 1:127.0.0.1:5353 \
	--udp-connect-range 101:127.0.0.1:7101:64 \
	--udp-connect 3:127.0.0.1:7201 --idle 4000 --max 3
tun ca fc --connect 10.99.0.2:7000 --udp-listen 1:127.0.0.1:5300 \
	--udp-listen-range 101:127.0.0.1:8101:64 \
	--udp-listen 3:127.0.0.1:5400 --idle 4000 --max 3
# --- carrier B (IPv6): DNS over IPv6 to an IPv6 service
tun sb fs --listen '[fd99::2]:7001' --udp-connect '1:[::1]:5353'
tun cb fc --connect '[fd99::2]:7001' --udp-listen '1:[::1]:5301'
# --- carrier C: 400 control frames each way while 10k datagrams flow
tun sc fs --listen 10.99.0.2:7002 --udp-connect 1:127.0.0.1:7301 \
	--ctrl-send 400 --ctrl-expect 400 --ctrl-delay 300
tun cc fc --connect 10.99.0.2:7002 --udp-listen 1:127.0.0.1:5500 \
	--ctrl-send 400 --ctrl-expect 400 --ctrl-delay 300

if wait_files 30 "$W"/{sa,ca,sb,cb,sc,cc}.id; then
	ok "udp: three carriers with their streams set up by funnel-tun"
else
	not_ok "udp: three carriers with their streams set up by funnel-tun"
	tail -n 5 "$W"/*.out | sed 's/^/#   /'
fi
ca=$(cat "$W/ca.id" 2>/dev/null) sa=$(cat "$W/sa.id" 2>/dev/null)
cb=$(cat "$W/cb.id" 2>/dev/null)

# --- interleaving: datagrams on carrier C while the control frames go
ip netns exec fc udp_pump rr 127.0.0.1 5500 -n 10000 -w 16 -T 5000 \
	>"$W/rr-c.out" 2>&1 &
rr_c=$!

# --- DNS: 1000 queries through each carrier, each answer checked
dns_test() { # NAME NS-PORT SERVER CARRIER
	local name=$1 port=$2 server=$3 carrier=$4 i flows
	: >"$W/q.txt"; : >"$W/want.txt"
	for i in $(seq 0 999); do
		echo "h$((i % 20)).funnel.test A" >>"$W/q.txt"
		echo "192.0.2.$((i % 20 + 1))" >>"$W/want.txt"
	done
	t0=$(date +%s)
	ip netns exec fc dig @"$server" -p "$port" +short +tries=3 +time=5 \
		-f "$W/q.txt" >"$W/got.txt" 2>&1
	if cmp -s "$W/want.txt" "$W/got.txt"; then
		ok "udp: $name: 1000 dig queries through the carrier, all answered right ($(( $(date +%s) - t0 ))s)"
	else
		not_ok "udp: $name: 1000 dig queries through the carrier, all answered right"
		diff "$W/want.txt" "$W/got.txt" | head -n 5 | sed 's/^/#   /'
	fi
	flows=$(nlget fc stats.flows-created stream-get carrier-id=u32:"$carrier" stream-id=u16:1)
	if [ "${flows:-0}" -ge 50 ]; then
		ok "udp: $name: queries came from $flows source ports (flows)"
	else
		not_ok "udp: $name: queries came from ${flows:-?} source ports, want >= 50"
	fi
}
dns_test "DNS over IPv4" 5300 127.0.0.1 "$ca"
dns_test "DNS over IPv6" 5301 ::1 "$cb"
check "udp: the IPv6 carrier runs over IPv6" \
	sh -c "ip netns exec fc funnel-nl raw carrier-get carrier-id=u32:$cb | grep -q '^remote-ipv6=fd99::2'"

# --- 64 streams at once, no cross-talk: udp_pump checks every reply's
# stream (port) and sequence; the kernel counters must agree
out=$(ip netns exec fc udp_pump rr 127.0.0.1 8101-8164 -n 50 -w 2 2>&1)
if [ $? = 0 ] && echo "$out" | grep -q 'good 3200 bad 0 lost 0'; then
	ok "udp: 64 streams at once: 3200 echoes, none lost or crossed"
else
	not_ok "udp: 64 streams at once: 3200 echoes, none lost or crossed"
	echo "$out" | sed 's/^/#   /'
fi
n=$(ip netns exec fs funnel-nl raw --dump stream-get carrier-id=u32:"$sa" |
	awk -F= '/^stream-id=/ { s = $2 } /^stats.rx-frames=/ { if (s > 100 && $2 == 50) n++ } END { print n + 0 }')
if [ "$n" = 64 ]; then
	ok "udp: server: each of the 64 streams received exactly its 50 datagrams"
else
	not_ok "udp: server: $n of 64 streams received exactly 50 datagrams"
fi

# --- flow limit and idle expiry on stream 3 (max 3, idle 4 s): five
# clients at once, each from its own port
ip netns exec fc funnel-nl monitor 1 30 >"$W/mon.out" 2>&1 &
mon=$!
wait_files 5 "$W/mon.out" && sleep 0.3
pids=""
for i in 1 2 3 4 5; do
	ip netns exec fc udp_pump rr 127.0.0.1 5400 -n 1 -T 1000 >/dev/null 2>&1 &
	pids="$pids $!"
done
good=0
for p in $pids; do wait "$p" && good=$((good + 1)); done
flows=$(ip netns exec fc funnel-nl raw --dump flow-get carrier-id=u32:"$ca" stream-id=u16:3 | grep -c '^flow-id=')
limit=$(nlget fc stats.flow-drop-limit stream-get carrier-id=u32:"$ca" stream-id=u16:3)
if [ "$good" = 3 ] && [ "$flows" = 3 ] && [ "$limit" -ge 2 ]; then
	ok "udp: flow limit: 3 of 5 sources served, 3 flows, flow-drop-limit $limit"
else
	not_ok "udp: flow limit: $good of 5 served, $flows flows, flow-drop-limit ${limit:-?}"
fi
wait $mon
if grep -q '^event=flow-limit-ntf' "$W/mon.out" && grep -q '^stream-id=3' "$W/mon.out" &&
   grep -q '^flow-max=3' "$W/mon.out"; then
	ok "udp: flow limit: flow-limit-ntf names the stream and its flow-max"
else
	not_ok "udp: flow limit: flow-limit-ntf names the stream and its flow-max"
	sed 's/^/#   /' "$W/mon.out"
fi
# until all are gone, or a last look that starts 6 s on (idle 4 s and
# the timer's slack), as late as the fixed 6 s wait this was
end=$(( $(date +%s%3N) + 6000 ))
while :; do
	last=0
	[ "$(date +%s%3N)" -ge "$end" ] && last=1
	cf=$(nlget fc flow-count stream-get carrier-id=u32:"$ca" stream-id=u16:3)
	sf=$(nlget fs flow-count stream-get carrier-id=u32:"$sa" stream-id=u16:3)
	ce=$(nlget fc stats.flows-expired stream-get carrier-id=u32:"$ca" stream-id=u16:3)
	se=$(nlget fs stats.flows-expired stream-get carrier-id=u32:"$sa" stream-id=u16:3)
	[ "$cf" = 0 ] && [ "$sf" = 0 ] && [ $(( ${ce:-0} + ${se:-0} )) -ge 3 ] && break
	[ $last = 1 ] && break
	sleep 0.2
done
# each flow expires on one side, which ends it on the other (FLOW_END)
if [ "$cf" = 0 ] && [ "$sf" = 0 ] && [ $(( ${ce:-0} + ${se:-0} )) -ge 3 ]; then
	ok "udp: idle flows expire (client expired $ce, server $se), gone on both sides"
else
	not_ok "udp: idle flows expire: client $cf, server $sf flows left; expired ${ce:-?}+${se:-?}"
fi
check "udp: after expiry a new source is served again" \
	ip netns exec fc udp_pump rr 127.0.0.1 5400 -n 20

# --- the interleaving result
interleaved udp

# --- unload while carriers are live is refused; the carriers go with
# their sockets, and then it succeeds (the runner checks the final rmmod)
refused "udp: rmmod refused while carriers are live" "in use|busy" rmmod funnel
check "udp: the carriers still forward after the refused rmmod" \
	ip netns exec fc udp_pump rr 127.0.0.1 8101 -n 10
sites_down
module_idle
check "udp: rmmod once the carriers are closed" rmmod funnel
check "udp: modprobe again" modprobe funnel
rm -rf "$W"
