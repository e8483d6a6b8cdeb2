# Transmit batching on a TCP carrier (issue 15): the datagrams of one
# softirq run leave in one batch, written to TCP with MSG_MORE but the
# last, so TCP fills its segments with them.  A netem slot on the client
# site's lo holds 200 datagrams of a udp-listen stream and lets them go
# at once (as a NIC's interrupt hands over a burst): the client carrier
# must send them in far fewer TCP segments than datagrams (one segment a
# datagram before), and every one must come back.  TCP must not coalesce
# them for us: initcwnd 1000 on the carrier's route, and autocorking off
# in the client site (with it TCP held the old module's frames too while
# the segment before waited in the same softirq's backlog: 17 segments).
modprobe funnel
W=$(mktemp -d)
sites_up || not_ok "txbatch: two netns joined by veth"
ip -n fc route replace 10.99.0.0/24 dev vc src 10.99.0.1 initcwnd 1000
ip netns exec fc sysctl -qw net.ipv4.tcp_autocorking=0
ip netns exec fs udp_pump echo 127.0.0.1 7101 -q &
tun s fs --listen 10.99.0.2:7000 --udp-connect 1:127.0.0.1:7101
tun c fc --connect 10.99.0.2:7000 --udp-listen 1:127.0.0.1:8101
if wait_files 20 "$W/s.id" "$W/c.id"; then
	ok "txbatch: carrier with a UDP stream set up"
else
	not_ok "txbatch: carrier with a UDP stream set up"
	tail -n 5 "$W"/*.out | sed 's/^/#   /'
fi
c=$(cat "$W/c.id" 2>/dev/null)

# data segments the client carrier has sent
segs() {
	ip netns exec fc ss -Htin dst 10.99.0.2:7000 |
		sed -n 's/.*data_segs_out:\([0-9]*\).*/\1/p' | head -n 1
}
s0=$(segs)
f0=$(nlget fc stats.tx-frames carrier-get carrier-id=u32:"$c")
# one datagram makes the flow (the server holds only 32 of a new flow
# while it makes its socket), then the burst from the same port: held
# until the slot, 2 s after the qdisc is made (the echoes come through lo
# too, a slot later)
ip netns exec fc python3 - >"$W/burst.out" 2>&1 <<'PY'
import socket, subprocess
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 22)    # SO_RCVBUFFORCE
s.connect(("127.0.0.1", 8101))
s.settimeout(5)
s.send(b"first" + bytes(59))
s.recv(2048)
subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "netem",
                "slot", "2s", "2s", "packets", "1000"], check=True)
want = {i.to_bytes(4, "big") + bytes(60) for i in range(200)}
for d in sorted(want):
    s.send(d)
s.settimeout(10)
got = bad = 0
try:
    while want:
        d = s.recv(2048)
        if d in want:
            want.discard(d)
            got += 1
        else:
            bad += 1
except socket.timeout:
    pass
subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"])
print(f"echoed {got} of 200, bad {bad}")
PY
if grep -q '^echoed 200 of 200, bad 0$' "$W/burst.out"; then
	ok "txbatch: a burst of 200 datagrams through the carrier, all echoed"
else
	not_ok "txbatch: a burst of 200 datagrams through the carrier, all echoed"
	sed 's/^/#   /' "$W/burst.out"
fi
s1=$(segs)
f1=$(nlget fc stats.tx-frames carrier-get carrier-id=u32:"$c")
frames=$(( ${f1:-0} - ${f0:-0} )) n=$(( ${s1:-0} - ${s0:-0} ))
echo "#   frames $frames, TCP data segments $n"
# the first datagram's segment, then 200 frames of 82 bytes: 12 full
# segments, and a short one to end the batch of each NET_RX run (64
# datagrams or more)
if [ "$frames" = 201 ] && [ "$n" -gt 1 ] && [ "$n" -le 51 ]; then
	ok "txbatch: 200 frames of a burst in $((n - 1)) TCP segments (50 at most)"
else
	not_ok "txbatch: 200 frames of a burst in $((n - 1)) TCP segments, want 50 at most (frames $frames, segments ${s0:-?} -> ${s1:-?})"
fi

# A lone datagram costs no tasklet: 50 requests, one at a time, each
# pushed at once by the run that queued it on each carrier; the tasklet
# runs only for a run that queued a second frame (it ran for every
# request and echo before: about 100 here).  Counted on the
# irq:tasklet_entry tracepoint, in a tracefs instance of our own.
tr=/sys/kernel/tracing
[ -d $tr/instances ] || mount -t tracefs nodev $tr 2>/dev/null
ti=$tr/instances/t52
f0=$(nlget fc stats.tx-frames carrier-get carrier-id=u32:"$c")
if mkdir $ti 2>/dev/null && echo 1 >$ti/events/irq/tasklet_entry/enable; then
	ip netns exec fc python3 - >"$W/lone.out" 2>&1 <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", 8101))
s.settimeout(5)
got = 0
for i in range(50):
    s.send(b"lone" + i.to_bytes(4, "big"))
    if s.recv(2048) == b"lone" + i.to_bytes(4, "big"):
        got += 1
    time.sleep(0.01)
print(f"echoed {got} of 50")
PY
	echo 0 >$ti/tracing_on
	tl=$(grep -c 'funnel_tx_tasklet' $ti/trace)
	echo 0 >$ti/events/irq/tasklet_entry/enable
	rmdir $ti
	f1=$(nlget fc stats.tx-frames carrier-get carrier-id=u32:"$c")
	if grep -q '^echoed 50 of 50$' "$W/lone.out" && [ $(( ${f1:-0} - ${f0:-0} )) -ge 50 ] &&
	   [ "$tl" -le 10 ]; then
		ok "txbatch: 50 lone requests echoed with $tl runs of the carriers' tasklet (10 at most)"
	else
		not_ok "txbatch: 50 lone requests: $(cat "$W/lone.out"), tx-frames +$(( ${f1:-0} - ${f0:-0} )), $tl tasklet runs (10 at most)"
	fi
else
	not_ok "txbatch: tracefs instance with irq:tasklet_entry"
fi
sites_down
rm -rf "$W"
