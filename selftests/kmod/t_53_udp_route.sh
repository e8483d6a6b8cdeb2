# Route changes reach live UDP flows: each flow caches its route (one dst
# in the flow), and a change of the routes in its netns must take effect
# on its next datagram.  A third netns ft holds the UDP client and the UDP
# target, joined to fc by two veths (c1, c2) and to fs by two (s1, s2).
# One flow per family goes client -> fc (udp-listen) -> carrier -> fs
# (udp-connect) -> target; then a more specific route sends fc's replies
# to the client out of c2 and fs's datagrams to the target out of s2, and
# the same flows' next datagrams must take the new interfaces, and the old
# ones again when those routes go.  Last, c2 and s2 are deleted while the
# flows hold routes out of them: the cached routes must not keep the
# devices (their unregistering must end within 2 s), and the next
# datagrams go out of c1 and s1.  The fib tracepoints show that the
# routes are cached at all (a handful of lookups, not one a datagram).
modprobe funnel
W=$(mktemp -d)
N=40
sites_up || not_ok "sites: two netns joined by veth"
ip netns add ft
# ft receives on one veth what is addressed to another's address
ip netns exec ft sysctl -qw net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0
t53_link() { # NS DEV PEER-DEV NET4 NET6: a veth NS:DEV - ft:PEER-DEV
	ip link add "$2" netns "$1" type veth peer name "$3" netns ft
	ip -n "$1" addr add "$4.1/24" dev "$2"
	ip -n ft addr add "$4.2/24" dev "$3"
	ip -n "$1" addr add "$5::1/64" dev "$2" nodad
	ip -n ft addr add "$5::2/64" dev "$3" nodad
	ip -n "$1" link set "$2" up && ip -n ft link set "$3" up
}
t53_link fc c1 t1 10.98.1 fd98:1
t53_link fc c2 t2 10.98.2 fd98:2
t53_link fs s1 u1 10.98.3 fd98:3
t53_link fs s2 u2 10.98.4 fd98:4
ip -n ft link set lo up

ip netns exec ft udp_pump echo 10.98.3.2 7601 -q &
ip netns exec ft udp_pump echo fd98:3::2 7602 -q &
tun s fs --listen 10.99.0.2:7010 --udp-connect 1:10.98.3.2:7601 \
	--udp-connect '2:[fd98:3::2]:7602'
tun c fc --connect 10.99.0.2:7010 --udp-listen 1:10.98.1.1:5601 \
	--udp-listen '2:[fd98:1::1]:5602'
if wait_files 30 "$W"/{s,c}.id; then
	ok "udp route: a carrier with an IPv4 and an IPv6 stream"
else
	not_ok "udp route: a carrier with an IPv4 and an IPv6 stream"
	tail -n 5 "$W"/*.out | sed 's/^/#   /'
fi
cid=$(cat "$W/c.id" 2>/dev/null) sid=$(cat "$W/s.id" 2>/dev/null)

# t53_rr: N echoes from ft over IPv4 (to fc's 10.98.1.1:5601) and N
# over IPv6 (to [fd98:1::1]:5602), each always from the same source port
# (one flow each); prints how many came back of each
t53_rr() {
	ip netns exec ft python3 - "$N" <<'PY'
import socket, sys
n = int(sys.argv[1])
for fam, addr, port in ((socket.AF_INET, "10.98.1.1", 5601),
                        (socket.AF_INET6, "fd98:1::1", 5602)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 40000 + port))
    s.connect((addr, port))
    s.settimeout(2)
    good = 0
    for i in range(n):
        m = b"route %d" % i
        s.send(m)
        try:
            good += s.recv(100) == m
        except OSError:
            pass
    s.close()
    print(good, end=" ")
PY
}
# t53_tx: packets sent out of c1, c2 (fc), s1, s2 (fs); 0 for a device
# that is gone
t53_tx() {
	local dev
	for dev in c1 c2 s1 s2; do
		ip netns exec "f${dev:0:1}" cat "/sys/class/net/$dev/statistics/tx_packets" 2>/dev/null || echo 0
	done | xargs
}
# t53_phase NAME NEW: N echoes over each family; fc's and fs's datagrams
# must go out of cNEW and sNEW (1 or 2), not the other two
t53_phase() {
	local name=$1 new=$2 t0 t1 c1 c2 s1 s2 got
	read -ra t0 <<<"$(t53_tx)"
	got=$(t53_rr)
	read -ra t1 <<<"$(t53_tx)"
	c1=$((t1[0] - t0[0])) c2=$((t1[1] - t0[1])) s1=$((t1[2] - t0[2])) s2=$((t1[3] - t0[3]))
	if [ "$new" = 2 ]; then
		set -- "$c2" "$c1" "$s2" "$s1"
	else
		set -- "$c1" "$c2" "$s1" "$s2"
	fi
	# both families' datagrams, and a few ARP/ND packets on either
	if [ "$got" = "$N $N " ] && [ "$1" -ge $((2 * N)) ] && [ "$2" -lt 5 ] &&
	   [ "$3" -ge $((2 * N)) ] && [ "$4" -lt 5 ]; then
		ok "udp route: $name: $N echoes over IPv4 and IPv6; fc sent $1 out of c$new, fs $3 out of s$new"
	else
		not_ok "udp route: $name: echoes (IPv4 IPv6) $got of $N; fc sent $1 out of c$new, $2 out of the other; fs $3 out of s$new, $4 out of the other"
	fi
}
# The cache is used: while the first phase's echoes run, fc and fs look
# up the flows' routes a few times at most, not once per datagram.  The
# fib tracepoints are global: the filter keeps the output lookups of fc's
# replies to the client (from the udp-listen port to the client's port)
# and of fs's datagrams to the target (to its port).
tr=/sys/kernel/tracing
[ -d $tr/instances ] || mount -t tracefs nodev $tr 2>/dev/null
ti=$tr/instances/t53
# no comm recording: with it, enabling an event also hooks sched_switch,
# which patches __schedule()'s text while the other vCPU runs it; under
# TCG that once ended in an int3 oops in __schedule() (6.12, make check
# of session 11).  An instance takes the option as it is at mkdir.
t53_rc=$(cat $tr/options/record-cmd 2>/dev/null)
echo 0 >$tr/options/record-cmd 2>/dev/null
t53_filter='proto == 17 && ((sport == 5601 && dport == 45601) || (sport == 5602 && dport == 45602) || dport == 7601 || dport == 7602)'
if mkdir $ti 2>/dev/null &&
   echo "$t53_filter" >$ti/events/fib/fib_table_lookup/filter &&
   echo "$t53_filter" >$ti/events/fib6/fib6_table_lookup/filter &&
   echo 1 >$ti/events/fib/fib_table_lookup/enable &&
   echo 1 >$ti/events/fib6/fib6_table_lookup/enable; then
	t53_trace=1
else
	t53_trace=0
fi
t53_phase "first routes" 1
if [ $t53_trace = 1 ]; then
	echo 0 >$ti/tracing_on
	l4=$(grep -c ' fib_table_lookup:' $ti/trace)
	l6=$(grep -c ' fib6_table_lookup:' $ti/trace)
	# without the cache: one each per datagram on each side, 2N
	if [ "$l4" -lt 20 ] && [ "$l6" -lt 20 ]; then
		ok "udp route: the routes cached: $l4 IPv4 and $l6 IPv6 route lookups while fc and fs sent $((2 * N)) datagrams of each family"
	else
		not_ok "udp route: route lookups for the flows' datagrams: $l4 IPv4, $l6 IPv6 for $((2 * N)) each (cache not used?)"
	fi
	echo 0 >$ti/events/fib/fib_table_lookup/enable
	echo 0 >$ti/events/fib6/fib6_table_lookup/enable
	rmdir $ti
	[ -n "$t53_rc" ] && echo "$t53_rc" >$tr/options/record-cmd
else
	not_ok "udp route: tracefs instance with the fib tracepoints"
fi

# the client and the target move behind c2 and s2: more specific routes
ip -n fc route add 10.98.1.2/32 via 10.98.2.2 dev c2
ip -n fc -6 route add fd98:1::2/128 via fd98:2::2 dev c2
ip -n fs route add 10.98.3.2/32 via 10.98.4.2 dev s2
ip -n fs -6 route add fd98:3::2/128 via fd98:4::2 dev s2
t53_phase "a more specific route added" 2

# and back when those routes go
ip -n fc route del 10.98.1.2/32
ip -n fc -6 route del fd98:1::2/128
ip -n fs route del 10.98.3.2/32
ip -n fs -6 route del fd98:3::2/128
t53_phase "the routes deleted" 1

# the routes out of c2 and s2 again, cached by the same flows; then c2
# and s2 are deleted under them
ip -n fc route add 10.98.1.2/32 via 10.98.2.2 dev c2
ip -n fc -6 route add fd98:1::2/128 via fd98:2::2 dev c2
ip -n fs route add 10.98.3.2/32 via 10.98.4.2 dev s2
ip -n fs -6 route add fd98:3::2/128 via fd98:4::2 dev s2
t53_phase "the more specific routes again" 2
for d in fc:c2 fs:s2; do
	ns=${d%:*} dev=${d#*:}
	# ip link del returns once the device's last reference is gone
	ip -n "$ns" link del "$dev" &
	pid=$!
	for _ in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$pid" 2>/dev/null && wait "$pid" &&
	   ! ip -n "$ns" link show "$dev" >/dev/null 2>&1; then
		ok "udp route: $dev deleted under flows that sent through it: unregistered within 2 s"
	else
		not_ok "udp route: $dev deleted under flows that sent through it: not unregistered within 2 s (a cached route holds it?)"
	fi
done
t53_phase "c2 and s2 deleted" 1

# all of it on the same two flows on each side
for st in 1 2; do
	a=$(nlget fc stats.flows-created stream-get carrier-id=u32:"$cid" stream-id=u16:$st)
	b=$(nlget fs stats.flows-created stream-get carrier-id=u32:"$sid" stream-id=u16:$st)
	if [ "$a" = 1 ] && [ "$b" = 1 ]; then
		ok "udp route: stream $st: one flow on each side throughout"
	else
		not_ok "udp route: stream $st: flows created: client ${a:-?}, server ${b:-?}; want 1"
	fi
done

ip netns pids ft | xargs -r kill 2>/dev/null
sites_down
ip netns del ft
module_idle
rm -rf "$W"
