# Carrier life cycle: a connection reset before carrier-new is refused;
# carrier ids are per netns; socket-owner carriers go (reset, reason
# owner-gone) when the netlink socket that made them closes, others stay
# while their socket is open; carriers, streams, flows and the "events"
# group need CAP_NET_ADMIN in the netns; CTRL frames overtake a flood of
# data; and carriers closed again and again while asynchronous AEAD
# operations are under way leave no trace (run with vm/run -d, a
# use-after-free shows as a slub or KFENCE report).
modprobe funnel
here=$FUNNEL_TOP/selftests/kmod

# t35_case NETNS CASE [WRAPPER...]: ulpsock.py CASE in a fresh netns (run
# by WRAPPER, e.g. setpriv), its lines as TAP
t35_case() {
	local ns=$1 c=$2 line
	shift 2
	ip netns add "$ns" && ip -n "$ns" link set lo up
	ip netns exec "$ns" "$@" python3 "$here/ulpsock.py" "$c" 2>&1 |
	while IFS= read -r line; do
		case $line in
		ok:*) ok "carrier: $c: ${line#ok: }" ;;
		fail:*) not_ok "carrier: $c: ${line#fail: }" ;;
		*) echo "#   $line" ;;
		esac
	done
	ip netns del "$ns"
}

t35_case t35a rst-before-new
t35_case t35b no-owner
t35_case t35d unpriv setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
t35_case t35e cut-frame

# socket-owner, with the notification it sends
ip netns add t35c && ip -n t35c link set lo up
ip netns exec t35c funnel-nl monitor 1 20 >"/tmp/t35-mon.out" 2>&1 &
mon=$!
for _ in $(seq 50); do grep -q ready /tmp/t35-mon.out 2>/dev/null && break; sleep 0.1; done
ip netns exec t35c python3 "$here/ulpsock.py" owner 2>&1 |
while IFS= read -r line; do
	case $line in
	ok:*) ok "carrier: owner: ${line#ok: }" ;;
	fail:*) not_ok "carrier: owner: ${line#fail: }" ;;
	esac
done
wait $mon
if grep -q "event=carrier-down-ntf" /tmp/t35-mon.out &&
   grep -q "^reason=7$" /tmp/t35-mon.out; then
	ok "carrier: owner: carrier-down-ntf with reason owner-gone (7)"
else
	not_ok "carrier: owner: carrier-down-ntf with reason owner-gone (7)"
	sed 's/^/#   /' /tmp/t35-mon.out
fi
ip netns del t35c

# ids are per netns: the first carrier of each new netns is 1, whatever
# other netns did before
t35_first_id() {
	ip netns add "$1" && ip -n "$1" link set lo up
	ip netns exec "$1" python3 - <<'PY'
import socket, subprocess
ls = socket.create_server(("127.0.0.1", 0))
a = socket.create_connection(ls.getsockname())
b, _ = ls.accept()
a.setsockopt(socket.IPPROTO_TCP, 31, b"funnel")
for _ in range(2):
    out = subprocess.run(["funnel-nl", "raw", "carrier-new", "sock-fd=s32:%d" % a.fileno()],
                         capture_output=True, text=True, pass_fds=(a.fileno(),)).stdout
    print(out.split("carrier-id=")[1].split()[0] if "carrier-id=" in out else "none")
    subprocess.run(["funnel-nl", "raw", "carrier-del", "carrier-id=u32:1"], capture_output=True)
PY
	ip netns del "$1"
}
ids=$(t35_first_id t35d | tr '\n' ' '; t35_first_id t35e | tr '\n' ' ')
if [ "$ids" = "1 2 1 2 " ]; then
	ok "carrier: ids count per netns: two netns each gave 1 then 2"
else
	not_ok "carrier: ids count per netns: got '$ids', want '1 2 1 2 '"
fi

# ---- privileges: everything but info-get needs CAP_NET_ADMIN in the netns
W=$(mktemp -d)
sites_up >/dev/null || not_ok "carrier: two netns joined by veth"
tun ps fs --listen 10.99.0.2:7350 --udp-connect 1:127.0.0.1:7351
tun pc fc --connect 10.99.0.2:7350 --udp-listen 1:127.0.0.1:5351
wait_files 20 "$W"/ps.id "$W"/pc.id || not_ok "carrier: funnel-tun pair up"
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
for op in "carrier-get --dump" "stream-get --dump" \
	  "flow-get --dump carrier-id=u32:$(cat "$W/pc.id") stream-id=u16:1" \
	  "carrier-get carrier-id=u32:$(cat "$W/pc.id")"; do
	# shellcheck disable=SC2086
	refused "carrier: unprivileged: ${op%% *} refused" "Operation not permitted" \
		ip netns exec fc $nobody funnel-nl raw $op
done
refused "carrier: unprivileged: joining the events group refused" \
	"cannot join the events group: Operation not permitted" \
	ip netns exec fc $nobody funnel-nl monitor 1 1
check "carrier: unprivileged: info-get answers, without the netns's flow-count" \
	sh -c "ip netns exec fc $nobody funnel-nl raw info-get >/tmp/t35-info.out &&
	       grep -q '^netns-flow-max=' /tmp/t35-info.out &&
	       ! grep -q '^flow-count=' /tmp/t35-info.out"
check "carrier: root: info-get with the netns's flow-count" \
	sh -c "ip netns exec fc funnel-nl raw info-get | grep -q '^flow-count='"
# root of a user namespace is not root of the netns, which the initial
# user namespace owns; in a netns of its own it is
refused "carrier: root of a new user namespace: carrier dump of the host's netns refused" \
	"Operation not permitted" ip netns exec fc unshare -Ur funnel-nl raw --dump carrier-get
check "carrier: root of a new user and network namespace: its own (empty) carrier dump" \
	unshare -Urn funnel-nl raw --dump carrier-get
check "carrier: root: carrier dump with the pair's carrier" \
	sh -c "ip netns exec fc funnel-nl raw --dump carrier-get | grep -q carrier-id=$(cat "$W/pc.id")"
check "carrier: info-get names the flow limits" \
	sh -c "ip netns exec fc funnel-nl raw info-get | grep -q '^netns-flow-max=[1-9]'"
kill "$pid_ps" "$pid_pc" 2>/dev/null
wait "$pid_ps" "$pid_pc" 2>/dev/null

# ---- CTRL frames overtake a flood of data.  The carrier is slowed to
# 5 Mbit/s and a blast of 1200-byte datagrams keeps its queue full; 20
# CTRL frames sent from userspace 2 s into the blast must all reach the
# peer within 8 s (with one queue they wait behind the data, or find it
# full each time the kernel's data refills it)
tc -n fc qdisc add dev vc root netem rate 5mbit limit 100 2>/dev/null ||
	echo "# no netem: the carrier is not slowed"
ip netns exec fs udp_pump sink 127.0.0.1 7353 -t 20 >/dev/null 2>&1 &
sink=$!
tun qs fs --listen 10.99.0.2:7352 --udp-connect 1:127.0.0.1:7353 --unordered \
	--ctrl-expect 20 --exit-when-done
tun qc fc --connect 10.99.0.2:7352 --udp-listen 1:127.0.0.1:5352 --unordered \
	--ctrl-send 20 --ctrl-delay 4000
if wait_files 20 "$W"/qs.id "$W"/qc.id; then
	ip netns exec fc udp_pump blast 127.0.0.1 5352 -t 14 -s 1200 >"$W/qblast.out" 2>&1 &
	bl=$!
	t0=$(date +%s)
	# the data queue is full: the kernel drops data frames at it; read
	# while the carrier lasts (it ends when the receiver has its 20,
	# which may be sooner than 3 s into the blast on a slow guest)
	txq=0
	n=0
	while kill -0 "$pid_qs" 2>/dev/null && [ $n -lt 140 ]; do
		if [ $((n % 5)) = 0 ]; then
			v=$(nlget fc stats.tx-drop-queue carrier-get carrier-id=u32:"$(cat "$W/qc.id")" 2>/dev/null)
			[ -n "$v" ] && txq=$v
		fi
		sleep 0.1
		n=$((n + 1))
	done
	el=$(( $(date +%s) - t0 ))
	# they must have arrived while the blast still ran
	kill -0 "$bl" 2>/dev/null && during=1 || during=0
	if ! kill -0 "$pid_qs" 2>/dev/null && grep -q "received 20 bad 0" "$W/qs.out" &&
	   [ "${txq:-0}" -gt 0 ] && [ $during = 1 ]; then
		ok "carrier: 20 CTRL frames overtook the blast: all received ${el}s after its start (4 s delay; $txq data frames dropped at the full queue)"
	else
		not_ok "carrier: 20 CTRL frames overtook the blast: received during it: $during (${el}s; $txq data frames dropped)"
		sed 's/^/#   /' "$W/qs.out" "$W/qc.out"
	fi
	kill "$bl" 2>/dev/null
	wait "$bl" 2>/dev/null
else
	not_ok "carrier: funnel-tun pair for the CTRL test"
fi
kill "$pid_qs" "$pid_qc" "$sink" 2>/dev/null
wait "$pid_qs" "$pid_qc" "$sink" 2>/dev/null
sites_down

# ---- carriers closed under asynchronous AEAD operations, many times:
# pcrypt completes every seal and open from padata, later; a carrier's
# close must wait for them (its memory and this module's code are gone
# after it)
ASYNC='pcrypt(gcm_base(ctr(aes-generic),ghash-generic))'
module_idle
rmmod funnel
modprobe funnel gcm_driver="$ASYNC"
sites_up >/dev/null
ip netns exec fs udp_pump echo 127.0.0.1 7355 -q &
echo_pid=$!
cycles=0 frames=0
for i in $(seq 12); do
	rm -f "$W"/as.id "$W"/ac.id
	tun as fs --listen 10.99.0.2:7354 --udp-connect 1:127.0.0.1:7355 --unordered
	tun ac fc --connect 10.99.0.2:7354 --udp-listen 1:127.0.0.1:5354 --unordered
	wait_files 20 "$W"/as.id "$W"/ac.id || break
	key fc "$(cat "$W/ac.id")" 1 0 1 "$K1" "$S1" "$K2" "$S2" >/dev/null 2>&1 &&
	key fs "$(cat "$W/as.id")" 1 0 1 "$K2" "$S2" "$K1" "$S1" >/dev/null 2>&1 || break
	ip netns exec fc udp_pump blast 127.0.0.1 5354 -t 3 -s 1200 >/dev/null 2>&1 &
	bl=$!
	sleep 0.7
	f=$(nlget fs stats.rx-frames carrier-get carrier-id=u32:"$(cat "$W/as.id")")
	frames=$((frames + ${f:-0}))
	# one side, the other, or both at once (bash's "Killed" notes go)
	{
		case $((i % 3)) in
		0) kill -9 "$pid_as" ;;
		1) kill -9 "$pid_ac" ;;
		2) kill -9 "$pid_as" "$pid_ac" ;;
		esac
		sleep 0.2
		kill -9 "$pid_as" "$pid_ac"
		# both ends are gone: the rest of the blast (its -t 3)
		# would only meet a closed port
		kill "$bl"
		wait "$pid_as" "$pid_ac" "$bl"
	} 2>/dev/null
	cycles=$i
done
left=$(ip netns exec fc funnel-nl raw --dump carrier-get | grep -c carrier-id)
left=$((left + $(ip netns exec fs funnel-nl raw --dump carrier-get | grep -c carrier-id)))
if [ "$cycles" = 12 ] && [ "$frames" -gt 0 ] && [ "$left" = 0 ]; then
	ok "carrier: 12 sealed carriers closed under a blast with pcrypt ($frames frames opened), none left"
else
	not_ok "carrier: 12 sealed carriers closed under a blast with pcrypt (done $cycles, $frames frames, $left left)"
fi
kill "$echo_pid" 2>/dev/null
wait "$echo_pid" 2>/dev/null
sites_down
module_idle
check "carrier: rmmod after the closes under pcrypt" rmmod funnel
modprobe funnel
rm -rf "$W" /tmp/t35-mon.out
