# Flow limits beyond a stream's flow-max: the carrier's (module parameter
# carrier_flows_max) and the netns's (netns_flows_max).  At a limit a
# stream evicts a flow idle for a second or more (flows-evicted, FLOW_END
# to the peer, which frees its flow and socket), on the client and on
# the server side, and refuses new sources while every flow is busy
# (flow-drop-limit); info-get and carrier-get count the flows.  Flows are
# charged to the memory cgroup of the carrier's socket, not to nobody.
modprobe funnel
W=$(mktemp -d)
P=/sys/module/funnel/parameters

# t55_srcs NS PORT N [FIRST-SRC-PORT]: one datagram from each of N source
# ports to PORT; prints how many were answered (an echo is behind it)
t55_srcs() {
	ip netns exec "$1" python3 - "$2" "$3" "${4:-0}" <<'PY'
import select, socket, sys, time
port, n, first = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", first + i if first else 0))
    s.sendto(b"q%d" % i, ("127.0.0.1", port))
    socks.append(s)
got, end = set(), time.time() + 3
while time.time() < end and len(got) < n:
    r, _, _ = select.select(socks, [], [], 0.2)
    for s in r:
        s.recv(100)
        got.add(s)
print(len(got))
PY
}

# t55_fire NS PORT N FIRST: N datagrams from N source ports, no answer read
t55_fire() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" <<'PY'
import socket, sys
port, n, first = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", first + i))
    s.sendto(b"x", ("127.0.0.1", port))
    s.close()
PY
}

t55_stat() { # NS CARRIER-ID STREAM-ID KEY
	nlget "$1" "$4" stream-get carrier-id=u32:"$2" stream-id=u16:"$3"
}

sites_up >/dev/null || not_ok "limits: two netns joined by veth"
ip netns exec fs udp_pump echo 127.0.0.1 7551 -q &
echo_pid=$!
tun ls fs --listen 10.99.0.2:7550 --udp-connect 1:127.0.0.1:7551 --udp-connect 2:127.0.0.1:7551
tun lc fc --connect 10.99.0.2:7550 --udp-listen 1:127.0.0.1:5551 --udp-listen 2:127.0.0.1:5552
# a server side with a flow-max (10) below its client's (the default)
tun ms fs --listen 10.99.0.2:7553 --udp-connect 1:127.0.0.1:7551 --max 10
tun mc fc --connect 10.99.0.2:7553 --udp-listen 1:127.0.0.1:5553
if ! wait_files 20 "$W"/ls.id "$W"/lc.id "$W"/ms.id "$W"/mc.id; then
	not_ok "limits: funnel-tun pair up"
else
	cs=$(cat "$W/ls.id") cc=$(cat "$W/lc.id")
	echo 40 > "$P/carrier_flows_max"
	got=$(t55_srcs fc 5551 50 30000)
	drop=$(t55_stat fc "$cc" 1 stats.flow-drop-limit)
	fc_n=$(nlget fc flow-count carrier-get carrier-id=u32:"$cc")
	if [ "$got" = 40 ] && [ "$drop" = 10 ] && [ "$fc_n" = 40 ]; then
		ok "limits: carrier_flows_max 40: 40 of 50 new sources served, 10 refused (flow-drop-limit), carrier flow-count 40"
	else
		not_ok "limits: carrier_flows_max 40: served $got of 50 (want 40), flow-drop-limit $drop (10), flow-count $fc_n (40)"
	fi
	# the 40 are idle now: new sources evict them, one each
	sleep 1.3
	got=$(t55_srcs fc 5551 10 31000)
	ev=$(t55_stat fc "$cc" 1 stats.flows-evicted)
	fc_n=$(nlget fc flow-count carrier-get carrier-id=u32:"$cc")
	sleep 0.5
	fs_n=$(t55_stat fs "$cs" 1 flow-count)
	if [ "$got" = 10 ] && [ "$ev" = 10 ] && [ "$fc_n" = 40 ] && [ "$fs_n" = 40 ]; then
		ok "limits: 10 more sources evict 10 idle flows (flows-evicted 10), 40 flows on each side (the server freed the evicted ones)"
	else
		not_ok "limits: eviction: served $got of 10, flows-evicted $ev (10), client flows $fc_n (40), server flows $fs_n (40)"
	fi
	# busy flows are not evicted: the 10 sources just served keep
	# sending while 45 new ones come; only the 30 idle flows may go
	ip netns exec fc python3 - <<'PY' &
import socket, time
socks = []
for i in range(10):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 31000 + i))
    s.setblocking(False)
    socks.append(s)
for _ in range(50):
    for s in socks:
        s.sendto(b"busy", ("127.0.0.1", 5551))
        try:
            s.recv(100)
        except BlockingIOError:
            pass
    time.sleep(0.1)
PY
	busy=$!
	sleep 1.3
	t55_flows() { # the flow id of each busy source port, as "PORT:ID"
		ip netns exec fc funnel-nl raw --dump flow-get carrier-id=u32:"$cc" stream-id=u16:1 |
		awk -F= '/^flow-id=/ { id = $2 } /^remote-port=/ { if ($2 >= 31000 && $2 < 31010) print $2 ":" id }' |
		sort
	}
	f0=$(t55_flows)
	drop0=$(t55_stat fc "$cc" 1 stats.flow-drop-limit)
	got=$(t55_srcs fc 5551 45 32000)
	drop1=$(t55_stat fc "$cc" 1 stats.flow-drop-limit)
	ev1=$(t55_stat fc "$cc" 1 stats.flows-evicted)
	f1=$(t55_flows)
	wait $busy
	if [ "$(echo "$f0" | wc -w)" = 10 ] && [ "$f0" = "$f1" ] &&
	   [ $((ev1 - ev)) -le 30 ] && [ $((ev1 - ev)) -ge 20 ] &&
	   [ $((drop1 - drop0)) = $((45 - got)) ]; then
		ok "limits: 45 sources at the limit: $((ev1 - ev)) idle flows evicted, $((drop1 - drop0)) refused, the 10 busy flows kept"
	else
		not_ok "limits: 45 sources at the limit: served $got, evicted $((ev1 - ev)) (20..30), refused $((drop1 - drop0)); busy flows before '$f0' after '$f1'"
	fi
	echo 16384 > "$P/carrier_flows_max"

	# the netns limit spans carriers: stream 2 of the same carrier and
	# a second carrier count against it
	n0=$(nlget fc flow-count info-get)
	echo $((n0 + 20)) > "$P/netns_flows_max"
	got=$(t55_srcs fc 5552 30 33000)
	n1=$(nlget fc flow-count info-get)
	drop=$(t55_stat fc "$cc" 2 stats.flow-drop-limit)
	if [ "$got" = 20 ] && [ "$n1" = $((n0 + 20)) ] && [ "$drop" = 10 ]; then
		ok "limits: netns_flows_max $((n0 + 20)): 20 of 30 new sources served on another stream, info-get flow-count $n1"
	else
		not_ok "limits: netns_flows_max $((n0 + 20)): served $got of 30 (20), flow-count $n1 ($((n0 + 20))), refused $drop (10)"
	fi
	echo 65536 > "$P/netns_flows_max"
	check "limits: info-get reports the limits" \
		sh -c "ip netns exec fc funnel-nl raw info-get | grep -qx 'netns-flow-max=65536' &&
		       ip netns exec fc funnel-nl raw info-get | grep -qx 'carrier-flow-max=16384'"

	# the server side evicts too: its client, below its own limit,
	# keeps flows the server may end (as when a FLOW_END was lost), and
	# new flow ids then take the place of idle ones instead of being
	# refused until the idle timeout
	ms=$(cat "$W/ms.id") mc=$(cat "$W/mc.id")
	got1=$(t55_srcs fc 5553 10 34000)
	sleep 1.3
	got2=$(t55_srcs fc 5553 10 34100)
	ev=$(t55_stat fs "$ms" 1 stats.flows-evicted)
	drop=$(t55_stat fs "$ms" 1 stats.flow-drop-limit)
	sleep 0.5
	cn=$(t55_stat fc "$mc" 1 flow-count)
	if [ "$got1" = 10 ] && [ "$got2" = 10 ] && [ "$ev" = 10 ] &&
	   [ "$drop" = 0 ] && [ "$cn" = 10 ]; then
		ok "limits: server flow-max 10: 10 new flow ids evict 10 idle server flows, all answered; the client freed its side (10 flows)"
	else
		not_ok "limits: server flow-max 10: answered $got1 then $got2 of 10, server flows-evicted $ev (10), flow-drop-limit $drop (0), client flows $cn (10)"
	fi
fi
kill "$pid_ls" "$pid_lc" "$pid_ms" "$pid_mc" 2>/dev/null
wait "$pid_ls" "$pid_lc" "$pid_ms" "$pid_mc" 2>/dev/null
for _ in $(seq 30); do
	[ "$(ip netns exec fc funnel-nl raw info-get | sed -n 's/^flow-count=//p')" = 0 ] && break
	sleep 0.1
done
check "limits: closing the carriers returns every flow (client netns flow-count 0)" \
	sh -c "ip netns exec fc funnel-nl raw info-get | grep -qx 'flow-count=0'"
check "limits: and on the server side" \
	sh -c "ip netns exec fs funnel-nl raw info-get | grep -qx 'flow-count=0'"

# ---- memory cgroup: the flows a carrier's stream makes in softirq are
# charged to the cgroup of the process that made the carrier's socket
cg=/sys/fs/cgroup
if [ ! -e "$cg/cgroup.controllers" ]; then
	mount -t cgroup2 none "$cg" 2>/dev/null
fi
if grep -qw memory "$cg/cgroup.controllers" 2>/dev/null; then
	echo +memory > "$cg/cgroup.subtree_control" 2>/dev/null
	mkdir -p "$cg/t55"
	# funnel-tun in the cgroup: its sockets are charged there (joined
	# before ip netns exec, which mounts a /sys of its own)
	sh -c "echo \$\$ > $cg/t55/cgroup.procs && exec ip netns exec fc funnel-tun \
		--ready $W/mc.id --connect 10.99.0.2:7556 --udp-listen 1:127.0.0.1:5556 \
		--max 65536" >"$W/mc.out" 2>&1 &
	pid_mc=$!
	tun ms fs --listen 10.99.0.2:7556 --udp-connect 1:127.0.0.1:7551 --max 65536
	if wait_files 20 "$W"/mc.id "$W"/ms.id; then
		sleep 0.5
		m0=$(cat "$cg/t55/memory.current")
		t55_fire fc 5556 3000 20000
		sleep 0.5
		m1=$(cat "$cg/t55/memory.current")
		nf=$(t55_stat fc "$(cat "$W/mc.id")" 1 flow-count)
		d=$(( (m1 - m0) / 1024 ))
		# a flow is some 300 bytes of slab (512 with kmalloc's size
		# classes): 3000 of them are more than 600 KiB
		if [ "$nf" -ge 2900 ] && [ "$d" -ge 600 ]; then
			ok "limits: memcg: $nf flows charged $d KiB to the carrier's cgroup"
		else
			not_ok "limits: memcg: $nf flows (3000) charged $d KiB to the carrier's cgroup (>= 600)"
		fi
	else
		not_ok "limits: memcg: funnel-tun pair in a cgroup"
	fi
	kill "$pid_mc" "$pid_ms" 2>/dev/null
	wait "$pid_mc" "$pid_ms" 2>/dev/null
	sleep 0.5
	rmdir "$cg/t55" 2>/dev/null
else
	echo "# no cgroup2 memory controller: memcg check skipped"
	not_ok "limits: memcg: cgroup2 with the memory controller"
fi
kill "$echo_pid" 2>/dev/null
wait "$echo_pid" 2>/dev/null
sites_down
rm -rf "$W"
