# funneld keepalive and dead-peer detection on the kernel path: every
# packet from the client is lost (netem), so no FIN or RST either; with --keepalive 1
# both daemons give the carrier up after 3 unanswered pings, the client
# retries with backoff, and when the link comes back the map's stream is
# re-opened by itself and datagrams flow again.  The dead carriers are
# reset, not closed, so that no orphan socket keeps funnel.ko busy.  Also an IPv6 carrier.
modprobe funnel
W=$(mktemp -d)
PATH=$FUNNEL_TOP/ctl:$PATH
sites_up || not_ok "keepalive: two netns joined by veth"

ip netns exec fs udp_pump echo 127.0.0.1 7701 -q &
printf 'listen [fd99::2]:9899\nplaintext\nservice add echo udp 127.0.0.1:7701\n' >"$W/s.conf"
printf 'plaintext\npeer add s [fd99::2] carrier tcp\nmap add udp 127.0.0.1:7801 peer s service echo\n' >"$W/c.conf"
ip netns exec fs funneld -f --keepalive 1 --datapath kernel -c "$W/s.conf" \
	-s "$W/s.sock" 2>"$W/s.log" &
ip netns exec fc funneld -f --keepalive 1 --datapath kernel -c "$W/c.conf" \
	-s "$W/c.sock" 2>"$W/c.log" &

# jq-less JSON query: python3 EXPR over the parsed "show"
q() { # NS SOCK EXPR
	timeout 5 ip netns exec "$1" funnelctl -s "$2" --json show 2>/dev/null |
		python3 -c "import json,sys; d=json.load(sys.stdin); print($3)" 2>/dev/null
}
wait_for() { # SECONDS CMD...: until CMD prints "True"
	local end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt $end ]; do
		[ "$("${@:2}")" = True ] && return 0
		sleep 0.2
	done
	return 1
}
echo_ok() { ip netns exec fc udp_pump rr 127.0.0.1 7801 -n 20 -T 2000 >/dev/null 2>&1; }

if wait_for 15 q fc "$W/c.sock" "d['maps'][0]['state'] == 'open'" && echo_ok; then
	ok "keepalive: map open over an IPv6 carrier, datagrams echoed"
else
	not_ok "keepalive: map open over an IPv6 carrier, datagrams echoed"
	tail -n 5 "$W"/*.log | sed 's/^/#   /'
fi
check "keepalive: the carrier runs in funnel.ko" \
	test "$(q fc "$W/c.sock" "d['carriers'][0]['datapath']")" = kernel

# cut the link: no FIN, no RST, nothing from the client arrives any more
tc -n fc qdisc add dev vc root netem loss 100%
t0=$(date +%s)
if wait_for 15 q fc "$W/c.sock" "d['carriers'][0]['state'] != 'up'" &&
	grep -q "dead peer: 3 pings unanswered" "$W/c.log"; then
	ok "keepalive: dead peer detected by the client in $(( $(date +%s) - t0 ))s (3 pings, 1 s apart)"
else
	not_ok "keepalive: dead peer detected by the client"
	tail -n 5 "$W/c.log" | sed 's/^/#   /'
fi
if wait_for 15 q fs "$W/s.sock" "len(d['carriers']) == 0"; then
	ok "keepalive: the server dropped the dead carrier too"
else
	not_ok "keepalive: the server dropped the dead carrier too"
fi
check "keepalive: the map waits for the carrier" \
	test "$(q fc "$W/c.sock" "d['maps'][0]['state']")" = waiting

tc -n fc qdisc del dev vc root
t0=$(date +%s)
if wait_for 30 q fc "$W/c.sock" "d['maps'][0]['state'] == 'open'" && echo_ok; then
	ok "keepalive: link back, stream re-opened by itself in $(( $(date +%s) - t0 ))s, datagrams echoed"
else
	not_ok "keepalive: link back, stream re-opened by itself"
	tail -n 8 "$W/c.log" | sed 's/^/#   /'
fi
check "keepalive: reconnects counted" \
	test "$(q fc "$W/c.sock" "d['carriers'][0]['reconnects'] >= 1")" = True

kill %2 %3 2>/dev/null
for i in $(seq 50); do grep -q stopped "$W/c.log" && grep -q stopped "$W/s.log" && break; sleep 0.1; done
check "keepalive: both daemons stop cleanly on SIGTERM" \
	grep -q stopped "$W/s.log" "$W/c.log"
kill %1 2>/dev/null
sites_down
rm -rf "$W"
